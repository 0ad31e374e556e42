import type { Queryable } from '../db/db.ts';
import { IllegalTransitionError } from '../domain/errors.ts';
import { type TransitionTable, checkTransition } from '../domain/state-machine.ts';
import { PAY_TRANSITIONS, PayState, REFUND_TRANSITIONS, RefundState } from '../domain/order-states.ts';

export interface PayOrderRow {
  pay_order_id: string;
  mch_no: string;
  app_id: string;
  mch_order_no: string;
  if_code: string;
  way_code: string;
  amount: number;
  currency: string;
  state: PayState;
  subject: string;
  body: string;
  client_ip: string | null;
  notify_url: string | null;
  return_url: string | null;
  channel_extra: string | null;
  ext_param: string | null;
  division_mode: number;
  request_hash: string;
  pay_data_type: string | null;
  pay_data: string | null;
  channel_order_no: string | null;
  channel_user: string | null;
  err_code: string | null;
  err_msg: string | null;
  refund_amount: number;
  refund_pending: number;
  refund_times: number;
  late_success: boolean;
  expired_at: Date;
  success_at: Date | null;
  next_check_at: Date | null;
  check_count: number;
  client_result: 'ok' | 'cancel' | 'fail' | null;
  client_reported_at: Date | null;
  /** The pay passage that serves the order and its fee snapshot (src/domain/routing.ts). */
  passage_id: number | null;
  fee_rate_ppm: number | null;
  fee_amount: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface RefundOrderRow {
  refund_order_id: string;
  pay_order_id: string;
  mch_no: string;
  app_id: string;
  mch_refund_no: string;
  if_code: string;
  way_code: string;
  pay_amount: number;
  refund_amount: number;
  currency: string;
  state: RefundState;
  refund_reason: string;
  client_ip: string | null;
  notify_url: string | null;
  channel_extra: string | null;
  ext_param: string | null;
  request_hash: string;
  channel_order_no: string | null;
  err_code: string | null;
  err_msg: string | null;
  success_at: Date | null;
  next_check_at: Date | null;
  check_count: number;
  created_at: Date;
  updated_at: Date;
}

export type EventSource = 'api' | 'callback' | 'query' | 'expiry' | 'close' | 'reconcile' | 'admin';

/** Column patches a transition may carry; keys are column names (whitelisted below). */
export type PayPatch = Partial<Pick<PayOrderRow, 'pay_data_type' | 'pay_data' | 'channel_order_no' | 'channel_user' | 'err_code' | 'err_msg' | 'success_at' | 'next_check_at' | 'late_success'>>;
export type RefundPatch = Partial<Pick<RefundOrderRow, 'channel_order_no' | 'err_code' | 'err_msg' | 'success_at' | 'next_check_at'>>;

const PAY_PATCHABLE = new Set(['pay_data_type', 'pay_data', 'channel_order_no', 'channel_user', 'err_code', 'err_msg', 'success_at', 'next_check_at', 'late_success']);
const REFUND_PATCHABLE = new Set(['channel_order_no', 'err_code', 'err_msg', 'success_at', 'next_check_at']);

export async function recordEvent(
  tx: Queryable,
  e: { orderType: 'pay' | 'refund'; orderId: string; kind: string; source: EventSource; from?: number | null; to?: number | null; detail?: Record<string, unknown> },
): Promise<void> {
  await tx.query(`INSERT INTO order_events (order_type, order_id, kind, from_state, to_state, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    e.orderType,
    e.orderId,
    e.kind,
    e.from ?? null,
    e.to ?? null,
    e.source,
    JSON.stringify(e.detail ?? {}),
  ]);
}

function patchSql(patch: Record<string, unknown>, allowed: ReadonlySet<string>, firstParam: number): { sql: string; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [col, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!allowed.has(col)) throw new Error(`column ${col} cannot be patched`);
    values.push(value);
    sets.push(`${col} = $${firstParam + values.length - 1}`);
  }
  return { sql: sets.map((s) => `, ${s}`).join(''), values };
}

const MACHINES = {
  pay: { table: 'pay_orders', id: 'pay_order_id', transitions: PAY_TRANSITIONS, patchable: PAY_PATCHABLE },
  refund: { table: 'refund_orders', id: 'refund_order_id', transitions: REFUND_TRANSITIONS, patchable: REFUND_PATCHABLE },
} as const;

/** A merchant notification to put in the outbox together with a transition (built by NotificationService). */
export interface OutboxEntry {
  orderType: 'pay' | 'refund';
  orderId: string;
  event: string;
  mchNo: string;
  appId: string;
  mchOrderNo: string;
  url: string;
  body: string;
  delaySeconds: number;
}

/** A timeline note (e.g. "callback received") written only if the transition applies. */
export interface EventNote {
  kind: string;
  source: EventSource;
  detail: Record<string, unknown>;
}

interface TransitionExtras<R> {
  /** Builds the notification from the row as it will be after the transition. */
  notify?: (after: R, q: Queryable) => Promise<OutboxEntry | null>;
  note?: EventNote;
}

/**
 * Moves an order or refund from its current state to `to` if the transition table allows it
 * and the row is still in that state (compare-and-set), and records the event — and, when
 * given, the merchant notification (outbox) and a note — all in ONE statement. A single
 * statement is atomic on its own, so a caller needs no BEGIN/COMMIT around it, and each state
 * change costs one round trip (the hottest writes of the gateway; see docs/benchmarks.md).
 * Returns the updated row, or null when the transition is a duplicate or lost a race (the
 * caller re-reads). An illegal transition throws: it is a bug or a forged input and is never
 * applied silently.
 */
async function transition<R extends { state: number }>(q: Queryable, kind: 'pay' | 'refund', row: R, id: string, to: number, source: EventSource, patch: Record<string, unknown>, detail: Record<string, unknown>, extras: TransitionExtras<R>): Promise<R | null> {
  const m = MACHINES[kind];
  const check = checkTransition(m.transitions as TransitionTable<number>, row.state, to);
  if (check === 'duplicate') return null;
  if (check === 'illegal') throw new IllegalTransitionError(kind, id, row.state, to);
  const p = patchSql(patch, m.patchable, 4);
  const values: unknown[] = [id, row.state, to, ...p.values];
  const param = (v: unknown) => `$${values.push(v)}`;
  const ctes = [
    `u AS (UPDATE ${m.table} SET state = $3, updated_at = now()${p.sql} WHERE ${m.id} = $1 AND state = $2 RETURNING *)`,
    `e AS (INSERT INTO order_events (order_type, order_id, kind, from_state, to_state, source, detail)
           SELECT ${param(kind)}, $1, 'transition', $2, $3, ${param(source)}, ${param(JSON.stringify(detail))}::jsonb FROM u)`,
  ];
  if (extras.note) {
    const n = extras.note;
    ctes.push(`n AS (INSERT INTO order_events (order_type, order_id, kind, source, detail)
           SELECT ${param(kind)}, $1, ${param(n.kind)}, ${param(n.source)}, ${param(JSON.stringify(n.detail))}::jsonb FROM u)`);
  }
  const o = extras.notify ? await extras.notify(afterTransition(row, to, patch), q) : null;
  if (o) {
    ctes.push(`o AS (INSERT INTO merchant_notifications (order_type, order_id, event, mch_no, app_id, mch_order_no, url, body, next_attempt_at)
           SELECT ${param(o.orderType)}, ${param(o.orderId)}, ${param(o.event)}, ${param(o.mchNo)}, ${param(o.appId)}, ${param(o.mchOrderNo)}, ${param(o.url)}, ${param(o.body)},
                  now() + make_interval(secs => ${param(o.delaySeconds)}::float8) FROM u
           ON CONFLICT (order_type, order_id, event) DO NOTHING)`);
  }
  const r = await q.query<R>(`WITH ${ctes.join(',\n')} SELECT * FROM u`, values);
  return r.rows[0] ?? null;
}

/** The row as it will be after `transition` applies `patch` (to build its notification in the same statement). */
function afterTransition<R extends { state: number }>(row: R, to: number, patch: Record<string, unknown>): R {
  const next: Record<string, unknown> = { ...row, state: to };
  for (const [col, value] of Object.entries(patch)) if (value !== undefined) next[col] = value;
  return next as R;
}

export function transitionPay(
  q: Queryable,
  order: PayOrderRow,
  to: PayState,
  source: EventSource,
  patch: PayPatch = {},
  detail: Record<string, unknown> = {},
  extras: TransitionExtras<PayOrderRow> = {},
): Promise<PayOrderRow | null> {
  return transition(q, 'pay', order, order.pay_order_id, to, source, patch, detail, extras);
}

export function transitionRefund(
  q: Queryable,
  refund: RefundOrderRow,
  to: RefundState,
  source: EventSource,
  patch: RefundPatch = {},
  detail: Record<string, unknown> = {},
  extras: TransitionExtras<RefundOrderRow> = {},
): Promise<RefundOrderRow | null> {
  return transition(q, 'refund', refund, refund.refund_order_id, to, source, patch, detail, extras);
}

export async function lockPayOrder(tx: Queryable, payOrderId: string): Promise<PayOrderRow | null> {
  const r = await tx.query<PayOrderRow>(`SELECT * FROM pay_orders WHERE pay_order_id = $1 FOR UPDATE`, [payOrderId]);
  return r.rows[0] ?? null;
}

export async function lockRefund(tx: Queryable, refundOrderId: string): Promise<RefundOrderRow | null> {
  const r = await tx.query<RefundOrderRow>(`SELECT * FROM refund_orders WHERE refund_order_id = $1 FOR UPDATE`, [refundOrderId]);
  return r.rows[0] ?? null;
}

export async function getPayOrder(q: Queryable, payOrderId: string): Promise<PayOrderRow | null> {
  const r = await q.query<PayOrderRow>(`SELECT * FROM pay_orders WHERE pay_order_id = $1`, [payOrderId]);
  return r.rows[0] ?? null;
}

export async function getRefund(q: Queryable, refundOrderId: string): Promise<RefundOrderRow | null> {
  const r = await q.query<RefundOrderRow>(`SELECT * FROM refund_orders WHERE refund_order_id = $1`, [refundOrderId]);
  return r.rows[0] ?? null;
}

export async function setPayNextCheck(q: Queryable, payOrderId: string, at: Date | null): Promise<void> {
  await q.query(`UPDATE pay_orders SET next_check_at = $2 WHERE pay_order_id = $1`, [payOrderId, at]);
}

export async function setRefundNextCheck(q: Queryable, refundOrderId: string, at: Date | null): Promise<void> {
  await q.query(`UPDATE refund_orders SET next_check_at = $2 WHERE refund_order_id = $1`, [refundOrderId, at]);
}
