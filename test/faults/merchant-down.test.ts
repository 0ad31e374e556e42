import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { Violations, postgresAvailable, report, scaled, sleep, waitUntil } from './support/harness.ts';
import { checkAgainstLedger, checkNotifications, checkTransitions } from './support/invariants.ts';
import { type Scenario, safeCall, startScenario, uniqueNo } from './support/scenario.ts';

/** Seconds before each attempt; the first is the delay before the first attempt (docs/configuration.md). */
const SCHEDULE = [0.2, 0.4, 0.4, 0.8, 1.2, 1.6];
const WORKER_MS = 100;

/**
 * Merchant endpoint down: the notify receiver's port is closed for the whole compressed retry
 * schedule, then comes back. The gateway gives up after the last attempt, each attempt at the
 * time POLYPAY_NOTIFY_SCHEDULE says; an operator's resend (POST /admin/v1/notifications/:id/resend)
 * delivers the identical signed payload. A merchant back within the schedule is reached by the
 * next attempt without help.
 */
describe('faults: merchant endpoint down', { skip: !postgresAvailable() && 'needs PostgreSQL (POLYPAY_TEST_SKIP_PG=1)' }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario({ env: { POLYPAY_NOTIFY_SCHEDULE: SCHEDULE.join(','), POLYPAY_WORKER_INTERVAL_MS: String(WORKER_MS) } });
  });
  after(async () => {
    await s?.close();
  });

  test('down for the whole schedule, back, resend; down for part of it', async () => {
    const v = new Violations();
    let cases = 0;
    const n = scaled(6, 25);
    const mchid = s.h.creds.mchid;

    const order = async (tag: string) => {
      const a = await safeCall(() => s.client.unifiedOrder({ mchOrderNo: uniqueNo('md'), wayCode: 'WX_NATIVE', amount: 100 + cases, currency: 'cny', subject: tag, body: tag, notifyUrl: s.receiver.url }));
      v.check(a.code === 0, `unifiedOrder: ${a.code} ${a.msg}`);
      return (a.data as { payOrderId: string }).payOrderId;
    };
    const notes = async (ids: string[]) =>
      (await s.db.query<{ id: number; order_id: string; state: number; attempts: number; body: string; created_at: Date }>(
        `SELECT id, order_id, state, attempts, body, created_at FROM merchant_notifications WHERE order_id = ANY($1::text[]) ORDER BY id`,
        [ids],
      )).rows;
    const attemptsOf = async (id: number) =>
      (await s.db.query<{ attempt_no: number; created_at: Date; result: string }>(`SELECT attempt_no, created_at, result FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt_no`, [id])).rows;

    /** Attempt k (1-based) is due schedule[k-1] seconds after the previous attempt ended (the outbox row's creation for k = 1). */
    const checkSchedule = async (note: { id: number; created_at: Date; order_id: string }, upTo: number) => {
      const rows = await attemptsOf(note.id);
      let prev = note.created_at.getTime();
      for (const a of rows.slice(0, upTo)) {
        const delay = (SCHEDULE[a.attempt_no - 1] ?? 0) * 1000;
        const gap = a.created_at.getTime() - prev;
        v.check(gap >= delay - 5, `notification ${note.id} attempt ${a.attempt_no}: ${gap} ms after the previous, the schedule says ${delay} ms`);
        v.check(gap <= delay + WORKER_MS + 1500, `notification ${note.id} attempt ${a.attempt_no}: ${gap} ms after the previous, the schedule says ${delay} ms (late)`);
        prev = a.created_at.getTime();
      }
    };

    // 1. Down for the whole schedule.
    await s.receiver.down();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await order(`down ${i}`));
    for (const id of ids) await s.h.sim.payer.pay(mchid, id);
    const gaveUp = await waitUntil('every notification given up', async () => {
      const rows = await notes(ids);
      return rows.length === n && rows.every((r) => r.state === 2);
    }, 60_000, 200);
    v.check(gaveUp, 'the gateway did not give up on every notification');
    for (const note of await notes(ids)) {
      cases++;
      v.check(note.attempts === SCHEDULE.length, `notification ${note.id}: ${note.attempts} attempts, the schedule has ${SCHEDULE.length}`);
      const rows = await attemptsOf(note.id);
      v.check(rows.length === SCHEDULE.length && rows.every((a) => /^error: /.test(a.result)), `notification ${note.id}: attempts ${rows.map((a) => a.result).join(' | ')}`);
      await checkSchedule(note, SCHEDULE.length);
    }
    v.check(s.receiver.deliveries.length === 0, `the receiver was down but got ${s.receiver.deliveries.length} deliveries`);

    // 2. Back up: nothing more is sent by itself (given up) until an operator resends.
    await s.receiver.up();
    await sleep(SCHEDULE[SCHEDULE.length - 1]! * 1000 + 500);
    v.check(s.receiver.deliveries.length === 0, `given-up notifications were sent again without a resend (${s.receiver.deliveries.length})`);
    const unauthorised = await request(`${s.gw.url}/admin/v1/notifications/1/resend`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    v.check(unauthorised.statusCode === 401, `resend without the admin token answered ${unauthorised.statusCode}`);
    await unauthorised.body.dump();
    const unknown = await s.gw.admin('POST', '/notifications/999999999/resend');
    v.check(unknown.status === 404 && unknown.json.errorKey === 'NOT_FOUND', `resend of an unknown id answered ${unknown.status} ${String(unknown.json.errorKey)}`);
    for (const note of await notes(ids)) {
      const r = await s.gw.admin('POST', `/notifications/${note.id}/resend`);
      v.check(r.status === 200, `resend ${note.id} answered ${r.status}`);
    }
    const delivered = await waitUntil('resent notifications delivered', async () => (await notes(ids)).every((r) => r.state === 1), 20_000);
    v.check(delivered, 'resent notifications were not delivered');
    for (const note of await notes(ids)) {
      cases++;
      v.check(note.attempts === SCHEDULE.length + 1, `notification ${note.id}: ${note.attempts} attempts after one resend`);
      const got = s.receiver.deliveries.filter((d) => d.fields.payOrderId === note.order_id);
      v.check(got.length === 1, `${note.order_id}: ${got.length} deliveries after one resend`);
      const stored = Object.fromEntries(new URLSearchParams(note.body));
      v.check(got[0]?.signatureValid && got[0]?.fields.sign === stored.sign && got[0]?.fields.reqTime === stored.reqTime, `${note.order_id}: the resend is not the identical signed payload`);
    }
    const listed = await s.gw.admin('GET', `/notifications?orderId=${ids[0]}`);
    const log = ((listed.json.notifications as Array<{ attemptLog: unknown[] }>)[0]?.attemptLog ?? []).length;
    v.check(log === SCHEDULE.length + 1, `the admin list shows ${log} attempts`);

    // 3. Down for the first attempts only (connection refused, then 503s): the next scheduled attempt delivers.
    const comeback = 3;
    let answered = 0;
    await s.receiver.down();
    const ids2: string[] = [];
    for (let i = 0; i < n; i++) ids2.push(await order(`flaky ${i}`));
    for (const id of ids2) await s.h.sim.payer.pay(mchid, id);
    await waitUntil('first attempts failed', async () => (await notes(ids2)).every((r) => r.attempts >= 1), 20_000);
    s.receiver.respond = () => (++answered <= n ? 'FAIL: busy' : 'SUCCESS');
    await s.receiver.up();
    const ok2 = await waitUntil('delivered after the merchant came back', async () => {
      const rows = await notes(ids2);
      return rows.length === n && rows.every((r) => r.state === 1);
    }, 30_000, 200);
    v.check(ok2, 'notifications were not delivered once the merchant came back');
    for (const note of await notes(ids2)) {
      cases++;
      v.check(note.attempts >= 2 && note.attempts <= comeback + 2 && note.attempts <= SCHEDULE.length, `notification ${note.id}: delivered on attempt ${note.attempts}`);
      await checkSchedule(note, note.attempts);
    }
    s.receiver.respond = () => 'SUCCESS';

    await s.gw.stop();
    const t = await checkTransitions(s.db, v);
    await checkAgainstLedger(s.db, s.h.sim.ledger(mchid), v);
    await checkNotifications(s.db, s.receiver, v);
    for (const e of s.gw.unhandledErrors()) v.add(`gateway log: ${e}`);
    for (const e of s.gw.unexpectedExits) v.add(e);
    report('merchant endpoint down', cases, v, `schedule ${SCHEDULE.join(',')} s, ${n} notifications given up then resent, ${n} delivered after a comeback, ${t.transitions} transitions`, () => s.gw.logTail());
  });
});
