import { after, before, describe, test } from 'node:test';
import { Violations, postgresAvailable, report, scaled, sleep, waitUntil } from './support/harness.ts';
import { checkAgainstLedger, checkMoney, checkNotifications, checkTransitions, settle } from './support/invariants.ts';
import { type Scenario, safeCall, startScenario, uniqueNo } from './support/scenario.ts';

/**
 * Money under concurrency, against the gateway as a child process on PostgreSQL: bursts of 50
 * concurrent refunds of mixed amounts on one order (with the channel answering normally, holding
 * refunds, failing requests or refusing for lack of balance), 50 concurrent identical unified
 * orders, 50 concurrent identical refunds. Σ(successful refunds) ≤ paid, always — also sampled
 * from the database while the burst is in flight.
 */
describe('faults: money under concurrency', { skip: !postgresAvailable() && 'needs PostgreSQL (POLYPAY_TEST_SKIP_PG=1)' }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario();
  });
  after(async () => {
    await s?.close();
  });

  async function paidOrder(v: Violations, amount: number): Promise<string | null> {
    const a = await safeCall(() => s.client.unifiedOrder({ mchOrderNo: uniqueNo('mc'), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: 'money', body: 'money', notifyUrl: s.receiver.url }));
    if (!v.check(a.code === 0, `unifiedOrder failed: ${a.code} ${a.msg}`)) return null;
    const id = (a.data as { payOrderId: string }).payOrderId;
    await s.h.sim.payer.pay(s.h.creds.mchid, id);
    const ok = await waitUntil(`${id} paid`, async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2, 15_000);
    v.check(ok, `${id} was not recorded paid`);
    return ok ? id : null;
  }

  test('concurrent refunds, identical orders and identical refunds', async () => {
    const v = new Violations();
    let cases = 0;
    const rounds = scaled(4, 12);
    const variants = ['fail-some', 'normal', 'hold', 'no-balance'] as const;
    const bursts: Array<{ round: number; variant: string; id: string; accepted: number; samples: number }> = [];
    for (let round = 0; round < rounds; round++) {
      const variant = variants[round % variants.length] as (typeof variants)[number];

      // 50 concurrent identical unified orders → exactly one order.
      const fields = { mchOrderNo: uniqueNo('same'), wayCode: 'WX_NATIVE', amount: 1000, currency: 'cny', subject: 'same', body: 'same', notifyUrl: s.receiver.url };
      const answers = await Promise.all(Array.from({ length: 50 }, () => safeCall(() => s.client.unifiedOrder(fields))));
      cases += answers.length;
      const ids = new Set(answers.filter((a) => a.code === 0).map((a) => (a.data as { payOrderId: string }).payOrderId));
      v.check(ids.size === 1, `round ${round}: ${ids.size} different orders for one mchOrderNo`);
      for (const a of answers) v.check(a.code === 0 || a.errorKey === 'ORDER_IN_PROGRESS', `identical unifiedOrder answered ${a.code} ${a.errorKey}: ${a.msg}`);
      const rows = await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pay_orders WHERE mch_order_no = $1`, [fields.mchOrderNo]);
      v.check(rows.rows[0]?.n === 1, `round ${round}: ${rows.rows[0]?.n} rows for one mchOrderNo`);
      const simOrders = s.h.sim.ledger(s.h.creds.mchid).orders.filter((o) => ids.has(o.out_trade_no));
      v.check(simOrders.length === 1, `round ${round}: ${simOrders.length} channel orders for one mchOrderNo`);

      // 50 concurrent refunds of mixed amounts on one paid order.
      const id = await paidOrder(v, 1000);
      if (!id) continue;
      s.h.sim.faults.holdRefunds = variant === 'hold';
      s.h.sim.faults.failNextRequests = variant === 'fail-some' ? 12 : 0;
      s.h.sim.faults.notEnoughBalanceForRefunds = false;
      if (variant === 'no-balance') setTimeout(() => (s.h.sim.faults.notEnoughBalanceForRefunds = true), 15);
      const amounts = Array.from({ length: 50 }, (_, i) => [10, 33, 70, 130, 250, 500, 1000][(i + round) % 7] as number);
      let bursting = true;
      let samples = 0;
      const sampler = (async () => {
        while (bursting) {
          const r = await s.db.query<{ reserved: number; ok: number; amount: number; refund_amount: number; refund_pending: number }>(
            `SELECT p.amount, p.refund_amount, p.refund_pending,
                    COALESCE((SELECT sum(refund_amount) FROM refund_orders WHERE pay_order_id = p.pay_order_id AND state IN (0, 1, 2)), 0)::int8 AS reserved,
                    COALESCE((SELECT sum(refund_amount) FROM refund_orders WHERE pay_order_id = p.pay_order_id AND state = 2), 0)::int8 AS ok
               FROM pay_orders p WHERE p.pay_order_id = $1`,
            [id],
          );
          const row = r.rows[0];
          samples++;
          if (row) {
            v.check(row.reserved <= row.amount, `${id}: ${row.reserved} refunded or in flight > paid ${row.amount} (mid-burst)`);
            v.check(row.ok <= row.amount, `${id}: ${row.ok} refunded > paid ${row.amount} (mid-burst)`);
            v.check(row.refund_amount + row.refund_pending <= row.amount, `${id}: order totals ${row.refund_amount}+${row.refund_pending} > ${row.amount} (mid-burst)`);
          }
          await sleep(3);
        }
      })();
      const refunds = await Promise.all(amounts.map((amount) => safeCall(() => s.client.refund({ payOrderId: id, mchRefundNo: uniqueNo('r'), refundAmount: amount, currency: 'cny', refundReason: 'burst', notifyUrl: s.receiver.url }))));
      bursting = false;
      await sampler;
      cases += refunds.length;
      let accepted = 0;
      for (const a of refunds) {
        v.check(a.code === 0 || a.errorKey === 'REFUND_AMOUNT_EXCEEDED' || a.errorKey === 'ORDER_STATE_INVALID', `refund answered ${a.code} ${a.errorKey}: ${a.msg}`);
        const d = a.data as { state: number; refundAmount: number } | undefined;
        if (a.code === 0 && d && d.state !== 3 && d.state !== 4) accepted += d.refundAmount;
      }
      v.check(accepted <= 1000, `round ${round} (${variant}): accepted refunds total ${accepted} > 1000`);
      s.h.sim.faults.notEnoughBalanceForRefunds = false;
      s.h.sim.faults.failNextRequests = 0;
      if (variant === 'hold') {
        // The channel finishes the held refunds: some succeed, some are closed (their amount is released).
        s.h.sim.faults.holdRefunds = false;
        const held = s.h.sim.ledger(s.h.creds.mchid).refunds.filter((r) => r.out_trade_no === id && r.status === 'PROCESSING');
        await Promise.all(held.map((r, i) => s.h.sim.refunds.complete(s.h.creds.mchid, r.out_refund_no, i % 3 === 2 ? 'CLOSED' : 'SUCCESS')));
      }
      bursts.push({ round, variant, id, accepted: refunds.filter((a) => a.code === 0).length, samples });

      // 50 concurrent identical refunds (same mchRefundNo) → exactly one refund.
      const id2 = await paidOrder(v, 600);
      if (!id2) continue;
      const same = { payOrderId: id2, mchRefundNo: uniqueNo('rs'), refundAmount: 200, currency: 'cny', refundReason: 'same', notifyUrl: s.receiver.url };
      const sameAnswers = await Promise.all(Array.from({ length: 50 }, () => safeCall(() => s.client.refund(same))));
      cases += sameAnswers.length;
      const refundIds = new Set(sameAnswers.filter((a) => a.code === 0).map((a) => (a.data as { refundOrderId: string }).refundOrderId));
      v.check(refundIds.size === 1, `round ${round}: ${refundIds.size} refunds for one mchRefundNo`);
      for (const a of sameAnswers) v.check(a.code === 0 || a.errorKey === 'ORDER_IN_PROGRESS', `identical refund answered ${a.code} ${a.errorKey}: ${a.msg}`);
      const rr = await s.db.query<{ n: number; amount: number }>(`SELECT count(*)::int AS n, COALESCE(sum(refund_amount), 0)::int8 AS amount FROM refund_orders WHERE pay_order_id = $1`, [id2]);
      v.check(rr.rows[0]?.n === 1 && rr.rows[0]?.amount === 200, `round ${round}: ${rr.rows[0]?.n} refund rows (${rr.rows[0]?.amount}) for one mchRefundNo`);
    }
    // Settle all bursts together: refunds whose request the channel failed (5xx, nothing done)
    // are only given up after the reconciler's 60 s orphan window, which the other rounds overlap.
    for (const b of bursts) {
      const settled = await waitUntil(`refunds of ${b.id} to settle`, async () => {
        const r = await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM refund_orders WHERE pay_order_id = $1 AND state IN (0, 1)`, [b.id]);
        return r.rows[0]?.n === 0;
      }, 120_000, 250);
      v.check(settled, `round ${b.round} (${b.variant}): refunds of ${b.id} still open after 120 s`);
      const sum = await s.db.query<{ total: number; refunded: number }>(
        `SELECT COALESCE((SELECT sum(refund_amount) FROM refund_orders WHERE pay_order_id = $1 AND state = 2), 0)::int8 AS total, refund_amount AS refunded FROM pay_orders WHERE pay_order_id = $1`,
        [b.id],
      );
      const total = sum.rows[0]?.total ?? 0;
      v.check(total <= 1000, `round ${b.round}: refunded ${total} > paid 1000`);
      v.check(sum.rows[0]?.refunded === total, `round ${b.round}: order refund_amount ${sum.rows[0]?.refunded} ≠ Σ successful refunds ${total}`);
      const simTotal = s.h.sim.ledger(s.h.creds.mchid).orders.find((o) => o.out_trade_no === b.id)?.refunded_total;
      v.check(simTotal === total, `round ${b.round}: channel refunded ${simTotal}, gateway ${total}`);
      console.log(`faults: money: round ${b.round} (${b.variant}): ${b.accepted}/50 refunds accepted, ${total} of 1000 refunded, ${b.samples} mid-burst samples`);
    }
    const ok = await settle(s.db, () => s.h.sim.ledger(s.h.creds.mchid), s.receiver, 90_000);
    v.check(ok, 'the gateway did not settle with the channel');
    await s.gw.stop(); // the checks below read one consistent state, not a moving one
    const t = await checkTransitions(s.db, v);
    await checkMoney(s.db, v);
    await checkAgainstLedger(s.db, s.h.sim.ledger(s.h.creds.mchid), v);
    await checkNotifications(s.db, s.receiver, v);
    for (const e of s.gw.unhandledErrors()) v.add(`gateway log: ${e}`);
    for (const e of s.gw.unexpectedExits) v.add(e);
    report('money under concurrency', cases, v, `${rounds} rounds, ${t.orders} orders and refunds, ${t.transitions} transitions checked`, () => s.gw.logTail());
  });
});
