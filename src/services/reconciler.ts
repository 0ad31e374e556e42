import type { Db } from '../db/db.ts';
import type { Logger } from '../channels/types.ts';
import { PayState, RefundState } from '../domain/order-states.ts';
import { ApiError } from '../domain/errors.ts';
import { isBarCodeOrder } from '../domain/pay-way.ts';
import type { PayOrderService } from './pay-orders.ts';
import type { RefundService } from './refunds.ts';
import type { PayOrderRow, RefundOrderRow } from './order-store.ts';

export interface ReconcilerDeps {
  db: Db;
  payOrders: PayOrderService;
  refunds: RefundService;
  log: Logger;
  /** Delays (s) between active queries of an unconfirmed order; the last one repeats. */
  querySchedule: readonly number[];
  barPollSchedule: readonly number[];
  barTimeoutSeconds: number;
}

const LEASE_SECONDS = 120;
/** An INIT order the channel never heard of, this old, will never reach it (channel calls time out in 10 s). */
const ORPHAN_AFTER_MS = 60_000;

/**
 * Settles what callbacks did not: pay orders and refunds whose `next_check_at` is due are
 * claimed with FOR UPDATE SKIP LOCKED (safe with many gateway processes), leased, and asked
 * of the channel. Expiry is part of the same pass: an expired unpaid order is queried first,
 * then closed at the channel, then here — a payment made just before expiry is recorded as
 * paid, never closed (the Jeepay blind-expiry bug, jeepay.md §6).
 */
export class Reconciler {
  readonly #d: ReconcilerDeps;
  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async runDue(batch = 20): Promise<number> {
    const pays = await this.#claim<PayOrderRow>('pay_orders', 'pay_order_id', batch);
    const refunds = await this.#claim<RefundOrderRow>('refund_orders', 'refund_order_id', batch);
    await Promise.all([...pays.map((o) => this.#checkPay(o)), ...refunds.map((r) => this.#checkRefund(r))]);
    return pays.length + refunds.length;
  }

  async #claim<T>(table: 'pay_orders' | 'refund_orders', idCol: string, batch: number): Promise<T[]> {
    return this.#d.db.transaction(async (tx) => {
      const due = await tx.query<{ id: string }>(`SELECT ${idCol} AS id FROM ${table} WHERE next_check_at <= now() ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [batch]);
      if (due.rows.length === 0) return [];
      const ids = due.rows.map((r) => r.id);
      const r = await tx.query<T>(
        `UPDATE ${table} SET next_check_at = now() + make_interval(secs => $2), check_count = check_count + 1 WHERE ${idCol} = ANY($1::text[]) RETURNING *`,
        [ids, LEASE_SECONDS],
      );
      return r.rows;
    });
  }

  #nextDelaySeconds(checkCount: number, bar = false): number {
    const s = bar ? this.#d.barPollSchedule : this.#d.querySchedule;
    return s[Math.min(checkCount, s.length - 1)] ?? 60;
  }

  async #checkPay(claimed: PayOrderRow): Promise<void> {
    const d = this.#d;
    try {
      if (claimed.state !== PayState.INIT && claimed.state !== PayState.PAYING) {
        await d.db.query(`UPDATE pay_orders SET next_check_at = NULL WHERE pay_order_id = $1`, [claimed.pay_order_id]);
        return;
      }
      let order = await d.payOrders.syncWithChannel(claimed, 'reconcile');
      if (order.state !== PayState.INIT && order.state !== PayState.PAYING) return;
      const now = Date.now();
      const bar = isBarCodeOrder(order.way_code, order.channel_extra);
      if (bar && order.state === PayState.PAYING && now - order.created_at.getTime() >= d.barTimeoutSeconds * 1000) {
        order = await d.payOrders.reverseOrder(order);
        if (order.state !== PayState.INIT && order.state !== PayState.PAYING) return;
      }
      const expired = now >= order.expired_at.getTime();
      const orphan = order.state === PayState.INIT && now - order.created_at.getTime() >= ORPHAN_AFTER_MS;
      if (expired || orphan) {
        try {
          order = await d.payOrders.closeOrder(order, 'expiry');
        } catch (err) {
          if (!(err instanceof ApiError) || err.key === 'ORDER_STATE_INVALID') throw err;
          d.log.warn({ payOrderId: order.pay_order_id, err: err.message }, 'expiry close failed; will retry');
        }
        if (order.state !== PayState.INIT && order.state !== PayState.PAYING) return;
      }
      const next = Math.min(now + this.#nextDelaySeconds(order.check_count, bar) * 1000, Math.max(order.expired_at.getTime(), now + 1000));
      await d.db.query(`UPDATE pay_orders SET next_check_at = $2 WHERE pay_order_id = $1 AND state IN (0, 1)`, [order.pay_order_id, new Date(next)]);
    } catch (err) {
      if (err instanceof ApiError && err.key === 'ORDER_STATE_INVALID') return; // became paid meanwhile
      d.log.error({ payOrderId: claimed.pay_order_id, err: (err as Error).message }, 'reconcile pay order failed; lease will expire and retry');
    }
  }

  async #checkRefund(claimed: RefundOrderRow): Promise<void> {
    const d = this.#d;
    try {
      if (claimed.state !== RefundState.INIT && claimed.state !== RefundState.REFUNDING) {
        await d.db.query(`UPDATE refund_orders SET next_check_at = NULL WHERE refund_order_id = $1`, [claimed.refund_order_id]);
        return;
      }
      const refund = await d.refunds.syncWithChannel(claimed, 'reconcile', ORPHAN_AFTER_MS);
      if (refund.state !== RefundState.INIT && refund.state !== RefundState.REFUNDING) return;
      const next = new Date(Date.now() + this.#nextDelaySeconds(refund.check_count) * 1000);
      await d.db.query(`UPDATE refund_orders SET next_check_at = $2 WHERE refund_order_id = $1 AND state IN (0, 1)`, [refund.refund_order_id, next]);
    } catch (err) {
      d.log.error({ refundOrderId: claimed.refund_order_id, err: (err as Error).message }, 'reconcile refund failed; lease will expire and retry');
    }
  }
}
