import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { errorClassification, notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_XINLIAN_MERCHANT } from '../../src/demo-acquirers.ts';
import { startXinlianSimulator } from '../../src/channels/xinlian/simulator/index.ts';

/**
 * XLALILITE and ALI_LITE through the gateway (the demo-xinlian app) against the 信联 simulator:
 * created (aliapp {"alipayTradeNo"}, as Alipay's ALI_LITE), paid by the buyer in the sandbox,
 * notified, refunded in part and in full (state 5); close; forged and mismatching notifications
 * refused with nothing changed; the error classification.
 */

const BUYER = { buyerUserId: '2088102177846882' };

for (const leg of dbLegs()) {
  describe(`Xinlian end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startXinlianSimulator({ timeScale: 1000, refundDelayMs: 50 }), sandboxes: (xinlian) => ({ xinlian }), merchantId: DEMO_XINLIAN_MERCHANT, ifCode: 'xinlian' });
    const create = (way: string, amount: number) => a.create(way, amount, BUYER);

    test('both ways: the mini-program tradeNO, paid by that buyer, notified, refunded in two parts', async () => {
      for (const way of ['XLALILITE', 'ALI_LITE']) {
        const d = await create(way, 300);
        assert.deepEqual([d.orderState, d.payDataType], [1, 'aliapp'], way);
        assert.equal(JSON.parse(d.payData).alipayTradeNo, a.simTrade(d.payOrderId)?.trade_no);
        const paid = a.sim.payer.pay(d.payData);
        assert.deepEqual([paid.paid_with, paid.payer], ['ALIPAY', BUYER.buyerUserId]);
        await a.state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        await a.refundFully(d.payOrderId, 300);
      }
    });

    test('a missing buyer id fails the order before anything is sent', async () => {
      const d = await a.create('XLALILITE', 100);
      assert.deepEqual([d.orderState, d.errCode], [3, 'PARAM_ERROR']);
    });

    test('close: an unpaid order closes at Xinlian; a paid order cannot be closed', async () => {
      const open = await create('XLALILITE', 100);
      assert.equal((await a.client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await a.query(open.payOrderId)).state, 6);
      assert.equal(a.simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await create('ALI_LITE', 100);
      a.sim.payer.pay(paid.payData);
      await a.state(paid.payOrderId, 2);
      assert.equal((await a.client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', () => {
      const create0 = a.create;
      a.create = (way, amount, extra = {}, more = {}) => create0(way, amount, { ...BUYER, ...extra }, more);
      return notificationRefusals(a, {
        way: 'XLALILITE',
        refusal: 'FAIL',
        gatewayUrl: env.s.url,
        ifCode: 'xinlian',
        forged: (id) => ({ contentType: 'application/json', body: JSON.stringify({ notifyType: 'PAY', mchNo: DEMO_XINLIAN_MERCHANT, outTradeNo: id, amount: 10, tradeState: 'SUCCESS', signType: 'RSA2', sign: 'Zm9yZ2Vk' }) }),
      }).finally(() => (a.create = create0));
    });

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', () => {
      const create0 = a.create;
      a.create = (way, amount, extra = {}, more = {}) => create0(way, amount, { ...BUYER, ...extra }, more);
      return errorClassification(a, { gw: env.s.gw, ifCode: 'xinlian', ways: ['XLALILITE', 'ALI_LITE', 'XLALILITE'] }).finally(() => (a.create = create0));
    });
  });
}
