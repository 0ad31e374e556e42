import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { DEMO_ALIPAY_APPID, ensureDemoMerchant } from '../../src/demo.ts';
import { verifySignature } from '../../src/merchant-api/sign.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';

/**
 * Every ALI way through the gateway against the Alipay simulator: created, paid by the sandbox
 * buyer, notified to the merchant, refunded in part and in full (state 5); closes and the
 * bar-code cancel; forged, tampered and wrong-app notifications; the signed return redirect.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`Alipay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: AlipaySimulator;
    before(async () => {
      sim = await startAlipaySimulator({ timeScale: 1000, passwordDelayMs: 60_000 });
      await ensureDemoMerchant(env.s.gw, env.s.sim, sim);
    });
    after(async () => sim?.close());
    beforeEach(() => Object.assign(sim.faults, { badNotifySignature: false, tamperNotifyAmount: false, wrongNotifyAppId: false, duplicateNotifications: false }));

    const create = async (wayCode: string, amount: number, extra: Record<string, unknown> = {}, more: Data = {}): Promise<Data> => {
      const res = await env.s.client.unifiedOrder({ mchOrderNo: orderNo('ali'), wayCode, amount, currency: 'cny', subject: `${wayCode} 测试`, body: 'b', clientIp: '10.1.2.3', notifyUrl: env.receiver.url, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined, ...more });
      assert.equal(res.code, 0, res.msg);
      return res.data as Data;
    };
    const query = async (id: string, sync = false): Promise<Data> => (await env.s.client.query({ payOrderId: id, ...(sync ? { sync: 1 } : {}) })).data as Data;
    const paid = (id: string) => waitFor(`${id} paid`, async () => (await query(id)).state === 2);
    const events = async (id: string) => (await env.s.gw.db.query<{ kind: string; to_state: number | null; detail: Data }>(`SELECT kind, to_state, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
    const simTrade = (id: string) => sim.ledger(DEMO_ALIPAY_APPID).trades.find((t) => t.out_trade_no === id);

    async function refundFully(id: string, amount: number): Promise<void> {
      const part = Math.floor(amount / 3);
      const r1 = await env.s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: part, currency: 'cny', refundReason: 'part', notifyUrl: env.receiver.url });
      assert.equal(r1.code, 0, r1.msg);
      assert.equal((r1.data as Data).state, 2, 'Alipay refunds are synchronous');
      const mid = await query(id);
      assert.deepEqual([mid.state, mid.refundAmount], [2, part]);
      const r2 = await env.s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: amount - part, currency: 'cny', refundReason: 'rest', notifyUrl: env.receiver.url });
      assert.equal((r2.data as Data).state, 2, r2.msg);
      assert.equal((await query(id)).state, 5);
      const q = await env.s.client.refundQuery({ refundOrderId: (r1.data as Data).refundOrderId, sync: 1 });
      assert.equal((q.data as Data).state, 2);
      assert.equal(simTrade(id)?.trade_status, 'TRADE_CLOSED', 'fully refunded trades close at Alipay');
      await waitFor('refund notifications', () => env.receiver.received.filter((r) => r.fields.payOrderId === id && r.fields.refundOrderId && r.signatureValid).length === 2);
    }

    test('ALI_QR: the README journey — scan and pay, notified, refund part then the rest', async () => {
      const d = await create('ALI_QR', 1000);
      assert.deepEqual([d.orderState, d.payDataType], [1, 'codeUrl']);
      assert.match(d.payData, /\/sandbox\/qr\/bax/);
      sim.payer.payByQr(d.payData);
      await paid(d.payOrderId);
      const note = await waitFor('merchant notified', () => env.receiver.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
      assert.ok(note.signatureValid);
      assert.equal((await query(d.payOrderId)).channelOrderNo, simTrade(d.payOrderId)?.trade_no);
      const over = await env.s.client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('r'), refundAmount: 1001, currency: 'cny', refundReason: 'x' });
      assert.equal(over.errorKey, 'REFUND_AMOUNT_EXCEEDED');
      await refundFully(d.payOrderId, 1000);
    });

    test('ALI_JSAPI (buyer_id) and ALI_LITE (open_id): aliapp {alipayTradeNo}, paid, refunded', async () => {
      for (const [way, extra] of [['ALI_JSAPI', { buyerUserId: '2088102177846880' }], ['ALI_LITE', { buyerOpenId: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5' }]] as const) {
        const d = await create(way, 300, extra);
        assert.equal(d.payDataType, 'aliapp');
        const tradeNo = JSON.parse(d.payData).alipayTradeNo;
        assert.equal(simTrade(d.payOrderId)?.trade_no, tradeNo);
        sim.payer.pay(DEMO_ALIPAY_APPID, d.payOrderId);
        await paid(d.payOrderId);
        await refundFully(d.payOrderId, 300);
      }
      const missing = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'ALI_JSAPI', amount: 1, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ buyerUserId: 'undefined' }) });
      assert.equal((missing.data as Data).orderState, 3, 'a literal "undefined" buyer (Jeepay #123) is refused, not sent');
    });

    test('ALI_APP: the order string is paid by the app; ALI (generic) becomes a QR without context', async () => {
      const d = await create('ALI_APP', 500);
      assert.equal(d.payDataType, 'aliapp');
      assert.match(d.payData, /method=alipay\.trade\.app\.pay/);
      sim.payer.payOrderString(d.payData);
      await paid(d.payOrderId);
      await refundFully(d.payOrderId, 500);
      const g = await create('ALI', 200);
      assert.equal(g.payDataType, 'codeUrl');
      sim.payer.payByQr(g.payData);
      await paid(g.payOrderId);
      await refundFully(g.payOrderId, 200);
    });

    test('ALI_PC: cashier link → pay → signed return redirect to the merchant; ALI_WAP form and codeImgUrl', async () => {
      const d = await create('ALI_PC', 800, {}, { returnUrl: 'https://shop.example.com/done?from=alipay' });
      assert.equal(d.payDataType, 'payurl');
      const opened = await request(d.payData);
      assert.equal(opened.statusCode, 303);
      await opened.body.dump();
      const payAt = `${sim.baseUrl}/sandbox/v1${String(opened.headers.location).replace('/sandbox', '')}/pay`;
      const afterPay = await request(payAt, { method: 'POST' });
      await afterPay.body.dump();
      const back = String(afterPay.headers.location);
      assert.ok(back.startsWith(`${env.s.url}/api/pay/return/alipay/${d.payOrderId}?`), back);
      const forged = await request(back.replace(/total_amount=[^&]+/, 'total_amount=0.01'));
      assert.equal(forged.statusCode, 400, 'a tampered return is refused');
      await forged.body.dump();
      const ret = await request(back);
      assert.equal(ret.statusCode, 302);
      await ret.body.dump();
      const target = new URL(String(ret.headers.location));
      assert.equal(`${target.origin}${target.pathname}`, 'https://shop.example.com/done');
      const fields = Object.fromEntries(target.searchParams);
      assert.equal(fields.from, 'alipay');
      delete fields.from;
      assert.ok(verifySignature(fields, env.s.demo.appSecret, 'MD5', fields.sign as string), 'the redirect payload is signed with the app secret');
      assert.deepEqual([fields.payOrderId, fields.state], [d.payOrderId, '2'], 'the verified return made the gateway query Alipay at once');
      await refundFully(d.payOrderId, 800);

      const w = await create('ALI_WAP', 700, { payDataType: 'form' }, { returnUrl: 'https://shop.example.com/m' });
      assert.equal(w.payDataType, 'form');
      const action = /action="([^"]+)"/.exec(w.payData)![1]!.replace(/&amp;/g, '&');
      const inputs = [...(w.payData as string).matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')]);
      const posted = await request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(inputs).toString() });
      assert.equal(posted.statusCode, 303);
      await posted.body.dump();
      sim.payer.pay(DEMO_ALIPAY_APPID, w.payOrderId);
      await paid(w.payOrderId);
      await refundFully(w.payOrderId, 700);
      const img = await create('ALI_WAP', 5, { payDataType: 'codeImgUrl' });
      assert.equal(img.payDataType, 'codeImgUrl');
      assert.match(img.payData, /\/api\/scan\/imgs\/.+\.png$/);
    });

    test('ALI_BAR: immediate success, a decline, and the password wait (10003) settled by a query', async () => {
      const ok = await create('ALI_BAR', 900, { authCode: '286000000000000001' });
      assert.deepEqual([ok.orderState, ok.payDataType], [2, 'none']);
      await waitFor('notified', () => env.receiver.received.some((r) => r.fields.payOrderId === ok.payOrderId && r.fields.state === '2'));
      await refundFully(ok.payOrderId, 900);
      const declined = await create('ALI_BAR', 900, { authCode: '289000000000000001' });
      assert.deepEqual([declined.orderState, declined.errCode], [3, 'ACQ.BUYER_BALANCE_NOT_ENOUGH']);
      const waiting = await create('ALI_BAR', 900, { authCode: '281000000000000001' });
      assert.equal(waiting.orderState, 1, '10003: the payer is entering the password');
      sim.payer.pay(DEMO_ALIPAY_APPID, waiting.payOrderId);
      assert.equal((await query(waiting.payOrderId, true)).state, 2);
    });

    test('close and cancel: never-scanned QR (TRADE_NOT_EXIST), scanned QR, JSAPI; bar-code reversed', async () => {
      const unscanned = await create('ALI_QR', 100);
      assert.equal((await env.s.client.close({ payOrderId: unscanned.payOrderId })).code, 0);
      assert.equal((await query(unscanned.payOrderId)).state, 6);
      const scanned = await create('ALI_QR', 100);
      sim.payer.scan(scanned.payData);
      assert.equal((await env.s.client.close({ payOrderId: scanned.payOrderId })).code, 0);
      assert.equal(simTrade(scanned.payOrderId)?.trade_status, 'TRADE_CLOSED');
      assert.throws(() => sim.payer.payByQr(scanned.payData), /TRADE_HAS_CLOSE/);
      const jsapi = await create('ALI_JSAPI', 100, { buyerUserId: '2088102177846880' });
      assert.equal((await env.s.client.close({ payOrderId: jsapi.payOrderId })).code, 0);
      assert.equal((await query(jsapi.payOrderId)).state, 6);
      const paidQr = await create('ALI_QR', 100);
      sim.payer.payByQr(paidQr.payData);
      await paid(paidQr.payOrderId);
      assert.equal((await env.s.client.close({ payOrderId: paidQr.payOrderId })).errorKey, 'ORDER_STATE_INVALID');

      const bar = await create('ALI_BAR', 100, { authCode: '282000000000000001' });
      assert.equal(bar.orderState, 1);
      const row = (await env.s.gw.db.query(`SELECT * FROM pay_orders WHERE pay_order_id = $1`, [bar.payOrderId])).rows[0];
      const reversed = await env.s.gw.payOrders.reverseOrder(row as never);
      assert.equal(reversed.state, 4, 'reversed at Alipay (trade.cancel), revoked here');
      assert.equal(simTrade(bar.payOrderId)?.trade_status, 'TRADE_CLOSED');
    });

    test('notifications: bad signature, tampered amount and another app_id are refused; the truth comes by query', async () => {
      for (const fault of ['badNotifySignature', 'tamperNotifyAmount', 'wrongNotifyAppId'] as const) {
        sim.faults[fault] = true;
        const d = await create('ALI_QR', 250);
        sim.payer.payByQr(d.payData);
        await waitFor(`${fault} refused`, async () => (await events(d.payOrderId)).some((e) => e.kind === 'refused'));
        // The simulator records the answer after the gateway has recorded its refusal: wait for it.
        const n = await waitFor(`${fault} answer recorded`, () => sim.ledger(DEMO_ALIPAY_APPID).notifications.find((x) => x.out_trade_no === d.payOrderId && x.attempts > 0));
        assert.equal(n?.delivered, false, `${fault}: Alipay was told to retry`);
        assert.equal(n?.last_body, 'failure');
        sim.faults[fault] = false;
        await paid(d.payOrderId);
        assert.equal((await query(d.payOrderId)).amount, 250);
      }
      const d = await create('ALI_QR', 10);
      const forged = await request(`${env.s.url}/api/pay/notify/alipay/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ app_id: DEMO_ALIPAY_APPID, out_trade_no: d.payOrderId, trade_status: 'TRADE_SUCCESS', total_amount: '0.10', sign_type: 'RSA2', sign: 'Zm9yZ2Vk' }).toString() });
      assert.equal(await forged.body.text(), 'failure');
      assert.equal((await query(d.payOrderId)).state, 1);
    });

    test('duplicate notifications: one transition, one merchant notification', async () => {
      sim.faults.duplicateNotifications = true;
      const d = await create('ALI_QR', 30);
      sim.payer.payByQr(d.payData);
      await paid(d.payOrderId);
      await waitFor('both deliveries', async () => (await events(d.payOrderId)).filter((e) => e.kind === 'callback').length >= 2);
      assert.equal((await events(d.payOrderId)).filter((e) => e.kind === 'transition' && e.to_state === 2).length, 1);
      await waitFor('merchant notified', () => env.receiver.received.some((r) => r.fields.payOrderId === d.payOrderId));
      assert.equal(env.receiver.received.filter((r) => r.fields.payOrderId === d.payOrderId && !r.fields.refundOrderId).length, 1);
    });
  });
}
