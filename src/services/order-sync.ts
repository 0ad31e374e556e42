import type { Db, Queryable } from '../db/db.ts';
import type { Logger, PaymentStatus, RefundStatus } from '../channels/types.ts';
import { PayState, RefundState } from '../domain/order-states.ts';
import { isBarCodeOrder } from '../domain/pay-way.ts';
import type { NotificationService } from './notifications.ts';
import type { OrderWatch } from './order-watch.ts';
import {
  type EventNote,
  type EventSource,
  type PayOrderRow,
  type PayPatch,
  type RefundOrderRow,
  getPayOrder,
  getRefund,
  lockPayOrder,
  lockRefund,
  recordEvent,
  transitionPay,
  transitionRefund,
} from './order-store.ts';

/**
 * Applies what a channel says about a payment or refund — from a synchronous answer, a
 * callback or an active query — to our records. This is the only place channel claims turn
 * into state changes, so the integrity checks live here: the channel must name our order
 * and the amount we asked for, or nothing changes and the refusal is recorded.
 */
export class OrderSync {
  readonly #db: Db;
  readonly #notifications: NotificationService;
  readonly #log: Logger;
  readonly #watch: OrderWatch;

  constructor(db: Db, notifications: NotificationService, log: Logger, watch: OrderWatch) {
    this.#db = db;
    this.#notifications = notifications;
    this.#log = log;
    this.#watch = watch;
  }

  /**
   * Lock-free: every decision below depends only on the order's state and its immutable fields
   * (id, amount, currency), and the transition is a compare-and-set on the state, so a race lost
   * to another writer re-reads the order and decides again. The common case (a callback moving
   * PAYING → SUCCESS with its notification) is one read and one statement.
   */
  async applyPayment(payOrderId: string, status: PaymentStatus, source: EventSource, opts: { known?: PayOrderRow; note?: EventNote } = {}): Promise<{ order: PayOrderRow | null; refused?: string; noted?: boolean }> {
    const result = await this.#applyPayment(payOrderId, status, source, opts);
    this.#watch.changed(payOrderId); // after commit: waiting clients re-read
    return result;
  }

  async #applyPayment(payOrderId: string, status: PaymentStatus, source: EventSource, opts: { known?: PayOrderRow; note?: EventNote }): Promise<{ order: PayOrderRow | null; refused?: string; noted?: boolean }> {
    let order = opts.known ?? (await getPayOrder(this.#db, payOrderId));
    for (let attempt = 1; ; attempt++) {
      if (!order) return { order: null, refused: 'unknown order' };
      const refusal = paymentMismatch(order, status);
      if (refusal) {
        await this.#refuse(this.#db, 'pay', order.pay_order_id, source, refusal, { status: status.status, amount: status.amount, outTradeNo: status.outTradeNo, currency: status.currency });
        return { order, refused: refusal };
      }
      const step = decidePayment(order, status);
      if (step.kind === 'none') return { order };
      if (step.kind === 'refuse') {
        await this.#refuse(this.#db, 'pay', order.pay_order_id, source, step.reason, {});
        return { order };
      }
      const updated = await transitionPay(this.#db, order, step.to, source, step.patch, step.detail, {
        ...(step.notify ? { notify: this.#notifications.payEntry } : {}),
        ...(opts.note ? { note: opts.note } : {}),
      });
      if (updated) {
        if (step.late) this.#log.error({ payOrderId, fromState: order.state, source }, 'late payment success recorded on a closed/failed order: operator attention needed');
        if (step.notify) this.#notifications.wakeSoon();
        return { order: updated, noted: opts.note !== undefined };
      }
      // Another writer moved the order first: decide again on what it is now.
      if (attempt >= 20) throw new Error(`order ${payOrderId}: state kept changing under ${source}`);
      order = await getPayOrder(this.#db, payOrderId);
    }
  }

  async applyRefund(refundOrderId: string, status: RefundStatus, source: EventSource): Promise<{ refund: RefundOrderRow | null; refused?: string }> {
    const peek = await getRefund(this.#db, refundOrderId);
    if (!peek) return { refund: null, refused: 'unknown refund' };
    const result = await this.#applyRefund(peek, refundOrderId, status, source);
    this.#watch.changed(peek.pay_order_id);
    return result;
  }

  async #applyRefund(peek: RefundOrderRow, refundOrderId: string, status: RefundStatus, source: EventSource): Promise<{ refund: RefundOrderRow | null; refused?: string }> {
    return this.#db.transaction(async (tx) => {
      // Lock order: pay order first, then refund — every path does the same, so no deadlock.
      const order = await lockPayOrder(tx, peek.pay_order_id);
      const refund = await lockRefund(tx, refundOrderId);
      if (!order || !refund) return { refund: null, refused: 'unknown refund' };
      const refusal =
        status.outRefundNo !== undefined && status.outRefundNo !== refund.refund_order_id
          ? `channel names refund ${status.outRefundNo}`
          : status.refundAmount !== undefined && status.refundAmount !== refund.refund_amount
            ? `channel refund amount ${status.refundAmount} ≠ ${refund.refund_amount}`
            : status.outTradeNo !== undefined && status.outTradeNo !== refund.pay_order_id
              ? `channel names order ${status.outTradeNo}`
              : undefined;
      if (refusal) {
        await this.#refuse(tx, 'refund', refund.refund_order_id, source, refusal, { status: status.status, refundAmount: status.refundAmount });
        return { refund, refused: refusal };
      }
      const open = refund.state === RefundState.INIT || refund.state === RefundState.REFUNDING;
      if (!open) return { refund };
      switch (status.status) {
        case 'SUCCESS': {
          const updated = await transitionRefund(tx, refund, RefundState.SUCCESS, source, { success_at: status.successAt ?? new Date(), channel_order_no: status.channelRefundNo ?? refund.channel_order_no, next_check_at: null }, {}, { notify: this.#notifications.refundEntry });
          if (!updated) return { refund };
          const settled = await tx.query<PayOrderRow>(
            `UPDATE pay_orders SET refund_pending = refund_pending - $2, refund_amount = refund_amount + $2, refund_times = refund_times + 1, updated_at = now()
              WHERE pay_order_id = $1 RETURNING *`,
            [order.pay_order_id, refund.refund_amount],
          );
          const after = settled.rows[0] as PayOrderRow;
          if (after.refund_amount === after.amount && after.state === PayState.SUCCESS) {
            await transitionPay(tx, after, PayState.REFUNDED, source, {}, { refundOrderId: refund.refund_order_id });
          }
          this.#notifications.wakeSoon();
          return { refund: updated };
        }
        case 'PROCESSING':
          if (refund.state !== RefundState.INIT) return { refund };
          return { refund: (await transitionRefund(tx, refund, RefundState.REFUNDING, source, { channel_order_no: status.channelRefundNo ?? refund.channel_order_no })) ?? refund };
        case 'FAIL':
        case 'CLOSED': {
          const to = status.status === 'FAIL' ? RefundState.FAIL : RefundState.CLOSED;
          const updated = await transitionRefund(tx, refund, to, source, { next_check_at: null, err_code: status.errCode ?? refund.err_code, err_msg: status.errMsg ?? refund.err_msg }, {}, { notify: this.#notifications.refundEntry });
          if (!updated) return { refund };
          await tx.query(`UPDATE pay_orders SET refund_pending = refund_pending - $2, updated_at = now() WHERE pay_order_id = $1`, [order.pay_order_id, refund.refund_amount]);
          this.#notifications.wakeSoon();
          return { refund: updated };
        }
        case 'NOT_FOUND':
          return { refund };
      }
    });
  }

  async #refuse(tx: Queryable, orderType: 'pay' | 'refund', orderId: string, source: EventSource, reason: string, detail: Record<string, unknown>): Promise<void> {
    this.#log.warn({ orderType, orderId, source, reason, ...detail }, 'channel claim refused');
    await recordEvent(tx, { orderType, orderId, kind: 'refused', source, detail: { reason, ...detail } });
  }
}

/** The integrity check (hyperswitch-style): a paid claim must name our order, amount and currency. */
export function paymentMismatch(order: PayOrderRow, status: PaymentStatus): string | undefined {
  if (status.outTradeNo !== undefined && status.outTradeNo !== order.pay_order_id) return `channel names order ${status.outTradeNo}`;
  if (status.status !== 'SUCCESS') return undefined;
  if (status.amount === undefined) return 'channel success without an amount';
  if (status.amount !== order.amount) return `channel amount ${status.amount} ≠ order amount ${order.amount}`;
  if (status.currency !== undefined && status.currency.toUpperCase() !== order.currency) return `channel currency ${status.currency} ≠ ${order.currency}`;
  return undefined;
}

type PaymentStep =
  | { kind: 'none' }
  | { kind: 'refuse'; reason: string }
  | { kind: 'move'; to: PayState; patch: PayPatch; detail: Record<string, unknown>; notify: boolean; late: boolean };

/** What a verified, matching channel claim does to an order in its current state. */
function decidePayment(order: PayOrderRow, status: PaymentStatus): PaymentStep {
  const open = order.state === PayState.INIT || order.state === PayState.PAYING;
  switch (status.status) {
    case 'SUCCESS': {
      if (order.state === PayState.SUCCESS || order.state === PayState.REFUNDED) return { kind: 'none' }; // duplicate
      if (order.state === PayState.REVOKED) return { kind: 'refuse', reason: 'channel reports success for a revoked order' };
      const late = order.state === PayState.CLOSED || order.state === PayState.FAIL;
      const patch: PayPatch = {
        channel_order_no: status.channelOrderNo ?? order.channel_order_no,
        channel_user: status.channelUser ?? order.channel_user,
        success_at: status.successAt ?? new Date(),
        next_check_at: null,
        ...(late ? { late_success: true, err_code: 'LATE_SUCCESS', err_msg: 'paid at the channel after the order was closed or failed here' } : {}),
      };
      return { kind: 'move', to: PayState.SUCCESS, patch, detail: { channelOrderNo: status.channelOrderNo, late }, notify: true, late };
    }
    case 'WAITING':
      if (order.state !== PayState.INIT) return { kind: 'none' };
      return { kind: 'move', to: PayState.PAYING, patch: { channel_order_no: status.channelOrderNo ?? order.channel_order_no }, detail: {}, notify: false, late: false };
    case 'CLOSED':
    case 'REVOKED':
    case 'FAIL': {
      if (!open) {
        const settledAlike = order.state === PayState.CLOSED || order.state === PayState.FAIL || order.state === PayState.REVOKED;
        return settledAlike ? { kind: 'none' } : { kind: 'refuse', reason: `channel reports ${status.status} for an order in state ${order.state}` };
      }
      // A bar-code payment the channel closed while the payer was authorising it was reversed
      // (撤销): Alipay's query reports a cancelled trade as TRADE_CLOSED, and a query racing our
      // own reverse must not record it as merely closed (found under load by test/e2e/bar-code).
      const reversed = status.status === 'REVOKED' || (status.status === 'CLOSED' && isBarCodeOrder(order.way_code, order.channel_extra));
      const to = status.status === 'FAIL' ? PayState.FAIL : reversed && order.state === PayState.PAYING ? PayState.REVOKED : PayState.CLOSED;
      return { kind: 'move', to, patch: { next_check_at: null, err_code: status.errCode ?? order.err_code, err_msg: status.errMsg ?? order.err_msg }, detail: {}, notify: false, late: false };
    }
    case 'NOT_FOUND':
      return { kind: 'none' };
  }
}
