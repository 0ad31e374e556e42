import type { Queryable } from '../../../src/db/db.ts';
import { PAY_TRANSITIONS, REFUND_TRANSITIONS } from '../../../src/domain/order-states.ts';
import { checkTransition, type TransitionTable } from '../../../src/domain/state-machine.ts';
import type { Ledger } from '../../../src/channels/wechat-pay/simulator/index.ts';
import type { Violations } from './harness.ts';
import { waitUntil } from './harness.ts';
import type { NotifyReceiver } from './receiver.ts';

/**
 * The invariants every fault scenario ends with, read from the gateway's database and the
 * simulator's own ledger (the channel's truth), never from the gateway's answers.
 */

interface EventRow {
  id: number;
  order_type: 'pay' | 'refund';
  order_id: string;
  kind: string;
  from_state: number | null;
  to_state: number | null;
}

/**
 * Every order_events transition row is allowed by PAY_TRANSITIONS / REFUND_TRANSITIONS, the
 * transitions of one order form one chain from its creation (each starts where the previous
 * ended), and the chain ends in the order's current state: no illegal, lost or invented move.
 */
export async function checkTransitions(db: Queryable, v: Violations): Promise<{ orders: number; transitions: number }> {
  const events = (await db.query<EventRow>(`SELECT id, order_type, order_id, kind, from_state, to_state FROM order_events WHERE kind IN ('created', 'transition') ORDER BY id`)).rows;
  const pays = new Map((await db.query<{ id: string; state: number }>(`SELECT pay_order_id AS id, state FROM pay_orders`)).rows.map((r) => [r.id, r.state]));
  const refunds = new Map((await db.query<{ id: string; state: number }>(`SELECT refund_order_id AS id, state FROM refund_orders`)).rows.map((r) => [r.id, r.state]));
  const chains = new Map<string, EventRow[]>();
  for (const e of events) {
    const k = `${e.order_type}:${e.order_id}`;
    let list = chains.get(k);
    if (!list) chains.set(k, (list = []));
    list.push(e);
  }
  let transitions = 0;
  for (const [k, list] of chains) {
    const [type, id] = k.split(':') as ['pay' | 'refund', string];
    const table = (type === 'pay' ? PAY_TRANSITIONS : REFUND_TRANSITIONS) as TransitionTable<number>;
    const first = list[0] as EventRow;
    v.check(first.kind === 'created' && first.to_state === 0, `${k}: first event is ${first.kind}→${first.to_state}, not created→0`);
    let at = 0;
    for (const e of list.slice(1)) {
      if (e.kind !== 'transition') {
        v.add(`${k}: a second '${e.kind}' event (id ${e.id})`);
        continue;
      }
      transitions++;
      const from = e.from_state as number;
      const to = e.to_state as number;
      v.check(checkTransition(table, from, to) === 'allowed', `${k}: illegal transition ${from} → ${to} (event ${e.id})`);
      v.check(from === at, `${k}: transition ${from} → ${to} (event ${e.id}) does not start where the order was (${at})`);
      at = to;
    }
    const current = (type === 'pay' ? pays : refunds).get(id);
    v.check(current === at, () => `${k}: events end in state ${at}, the row says ${current} (events: ${list.map((e) => `${e.id}:${e.kind}:${e.from_state}→${e.to_state}`).join(', ')})`);
  }
  for (const [id] of pays) v.check(chains.has(`pay:${id}`), `pay:${id}: no 'created' event`);
  for (const [id] of refunds) v.check(chains.has(`refund:${id}`), `refund:${id}: no 'created' event`);
  return { orders: chains.size, transitions };
}

/** Σ refunds: the order's totals agree with its refunds, and never exceed what was paid. */
export async function checkMoney(db: Queryable, v: Violations): Promise<void> {
  const rows = (
    await db.query<{ id: string; amount: number; state: number; refund_amount: number; refund_pending: number; ok: number; open: number; n_ok: number }>(
      `SELECT p.pay_order_id AS id, p.amount, p.state, p.refund_amount, p.refund_pending,
              COALESCE(sum(r.refund_amount) FILTER (WHERE r.state = 2), 0)::int8 AS ok,
              COALESCE(sum(r.refund_amount) FILTER (WHERE r.state IN (0, 1)), 0)::int8 AS open,
              count(r.*) FILTER (WHERE r.state = 2)::int AS n_ok
         FROM pay_orders p LEFT JOIN refund_orders r ON r.pay_order_id = p.pay_order_id
        GROUP BY p.pay_order_id`,
    )
  ).rows;
  for (const r of rows) {
    v.check(r.ok <= r.amount, `${r.id}: refunded ${r.ok} > paid ${r.amount}`);
    v.check(r.ok + r.open <= r.amount, `${r.id}: refunded + in flight ${r.ok + r.open} > paid ${r.amount}`);
    v.check(r.refund_amount === r.ok, `${r.id}: order says refunded ${r.refund_amount}, its refunds sum to ${r.ok}`);
    v.check(r.refund_pending === r.open, `${r.id}: order says ${r.refund_pending} in flight, its open refunds sum to ${r.open}`);
    if (r.ok > 0) v.check(r.state === 2 || r.state === 5, `${r.id}: has successful refunds but is in state ${r.state}`);
    v.check((r.state === 5) === (r.ok === r.amount && r.ok > 0), `${r.id}: state ${r.state} with ${r.ok} of ${r.amount} refunded`);
  }
}

const PAID_AT_CHANNEL = new Set(['SUCCESS', 'REFUND']);

/**
 * The gateway agrees with the channel's ledger: an order is paid here exactly when the channel
 * took the money (same amount), refunds succeeded here exactly when they did there, and a payment
 * the channel took after we had closed/failed the order is flagged LATE_SUCCESS, not hidden.
 */
export async function checkAgainstLedger(db: Queryable, ledger: Ledger, v: Violations): Promise<{ paid: number; late: number }> {
  const simOrders = new Map(ledger.orders.map((o) => [o.out_trade_no, o]));
  const simRefunds = new Map(ledger.refunds.map((r) => [r.out_refund_no, r]));
  const orders = (await db.query<{ pay_order_id: string; amount: number; state: number; refund_amount: number; late_success: boolean; err_code: string | null }>(`SELECT pay_order_id, amount, state, refund_amount, late_success, err_code FROM pay_orders WHERE if_code = 'wxpay'`)).rows;
  let paid = 0;
  let late = 0;
  const ours = new Set<string>();
  for (const o of orders) {
    ours.add(o.pay_order_id);
    const s = simOrders.get(o.pay_order_id);
    const simPaid = s !== undefined && PAID_AT_CHANNEL.has(s.trade_state);
    const gwPaid = o.state === 2 || o.state === 5;
    if (gwPaid) paid++;
    v.check(gwPaid === simPaid, `${o.pay_order_id}: gateway state ${o.state}, channel says ${s?.trade_state ?? 'no such order'}`);
    if (s && gwPaid) v.check(s.amount_total === o.amount, `${o.pay_order_id}: paid ${o.amount} here, ${s.amount_total} at the channel`);
    if (s && gwPaid) v.check(s.refunded_total === o.refund_amount, `${o.pay_order_id}: refunded ${o.refund_amount} here, ${s.refunded_total} at the channel`);
    if (o.late_success) {
      late++;
      v.check(o.err_code === 'LATE_SUCCESS', `${o.pay_order_id}: late success without errCode LATE_SUCCESS (${o.err_code})`);
    }
  }
  const events = (await db.query<{ order_id: string; from_state: number; to_state: number }>(`SELECT order_id, from_state, to_state FROM order_events WHERE order_type = 'pay' AND kind = 'transition' AND to_state = 2 AND from_state IN (3, 6)`)).rows;
  const lateEvents = new Set(events.map((e) => e.order_id));
  for (const o of orders) {
    v.check(o.late_success === lateEvents.has(o.pay_order_id), `${o.pay_order_id}: late_success=${o.late_success} but ${lateEvents.has(o.pay_order_id) ? 'a' : 'no'} closed/failed → paid event`);
  }
  // Orders the channel took money for that the gateway does not know at all.
  for (const s of ledger.orders) {
    if (PAID_AT_CHANNEL.has(s.trade_state) && !ours.has(s.out_trade_no)) v.add(`channel order ${s.out_trade_no} is paid but unknown to the gateway`);
  }
  const refunds = (await db.query<{ refund_order_id: string; state: number; refund_amount: number }>(`SELECT refund_order_id, state, refund_amount FROM refund_orders WHERE if_code = 'wxpay'`)).rows;
  for (const r of refunds) {
    const s = simRefunds.get(r.refund_order_id);
    const simOk = s?.status === 'SUCCESS';
    v.check((r.state === 2) === simOk, `${r.refund_order_id}: refund state ${r.state} here, channel says ${s?.status ?? 'no such refund'}`);
    if (s) v.check(s.amount_refund === r.refund_amount, `${r.refund_order_id}: refund ${r.refund_amount} here, ${s.amount_refund} at the channel`);
  }
  const knownRefunds = new Set(refunds.map((r) => r.refund_order_id));
  for (const s of ledger.refunds) if (s.status === 'SUCCESS' && !knownRefunds.has(s.out_refund_no)) v.add(`channel refund ${s.out_refund_no} succeeded but is unknown to the gateway`);
  return { paid, late };
}

interface NotificationRow {
  id: number;
  order_type: 'pay' | 'refund';
  order_id: string;
  event: string;
  state: number;
  attempts: number;
  body: string;
  url: string;
}

/**
 * The outbox: every paid order (and settled refund) with a notifyUrl has its notification, each
 * says what really happened (a pay notification always says paid, a late success says so), the
 * merchant received each at least once with a valid signature, attempts are numbered without gaps
 * or repeats, and no notification was ever in flight twice at once.
 */
export async function checkNotifications(db: Queryable, receiver: NotifyReceiver | null, v: Violations): Promise<{ notifications: number; deliveries: number }> {
  const notes = (await db.query<NotificationRow>(`SELECT id, order_type, order_id, event, state, attempts, body, url FROM merchant_notifications ORDER BY id`)).rows;
  const byKey = new Map(notes.map((n) => [`${n.order_type}:${n.order_id}:${n.event}`, n]));
  const paid = (await db.query<{ pay_order_id: string; state: number; late_success: boolean }>(`SELECT pay_order_id, state, late_success FROM pay_orders WHERE notify_url IS NOT NULL AND state IN (2, 5)`)).rows;
  for (const o of paid) v.check(byKey.has(`pay:${o.pay_order_id}:pay.2`), `${o.pay_order_id}: paid with a notifyUrl but no notification in the outbox`);
  const settled = (await db.query<{ refund_order_id: string; state: number }>(`SELECT refund_order_id, state FROM refund_orders WHERE notify_url IS NOT NULL AND state IN (2, 3, 4)`)).rows;
  for (const r of settled) v.check(byKey.has(`refund:${r.refund_order_id}:refund.${r.state}`), `${r.refund_order_id}: settled (${r.state}) with a notifyUrl but no notification`);
  const payStates = new Map((await db.query<{ id: string; state: number; late: boolean }>(`SELECT pay_order_id AS id, state, late_success AS late FROM pay_orders`)).rows.map((r) => [r.id, r]));
  for (const n of notes) {
    const fields = Object.fromEntries(new URLSearchParams(n.body));
    if (n.order_type === 'pay') {
      const o = payStates.get(n.order_id);
      v.check(n.event === 'pay.2' && fields.state === '2', `notification ${n.id} (${n.order_id}) is ${n.event} with state ${fields.state}: only payments are notified`);
      v.check(o !== undefined && (o.state === 2 || o.state === 5), `notification ${n.id}: says ${n.order_id} is paid, the order is in state ${o?.state}`);
      if (o?.late) v.check(fields.errCode === 'LATE_SUCCESS', `notification ${n.id}: late success notified without errCode LATE_SUCCESS (${fields.errCode})`);
    }
  }
  const attempts = (await db.query<{ notification_id: number; n: number; max: number; distinct_n: number }>(
    `SELECT notification_id, count(*)::int AS n, max(attempt_no)::int AS max, count(DISTINCT attempt_no)::int AS distinct_n FROM notification_attempts GROUP BY notification_id`,
  )).rows;
  const byNote = new Map(attempts.map((a) => [a.notification_id, a]));
  for (const n of notes) {
    const a = byNote.get(n.id);
    const count = a?.n ?? 0;
    v.check(count === n.attempts && (a?.max ?? 0) === n.attempts && (a?.distinct_n ?? 0) === count, `notification ${n.id}: attempts=${n.attempts} but ${count} attempt rows (max ${a?.max}, distinct ${a?.distinct_n})`);
  }
  let deliveries = 0;
  if (receiver) {
    deliveries = receiver.deliveries.length;
    for (const d of receiver.deliveries) v.check(d.signatureValid, `a delivery of ${d.key} has an invalid signature`);
    for (const o of receiver.overlaps) v.add(`overlapping deliveries: ${o}`);
    const got = receiver.deliveredKeys();
    for (const n of notes) {
      if (n.url !== receiver.url) continue;
      const fields = Object.fromEntries(new URLSearchParams(n.body));
      const key = `${n.order_type === 'refund' ? `refund:${fields.refundOrderId}` : `pay:${fields.payOrderId}`}:${fields.state}`;
      v.check(got.has(key), `notification ${n.id} (${key}) was never received by the merchant`);
    }
  }
  return { notifications: notes.length, deliveries };
}

/**
 * Waits until the gateway has caught up with the channel: every order the channel says is paid is
 * paid here, no refund is open unless the channel still processes it, and (with a receiver) every
 * notification in the outbox reached the merchant. Returns false on timeout (the checks then report why).
 */
export async function settle(db: Queryable, ledger: () => Ledger, receiver: NotifyReceiver | null, timeoutMs: number): Promise<boolean> {
  return waitUntil('the gateway to settle with the channel', async () => {
    const l = ledger();
    const paidAtChannel = l.orders.filter((o) => PAID_AT_CHANNEL.has(o.trade_state)).map((o) => o.out_trade_no);
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pay_orders WHERE pay_order_id = ANY($1::text[]) AND state NOT IN (2, 5)`, [paidAtChannel]);
    if ((r.rows[0]?.n ?? 1) > 0) return false;
    const processing = new Set(l.refunds.filter((x) => x.status === 'PROCESSING').map((x) => x.out_refund_no));
    const open = (await db.query<{ id: string }>(`SELECT refund_order_id AS id FROM refund_orders WHERE state IN (0, 1)`)).rows;
    if (open.some((o) => !processing.has(o.id))) return false;
    const simSuccess = l.refunds.filter((x) => x.status === 'SUCCESS').map((x) => x.out_refund_no);
    const lagging = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM refund_orders WHERE refund_order_id = ANY($1::text[]) AND state <> 2`, [simSuccess]);
    if ((lagging.rows[0]?.n ?? 1) > 0) return false;
    if (receiver) {
      const notes = (await db.query<{ order_type: string; body: string; url: string }>(`SELECT order_type, body, url FROM merchant_notifications`)).rows;
      const got = receiver.deliveredKeys();
      for (const n of notes) {
        if (n.url !== receiver.url) continue;
        const f = Object.fromEntries(new URLSearchParams(n.body));
        if (!got.has(`${n.order_type === 'refund' ? `refund:${f.refundOrderId}` : `pay:${f.payOrderId}`}:${f.state}`)) return false;
      }
    }
    return true;
  }, timeoutMs, 250);
}
