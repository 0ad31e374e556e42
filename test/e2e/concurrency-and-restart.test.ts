import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startReceiver, startStack, waitFor } from '../helpers/stack.ts';

const MCHID = '1900000001';

for (const leg of dbLegs()) {
  describe(`money under concurrency on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg);
    });
    after(() => s.close());

    test('30 concurrent identical unified orders → exactly one order', async () => {
      const fields = { mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 500, currency: 'cny', subject: 's', body: 'b' };
      const answers = await Promise.all(Array.from({ length: 30 }, () => s.client.unifiedOrder(fields)));
      const ids = new Set(answers.filter((a) => a.code === 0).map((a) => (a.data as { payOrderId: string }).payOrderId));
      assert.equal(ids.size, 1);
      for (const a of answers) assert.ok(a.code === 0 || a.errorKey === 'ORDER_IN_PROGRESS', `${a.errorKey}: ${a.msg}`);
      const rows = await s.gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pay_orders WHERE mch_order_no = $1`, [fields.mchOrderNo]);
      assert.equal(rows.rows[0]?.n, 1);
    });

    test('30 concurrent refunds of mixed amounts never exceed the paid amount', async () => {
      const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1000, currency: 'cny', subject: 's', body: 'b' });
      const id = (created.data as { payOrderId: string }).payOrderId;
      await s.sim.payer.pay(MCHID, id);
      await waitFor('paid', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
      const amounts = Array.from({ length: 30 }, (_, i) => [70, 130, 250, 10, 333][i % 5] as number);
      const answers = await Promise.all(amounts.map((a) => s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: a, currency: 'cny', refundReason: 'x' })));
      for (const a of answers) assert.ok(a.code === 0 || a.errorKey === 'REFUND_AMOUNT_EXCEEDED', `${a.errorKey}: ${a.msg}`);
      await waitFor('refunds settle', async () => {
        const r = await s.gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM refund_orders WHERE pay_order_id = $1 AND state IN (0, 1)`, [id]);
        return r.rows[0]?.n === 0;
      });
      const sum = await s.gw.db.query<{ total: number }>(`SELECT COALESCE(sum(refund_amount), 0)::int AS total FROM refund_orders WHERE pay_order_id = $1 AND state = 2`, [id]);
      const order = await s.gw.db.query<{ refund_amount: number; refund_pending: number }>(`SELECT refund_amount, refund_pending FROM pay_orders WHERE pay_order_id = $1`, [id]);
      assert.ok((sum.rows[0]?.total ?? 0) <= 1000, `refunded ${sum.rows[0]?.total}`);
      assert.equal(order.rows[0]?.refund_amount, sum.rows[0]?.total, 'order total equals the sum of successful refunds');
      assert.equal(order.rows[0]?.refund_pending, 0);
      const simRefunded = s.sim.ledger(MCHID).orders.find((o: { out_trade_no: string }) => o.out_trade_no === id)?.refunded_total;
      assert.equal(simRefunded, sum.rows[0]?.total, 'the channel agrees');
    });
  });

  describe(`gateway restart in the middle of a payment on ${leg}`, () => {
    let s: Stack;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      s = await startStack(leg, { onDisk: true });
      receiver = await startReceiver(s.demo.appSecret);
    });
    after(async () => {
      await receiver.close();
      await s.close();
    });

    test('paid while the gateway is down: settled and notified after restart', async () => {
      const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 777, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url });
      const id = (created.data as { payOrderId: string }).payOrderId;
      await s.stopGateway();
      await s.sim.payer.pay(MCHID, id); // the callback now hits a closed port and is retried by the simulator
      await new Promise((r) => setTimeout(r, 200));
      await s.restartGateway();
      await waitFor('paid after restart', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2, 20_000);
      const note = await waitFor('notified', () => receiver.received.find((r) => r.fields.payOrderId === id));
      assert.ok(note.signatureValid);
      assert.equal(note.fields.state, '2');
    });
  });
}
