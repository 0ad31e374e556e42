import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, type Receiver, type Stack, startReceiver, startStack, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { ensureWechatV2DemoApp } from '../../src/demo.ts';

/**
 * Native 模式一 (扫码支付一): an operator defines a product, prints its signed product code; the payer scans
 * it in the sandbox, WeChat calls the gateway's scan callback, the gateway places the order through the
 * ordinary path and answers the prepay_id; the payer pays; the merchant is notified.
 */
for (const leg of dbLegs()) {
  describe(`WeChat Native 模式一 product codes on ${leg}`, () => {
    let s: Stack;
    let receiver: Receiver;
    let client: MerchantClient;
    let appId: string;
    const admin = async (method: 'GET' | 'PUT', path: string, body?: unknown) => {
      const res = await request(`${s.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.statusCode, type: String(res.headers['content-type']), raw: Buffer.from(await res.body.arrayBuffer()) };
    };
    before(async () => {
      s = await startStack(leg);
      const v2app = await ensureWechatV2DemoApp(s.gw, s.sim, s.demo.mchNo);
      appId = v2app.appId;
      client = new MerchantClient({ baseUrl: s.url, ...v2app });
      receiver = await startReceiver(v2app.appSecret);
    });
    after(async () => {
      await receiver?.close();
      await s?.close();
    });

    test('define a product, print its code (text, PNG, SVG), scan and pay, merchant notified', async () => {
      const put = await admin('PUT', `/apps/${appId}/wxpay/products/CUP-01`, { amount: 1990, subject: '马克杯', notifyUrl: receiver.url });
      assert.equal(put.status, 200, put.raw.toString());
      const qr = JSON.parse((await admin('GET', `/apps/${appId}/wxpay/products/CUP-01/qr`)).raw.toString()) as { codeUrl: string };
      assert.match(qr.codeUrl, /^weixin:\/\/wxpay\/bizpayurl\?sign=[0-9A-F]{32}&appid=.+&mch_id=\d+&product_id=CUP-01&time_stamp=\d+&nonce_str=\w+$/);
      const png = await admin('GET', `/apps/${appId}/wxpay/products/CUP-01/qr?format=png`);
      assert.equal(png.type, 'image/png');
      assert.deepEqual([...png.raw.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      assert.match((await admin('GET', `/apps/${appId}/wxpay/products/CUP-01/qr?format=svg`)).raw.toString(), /^<svg/);

      const paid = await s.sim.payer.scanProduct(qr.codeUrl, { openid: 'o-scanner-1' });
      assert.equal(paid.trade_state, 'SUCCESS');
      assert.equal(paid.amount.total, 1990);
      const payOrderId = paid.out_trade_no;
      await waitFor('paid', async () => ((await client.query({ payOrderId })).data as { state: number }).state === 2);
      const order = (await client.query({ payOrderId })).data as { amount: number; wayCode: string; subject: string };
      assert.equal(order.amount, 1990);
      assert.equal(order.wayCode, 'WX_NATIVE');
      await waitFor('notified', () => receiver.received.some((r) => r.fields.payOrderId === payOrderId && r.fields.state === '2' && r.signatureValid));
      const row = await s.gw.db.query<{ channel_user: string }>(`SELECT channel_user FROM pay_orders WHERE pay_order_id = $1`, [payOrderId]);
      assert.equal(row.rows[0]?.channel_user, 'o-scanner-1', 'the scanner is the payer');
    });

    test('a forged code is refused by WeChat; an unknown product is refused by the gateway (shown to the payer)', async () => {
      const qr = JSON.parse((await admin('GET', `/apps/${appId}/wxpay/products/VIP001/qr`)).raw.toString()) as { codeUrl: string };
      await assert.rejects(s.sim.payer.scanProduct(qr.codeUrl.replace('product_id=VIP001', 'product_id=VIP002')), /二维码无效/);
      await s.gw.db.query(`UPDATE wechat_products SET state = 0 WHERE app_id = $1 AND product_id = 'VIP001'`, [appId]);
      await assert.rejects(s.sim.payer.scanProduct(qr.codeUrl), /商品不存在/);
      assert.equal((await admin('GET', `/apps/${appId}/wxpay/products/VIP001/qr`)).status, 404);
    });

    test('product codes need API v2: a v3 app is refused', async () => {
      const r = await admin('PUT', `/apps/${s.demo.appId}/wxpay/products/P1`, { amount: 1, subject: 'x' });
      assert.match(r.raw.toString(), /apiVersion=v2/);
    });
  });
}
