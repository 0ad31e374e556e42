import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { ensureDemoMerchant } from '../../src/demo.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';
import { CashierTokens } from '../../src/cashier/token.ts';
import { ALIPAY_UA, DESKTOP_UA, UNIONPAY_UA, WECHAT_UA } from '../helpers/browser.ts';
import { startUnionPaySimulator } from '../../src/channels/unionpay/simulator/index.ts';


type Data = Record<string, any>;

/**
 * QR_CASHIER over plain HTTP (the browser test drives the same pages in Chromium): the cashier
 * link, app detection, WeChat OAuth → WX_JSAPI, Alipay → ALI_WAP, forged links, escaping, and
 * that every redirect goes to the gateway or a configured channel host.
 */
for (const leg of dbLegs()) {
  describe(`QR_CASHIER aggregated cashier on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let alipay: AlipaySimulator;
    const extraHosts: string[] = [];
    const hosts = () => new Set([new URL(env.s.url).host, new URL(env.s.sim.baseUrl).host, new URL(alipay.baseUrl).host, ...extraHosts]);
    before(async () => {
      alipay = await startAlipaySimulator({ timeScale: 1000 });
      await ensureDemoMerchant(env.s.gw, env.s.sim, alipay);
    });
    after(async () => alipay?.close());

    const create = async (subject = '收银台测试', more: Data = {}): Promise<Data> => {
      const r = await env.s.client.unifiedOrder({ mchOrderNo: orderNo('qc'), wayCode: 'QR_CASHIER', amount: 888, currency: 'cny', subject, body: 'b', notifyUrl: env.receiver.url, ...more });
      assert.equal(r.code, 0, r.msg);
      return r.data as Data;
    };
    /** GET with a user agent, following redirects by hand so every Location can be checked. */
    const browse = async (url: string, ua: string, maxHops = 8): Promise<{ status: number; body: string; url: string; headers: Data; hops: string[] }> => {
      const hops: string[] = [];
      let current = url;
      for (let i = 0; i <= maxHops; i++) {
        const res = await request(current, { headers: { 'user-agent': ua } });
        const body = await res.body.text();
        const location = res.headers.location as string | undefined;
        if (!location || res.statusCode < 300 || res.statusCode >= 400 || i === maxHops) return { status: res.statusCode, body, url: current, headers: res.headers, hops };
        current = new URL(location, current).toString();
        hops.push(current);
        assert.ok(hosts().has(new URL(current).host), `redirect to a foreign host: ${current}`);
      }
      throw new Error('unreachable');
    };
    const attr = (html: string, name: string) => {
      const m = new RegExp(`data-${name}="([^"]*)"`).exec(html);
      return m ? (m[1] as string).replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>') : undefined;
    };

    test('unified order answers the cashier URL (payurl) or its QR image (codeImgUrl); a desktop browser is told which apps can pay', async () => {
      const d = await create();
      assert.deepEqual([d.orderState, d.payDataType], [1, 'payurl']);
      assert.match(d.payData, new RegExp(`^${env.s.url}/cashier/${d.payOrderId}\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
      const img = await create('img', { channelExtra: JSON.stringify({ payDataType: 'codeImgUrl' }) });
      assert.equal(img.payDataType, 'codeImgUrl');
      const png = await request(img.payData);
      assert.equal(png.headers['content-type'], 'image/png');
      await png.body.arrayBuffer();
      const page = await browse(d.payData, DESKTOP_UA);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-security-policy'], /script-src 'self'/);
      assert.match(page.body, /¥8\.88/);
      assert.match(page.body, /Polypay 演示商户/);
      assert.match(page.body, /微信 · WeChat/);
      assert.match(page.body, /支付宝 · Alipay/);
      assert.doesNotMatch(page.body, /云闪付/, 'no channel serves YSF_JSAPI for this app yet');
      assert.match(page.body, /href="\?as=wechat"/, 'the sandbox offers to emulate the app');
      const q = (await env.s.client.query({ payOrderId: d.payOrderId })).data as Data;
      assert.deepEqual([q.wayCode, q.ifCode, q.state], ['QR_CASHIER', 'cashier', 1]);
    });

    test('WeChat: OAuth for the openid, a WX_JSAPI order at WeChat, paid, notified and refundable like any order', async () => {
      const d = await create();
      const landing = await browse(d.payData, WECHAT_UA, 0);
      assert.equal(attr(landing.body, 'mode'), 'continue');
      const page = await browse(attr(landing.body, 'next') as string, WECHAT_UA);
      assert.ok(page.hops.some((h) => h.startsWith(`${env.s.sim.baseUrl}/connect/oauth2/authorize`)), 'through WeChat OAuth');
      assert.equal(page.status, 200, page.body);
      assert.equal(attr(page.body, 'mode'), 'wechat');
      const params = JSON.parse(attr(page.body, 'pay') as string);
      assert.match(params.package, /^prepay_id=/);
      assert.equal(params.signType, 'RSA');
      const q = (await env.s.client.query({ payOrderId: d.payOrderId })).data as Data;
      assert.deepEqual([q.wayCode, q.ifCode, q.state], ['WX_JSAPI', 'wxpay', 1]);
      // The payer reloads: the same channel order, not a second one.
      const again = await browse(page.url, WECHAT_UA);
      assert.equal(JSON.parse(attr(again.body, 'pay') as string).package, params.package);
      await env.s.sim.payer.pay('1900000001', d.payOrderId);
      await waitFor('paid and notified', () => env.receiver.received.some((n) => n.fields.payOrderId === d.payOrderId && n.fields.state === '2' && n.fields.wayCode === 'WX_JSAPI'));
      const result = await browse(page.url.replace(/\/wechat\?.*$/, '/result'), WECHAT_UA);
      assert.match(result.body, /支付成功/);
      const refund = await env.s.client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('qr'), refundAmount: 888, currency: 'cny', refundReason: 'r' });
      assert.equal(refund.code, 0, refund.msg);
      const events = (await env.s.gw.db.query<{ kind: string }>(`SELECT kind FROM order_events WHERE order_id = $1 ORDER BY id`, [d.payOrderId])).rows.map((e) => e.kind);
      assert.ok(events.includes('cashier') && events.includes('channel'));
      // Opened later in Alipay: refused, the WeChat order stays the only one.
      const other = await browse(d.payData, ALIPAY_UA);
      assert.match(other.body, /支付成功|已退款/, 'a finished order shows its result');
    });

    test('Alipay: straight to the ALI_WAP cashier; the signed return comes back through the gateway', async () => {
      const d = await create();
      const landing = await browse(d.payData, ALIPAY_UA, 0);
      const atAlipay = await browse(attr(landing.body, 'next') as string, ALIPAY_UA);
      assert.ok(atAlipay.url.startsWith(alipay.baseUrl), atAlipay.url);
      const q = (await env.s.client.query({ payOrderId: d.payOrderId })).data as Data;
      assert.deepEqual([q.wayCode, q.ifCode], ['ALI_WAP', 'alipay']);
      // Meanwhile opened in WeChat: refused — the Alipay trade exists and could still be paid.
      const wechatMeanwhile = await browse(d.payData, WECHAT_UA, 0);
      assert.equal(wechatMeanwhile.status, 409);
      assert.match(wechatMeanwhile.body, /data-reason="other-app"/);
      // The sandbox buyer presses Pay on Alipay's WAP cashier; Alipay sends the browser back to the gateway.
      const tradeNo = /\/sandbox\/cashier\/([^/?]+)/.exec(atAlipay.url)?.[1];
      assert.ok(tradeNo, atAlipay.url);
      const paid = await request(`${alipay.baseUrl}/sandbox/v1/cashier/${tradeNo}/pay`, { method: 'POST', headers: { 'user-agent': ALIPAY_UA } });
      await paid.body.text();
      const back = new URL(String(paid.headers.location));
      assert.equal(`${back.origin}${back.pathname}`, `${env.s.url}/api/pay/return/alipay/${d.payOrderId}`);
      const returned = await browse(back.toString(), ALIPAY_UA);
      assert.match(returned.body, /支付成功/);
      await waitFor('notified', () => env.receiver.received.some((n) => n.fields.payOrderId === d.payOrderId && n.fields.wayCode === 'ALI_WAP' && n.fields.state === '2'));
      const wechatLater = await browse(d.payData, WECHAT_UA, 0);
      assert.equal(wechatLater.status, 303, 'a paid order shows its result, in any app');
    });

    test('forged, altered, foreign or expired links reveal nothing and change nothing', async () => {
      const d = await create();
      const token = (d.payData as string).split('/cashier/')[1] as string;
      const [id, exp, mac] = token.split('.') as [string, string, string];
      const other = await create();
      const forgeries = [
        `${(other.payOrderId as string)}.${exp}.${mac}`,
        `${id}.${Number(exp) + 3600}.${mac}`,
        new CashierTokens(Buffer.alloc(32, 1)).sign(id, new Date(Number(exp) * 1000)),
        `${id}.${exp}.${'A'.repeat(43)}`,
        'https%3A%2F%2Fevil.example',
      ];
      for (const f of forgeries) {
        const r = await browse(`${env.s.url}/cashier/${f}`, WECHAT_UA, 0);
        assert.equal(r.status, 404, f);
        assert.doesNotMatch(r.body, /¥8\.88|演示商户/, 'no order data on a refusal');
      }
      // A genuine signature on a non-cashier order (a WX_NATIVE one) is refused too.
      const native = (await env.s.client.unifiedOrder({ mchOrderNo: orderNo('nat'), wayCode: 'WX_NATIVE', amount: 5, currency: 'cny', subject: 's', body: 'b' })).data as Data;
      const row = (await env.s.gw.db.query<{ expired_at: Date }>(`SELECT expired_at FROM pay_orders WHERE pay_order_id = $1`, [native.payOrderId])).rows[0];
      const key = (await import('node:crypto')).createHmac('sha256', env.s.config.masterKey).update('polypay/cashier').digest();
      assert.equal((await browse(`${env.s.url}/cashier/${new CashierTokens(key).sign(native.payOrderId, row?.expired_at as Date)}`, DESKTOP_UA, 0)).status, 404);
      // ?as= only picks among the known apps; a URL there is ignored.
      const page = await browse(`${d.payData}?as=https://evil.example`, DESKTOP_UA, 0);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.body, /evil\.example/);
      // Closed by the merchant: the link shows the end, never a way to pay.
      await env.s.client.close({ payOrderId: d.payOrderId });
      const closed = await browse(d.payData, WECHAT_UA);
      assert.match(closed.body, /订单已关闭/);
      assert.equal((await env.s.client.query({ payOrderId: d.payOrderId })).data?.ifCode, 'cashier', 'closed without touching a channel');
    });

    test('merchant text is escaped on every cashier page', async () => {
      const evil = `<script>window.__x=1</script><img src=x onerror="alert(1)">"'&`;
      await env.s.gw.tenancy.setChannelConfig(env.s.demo.appId, 'cashier', { displayName: '<b onmouseover=alert(2)>店</b>' }, {});
      try {
        const d = await create(evil);
        for (const ua of [DESKTOP_UA, WECHAT_UA]) {
          const page = await browse(d.payData, ua, 0);
          assert.ok(!page.body.includes('<script>window') && !page.body.includes('<img src=x') && !page.body.includes('<b onmouseover'), ua);
          assert.ok(page.body.includes('&lt;script&gt;window.__x=1&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&quot;&#39;&amp;'));
          assert.ok(page.body.includes('&lt;b onmouseover=alert(2)&gt;'));
        }
      } finally {
        await env.s.gw.tenancy.setChannelConfig(env.s.demo.appId, 'cashier', { displayName: '' }, {});
      }
    });

    // Last: it wires 云闪付 into the demo app, which the tests above expect not to offer it.
    test('云闪付: UnionPay user authorisation for the userId, then a YSF_JSAPI order at UnionPay', async () => {
      const up = await startUnionPaySimulator({ timeScale: 1000 });
      extraHosts.push(new URL(up.baseUrl).host);
      try {
        await ensureDemoMerchant(env.s.gw, env.s.sim, alipay, up);
        const d = await create();
        assert.match((await browse(d.payData, DESKTOP_UA, 0)).body, /云闪付 · UnionPay/);
        const landing = await browse(d.payData, UNIONPAY_UA, 0);
        const authPage = await browse(attr(landing.body, 'next') as string, UNIONPAY_UA);
        assert.ok(authPage.url.startsWith(`${up.baseUrl}/qrcGtwWeb-web/api/userAuth`), authPage.url);
        const allow = await request(`${up.baseUrl}/qrcGtwWeb-web/api/userAuth/allow`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ redirectUrl: new URL(authPage.url).searchParams.get('redirectUrl') as string }).toString() });
        await allow.body.text();
        const back = String(allow.headers.location);
        assert.ok(back.startsWith(`${d.payData}/unionpay?`) && back.includes('userAuthCode='), back);
        const atUnionPay = await browse(back, UNIONPAY_UA);
        assert.ok(atUnionPay.url.startsWith(up.baseUrl), atUnionPay.url);
        const q = (await env.s.client.query({ payOrderId: d.payOrderId })).data as Data;
        assert.deepEqual([q.wayCode, q.ifCode], ['YSF_JSAPI', 'ysfpay']);
        const cashier = (await env.s.gw.db.query<{ payer: string }>(`SELECT payer FROM cashier_payments WHERE pay_order_id = $1`, [d.payOrderId])).rows[0];
        assert.ok(cashier?.payer, 'the order is bound to the 云闪付 userId');
      } finally {
        await up.close();
      }
    });
  });
}
