import { CachedClientChannel } from '../client-cache.ts';
import { autoSubmitForm, checkEcho, refusedWith } from '../answers.ts';
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
import { compactChinaTime } from '../china-time.ts';
import { JdpayClient, resultOf, type JdpayClientDeps } from './client.ts';
import { parseJdpayConfig } from './config.ts';
import { jdSignText } from './envelope.ts';
import { fenOf, isJdpayWay, leaf, orderFields, paramError, toPaymentStatus, toRefundStatus } from './mapping.ts';
import { JD_CODES, JD_PATHS, NOTIFY_ACK, QUERY_TRADE_TYPE, WAY_REQUEST } from './protocol.ts';

/** 京东支付 JD Pay (docs/channels/jdpay.md): JD's own wallet (H5, PC, QR, app) and its aggregated WeChat/Alipay code. */

export class JdpayChannel extends CachedClientChannel<JdpayClient> implements PayChannel {
  readonly ifCode = 'jdpay';

  constructor(deps: JdpayClientDeps & { now?: () => number } = {}) {
    super((config) => new JdpayClient(parseJdpayConfig(config), deps), deps.now);
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    const way = order.wayCode;
    if (!isJdpayWay(way)) throw new ChannelError('misconfigured', `jdpay does not serve way ${way}`);
    const client = this.client(ctx.config);
    const fields = orderFields(order, this.now());
    const req = WAY_REQUEST[way];
    if (req.api !== 'uniorder') {
      // J4: the PC/H5 cashier is a browser form; JD creates the order when the payer opens it.
      const form = client.cashierForm(req.api, fields);
      return { status: 'WAITING', payDataType: 'form', payData: autoSubmitForm('jdpaysubmit', form.action, form.params) };
    }
    const answer = await client.call(JD_PATHS.uniorder, { ...fields, tradeType: req.tradeType as string, ...(req.payTool ? { payTool: req.payTool } : {}) }, ctx.log);
    checkEcho('jdpay', answer, 'tradeNum', order.payOrderId);
    const orderId = leaf(answer, 'orderId');
    if (!orderId) throw new ChannelError('protocol', 'jdpay: uniorder answer lacks orderId');
    if (req.tradeType === 'QR') {
      const qrCode = leaf(answer, 'qrCode');
      if (!qrCode) throw new ChannelError('protocol', 'jdpay: uniorder answer lacks qrCode');
      return { status: 'WAITING', payDataType: 'codeUrl', payData: qrCode, channelOrderNo: orderId };
    }
    // J6: the JD app is opened with the JD order and the merchant's signature over it.
    const { merchant } = client.config;
    const signData = jdSignText(`merchant=${merchant}&orderId=${orderId}`, client.config.privateKey);
    return { status: 'WAITING', payDataType: 'payurl', payData: `jdpay://pay?${new URLSearchParams({ merchant, orderId, signData })}`, channelOrderNo: orderId };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    try {
      const answer = await this.client(ctx.config).call(JD_PATHS.query, { tradeNum: order.payOrderId, tradeType: QUERY_TRADE_TYPE.pay }, ctx.log);
      checkEcho('jdpay', answer, 'tradeNum', order.payOrderId);
      return toPaymentStatus(answer);
    } catch (err) {
      if (refusedWith(err, JD_CODES.orderNotExist)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /**
   * J11: JD has no close call; an unpaid order is revoked (撤销). Revoking also refunds a paid
   * order, so the order is queried first and a paid one is never revoked here.
   */
  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    const now = await this.queryPayment(ctx, order);
    if (now.status === 'SUCCESS') return { status: 'ALREADY_PAID' };
    if (now.status !== 'WAITING') return { status: 'CLOSED' };
    try {
      const fields = { tradeNum: `${order.payOrderId}C`, oTradeNum: order.payOrderId, amount: String(order.amount), currency: 'CNY', tradeTime: compactChinaTime(this.now()) };
      const answer = await this.client(ctx.config).call(JD_PATHS.revoke, fields, ctx.log);
      checkEcho('jdpay', answer, 'oTradeNum', order.payOrderId);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, JD_CODES.orderPaid)) return { status: 'ALREADY_PAID' };
      if (refusedWith(err, JD_CODES.orderNotExist, JD_CODES.orderClosed)) return { status: 'CLOSED' };
      throw err;
    }
  }

  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
    const note = Array.from(refund.reason.trim()).slice(0, 64).join('');
    const fields = { tradeNum: refund.refundOrderId, oTradeNum: order.payOrderId, amount: String(refund.refundAmount), currency: 'CNY', tradeTime: compactChinaTime(this.now()), notifyUrl: refund.notifyUrl, ...(note ? { note } : {}) };
    const answer = await this.client(ctx.config).call(JD_PATHS.refund, fields, ctx.log);
    checkEcho('jdpay', answer, 'tradeNum', refund.refundOrderId);
    checkEcho('jdpay', answer, 'oTradeNum', order.payOrderId);
    if (fenOf(answer, 'amount') !== undefined && fenOf(answer, 'amount') !== refund.refundAmount) throw new ChannelError('mismatch', `jdpay: refund answer names amount ${String(answer.amount)}`);
    return { ...toRefundStatus(answer), outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    try {
      const answer = await this.client(ctx.config).call(JD_PATHS.query, { tradeNum: refund.refundOrderId, oTradeNum: order.payOrderId, tradeType: QUERY_TRADE_TYPE.refund }, ctx.log);
      checkEcho('jdpay', answer, 'tradeNum', refund.refundOrderId);
      return toRefundStatus(answer);
    } catch (err) {
      if (refusedWith(err, JD_CODES.orderNotExist)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** J10: the same encrypted envelope; decrypted, verified and checked to be for this merchant. */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const { outer, inner } = this.client(ctx.config).open(request.rawBody.toString('utf8'), 'notification');
    if (!inner) throw new ChannelError('protocol', `jdpay: notification without <encrypt> (code ${String(resultOf(outer).code)})`);
    const tradeType = leaf(inner, 'tradeType') ?? QUERY_TRADE_TYPE.pay;
    if (kind === 'refund') {
      if (tradeType !== QUERY_TRADE_TYPE.refund) throw new ChannelError('protocol', 'jdpay: a payment notification at the refund URL');
      return { kind: 'refund', refund: toRefundStatus(inner) };
    }
    if (tradeType !== QUERY_TRADE_TYPE.pay) throw new ChannelError('protocol', 'jdpay: a refund notification at the payment URL');
    return { kind: 'pay', payment: toPaymentStatus(inner) };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: NOTIFY_ACK };
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'fail' };
  }
}
