import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { openDb } from '../../src/db/db.ts';
import { verifySignature } from '../../src/merchant-api/sign.ts';
import { FAULT_APP_SECRET } from './support/gateway-process.ts';
import { Violations, report, rng, scaled, sleep, waitUntil } from './support/harness.ts';
import { checkAgainstLedger, checkMoney, checkNotifications, checkTransitions, settle } from './support/invariants.ts';
import { type ThrowawayCluster, clusterUnavailable, startThrowawayCluster } from './support/pg-cluster.ts';
import { type Scenario, startScenario, uniqueNo } from './support/scenario.ts';

/** A request still unanswered after this long is a hang (the gateway's own deadlines are 5 s for a connection, 10 s for a channel). */
const HANG_MS = 20_000;

interface Answer {
  status: number;
  code: number;
  errorKey?: string;
  msg: string;
  data?: Record<string, unknown>;
  ms: number;
  transport?: string;
}

/**
 * Database loss: the gateway (child process) runs on a throwaway PostgreSQL cluster that is
 * stopped with `pg_ctl -m immediate` (a crash: no checkpoint, every connection cut) under load,
 * kept down for a while, and started again — several times. Requests during the gap fail cleanly:
 * 503 SERVICE_UNAVAILABLE, never a 500, never a stack, never a hang; the gateway stays up and
 * reconnects by itself; nothing committed is lost and the gateway ends in agreement with the channel.
 */
const unavailable = clusterUnavailable();
describe('faults: database loss', { skip: unavailable ?? false }, () => {
  let cluster: ThrowawayCluster;
  let s: Scenario;
  before(async () => {
    cluster = await startThrowawayCluster();
    s = await startScenario({ databaseUrl: cluster.url, openDb: () => openDb({ databaseUrl: cluster.url, poolSize: 4 }) });
  });
  after(async () => {
    await s?.close().catch(() => {});
    cluster?.destroy();
  });

  test('PostgreSQL crashes and restarts under load', async () => {
    const v = new Violations();
    const r = rng();
    const outages = scaled(3, 8);
    const created = new Map<string, { mchOrderNo: string; amount: number }>();
    const paid = new Set<string>();
    const refunds = new Map<string, string>();
    let dbDown = false;
    let requests = 0;
    let duringOutage = 0;
    let unavailableAnswers = 0;

    const call = async (path: string, fields: Record<string, unknown>): Promise<Answer> => {
      const body = s.client.signedBody(fields);
      const t0 = Date.now();
      requests++;
      const down = dbDown;
      if (down) duringOutage++;
      try {
        const res = await request(`${s.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(HANG_MS) });
        const text = await res.body.text();
        const ms = Date.now() - t0;
        let json: { code: number; msg: string; errorKey?: string; data?: Record<string, unknown>; sign?: string };
        try {
          json = JSON.parse(text);
        } catch {
          v.add(`${path}: HTTP ${res.statusCode} answer is not JSON: ${text.slice(0, 200)}`);
          return { status: res.statusCode, code: -2, msg: text, ms };
        }
        const a: Answer = { status: res.statusCode, code: json.code, errorKey: json.errorKey, msg: json.msg, data: json.data, ms };
        v.check(res.statusCode !== 500 && json.errorKey !== 'SYSTEM_ERROR', `${path} answered ${res.statusCode} ${json.errorKey}: ${json.msg}${down ? ' (database down)' : ''}`);
        v.check(!/\n\s+at |Error:|node_modules/.test(String(json.msg)), `${path}: a stack or internal error in the answer: ${json.msg}`);
        if (json.errorKey === 'SERVICE_UNAVAILABLE') {
          unavailableAnswers++;
          v.check(res.statusCode === 503, `SERVICE_UNAVAILABLE with HTTP ${res.statusCode}`);
        }
        if (json.code === 0) v.check(json.sign && json.data && verifySignature(json.data, FAULT_APP_SECRET, 'MD5', json.sign), `${path}: success answer not signed`);
        return a;
      } catch (err) {
        const ms = Date.now() - t0;
        const name = (err as Error).name;
        if (name === 'TimeoutError' || name === 'AbortError') v.add(`${path}: no answer within ${HANG_MS} ms${down ? ' (database down)' : ''}`);
        else v.add(`${path}: the gateway did not answer (${(err as { code?: string }).code ?? name}: ${(err as Error).message})`);
        return { status: 0, code: -1, msg: (err as Error).message, ms, transport: name };
      }
    };

    let running = true;
    const worker = async () => {
      while (running) {
        const dice = r.next();
        if (dice < 0.4 || created.size < 3) {
          const fields = { mchOrderNo: uniqueNo('dl'), wayCode: 'WX_NATIVE', amount: r.int(1, 3000), currency: 'cny', subject: 'db loss', body: 'db loss', notifyUrl: s.receiver.url };
          const a = await call('/api/pay/unifiedOrder', fields);
          if (a.code === 0 && a.data) created.set(String(a.data.payOrderId), { mchOrderNo: fields.mchOrderNo, amount: fields.amount });
        } else if (dice < 0.6) {
          const open = [...created.keys()].filter((id) => !paid.has(id));
          if (open.length === 0) continue;
          const id = r.pick(open);
          try {
            await s.h.sim.payer.pay(s.h.creds.mchid, id);
            paid.add(id);
          } catch {
            // never reached the channel, or closed
          }
        } else if (dice < 0.75) {
          if (paid.size === 0) continue;
          const id = r.pick([...paid]);
          const a = await call('/api/refund/refundOrder', { payOrderId: id, mchRefundNo: uniqueNo('dr'), refundAmount: 1, currency: 'cny', refundReason: 'db loss', notifyUrl: s.receiver.url });
          if (a.code === 0 && a.data) refunds.set(String(a.data.refundOrderId), id);
        } else {
          if (created.size === 0) continue;
          await call('/api/pay/query', { payOrderId: r.pick([...created.keys()]), ...(r.chance(0.3) ? { sync: 1 } : {}) });
        }
        await sleep(r.int(5, 30));
      }
    };
    const workers = Array.from({ length: 5 }, () => worker());

    const gaps: number[] = [];
    for (let k = 0; k < outages; k++) {
      await sleep(r.int(1500, 3000));
      cluster.kill();
      dbDown = true;
      // Short and long gaps: some shorter, some longer than the pool's 5 s connection timeout.
      const gap = k % 2 === 0 ? r.int(1000, 3000) : r.int(5500, 7500);
      gaps.push(gap);
      await sleep(gap);
      cluster.start();
      dbDown = false;
      const back = await waitUntil('the gateway serves again', async () => (await call('/api/pay/query', { mchOrderNo: 'nothing-here' })).errorKey === 'ORDER_NOT_FOUND', 30_000, 200);
      v.check(back, `outage ${k + 1}: the gateway did not reconnect within 30 s of the database coming back`);
    }
    await sleep(1000);
    running = false;
    await Promise.all(workers);

    const ok = await settle(s.db, () => s.h.sim.ledger(s.h.creds.mchid), s.receiver, 150_000);
    v.check(ok, 'the gateway did not settle with the channel after the database came back');
    await s.gw.stop();

    const rows = await s.db.query<{ pay_order_id: string; mch_order_no: string; amount: number }>(`SELECT pay_order_id, mch_order_no, amount FROM pay_orders WHERE pay_order_id = ANY($1::text[])`, [[...created.keys()]]);
    const found = new Map(rows.rows.map((x) => [x.pay_order_id, x]));
    for (const [id, o] of created) {
      const row = found.get(id);
      v.check(row && row.mch_order_no === o.mchOrderNo && row.amount === o.amount, `order ${id} was answered with success but ${row ? 'differs' : 'was lost'}`);
    }
    const rr = await s.db.query<{ refund_order_id: string }>(`SELECT refund_order_id FROM refund_orders WHERE refund_order_id = ANY($1::text[])`, [[...refunds.keys()]]);
    v.check(rr.rows.length === refunds.size, `${refunds.size - rr.rows.length} refunds answered with success were lost`);
    const t = await checkTransitions(s.db, v);
    await checkMoney(s.db, v);
    const l = await checkAgainstLedger(s.db, s.h.sim.ledger(s.h.creds.mchid), v);
    const n = await checkNotifications(s.db, s.receiver, v);
    for (const e of s.gw.unhandledErrors()) v.add(`gateway log: ${e}`);
    for (const e of s.gw.unexpectedExits) v.add(e);
    v.check(unavailableAnswers > 0, 'no request ever saw the database down (the outages did not take)');
    report('database loss', outages, v, `${requests} merchant requests, ${duringOutage} during outages, ${unavailableAnswers} answered 503 SERVICE_UNAVAILABLE; gaps ${gaps.join('/')} ms; ${created.size} orders, ${l.paid} paid, ${refunds.size} refunds, ${t.transitions} transitions, ${n.notifications} notifications`, () => s.gw.logTail());
  });
});
