import { CachedClientChannel } from '../client-cache.ts';
import {
  ChannelError,
  type CallbackReply,
  type ChannelContext,
  type CloseResult,
  type CreatePaymentResult,
  type InboundCallback,
  type ParsedCallback,
  type PayChannel,
  type PaymentStatus,
  type PayOrderInput,
  type RefundInput,
  type RefundStatus,
} from '../types.ts';
import { PaypalClient, type Json, type PaypalClientDeps } from './client.ts';
import { parsePaypalConfig } from './config.ts';
import { approveLink, captureOf, captureToStatus, createOrderBody, obj, orderStatus, orderToStatus, refundBody, refundsOf, refundToStatus, str } from './mapping.ts';
import { EVENTS, ISSUES, PAYPAL_PATHS, PAYPAL_WAYS, PAY_EVENTS, REFUND_EVENTS } from './protocol.ts';

/**
 * PayPal Checkout (Orders v2, intent CAPTURE) for PP_PC (docs/channels/paypal.md). The buyer
 * approves on PayPal; the money moves only when we capture. Whichever comes first captures — the
 * buyer's return through the gateway, the CHECKOUT.ORDER.APPROVED webhook, or a query (the
 * reconciler) finding the order APPROVED — and the others find it captured: one PayPal-Request-Id
 * per order makes a repeated capture PayPal's replay of the first, ORDER_ALREADY_CAPTURED is read
 * back from the order, and captures in flight in this process are shared.
 */

const refused = PaypalClient.refused;

export class PaypalChannel extends CachedClientChannel<PaypalClient> implements PayChannel {
  readonly ifCode = 'paypal';
  readonly #captures = new Map<string, Promise<PaymentStatus>>();
  /** PayPal orders this process has captured (oldest first, bounded): asked again, they are read back, not captured again. */
  readonly #captured = new Map<string, true>();

  constructor(deps: PaypalClientDeps = {}) {
    super((config) => new PaypalClient(parsePaypalConfig(config), deps));
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    if (!(PAYPAL_WAYS as readonly string[]).includes(order.wayCode)) throw new ChannelError('misconfigured', `paypal does not serve way ${order.wayCode}`);
    const answer = await this.#create(ctx, order);
    return { status: 'WAITING', payDataType: 'payurl', payData: approveLink(answer), channelOrderNo: str(answer, 'id') as string };
  }

  /** P5: PayPal-Request-Id = our payOrderId, so a create sent again (after a timeout) answers the order PayPal already made. */
  async #create(ctx: ChannelContext, order: PayOrderInput): Promise<Json> {
    const answer = await this.client(ctx.config).call('POST', PAYPAL_PATHS.orders, { body: createOrderBody(order), requestId: order.payOrderId, log: ctx.log });
    if (!str(answer, 'id')) throw new ChannelError('protocol', 'paypal: create-order answer lacks id');
    const unit = obj((answer.purchase_units as unknown[] | undefined)?.[0]);
    const ref = str(unit, 'reference_id');
    if (ref !== undefined && ref !== order.payOrderId) throw new ChannelError('mismatch', `paypal: created order names reference_id ${ref}, expected ${order.payOrderId}`);
    return answer;
  }

  /** The PayPal order id; an order whose create answer was lost is found by replaying the create (same PayPal-Request-Id). */
  async #paypalOrderId(ctx: ChannelContext, order: PayOrderInput): Promise<string> {
    return order.channelOrderNo ?? (str(await this.#create(ctx, order), 'id') as string);
  }

  async #getOrder(ctx: ChannelContext, id: string): Promise<Json> {
    return this.client(ctx.config).call('GET', PAYPAL_PATHS.order(id), { log: ctx.log });
  }

  /**
   * P6: APPROVED is captured here (not reported as WAITING with a capture scheduled): the query is
   * the path of last resort — the reconciler asks when both the buyer's return and the webhook were
   * lost — and a capture deferred to a timer would be lost with the process. The capture is idempotent.
   */
  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    try {
      const id = await this.#paypalOrderId(ctx, order);
      const current = await this.#getOrder(ctx, id);
      if (orderStatus(current) === 'APPROVED') return await this.capture(ctx, order.payOrderId, id);
      return orderToStatus(current);
    } catch (err) {
      if (PaypalClient.notFound(err)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** Captures an approved order once: concurrent callers in this process share one call. */
  capture(ctx: ChannelContext, payOrderId: string, paypalOrderId: string): Promise<PaymentStatus> {
    let inflight = this.#captures.get(paypalOrderId);
    if (!inflight) {
      inflight = this.#captureOnce(ctx, payOrderId, paypalOrderId).finally(() => this.#captures.delete(paypalOrderId));
      this.#captures.set(paypalOrderId, inflight);
    }
    return inflight;
  }

  /**
   * The buyer's return and the CHECKOUT.ORDER.APPROVED webhook usually both ask for the capture; the
   * second (once the first has finished) reads the order back instead of sending a capture again. The
   * PayPal-Request-Id would make a repeat harmless, but it is still a call PayPal counts.
   */
  async #captureOnce(ctx: ChannelContext, payOrderId: string, paypalOrderId: string): Promise<PaymentStatus> {
    if (this.#captured.has(paypalOrderId)) {
      const current = await this.#getOrder(ctx, paypalOrderId);
      if (orderStatus(current) !== 'APPROVED') return orderToStatus(current);
    }
    const result = await this.#capture(ctx, payOrderId, paypalOrderId);
    this.#captured.set(paypalOrderId, true);
    if (this.#captured.size > 10_000) this.#captured.delete(this.#captured.keys().next().value as string);
    return result;
  }

  async #capture(ctx: ChannelContext, payOrderId: string, paypalOrderId: string): Promise<PaymentStatus> {
    try {
      const answer = await this.client(ctx.config).call('POST', PAYPAL_PATHS.capture(paypalOrderId), { body: {}, requestId: `${payOrderId}-capture`, log: ctx.log });
      return orderToStatus(answer);
    } catch (err) {
      // Someone captured it first (another process, another request id): the order says how.
      if (refused(err, ISSUES.alreadyCaptured)) return orderToStatus(await this.#getOrder(ctx, paypalOrderId));
      // The buyer has not approved (yet): still waiting for them.
      if (refused(err, ISSUES.notApproved)) return { status: 'WAITING', outTradeNo: payOrderId, channelOrderNo: paypalOrderId };
      // P6: the funding source was declined; PayPal lets the buyer choose another on the approve page.
      if (refused(err, ISSUES.declined)) return { status: 'WAITING', outTradeNo: payOrderId, channelOrderNo: paypalOrderId, errCode: ISSUES.declined, errMsg: (err as ChannelError).channelMessage ?? 'instrument declined' };
      throw err;
    }
  }

  /**
   * P6: an Orders v2 CAPTURE order has no cancel call: one that is never captured expires at PayPal.
   * Closing reports it closed unless it was captured; an APPROVED order is left uncaptured.
   */
  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    if (!order.channelOrderNo) return { status: 'CLOSED' };
    try {
      const current = await this.#getOrder(ctx, order.channelOrderNo);
      if (orderStatus(current) !== 'COMPLETED') return { status: 'CLOSED' };
      const s = orderToStatus(current).status;
      return s === 'SUCCESS' || s === 'WAITING' ? { status: 'ALREADY_PAID' } : { status: 'CLOSED' };
    } catch (err) {
      if (PaypalClient.notFound(err)) return { status: 'CLOSED' };
      throw err;
    }
  }

  async #captureId(ctx: ChannelContext, order: PayOrderInput): Promise<{ captureId: string; paypalOrder: Json }> {
    const paypalOrder = await this.#getOrder(ctx, await this.#paypalOrderId(ctx, order));
    const captureId = str(captureOf(paypalOrder) ?? {}, 'id');
    if (!captureId) throw new ChannelError('rejected', `paypal: order ${order.payOrderId} has no capture to refund`, { channelCode: 'NOT_CAPTURED' });
    return { captureId, paypalOrder };
  }

  /** P7: a partial or full refund of the capture; PayPal-Request-Id = our refund id. */
  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const { captureId } = await this.#captureId(ctx, order);
    const answer = await this.client(ctx.config).call('POST', PAYPAL_PATHS.refund(captureId), { body: refundBody(order, refund), requestId: refund.refundOrderId, log: ctx.log });
    const status = refundToStatus(answer);
    if (status.outRefundNo !== undefined && status.outRefundNo !== refund.refundOrderId) throw new ChannelError('mismatch', `paypal: refund answer names invoice_id ${status.outRefundNo}`);
    return { ...status, outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: status.refundAmount ?? refund.refundAmount };
  }

  /** By PayPal's refund id when we have it; otherwise among the order's refunds by invoice_id (our refund id). */
  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    try {
      if (refund.channelRefundNo) return refundToStatus(await this.client(ctx.config).call('GET', PAYPAL_PATHS.getRefund(refund.channelRefundNo), { log: ctx.log }));
      const { paypalOrder } = await this.#captureId(ctx, order);
      const found = refundsOf(paypalOrder).find((r) => str(r, 'invoice_id') === refund.refundOrderId);
      return found ? refundToStatus(found) : { status: 'NOT_FOUND' };
    } catch (err) {
      if (PaypalClient.notFound(err)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /**
   * P8: webhooks, verified locally (P9). CHECKOUT.ORDER.APPROVED captures (the gateway route only
   * passes it on for an open order); PAYMENT.CAPTURE.* report the capture; PAYMENT.CAPTURE.REFUNDED
   * the refund. The event id is the dedupe id.
   */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const event = await this.client(ctx.config).verifyWebhook(request);
    const type = str(event, 'event_type') ?? '';
    const eventId = str(event, 'id');
    const resource = obj(event.resource);
    const withId = <T extends ParsedCallback>(p: T): T => (eventId !== undefined ? { ...p, eventId } : p);
    if (kind === 'refund') {
      if (!REFUND_EVENTS.has(type)) throw new ChannelError('protocol', `paypal: ${type} is not a refund event`);
      return withId({ kind: 'refund', refund: refundToStatus(resource) });
    }
    if (!PAY_EVENTS.has(type)) throw new ChannelError('protocol', `paypal: ${type} is not a payment event`);
    if (type === EVENTS.approved) {
      const unit = obj((resource.purchase_units as unknown[] | undefined)?.[0]);
      const payOrderId = str(unit, 'custom_id') ?? str(unit, 'reference_id');
      const paypalOrderId = str(resource, 'id');
      if (!payOrderId || !paypalOrderId) throw new ChannelError('protocol', 'paypal: approved order without id or custom_id');
      return withId({ kind: 'pay', payment: await this.capture(ctx, payOrderId, paypalOrderId) });
    }
    return withId({ kind: 'pay', payment: captureToStatus(resource) });
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: '' };
  }

  /** PayPal redelivers on any non-2xx answer. */
  nackReply(reason: string): CallbackReply {
    return { status: 400, contentType: 'text/plain', body: reason };
  }
}
