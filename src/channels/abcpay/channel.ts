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
import { slashedChinaDateTime } from '../china-time.ts';
import { AbcpayClient, type AbcpayClientDeps } from './client.ts';
import { parseAbcpayConfig } from './config.ts';
import { fenOf, isAbcpayWay, orderRequest, paramError, toPaymentStatus, toRefundStatus, yuan } from './mapping.ts';
import { ABC_CODES, ORDER_CONSTANTS, TRX_TYPE } from './protocol.ts';

/** 中国农业银行 ABC TrustPay / 综合收银台 (docs/channels/abc.md): 一码多扫 for WeChat/Alipay/UnionPay/掌银, and 掌银 app payment. */

function text(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export class AbcpayChannel extends CachedClientChannel<AbcpayClient> implements PayChannel {
  readonly ifCode = 'abcpay';

  constructor(deps: AbcpayClientDeps & { now?: () => number } = {}) {
    super((config) => new AbcpayClient(parseAbcpayConfig(config), deps), deps.now);
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    const way = order.wayCode;
    if (!isAbcpayWay(way)) throw new ChannelError('misconfigured', `abcpay does not serve way ${way}`);
    const answer = await this.client(ctx.config).call(orderRequest(way, order, this.now()), ctx.log);
    checkEcho('abcpay', answer, 'OrderNo', order.payOrderId);
    if (fenOf(answer, 'OrderAmount') !== undefined && fenOf(answer, 'OrderAmount') !== order.amount) throw new ChannelError('mismatch', `abcpay: answer names OrderAmount ${String(answer.OrderAmount)}`);
    const trxId = text(answer, 'TrxID');
    const link = way === 'ABC_APP' ? text(answer, 'PaymentURL') : text(answer, 'QRCode');
    if (!link) throw new ChannelError('protocol', `abcpay: answer lacks ${way === 'ABC_APP' ? 'PaymentURL' : 'QRCode'}`);
    return { status: 'WAITING', payDataType: way === 'ABC_APP' ? 'payurl' : 'codeUrl', payData: link, ...(trxId ? { channelOrderNo: trxId } : {}) };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    try {
      const answer = await this.client(ctx.config).call({ TrxType: TRX_TYPE.query, PayTypeID: ORDER_CONSTANTS.payTypeId, OrderNo: order.payOrderId, QueryDetail: '1' }, ctx.log);
      checkEcho('abcpay', answer, 'OrderNo', order.payOrderId);
      return toPaymentStatus(answer);
    } catch (err) {
      if (refusedWith(err, ABC_CODES.orderNotExist)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    try {
      await this.client(ctx.config).call({ TrxType: TRX_TYPE.close, OrderNo: order.payOrderId }, ctx.log);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, ABC_CODES.orderNotExist, ABC_CODES.orderClosed)) return { status: 'CLOSED' };
      if (refusedWith(err, ABC_CODES.orderPaid, ABC_CODES.orderRefunded)) return { status: 'ALREADY_PAID' };
      throw err;
    }
  }

  /** A9: ABC refunds synchronously; the answer says how it ended. */
  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
    const { date, time } = slashedChinaDateTime(this.now());
    const reason = Array.from(refund.reason.trim()).slice(0, 60).join('');
    const trx = { TrxType: TRX_TYPE.refund, OrderDate: date, OrderTime: time, OrderNo: order.payOrderId, NewOrderNo: refund.refundOrderId, CurrencyCode: ORDER_CONSTANTS.currencyCode, TrxAmount: yuan(refund.refundAmount), ...(reason ? { RefundReason: reason } : {}) };
    const answer = await this.client(ctx.config).call(trx, ctx.log);
    checkEcho('abcpay', answer, 'OrderNo', order.payOrderId);
    checkEcho('abcpay', answer, 'NewOrderNo', refund.refundOrderId);
    if (fenOf(answer, 'TrxAmount') !== undefined && fenOf(answer, 'TrxAmount') !== refund.refundAmount) throw new ChannelError('mismatch', `abcpay: refund answer names TrxAmount ${String(answer.TrxAmount)}`);
    return { ...toRefundStatus(answer), outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    try {
      const answer = await this.client(ctx.config).call({ TrxType: TRX_TYPE.refundQuery, OrderNo: order.payOrderId, NewOrderNo: refund.refundOrderId }, ctx.log);
      checkEcho('abcpay', answer, 'NewOrderNo', refund.refundOrderId);
      return toRefundStatus(answer);
    } catch (err) {
      if (refusedWith(err, ABC_CODES.orderNotExist)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** A10: result notifications (payments only: refunds are synchronous). */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    if (kind !== 'pay') throw new ChannelError('protocol', 'abcpay: ABC refunds are synchronous; it sends no refund notifications');
    const response = this.client(ctx.config).openNotification(request.rawBody);
    return { kind: 'pay', payment: toPaymentStatus(response), ...(text(response, 'TrxID') ? { eventId: text(response, 'TrxID') as string } : {}) };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'success' };
  }

  /** A10: ABC counts any HTTP 200 as delivered, so a refusal must be another status. */
  nackReply(_reason: string): CallbackReply {
    return { status: 500, contentType: 'text/plain', body: 'fail' };
  }
}
