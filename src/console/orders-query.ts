import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';

/** Operators see every merchant (null); merchant users only theirs. Every query below takes it. */
export type Scope = { mchNo: string | null };

export interface OrderFilter {
  /** Our id, the merchant's order number or the channel's order number (exact match). */
  q?: string;
  mchNo?: string;
  appId?: string;
  state?: number;
  wayCode?: string;
  ifCode?: string;
  /** ISO timestamps (inclusive from, exclusive to) on the creation time. */
  from?: string;
  to?: string;
  page?: number;
  pageSize?: number;
}

const PAY_COLUMNS = `pay_order_id AS "payOrderId", mch_no AS "mchNo", app_id AS "appId", mch_order_no AS "mchOrderNo", if_code AS "ifCode", way_code AS "wayCode",
  amount, currency, state, subject, channel_order_no AS "channelOrderNo", refund_amount AS "refundAmount", err_code AS "errCode", err_msg AS "errMsg",
  late_success AS "lateSuccess", created_at AS "createdAt", success_at AS "successAt", expired_at AS "expiredAt"`;

const REFUND_COLUMNS = `refund_order_id AS "refundOrderId", pay_order_id AS "payOrderId", mch_no AS "mchNo", app_id AS "appId", mch_refund_no AS "mchRefundNo",
  if_code AS "ifCode", way_code AS "wayCode", pay_amount AS "payAmount", refund_amount AS "refundAmount", currency, state, refund_reason AS "refundReason",
  channel_order_no AS "channelOrderNo", err_code AS "errCode", err_msg AS "errMsg", created_at AS "createdAt", success_at AS "successAt"`;

function time(value: string | undefined, name: string): Date | null {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new ApiError('PARAM_INVALID', `${name} must be a date-time`);
  return d;
}

function paging(f: OrderFilter): { limit: number; offset: number } {
  const size = Math.min(Math.max(Math.trunc(f.pageSize ?? 20), 1), 200);
  const page = Math.max(Math.trunc(f.page ?? 1), 1);
  return { limit: size, offset: (page - 1) * size };
}

/** WHERE clause shared by the list and its count; the scope's merchant always wins over a filter's. */
function orderWhere(scope: Scope, f: OrderFilter, idColumn: string, noColumn: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conds.push(sql.replace('?', `$${params.length}`));
  };
  if (scope.mchNo !== null) add('mch_no = ?', scope.mchNo);
  else if (f.mchNo) add('mch_no = ?', f.mchNo);
  if (f.q) {
    params.push(f.q.trim());
    const p = `$${params.length}`;
    conds.push(`(${idColumn} = ${p} OR ${noColumn} = ${p} OR channel_order_no = ${p} OR pay_order_id = ${p})`);
  }
  if (f.appId) add('app_id = ?', f.appId);
  if (f.state !== undefined && Number.isInteger(f.state)) add('state = ?', f.state);
  if (f.wayCode) add('way_code = ?', f.wayCode);
  if (f.ifCode) add('if_code = ?', f.ifCode);
  const from = time(f.from, 'from');
  const to = time(f.to, 'to');
  if (from) add('created_at >= ?', from);
  if (to) add('created_at < ?', to);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

const LISTS = {
  pay: { table: 'pay_orders', columns: PAY_COLUMNS, id: 'pay_order_id', no: 'mch_order_no' },
  refund: { table: 'refund_orders', columns: REFUND_COLUMNS, id: 'refund_order_id', no: 'mch_refund_no' },
} as const;

/** One page of pay orders or refunds, newest first, with the total for the pager. */
async function search(db: Db, kind: keyof typeof LISTS, scope: Scope, f: OrderFilter): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const l = LISTS[kind];
  const w = orderWhere(scope, f, l.id, l.no);
  const { limit, offset } = paging(f);
  const total = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${l.table} ${w.sql}`, w.params);
  const items = await db.query(`SELECT ${l.columns} FROM ${l.table} ${w.sql} ORDER BY created_at DESC, ${l.id} DESC LIMIT ${limit} OFFSET ${offset}`, w.params);
  return { total: total.rows[0]?.n ?? 0, items: items.rows };
}

export const searchPayOrders = (db: Db, scope: Scope, f: OrderFilter) => search(db, 'pay', scope, f);
export const searchRefunds = (db: Db, scope: Scope, f: OrderFilter) => search(db, 'refund', scope, f);

/** The order as the console shows it: every column a person may need, none that is secret. */
export async function payOrderDetail(db: Db, scope: Scope, payOrderId: string): Promise<Record<string, unknown>> {
  const r = await db.query(
    `SELECT ${PAY_COLUMNS}, body, client_ip AS "clientIp", notify_url AS "notifyUrl", return_url AS "returnUrl", channel_extra AS "channelExtra", ext_param AS "extParam",
            pay_data_type AS "payDataType", pay_data AS "payData", channel_user AS "channelUser", refund_pending AS "refundPending", refund_times AS "refundTimes",
            client_result AS "clientResult", next_check_at AS "nextCheckAt", check_count AS "checkCount", updated_at AS "updatedAt"
       FROM pay_orders WHERE pay_order_id = $1 AND ($2::text IS NULL OR mch_no = $2)`,
    [payOrderId, scope.mchNo],
  );
  const order = r.rows[0];
  // Another merchant's order is answered exactly like a missing one.
  if (!order) throw new ApiError('ORDER_NOT_FOUND', payOrderId);
  const refunds = await db.query(`SELECT ${REFUND_COLUMNS} FROM refund_orders WHERE pay_order_id = $1 ORDER BY created_at`, [payOrderId]);
  const ids = [payOrderId, ...refunds.rows.map((x) => String(x.refundOrderId))];
  const events = await db.query(
    `SELECT id, order_type AS "orderType", order_id AS "orderId", kind, from_state AS "fromState", to_state AS "toState", source, detail, created_at AS "at"
       FROM order_events WHERE order_id = ANY($1::text[]) ORDER BY id`,
    [ids],
  );
  const notifications = await db.query(
    `SELECT n.id, n.order_type AS "orderType", n.order_id AS "orderId", n.event, n.url, n.state, n.attempts, n.next_attempt_at AS "nextAttemptAt", n.last_result AS "lastResult", n.created_at AS "createdAt",
            COALESCE((SELECT json_agg(json_build_object('attemptNo', a.attempt_no, 'httpStatus', a.http_status, 'result', a.result, 'durationMs', a.duration_ms, 'at', a.created_at) ORDER BY a.attempt_no)
                        FROM notification_attempts a WHERE a.notification_id = n.id), '[]'::json) AS "attemptLog"
       FROM merchant_notifications n WHERE n.order_id = ANY($1::text[]) ORDER BY n.id`,
    [ids],
  );
  const cashier = await db.query(`SELECT payer_app AS "payerApp", way_code AS "wayCode", if_code AS "ifCode", created_at AS "createdAt" FROM cashier_payments WHERE pay_order_id = $1`, [payOrderId]);
  return { order, refunds: refunds.rows, events: events.rows, notifications: notifications.rows, cashier: cashier.rows[0] ?? null };
}

export async function listNotifications(db: Db, scope: Scope, f: { q?: string; state?: number; page?: number; pageSize?: number }): Promise<{ total: number; items: Record<string, unknown>[] }> {
  const { limit, offset } = paging(f);
  const params = [scope.mchNo, f.q?.trim() || null, f.state ?? null];
  const where = `WHERE ($1::text IS NULL OR n.mch_no = $1) AND ($2::text IS NULL OR n.order_id = $2 OR n.mch_order_no = $2) AND ($3::int IS NULL OR n.state = $3)`;
  const total = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM merchant_notifications n ${where}`, params);
  const items = await db.query(
    `SELECT n.id, n.order_type AS "orderType", n.order_id AS "orderId", n.event, n.mch_no AS "mchNo", n.app_id AS "appId", n.mch_order_no AS "mchOrderNo", n.url, n.state,
            n.attempts, n.next_attempt_at AS "nextAttemptAt", n.last_result AS "lastResult", n.created_at AS "createdAt", n.updated_at AS "updatedAt"
       FROM merchant_notifications n ${where} ORDER BY n.id DESC LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  return { total: total.rows[0]?.n ?? 0, items: items.rows };
}

/** The merchant a notification belongs to, or a refusal that does not reveal whether it exists. */
export async function notificationInScope(db: Db, scope: Scope, id: number): Promise<void> {
  const r = await db.query(`SELECT 1 FROM merchant_notifications WHERE id = $1 AND ($2::text IS NULL OR mch_no = $2)`, [id, scope.mchNo]);
  if (r.rows.length === 0) throw new ApiError('NOT_FOUND', `notification ${id}`);
}
