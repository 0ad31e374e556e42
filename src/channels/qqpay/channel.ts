import { newNonce } from '../../domain/ids.ts';
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
import { QqpayClient, parseQpayXml, type QqpayClientDeps } from './client.ts';
import { parseQqpayConfig } from './config.ts';
import { appPayParams, jsapiPayParams, microPayFields, paymentStatus, refundFields, refundFromQuery, tradeTypeOf, unifiedOrderFields } from './mapping.ts';
import { NOTIFY_ACK_XML, NOTIFY_NACK_XML, QPAY_PATHS } from './protocol.ts';
import { micropay } from './micropay.ts';

/** QQ 钱包 (QPay): QQ_PAY as NATIVE, JSAPI, APP or MICROPAY (docs/channels/qqpay.md). */

function required(fields: Record<string, string>, key: string, what: string): string {
  const v = fields[key];
  if (!v) throw new ChannelError('protocol', `qqpay: ${what} lacks ${key}`);
  return v;
}

export class QqpayChannel extends CachedClientChannel<QqpayClient> implements PayChannel {
  readonly ifCode = 'qqpay';

  constructor(deps: QqpayClientDeps & { now?: () => number } = {}) {
    super((config) => new QqpayClient(parseQqpayConfig(config), deps), deps.now);
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    if (order.wayCode !== 'QQ_PAY') throw new ChannelError('misconfigured', `qqpay does not serve way ${order.wayCode}`);
    const client = this.client(ctx.config);
    const tradeType = tradeTypeOf(order);
    if (tradeType === 'MICROPAY') {
      const fields = microPayFields(client.config, order);
      return micropay(order, async () => paymentStatus(await client.call(QPAY_PATHS.microPay, fields, ctx.log), 'SUCCESS'), () => this.queryPayment(ctx, order));
    }
    const answer = await client.call(QPAY_PATHS.unifiedOrder, unifiedOrderFields(client.config, order, tradeType), ctx.log);
    checkEcho('qqpay', answer, 'out_trade_no', order.payOrderId);
    if (tradeType === 'NATIVE') return { status: 'WAITING', payDataType: 'codeUrl', payData: required(answer, 'code_url', 'NATIVE answer') };
    const prepayId = required(answer, 'prepay_id', `${tradeType} answer`);
    const params = tradeType === 'JSAPI' ? jsapiPayParams(client.config, prepayId) : appPayParams(client.config, prepayId, newNonce(32), String(Math.floor(this.now() / 1000)));
    // wxapp: Jeepay's type for a Tencent wallet's client parameters as JSON text (docs/api.md).
    return { status: 'WAITING', payDataType: 'wxapp', payData: JSON.stringify(params) };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    let answer: Record<string, string>;
    try {
      answer = await this.client(ctx.config).call(QPAY_PATHS.orderQuery, { out_trade_no: order.payOrderId }, ctx.log);
    } catch (err) {
      if (refusedWith(err, 'ORDERNOTEXIST')) return { status: 'NOT_FOUND' };
      throw err;
    }
    checkEcho('qqpay', answer, 'out_trade_no', order.payOrderId);
    return paymentStatus(answer);
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    try {
      await this.client(ctx.config).call(QPAY_PATHS.closeOrder, { out_trade_no: order.payOrderId }, ctx.log);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, 'ORDERPAID')) return { status: 'ALREADY_PAID' };
      if (refusedWith(err, 'ORDERCLOSED', 'ORDERREVERSED')) return { status: 'CLOSED' };
      throw err;
    }
  }

  /** qpay_reverse.cgi (mutual TLS): undoes a MICROPAY, refunding it if it went through; recall=Y asks to call again (Q4). */
  async reversePayment(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult> {
    const client = this.client(ctx.config);
    try {
      const answer = await client.call(QPAY_PATHS.reverse, { out_trade_no: order.payOrderId, ...client.operatorFields() }, ctx.log);
      return { status: answer.recall === 'Y' ? 'RETRY' : 'REVERSED' };
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      if (refusedWith(err, 'ORDERNOTEXIST', 'ORDERREVERSED')) return { status: 'REVERSED' };
      if (err.kind === 'system' || err.kind === 'timeout' || refusedWith(err, 'USERPAYING')) return { status: 'RETRY' };
      throw err;
    }
  }

  /** qpay_refund.cgi (mutual TLS): accepted means in progress; the refund query settles it (Q7, Q12). */
  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const client = this.client(ctx.config);
    const answer = await client.call(QPAY_PATHS.refund, { ...refundFields(order, refund), ...client.operatorFields() }, ctx.log);
    checkEcho('qqpay', answer, 'out_refund_no', refund.refundOrderId);
    checkEcho('qqpay', answer, 'out_trade_no', order.payOrderId);
    const result: RefundStatus = { status: 'PROCESSING', outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId };
    if (answer.refund_id) result.channelRefundNo = answer.refund_id;
    if (answer.refund_fee !== undefined) {
      if (answer.refund_fee !== String(refund.refundAmount)) throw new ChannelError('mismatch', `qqpay: refund answer names refund_fee ${answer.refund_fee}, asked ${refund.refundAmount}`);
      result.refundAmount = refund.refundAmount;
    }
    return result;
  }

  async queryRefund(ctx: ChannelContext, _order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    let answer: Record<string, string>;
    try {
      answer = await this.client(ctx.config).call(QPAY_PATHS.refundQuery, { out_refund_no: refund.refundOrderId }, ctx.log);
    } catch (err) {
      if (refusedWith(err, 'REFUNDNOTEXIST', 'ORDERNOTEXIST')) return { status: 'NOT_FOUND' };
      throw err;
    }
    return refundFromQuery(answer, refund.refundOrderId);
  }

  /** Q8: pay notifications are signed XML, verified like answers; QPay sends no refund notifications (Q12). */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    if (kind === 'refund') throw new ChannelError('protocol', 'qqpay: QPay sends no refund notifications; refunds settle by query');
    const doc = parseQpayXml(request.rawBody.toString('utf8'), 'notification');
    this.client(ctx.config).verify(doc, 'notification');
    // The layers in their order, where the notification carries them.
    if (doc.return_code !== undefined && doc.return_code !== 'SUCCESS') throw new ChannelError('protocol', `qqpay: notification return_code ${doc.return_code}`);
    const payment = doc.result_code !== undefined && doc.result_code !== 'SUCCESS' ? { ...paymentStatus(doc, 'PAYERROR'), errCode: doc.err_code || 'PAYERROR' } : paymentStatus(doc, doc.trade_state ?? 'SUCCESS');
    return { kind: 'pay', payment, ...(doc.transaction_id ? { eventId: doc.transaction_id } : {}) };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/xml; charset=utf-8', body: NOTIFY_ACK_XML };
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'text/xml; charset=utf-8', body: NOTIFY_NACK_XML };
  }
}
