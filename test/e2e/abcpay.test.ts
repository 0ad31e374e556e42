import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { errorClassification, notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_ABC_MERCHANT } from '../../src/demo-acquirers.ts';
import { startAbcSimulator } from '../../src/channels/abcpay/simulator/index.ts';

/**
 * Every ABC way through the gateway (the demo-abc app) against the simulator: the one code
 * (QR_CASHIER, WX_NATIVE, ALI_QR, UP_QR) paid by each wallet, 掌银 app payment returning to the
 * merchant, synchronous refunds in part and in full (state 5); close; forged and mismatching
 * notifications refused; the error classification as the order sees it.
 */

for (const leg of dbLegs()) {
  describe(`ABC end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startAbcSimulator({ timeScale: 1000 }), sandboxes: (abc) => ({ abc }), merchantId: DEMO_ABC_MERCHANT, ifCode: 'abcpay' });

    test('一码多扫: every QR way paid by its wallet (and the 掌银 app), merchant notified, refunded synchronously in two parts', async () => {
      for (const [way, wallet] of [['QR_CASHIER', 'ABC'], ['WX_NATIVE', 'WECHAT'], ['ALI_QR', 'ALIPAY'], ['UP_QR', 'UNIONPAY']] as const) {
        const d = await a.create(way, 300);
        assert.deepEqual([d.orderState, d.payDataType], [1, 'codeUrl'], way);
        assert.equal(a.sim.payer.pay(d.payData, { wallet }).paid_with, wallet);
        await a.state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await a.query(d.payOrderId)).channelOrderNo, a.simTrade(d.payOrderId)?.trade_no);
        await a.refundFully(d.payOrderId, 300);
      }
    });

    test('ABC_APP: the 掌银 payment page sends the payer back to the return URL; refunded; without a return URL the order fails before sending', async () => {
      const d = await a.create('ABC_APP', 500, {}, { returnUrl: 'https://shop.example.com/done' });
      assert.deepEqual([d.orderState, d.payDataType], [1, 'payurl']);
      const token = new URL(d.payData).pathname.split('/').pop() as string;
      const paid = await request(`${a.sim.baseUrl}/sandbox/v1/page/${token}/pay/ABC`, { method: 'POST' });
      await paid.body.dump();
      assert.equal(paid.headers.location, 'https://shop.example.com/done');
      await a.state(d.payOrderId, 2);
      await a.refundFully(d.payOrderId, 500);
      const noReturn = await a.create('ABC_APP', 500);
      assert.deepEqual([noReturn.orderState, noReturn.errCode], [3, 'PARAM_ERROR']);
    });

    test('close: an unpaid code closes at ABC; a paid order cannot be closed', async () => {
      const open = await a.create('QR_CASHIER', 100);
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
        way: 'QR_CASHIER',
        refusal: 'fail',
        gatewayUrl: env.s.url,
        ifCode: 'abcpay',
        forged: (id) => ({ contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ MSG: Buffer.from(JSON.stringify({ MSG: { Message: { Merchant: { MerchantID: DEMO_ABC_MERCHANT }, TrxResponse: { ReturnCode: '0000', OrderNo: id, OrderAmount: '0.10', Status: '04' } } } })).toString('base64') }).toString() }),
      }));

    test('error classification: simulator down → failed, nothing sent; busy (EUNKWN) → unknown, queried; slow → timeout, queried, then paid', () =>
      errorClassification(a, { gw: env.s.gw, ifCode: 'abcpay', ways: ['QR_CASHIER', 'WX_NATIVE', 'ABC_APP'] }));
  });
}
