import type { Db } from '../db/db.ts';
import type { Scope } from './orders-query.ts';

const DAY_MS = 86_400_000;
/** Business days are China days (UTC+8, no daylight saving), like the channels' bills. */
const CHINA_OFFSET_MS = 8 * 3600_000;

export function chinaDayStart(now: number): Date {
  return new Date(Math.floor((now + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS);
}

export interface Figures {
  orders: number;
  paidOrders: number;
  /** Paid amount in minor units (state 2 or 5). */
  paidAmount: number;
  refundAmount: number;
  /** paidOrders / orders that reached an end (paid, failed, closed, revoked), in per mille; null with none. */
  successPermille: number | null;
}

export interface Dashboard {
  currency: string;
  today: Figures;
  last7Days: Figures;
  /** Oldest first, 7 entries, each a China day (yyyy-MM-dd). */
  days: Array<{ day: string; orders: number; paidOrders: number; paidAmount: number }>;
  byWay: Array<{ wayCode: string; orders: number; paidOrders: number; paidAmount: number }>;
  byChannel: Array<{ ifCode: string; orders: number; paidOrders: number; paidAmount: number }>;
}

/**
 * Dashboard figures, aggregated in SQL (sums cast to int8: integers, never floats). Amounts are
 * CNY: other currencies are left out rather than added to yuan.
 */
export async function dashboard(db: Db, scope: Scope, now = Date.now()): Promise<Dashboard> {
  const today = chinaDayStart(now);
  const weekStart = new Date(today.getTime() - 6 * DAY_MS);
  const params = [weekStart, scope.mchNo, today];
  const base = `FROM pay_orders WHERE created_at >= $1 AND ($2::text IS NULL OR mch_no = $2) AND currency = 'CNY'`;
  const measures = `count(*)::int8 AS orders, count(*) FILTER (WHERE state IN (2, 5))::int8 AS "paidOrders",
    COALESCE(sum(amount) FILTER (WHERE state IN (2, 5)), 0)::int8 AS "paidAmount", count(*) FILTER (WHERE state IN (2, 3, 4, 5, 6))::int8 AS ended`;
  type Row = { orders: number; paidOrders: number; paidAmount: number; ended: number };
  const totals = await db.query<Row & { today: boolean }>(`SELECT created_at >= $3 AS today, ${measures} ${base} GROUP BY 1`, params);
  const refunds = await db.query<{ today: boolean; amount: number }>(
    `SELECT created_at >= $3 AS today, COALESCE(sum(refund_amount), 0)::int8 AS amount FROM refund_orders
      WHERE state = 2 AND created_at >= $1 AND ($2::text IS NULL OR mch_no = $2) AND currency = 'CNY' GROUP BY 1`,
    params,
  );
  const days = await db.query<Row & { d: number }>(`SELECT floor(extract(epoch FROM created_at - $1::timestamptz) / 86400)::int AS d, ${measures} ${base} GROUP BY 1`, params.slice(0, 2));
  const byWay = await db.query<Row & { wayCode: string }>(`SELECT way_code AS "wayCode", ${measures} ${base} GROUP BY 1 ORDER BY 3 DESC, 1`, params.slice(0, 2));
  const byChannel = await db.query<Row & { ifCode: string }>(`SELECT if_code AS "ifCode", ${measures} ${base} GROUP BY 1 ORDER BY 3 DESC, 1`, params.slice(0, 2));

  const figures = (rows: Row[], refundAmount: number): Figures => {
    const sum = (k: keyof Row) => rows.reduce((s, r) => s + Number(r[k]), 0);
    const ended = sum('ended');
    return { orders: sum('orders'), paidOrders: sum('paidOrders'), paidAmount: sum('paidAmount'), refundAmount, successPermille: ended === 0 ? null : Math.round((sum('paidOrders') * 1000) / ended) };
  };
  const refundSum = (onlyToday: boolean) => refunds.rows.filter((r) => !onlyToday || r.today).reduce((s, r) => s + Number(r.amount), 0);
  const strip = ({ ended: _e, ...rest }: Row) => rest;
  return {
    currency: 'CNY',
    today: figures(totals.rows.filter((r) => r.today), refundSum(true)),
    last7Days: figures(totals.rows, refundSum(false)),
    days: Array.from({ length: 7 }, (_, i) => {
      const row = days.rows.find((r) => r.d === i);
      const day = new Date(weekStart.getTime() + i * DAY_MS + CHINA_OFFSET_MS).toISOString().slice(0, 10);
      return { day, orders: row?.orders ?? 0, paidOrders: row?.paidOrders ?? 0, paidAmount: row?.paidAmount ?? 0 };
    }),
    byWay: byWay.rows.map((r) => ({ wayCode: r.wayCode, ...strip(r) })),
    byChannel: byChannel.rows.map((r) => ({ ifCode: r.ifCode, ...strip(r) })),
  };
}
