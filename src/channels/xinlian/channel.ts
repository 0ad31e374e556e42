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
} from '../types.ts';
import { XinlianClient, type XinlianClientDeps } from './client.ts';
import { parseXinlianConfig } from './config.ts';
import { fenOf, isXinlianWay, orderFields, paramError, str, toPaymentStatus, toRefundStatus } from './mapping.ts';
import { NOTIFY_ACK, XL_CODES, XL_PATHS } from './protocol.ts';

/**
 * 信联 Xinlian (docs/channels/xinlian.md): XLALILITE and ALI_LITE, an Alipay mini-program payment
 * through Xinlian. payData is the same `aliapp` `{"alipayTradeNo":…}` the Alipay channel gives for
 * ALI_LITE, so a mini-program front end calls my.tradePay unchanged whichever channel served it.
 */

export class XinlianChannel extends CachedClientChannel<XinlianClient> implements PayChannel {
  readonly ifCode = 'xinlian';

  constructor(deps: XinlianClientDeps = {}) {
    super((config) => new XinlianClient(parseXinlianConfig(config), deps), deps.now);
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    if (!isXinlianWay(order.wayCode)) throw new ChannelError('misconfigured', `xinlian does not serve way ${order.wayCode}`);
    const fields = orderFields(order, this.now());
    const answer = await this.client(ctx.config).call(XL_PATHS.unifiedOrder, fields, ctx.log);
    checkEcho('xinlian', answer, 'outTradeNo', order.payOrderId);
    if (fenOf(answer, 'amount') !== undefined && fenOf(answer, 'amount') !== order.amount) throw new ChannelError('mismatch', `xinlian: unifiedorder answer names amount ${String(answer.amount)}`);
    const tradeNO = str(answer, 'tradeNO');
    if (!tradeNO) throw new ChannelError('protocol', 'xinlian: unifiedorder answer lacks tradeNO');
    const tradeNo = str(answer, 'tradeNo');
    return { status: 'WAITING', payDataType: 'aliapp', payData: JSON.stringify({ alipayTradeNo: tradeNO }), ...(tradeNo ? { channelOrderNo: tradeNo } : {}), channelUser: fields.buyerId as string };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    try {
      const answer = await this.client(ctx.config).call(XL_PATHS.query, { outTradeNo: order.payOrderId }, ctx.log);
      checkEcho('xinlian', answer, 'outTradeNo', order.payOrderId);
      return toPaymentStatus(answer);
    } catch (err) {
      if (refusedWith(err, XL_CODES.orderNotFound)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    try {
      const answer = await this.client(ctx.config).call(XL_PATHS.close, { outTradeNo: order.payOrderId }, ctx.log);
      checkEcho('xinlian', answer, 'outTradeNo', order.payOrderId);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, XL_CODES.orderPaid)) return { status: 'ALREADY_PAID' };
      if (refusedWith(err, XL_CODES.orderNotFound, XL_CODES.orderClosed)) return { status: 'CLOSED' };
      throw err;
    }
  }

  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
    const reason = Array.from(refund.reason.trim()).slice(0, 64).join('');
    const fields = { outTradeNo: order.payOrderId, outRefundNo: refund.refundOrderId, refundAmount: refund.refundAmount, notifyUrl: refund.notifyUrl, ...(reason ? { reason } : {}) };
    const answer = await this.client(ctx.config).call(XL_PATHS.refund, fields, ctx.log);
    checkEcho('xinlian', answer, 'outRefundNo', refund.refundOrderId);
    checkEcho('xinlian', answer, 'outTradeNo', order.payOrderId);
    if (fenOf(answer, 'refundAmount') !== undefined && fenOf(answer, 'refundAmount') !== refund.refundAmount) throw new ChannelError('mismatch', `xinlian: refund answer names refundAmount ${String(answer.refundAmount)}`);
    return { ...toRefundStatus(answer), outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    try {
      const answer = await this.client(ctx.config).call(XL_PATHS.refundQuery, { outTradeNo: order.payOrderId, outRefundNo: refund.refundOrderId }, ctx.log);
      checkEcho('xinlian', answer, 'outRefundNo', refund.refundOrderId);
      return toRefundStatus(answer);
    } catch (err) {
      if (refusedWith(err, XL_CODES.orderNotFound)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** X7: JSON signed by Xinlian, for this merchant and app; notifyType tells payment from refund. */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const f = this.client(ctx.config).open(request.rawBody.toString('utf8'), 'notification');
    const type = str(f, 'notifyType');
    const eventId = str(f, 'nonce');
    if (kind === 'refund') {
      if (type !== 'REFUND') throw new ChannelError('protocol', `xinlian: a ${String(type)} notification at the refund URL`);
      return { kind: 'refund', refund: toRefundStatus(f), ...(eventId ? { eventId } : {}) };
    }
    if (type !== 'PAY') throw new ChannelError('protocol', `xinlian: a ${String(type)} notification at the payment URL`);
    return { kind: 'pay', payment: toPaymentStatus(f), ...(eventId ? { eventId } : {}) };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: NOTIFY_ACK };
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'FAIL' };
  }
}
