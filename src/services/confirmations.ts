import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/db.ts';
import type { Logger } from '../channels/types.ts';
import { PayState } from '../domain/order-states.ts';
import type { OrderWatch } from './order-watch.ts';
import type { PayOrderService } from './pay-orders.ts';
import { type PayOrderRow, getPayOrder, recordEvent } from './order-store.ts';

export type ClientResult = 'ok' | 'cancel' | 'fail';

/** A confirming order is asked again this soon after an immediate query that found it unpaid. */
const CONFIRMING_RECHECK_MS = 2000;

/**
 * Order confirmation (seed 004): after wx.requestPayment the payer's client reports ok / cancel /
 * fail. "ok" is a claim, not a payment: it puts the order in a confirming view and makes the
 * gateway ask the channel at once; only the channel's answer (or its callback) changes the
 * state. The client then waits on Server-Sent Events instead of polling.
 * Clients authenticate with an order-scoped token the merchant hands them (HMAC of the order id),
 * so a payer's device never holds the app secret.
 */
export class ConfirmationService {
  readonly #db: Db;
  readonly #payOrders: PayOrderService;
  readonly #watch: OrderWatch;
  readonly #key: Buffer;
  readonly #log: Logger;

  constructor(deps: { db: Db; payOrders: PayOrderService; watch: OrderWatch; key: Buffer; log: Logger }) {
    this.#db = deps.db;
    this.#payOrders = deps.payOrders;
    this.#watch = deps.watch;
    this.#key = deps.key;
    this.#log = deps.log;
  }

  token(payOrderId: string): string {
    return createHmac('sha256', this.#key).update(`client:${payOrderId}`).digest('base64url').slice(0, 32);
  }

  verifyToken(payOrderId: string, token: string): boolean {
    const expected = Buffer.from(this.token(payOrderId));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  async report(order: PayOrderRow, result: ClientResult, reporter: 'client' | 'merchant'): Promise<PayOrderRow> {
    await this.#db.transaction(async (tx) => {
      await tx.query(`UPDATE pay_orders SET client_result = $2, client_reported_at = now() WHERE pay_order_id = $1`, [order.pay_order_id, result]);
      await recordEvent(tx, { orderType: 'pay', orderId: order.pay_order_id, kind: 'client', source: 'api', detail: { result, reporter } });
    });
    let current = (await getPayOrder(this.#db, order.pay_order_id)) ?? order;
    if (result === 'ok' && isOpen(current)) {
      current = await this.#payOrders.syncWithChannel(current, 'query');
      if (isOpen(current)) {
        await this.#db.query(`UPDATE pay_orders SET next_check_at = LEAST(next_check_at, $2) WHERE pay_order_id = $1`, [current.pay_order_id, new Date(Date.now() + CONFIRMING_RECHECK_MS)]);
      }
    }
    this.#log.info({ payOrderId: order.pay_order_id, result, reporter, state: current.state }, 'client payment result reported');
    this.#watch.changed(order.pay_order_id);
    return current;
  }
}

export function isOpen(order: PayOrderRow): boolean {
  return order.state === PayState.INIT || order.state === PayState.PAYING;
}

/** The payer-facing view: no merchant data beyond what the payer already saw. */
export function clientView(order: PayOrderRow): { payOrderId: string; state: number; confirming: boolean; amount: number; currency: string } {
  return {
    payOrderId: order.pay_order_id,
    state: order.state,
    confirming: order.client_result === 'ok' && isOpen(order),
    amount: order.amount,
    currency: order.currency.toLowerCase(),
  };
}
