import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';

/** Issue 4 item 7: the simulator bills from its own ledger; the gateway fetches, hash-checks, parses and stores. */
for (const leg of dbLegs()) {
  describe(`WeChat trade bill on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg);
    });
    after(() => s.close());

    test('a day with payments and a refund: every line stored in fen, totals agree with our orders', async () => {
      const ids: string[] = [];
      for (const amount of [100, 250]) {
        const r = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: '账单', body: 'b' });
        const id = (r.data as { payOrderId: string }).payOrderId;
        await s.sim.payer.pay('1900000001', id);
        ids.push(id);
      }
      for (const id of ids) await waitFor('paid', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
      const refund = await s.client.refund({ payOrderId: ids[0], mchRefundNo: orderNo('r'), refundAmount: 50, currency: 'cny', refundReason: 'x' });
      const refundId = (refund.data as { refundOrderId: string }).refundOrderId;
      await waitFor('refunded', async () => ((await s.client.refundQuery({ refundOrderId: refundId })).data as { state: number }).state === 2);

      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10); // the bill day is China time
      const res = await request(`${s.url}/admin/v1/apps/${s.demo.appId}/bills/wxpay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ date: today }) });
      const fetched = (await res.body.json()) as { rows: number; summary: Record<string, string>; hash: string };
      assert.equal(res.statusCode, 200, JSON.stringify(fetched));
      assert.equal(fetched.rows, 3);
      assert.equal(fetched.summary['应结订单总金额'], '3.50');
      assert.equal(fetched.summary['退款总金额'], '0.50');
      assert.match(fetched.hash, /^[0-9a-f]{40}$/);

      const rows = await s.gw.db.query<{ kind: string; out_trade_no: string; out_refund_no: string | null; amount: number; fee: string }>(
        `SELECT r.kind, r.out_trade_no, r.out_refund_no, r.amount, r.fee FROM channel_bill_rows r JOIN channel_bills b ON b.id = r.bill_id WHERE b.app_id = $1 AND b.bill_date = $2 ORDER BY r.line_no`,
        [s.demo.appId, today],
      );
      const pays = rows.rows.filter((r) => r.kind === 'pay');
      assert.deepEqual(pays.map((r) => r.amount).sort((a, b) => a - b), [100, 250]);
      assert.ok(pays.every((r) => ids.includes(r.out_trade_no)), 'bill lines name our order ids');
      const refundRow = rows.rows.find((r) => r.kind === 'refund');
      assert.deepEqual([refundRow?.out_refund_no, refundRow?.amount, refundRow?.fee], [refundId, 50, '-0.00300']);

      // Fetching again replaces the stored copy instead of doubling it.
      await (await request(`${s.url}/admin/v1/apps/${s.demo.appId}/bills/wxpay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ date: today }) })).body.dump();
      const count = await s.gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM channel_bill_rows r JOIN channel_bills b ON b.id = r.bill_id WHERE b.app_id = $1`, [s.demo.appId]);
      assert.equal(count.rows[0]?.n, 3);

      const empty = await request(`${s.url}/admin/v1/apps/${s.demo.appId}/bills/wxpay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ date: '2020-01-01' }) });
      const emptyBody = (await empty.body.json()) as { errorKey: string; msg: string };
      assert.equal(emptyBody.errorKey, 'CHANNEL_REJECTED');
      assert.match(emptyBody.msg, /NO_STATEMENT_EXIST/);
    });
  });
}
