import { after, before, describe, test } from 'node:test';
import { Violations, postgresAvailable, report, rng, scaled, sleep } from './support/harness.ts';
import { checkAgainstLedger, checkMoney, checkNotifications, checkTransitions, settle } from './support/invariants.ts';
import { type Scenario, safeCall, startScenario, uniqueNo } from './support/scenario.ts';

/**
 * Crash: the gateway (a real child process on PostgreSQL) is killed with SIGKILL at random
 * moments while merchants create, close, query and refund orders and payers pay at the channel;
 * it is restarted each time. Afterwards: every order and refund the merchant got a success answer
 * for exists; every payment the channel took is recorded paid (by callback or active query);
 * every order_events transition is legal and chained; the money adds up with the channel; every
 * notification reached the merchant at least once and never twice at the same time.
 */
describe('faults: crash (kill -9 under load)', { skip: !postgresAvailable() && 'needs PostgreSQL (POLYPAY_TEST_SKIP_PG=1)' }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario();
  });
  after(async () => {
    await s?.close();
  });

  test('kill -9 at random moments, restart, nothing lost or wrong', async () => {
    const v = new Violations();
    const r = rng();
    const kills = scaled(10, 40);
    const created = new Map<string, { mchOrderNo: string; amount: number; fields: Record<string, unknown> }>();
    const paidAtChannel = new Set<string>();
    const refunds = new Map<string, { payOrderId: string; amount: number }>();
    let requests = 0;
    let transportFailures = 0;
    let running = true;
    const unpaid = () => [...created.keys()].filter((id) => !paidAtChannel.has(id));
    let down = false;
    const check = (what: string, a: { code: number; errorKey?: string; msg: string }, allowed: string[]) => {
      requests++;
      down = a.code === -1;
      if (a.code === -1) {
        transportFailures++;
        return;
      }
      v.check(a.code === 0 || allowed.includes(a.errorKey ?? ''), `${what} answered ${a.code} ${a.errorKey}: ${a.msg}`);
    };

    const worker = async () => {
      while (running) {
        const dice = r.next();
        if (dice < 0.35 || created.size < 5) {
          const fields = { mchOrderNo: uniqueNo('k'), wayCode: 'WX_NATIVE', amount: r.int(1, 5000), currency: 'cny', subject: 'crash', body: 'crash', notifyUrl: s.receiver.url };
          const a = await safeCall(() => s.client.unifiedOrder(fields));
          check('unifiedOrder', a, ['ORDER_IN_PROGRESS']);
          if (a.code === 0) {
            const id = (a.data as { payOrderId: string }).payOrderId;
            created.set(id, { mchOrderNo: fields.mchOrderNo, amount: fields.amount, fields });
          }
        } else if (dice < 0.45) {
          // An idempotent repeat of an earlier order: the same order or a retry-later, never another one.
          const [id, o] = r.pick([...created.entries()]);
          const a = await safeCall(() => s.client.unifiedOrder(o.fields));
          check('repeated unifiedOrder', a, ['ORDER_IN_PROGRESS']);
          if (a.code === 0) v.check((a.data as { payOrderId: string }).payOrderId === id, `repeat of ${o.mchOrderNo} answered another order`);
        } else if (dice < 0.65) {
          const ids = unpaid();
          if (ids.length === 0) continue;
          const id = r.pick(ids);
          try {
            await s.h.sim.payer.pay(s.h.creds.mchid, id);
            paidAtChannel.add(id);
          } catch {
            // closed, or never reached the channel: the payer cannot pay it
          }
        } else if (dice < 0.72) {
          const ids = unpaid();
          if (ids.length === 0) continue;
          const a = await safeCall(() => s.client.close({ payOrderId: r.pick(ids) }));
          check('close', a, ['ORDER_STATE_INVALID', 'CHANNEL_UNAVAILABLE', 'CHANNEL_REJECTED']);
        } else if (dice < 0.85) {
          if (paidAtChannel.size === 0) continue;
          const id = r.pick([...paidAtChannel]);
          const amount = Math.max(1, Math.floor((created.get(id)?.amount ?? 3) / r.int(2, 5)));
          const a = await safeCall(() => s.client.refund({ payOrderId: id, mchRefundNo: uniqueNo('kr'), refundAmount: amount, currency: 'cny', refundReason: 'crash', notifyUrl: s.receiver.url }));
          check('refund', a, ['REFUND_AMOUNT_EXCEEDED', 'ORDER_STATE_INVALID']);
          if (a.code === 0) refunds.set((a.data as { refundOrderId: string }).refundOrderId, { payOrderId: id, amount });
        } else {
          if (created.size === 0) continue;
          const a = await safeCall(() => s.client.query({ payOrderId: r.pick([...created.keys()]), ...(r.chance(0.3) ? { sync: 1 } : {}) }));
          check('query', a, []);
        }
        await sleep(down ? 100 : r.int(0, 20)); // a dead gateway refuses at once: do not spin
      }
    };

    const workers = Array.from({ length: 6 }, () => worker());
    const restartsMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      await sleep(r.int(300, 2500));
      await s.gw.kill9();
      await sleep(r.int(0, 400));
      const t0 = Date.now();
      await s.gw.start();
      restartsMs.push(Date.now() - t0);
    }
    await sleep(1000);
    running = false;
    await Promise.all(workers);

    const ok = await settle(s.db, () => s.h.sim.ledger(s.h.creds.mchid), s.receiver, 150_000);
    v.check(ok, 'the gateway did not settle with the channel within 150 s of the last restart');
    await s.gw.stop(); // the checks below read one consistent state, not a moving one

    // Every success answer names an order or refund that exists, as answered.
    const ids = [...created.keys()];
    const rows = await s.db.query<{ pay_order_id: string; mch_order_no: string; amount: number }>(`SELECT pay_order_id, mch_order_no, amount FROM pay_orders WHERE pay_order_id = ANY($1::text[])`, [ids]);
    const found = new Map(rows.rows.map((x) => [x.pay_order_id, x]));
    for (const [id, o] of created) {
      const row = found.get(id);
      v.check(row && row.mch_order_no === o.mchOrderNo && row.amount === o.amount, `order ${id} (${o.mchOrderNo}) was answered with success but ${row ? 'differs' : 'does not exist'}`);
    }
    const rrows = await s.db.query<{ refund_order_id: string; pay_order_id: string; refund_amount: number }>(`SELECT refund_order_id, pay_order_id, refund_amount FROM refund_orders WHERE refund_order_id = ANY($1::text[])`, [[...refunds.keys()]]);
    const rfound = new Map(rrows.rows.map((x) => [x.refund_order_id, x]));
    for (const [id, rf] of refunds) {
      const row = rfound.get(id);
      v.check(row && row.pay_order_id === rf.payOrderId && row.refund_amount === rf.amount, `refund ${id} was answered with success but ${row ? 'differs' : 'does not exist'}`);
    }
    const t = await checkTransitions(s.db, v);
    await checkMoney(s.db, v);
    const l = await checkAgainstLedger(s.db, s.h.sim.ledger(s.h.creds.mchid), v);
    const n = await checkNotifications(s.db, s.receiver, v);
    for (const e of s.gw.unhandledErrors()) v.add(`gateway log: ${e}`);
    for (const e of s.gw.unexpectedExits) v.add(e);
    v.check(s.gw.kills >= kills, `only ${s.gw.kills} kills`);
    report('crash', s.gw.kills, v, `${requests} merchant requests (${transportFailures} hit a dead gateway), ${created.size} orders, ${l.paid} paid, ${refunds.size} refunds, ${t.transitions} transitions, ${n.notifications} notifications / ${n.deliveries} deliveries, restart ${Math.round(restartsMs.reduce((a, b) => a + b, 0) / Math.max(1, restartsMs.length))} ms avg`, () => s.gw.logTail());
  });
});
