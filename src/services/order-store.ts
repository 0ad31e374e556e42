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

/**
 * Moves an order or refund from its current state to `to` if the transition table allows it
 * and the row is still in that state (compare-and-set), and records the event. Returns the
 * updated row, or null when the transition is a duplicate or lost a race (the caller re-reads).
 * An illegal transition throws: it is a bug or a forged input and is never applied silently.
 */
async function transition<R extends { state: number }>(tx: Queryable, kind: 'pay' | 'refund', row: R, id: string, to: number, source: EventSource, patch: Record<string, unknown>, detail: Record<string, unknown>): Promise<R | null> {
  const m = MACHINES[kind];
  const check = checkTransition(m.transitions as TransitionTable<number>, row.state, to);
  if (check === 'duplicate') return null;
  if (check === 'illegal') throw new IllegalTransitionError(kind, id, row.state, to);
  const p = patchSql(patch, m.patchable, 4);
  const r = await tx.query<R>(`UPDATE ${m.table} SET state = $3, updated_at = now()${p.sql} WHERE ${m.id} = $1 AND state = $2 RETURNING *`, [id, row.state, to, ...p.values]);
  const updated = r.rows[0];
  if (!updated) return null;
  await recordEvent(tx, { orderType: kind, orderId: id, kind: 'transition', source, from: row.state, to, detail });
  return updated;
}

export function transitionPay(tx: Queryable, order: PayOrderRow, to: PayState, source: EventSource, patch: PayPatch = {}, detail: Record<string, unknown> = {}): Promise<PayOrderRow | null> {
  return transition(tx, 'pay', order, order.pay_order_id, to, source, patch, detail);
}

export function transitionRefund(tx: Queryable, refund: RefundOrderRow, to: RefundState, source: EventSource, patch: RefundPatch = {}, detail: Record<string, unknown> = {}): Promise<RefundOrderRow | null> {
  return transition(tx, 'refund', refund, refund.refund_order_id, to, source, patch, detail);
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
