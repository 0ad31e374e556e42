import { CachedClientChannel } from '../client-cache.ts';
import { checkEcho, refusedWith } from '../answers.ts';
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
  type ReverseResult,
} from '../types.ts';
import { ShengpayClient, type ShengpayClientDeps } from './client.ts';
import { parseShengpayConfig } from './config.ts';
import { buildOrderFields, fenOf, isShengpayWay, paramError, toPayData, toPaymentStatus, toRefundStatus } from './mapping.ts';
import { BAR_TRADE_TYPES, NOTIFY_ACK, ORDER_NOT_EXIST, ORDER_PAID, REFUND_NOT_EXIST, SHENGPAY_ERRORS, SHENGPAY_PATHS, TRADE_TYPE } from './protocol.ts';

/** 盛付通 Shengpay 聚合收单 (docs/channels/shengpay.md): WeChat, Alipay and UnionPay ways through one acquirer. */

export class ShengpayChannel extends CachedClientChannel<ShengpayClient> implements PayChannel {
  readonly ifCode = 'shengpay';

  constructor(deps: ShengpayClientDeps = {}) {
    super((config) => new ShengpayClient(parseShengpayConfig(config), deps));
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    const way = order.wayCode;
    if (!isShengpayWay(way)) throw new ChannelError('misconfigured', `shengpay does not serve way ${way}`);
    const client = this.client(ctx.config);
    const fields = buildOrderFields(way, order, client.config);
    if (BAR_TRADE_TYPES.has(TRADE_TYPE[way])) return this.#barPay(ctx, client, order, fields);
    const path = client.config.orderApi === 'online' ? SHENGPAY_PATHS.unifiedOnline : SHENGPAY_PATHS.unifiedOffline;
    const answer = await client.call(path, fields, ctx.log);
    checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
    const transactionId = typeof answer.transactionId === 'string' && answer.transactionId !== '' ? answer.transactionId : undefined;
    return { status: 'WAITING', ...toPayData(way, answer.payInfo), ...(transactionId ? { channelOrderNo: transactionId } : {}) };
  }

  /** S9: authPay answers paid, paying (password) or a definite decline. */
  async #barPay(ctx: ChannelContext, client: ShengpayClient, order: PayOrderInput, fields: Record<string, unknown>): Promise<CreatePaymentResult> {
    let answer: Record<string, unknown>;
    try {
      answer = await client.call(SHENGPAY_PATHS.authPay, fields, ctx.log);
    } catch (err) {
      if (err instanceof ChannelError && err.kind === 'rejected') {
        return { status: 'FAIL', payDataType: 'none', payData: '', errCode: err.channelCode ?? 'DECLINED', errMsg: err.channelMessage ?? err.message };
      }
      throw err;
    }
    checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
    const s = toPaymentStatus(answer);
    const common = { payDataType: 'none' as const, payData: '', ...(s.channelOrderNo ? { channelOrderNo: s.channelOrderNo } : {}), ...(s.channelUser ? { channelUser: s.channelUser } : {}) };
    if (s.status === 'SUCCESS') {
      // The core records a synchronous success as is, so the integrity check happens here.
      if (s.amount !== order.amount) throw new ChannelError('mismatch', `shengpay: authPay answered totalFee ${String(s.amount)} for ${order.amount}`);
      return { status: 'SUCCESS', ...common };
    }
    if (s.status === 'WAITING') return { status: 'WAITING', ...common };
    return { status: 'FAIL', ...common, errCode: s.errCode ?? 'PAY_FAIL', errMsg: s.errMsg ?? 'payment failed' };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    try {
      const answer = await this.client(ctx.config).call(SHENGPAY_PATHS.query, { outTradeNo: order.payOrderId }, ctx.log);
      checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
      return toPaymentStatus(answer);
    } catch (err) {
      if (refusedWith(err, ORDER_NOT_EXIST)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    try {
      await this.client(ctx.config).call(SHENGPAY_PATHS.close, { outTradeNo: order.payOrderId }, ctx.log);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, ORDER_NOT_EXIST, SHENGPAY_ERRORS.orderClosed)) return { status: 'CLOSED' };
      if (refusedWith(err, ORDER_PAID)) return { status: 'ALREADY_PAID' };
      throw err;
    }
  }

  /** S9: 撤销 of a bar-code payment: closes it, or refunds it when it went through. */
  async reversePayment(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult> {
    try {
      const answer = await this.client(ctx.config).call(SHENGPAY_PATHS.reverse, { outTradeNo: order.payOrderId }, ctx.log);
      checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
      return { status: 'REVERSED' };
    } catch (err) {
      if (refusedWith(err, ORDER_NOT_EXIST)) return { status: 'REVERSED' }; // nothing reached Shengpay: nothing to undo
      if (err instanceof ChannelError && (err.kind === 'system' || err.kind === 'timeout' || err.kind === 'unavailable')) return { status: 'RETRY' };
      throw err;
    }
  }

  /** S12: refunds are accepted, then settle by notification or query. */
  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
    const fields: Record<string, unknown> = { outTradeNo: order.payOrderId, outRefundNo: refund.refundOrderId, refundFee: refund.refundAmount, notifyUrl: refund.notifyUrl };
    const reason = Array.from(refund.reason.trim()).slice(0, 80).join('');
    if (reason !== '') fields.refundDesc = reason;
    const answer = await this.client(ctx.config).call(SHENGPAY_PATHS.refund, fields, ctx.log);
    checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
    if (answer.outRefundNo !== undefined && answer.outRefundNo !== refund.refundOrderId) throw new ChannelError('mismatch', `shengpay: refund answer names outRefundNo ${String(answer.outRefundNo)}`);
    if (fenOf(answer, 'refundFee') !== undefined && fenOf(answer, 'refundFee') !== refund.refundAmount) throw new ChannelError('mismatch', `shengpay: refund answer names refundFee ${String(answer.refundFee)}`);
    const status = answer.refundStatus !== undefined ? toRefundStatus(answer) : { status: 'PROCESSING' as const };
    const refundId = typeof answer.refundId === 'string' && answer.refundId !== '' ? answer.refundId : undefined;
    return { ...status, outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount, ...(refundId ? { channelRefundNo: refundId } : {}) };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    try {
      const answer = await this.client(ctx.config).call(SHENGPAY_PATHS.refundQuery, { outRefundNo: refund.refundOrderId }, ctx.log);
      checkEcho('shengpay', answer, 'outTradeNo', order.payOrderId);
      return toRefundStatus(answer);
    } catch (err) {
      if (refusedWith(err, REFUND_NOT_EXIST, ORDER_NOT_EXIST)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /**
   * S13: JSON notifications, verified over every field but sign, for this mchId (and subMchId).
   * Order, amount and currency are the core's checks (OrderSync).
   */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const fields = this.client(ctx.config).verifyNotification(request.rawBody.toString('utf8'));
    const eventId = typeof fields.nonceStr === 'string' ? fields.nonceStr : undefined;
    if (kind === 'refund') {
      if (fields.refundStatus === undefined) throw new ChannelError('protocol', 'shengpay: a refund notification without refundStatus');
      return { kind: 'refund', refund: toRefundStatus(fields), ...(eventId ? { eventId } : {}) };
    }
    if (fields.status === undefined) throw new ChannelError('protocol', 'shengpay: a pay notification without status');
    return { kind: 'pay', payment: toPaymentStatus(fields), ...(eventId ? { eventId } : {}) };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: NOTIFY_ACK };
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'FAIL' };
  }
}
