import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { errorClassification, notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_SHENGPAY_MCH_ID } from '../../src/demo-acquirers.ts';
import { startShengpaySimulator } from '../../src/channels/shengpay/simulator/index.ts';

/**
 * Every Shengpay way through the gateway (the demo-shengpay app) against the simulator: created,
 * paid by the sandbox payer, notified, refunded in part and in full (state 5); bar codes; forged
 * and mismatching notifications refused; the error classification as the order sees it.
 */

for (const leg of dbLegs()) {
  describe(`Shengpay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startShengpaySimulator({ timeScale: 1000, refundDelayMs: 50, passwordDelayMs: 60_000 }), sandboxes: (shengpay) => ({ shengpay }), merchantId: DEMO_SHENGPAY_MCH_ID, ifCode: 'shengpay' });

    test('every scan, web and JSAPI way: created, paid, merchant notified, refunded in two parts', async () => {
      const ways: Array<[string, string, Record<string, unknown>]> = [
        ['WX_NATIVE', 'codeUrl', {}], ['ALI_QR', 'codeUrl', {}], ['UP_QR', 'codeUrl', {}],
        ['WX_H5', 'payurl', {}], ['ALI_WAP', 'payurl', {}], ['ALI_PC', 'payurl', {}],
        ['WX_JSAPI', 'wxapp', { openid: 'oDemoPayer001' }], ['WX_LITE', 'wxapp', { openid: 'oDemoPayer002' }], ['ALI_JSAPI', 'aliapp', { buyerUserId: '2088102177846880' }],
      ];
      for (const [way, type, extra] of ways) {
        const d = await a.create(way, 300, extra, { returnUrl: 'https://shop.example.com/done' });
        assert.deepEqual([d.orderState, d.payDataType], [1, type], way);
        a.sim.payer.pay(a.simTrade(d.payOrderId)!.pay_url);
        await a.state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await a.query(d.payOrderId)).channelOrderNo, a.simTrade(d.payOrderId)?.trade_no);
        await a.refundFully(d.payOrderId, 300);
      }
    });

    test('bar code: paid at once (and refunded), declined, the password wait settled by polling; AUTO_BAR picks the way', async () => {
      const ok = await a.create('WX_BAR', 900, { authCode: '134567890123450001' });
      assert.deepEqual([ok.orderState, ok.payDataType], [2, 'none']);
      await a.refundFully(ok.payOrderId, 900);
      const declined = await a.create('UP_BAR', 900, { authCode: '6212345678901239993' });
      assert.deepEqual([declined.orderState, declined.errCode], [3, 'BALANCE_NOT_ENOUGH']);
      const waiting = await a.create('ALI_BAR', 500, { authCode: '2812345678909991' });
      assert.equal(waiting.orderState, 1, 'the payer is entering the password');
      a.sim.payer.pay(a.simTrade(waiting.payOrderId)!.trade_no);
      await a.state(waiting.payOrderId, 2);
      const auto = await a.create('AUTO_BAR', 200, { authCode: '6212345678901230001' });
      assert.equal(auto.orderState, 2);
      assert.equal((await a.query(auto.payOrderId)).wayCode, 'YSF_BAR');
    });

    test('the main demo app keeps Shengpay as standby: WX_NATIVE fails over to it when WeChat answers SYSTEM_ERROR, and is paid there', async () => {
      const passages = await env.s.gw.passages.list(env.s.demo.appId);
      assert.deepEqual(passages.filter((p) => p.ifCode === 'shengpay').map((p) => [p.wayCode, p.priority]).sort(), [['ALI_QR', 1], ['WX_NATIVE', 1]]);
      env.s.sim.faults.failNextRequests = 1;
      const r = await env.s.client.unifiedOrder({ mchOrderNo: `standby${Date.now()}`, wayCode: 'WX_NATIVE', amount: 250, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(r.code, 0, r.msg);
      const d = r.data as { payOrderId: string; orderState: number; payData: string };
      assert.equal(d.orderState, 1);
      const events = (await env.s.gw.db.query<{ kind: string; detail: { fault?: { kind: string } } }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [d.payOrderId])).rows;
      assert.equal(events.find((e) => e.kind === 'rerouted')?.detail.fault?.kind, 'system');
      a.sim.payer.pay(a.simTrade(d.payOrderId)!.pay_url);
      await waitFor('paid through the standby passage', async () => ((await env.s.client.query({ payOrderId: d.payOrderId })).data as { state: number; ifCode: string }).state === 2);
      assert.equal(((await env.s.client.query({ payOrderId: d.payOrderId })).data as { ifCode: string }).ifCode, 'shengpay');
    });

    test('close: an unpaid code closes at Shengpay; a paid order cannot be closed', async () => {
      const open = await a.create('WX_NATIVE', 100);
      assert.equal((await a.client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await a.query(open.payOrderId)).state, 6);
      assert.equal(a.simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await a.create('UP_QR', 100);
      a.sim.payer.pay(paid.payData);
      await a.state(paid.payOrderId, 2);
      assert.equal((await a.client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', () =>
      notificationRefusals(a, {
        way: 'ALI_QR',
        refusal: 'FAIL',
        gatewayUrl: env.s.url,
        ifCode: 'shengpay',
        forged: (id) => ({ contentType: 'application/json', body: JSON.stringify({ mchId: DEMO_SHENGPAY_MCH_ID, outTradeNo: id, status: 'PAY_SUCCESS', totalFee: 10, signType: 'RSA', sign: 'Zm9yZ2Vk' }) }),
      }));

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', () =>
      errorClassification(a, { gw: env.s.gw, ifCode: 'shengpay', ways: ['WX_NATIVE', 'WX_NATIVE', 'ALI_QR'] }));
  });
}
