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
import { IcbcClient, type IcbcClientDeps } from './client.ts';
import { parseIcbcConfig } from './config.ts';
import { fenOf, isIcbcWay, orderBiz, paramError, str, toPaymentStatus, toRefundStatus } from './mapping.ts';
import { CUR_TYPE_CNY, ICBC_CODES, ICBC_PATHS, SIGN_HASH } from './protocol.ts';
import { icbcNotifyReply, verifyIcbcParams } from './sign.ts';

/** 工商银行 ICBC API 开放平台 (docs/channels/icbc.md): ICBC_APP, paid in 工行手机银行 / 工银e支付. */

/** I9: any answer but a signed return_code 0 makes ICBC send again; this one says so plainly. */
const NACK_BODY = '{"response_biz_content":{"return_code":-1,"return_msg":"fail"},"sign_type":"RSA2"}';

const code = (c: number): string => String(c);

function formOf(request: InboundCallback): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
}

export class IcbcChannel extends CachedClientChannel<IcbcClient> implements PayChannel {
  readonly ifCode = 'icbc';

  constructor(deps: IcbcClientDeps = {}) {
    super((config) => new IcbcClient(parseIcbcConfig(config), deps), deps.now);
  }

  /** I3: the answer carries the link that opens the payment in 工行手机银行 / 工银e支付. */
  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    if (!isIcbcWay(order.wayCode)) throw new ChannelError('misconfigured', `icbc does not serve way ${order.wayCode}`);
    const client = this.client(ctx.config);
    const answer = await client.call(ICBC_PATHS.pay, orderBiz(order, client.config, this.now()), ctx.log);
    checkEcho('icbc', answer, 'out_trade_no', order.payOrderId);
    const payUrl = str(answer, 'pay_url');
    if (!payUrl) throw new ChannelError('protocol', 'icbc: consumepurchase answer lacks pay_url');
    const orderId = str(answer, 'order_id');
    return { status: 'WAITING', payDataType: 'payurl', payData: payUrl, ...(orderId ? { channelOrderNo: orderId } : {}) };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    const client = this.client(ctx.config);
    try {
      const answer = await client.call(ICBC_PATHS.query, { mer_id: client.config.merId, out_trade_no: order.payOrderId }, ctx.log);
      checkEcho('icbc', answer, 'out_trade_no', order.payOrderId);
      return toPaymentStatus(answer);
    } catch (err) {
      if (refusedWith(err, code(ICBC_CODES.orderNotFound))) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** I2: orderclose closes an unpaid order; a paid one is refused with "already paid". */
  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    const client = this.client(ctx.config);
    try {
      const answer = await client.call(ICBC_PATHS.close, { mer_id: client.config.merId, out_trade_no: order.payOrderId }, ctx.log);
      checkEcho('icbc', answer, 'out_trade_no', order.payOrderId);
      return { status: 'CLOSED' };
    } catch (err) {
      if (refusedWith(err, code(ICBC_CODES.orderPaid))) return { status: 'ALREADY_PAID' };
      if (refusedWith(err, code(ICBC_CODES.orderNotFound), code(ICBC_CODES.orderClosed))) return { status: 'CLOSED' };
      throw err;
    }
  }

  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
    const client = this.client(ctx.config);
    const reason = Array.from(refund.reason.trim()).slice(0, 64).join('');
    const biz = { mer_id: client.config.merId, out_trade_no: order.payOrderId, outtrx_serial_no: refund.refundOrderId, ret_total_amt: String(refund.refundAmount), cur_type: CUR_TYPE_CNY, ...(reason ? { reason } : {}) };
    const answer = await client.call(ICBC_PATHS.refund, biz, ctx.log);
    checkEcho('icbc', answer, 'outtrx_serial_no', refund.refundOrderId);
    checkEcho('icbc', answer, 'out_trade_no', order.payOrderId);
    if (fenOf(answer, 'ret_total_amt') !== undefined && fenOf(answer, 'ret_total_amt') !== refund.refundAmount) throw new ChannelError('mismatch', `icbc: refund answer names ret_total_amt ${String(answer.ret_total_amt)}`);
    return { ...toRefundStatus(answer), outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const client = this.client(ctx.config);
    try {
      const answer = await client.call(ICBC_PATHS.refundQuery, { mer_id: client.config.merId, out_trade_no: order.payOrderId, outtrx_serial_no: refund.refundOrderId }, ctx.log);
      checkEcho('icbc', answer, 'outtrx_serial_no', refund.refundOrderId);
      checkEcho('icbc', answer, 'out_trade_no', order.payOrderId);
      return toRefundStatus(answer);
    } catch (err) {
      if (refusedWith(err, code(ICBC_CODES.orderNotFound))) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  /** I9: a form signed over `{notify path}?{sorted params}` with the gateway key; for this app and merchant. */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const { config } = this.client(ctx.config);
    const form = formOf(request);
    if (!request.path) throw new ChannelError('protocol', 'icbc: the notification path is unknown (it is part of the signed text)');
    const hash = SIGN_HASH[form.sign_type ?? ''];
    if (!hash) throw new ChannelError('bad_signature', `icbc: notification sign_type ${JSON.stringify(form.sign_type)} is not RSA or RSA2`);
    if (!verifyIcbcParams(request.path, form, hash, config.icbcPublicKey)) throw new ChannelError('bad_signature', 'icbc: notification signature does not verify with the gateway key');
    if (form.app_id !== config.appId) throw new ChannelError('mismatch', `icbc: notification names app_id ${String(form.app_id)}, configured ${config.appId}`);
    let biz: Record<string, unknown>;
    try {
      biz = JSON.parse(form.biz_content ?? '') as Record<string, unknown>;
    } catch {
      throw new ChannelError('protocol', 'icbc: notification biz_content is not JSON');
    }
    if (typeof biz !== 'object' || biz === null) throw new ChannelError('protocol', 'icbc: notification biz_content is not an object');
    if (biz.mer_id !== config.merId) throw new ChannelError('mismatch', `icbc: notification names mer_id ${String(biz.mer_id)}, configured ${config.merId}`);
    // I8: refunds settle in the refund answer; ICBC sends no refund notifications.
    if (kind === 'refund') throw new ChannelError('protocol', 'icbc: a notification at the refund URL (ICBC notifies payments only)');
    const msgId = str(biz, 'msg_id');
    return { kind: 'pay', payment: toPaymentStatus(biz), ...(msgId ? { eventId: msgId } : {}) };
  }

  /** I9: `{"response_biz_content":{return_code 0, "success", the notification's msg_id},"sign_type":"RSA2","sign":…}`. */
  signedAckReply(ctx: ChannelContext, request: InboundCallback): CallbackReply {
    let msgId = '';
    try {
      const biz = JSON.parse(formOf(request).biz_content ?? '{}') as Record<string, unknown>;
      if (typeof biz.msg_id === 'string') msgId = biz.msg_id;
    } catch {
      // Only called after parseCallback accepted this body; an empty msg_id would simply not be accepted.
    }
    return { status: 200, contentType: 'application/json; charset=utf-8', body: icbcNotifyReply({ return_code: 0, return_msg: 'success', msg_id: msgId }, this.client(ctx.config).config.privateKey) };
  }

  /** Unused by the core (it calls signedAckReply): without the merchant's key no reply ICBC accepts can be made. */
  ackReply(): CallbackReply {
    return this.nackReply('no merchant key to sign the acknowledgement');
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'application/json; charset=utf-8', body: NACK_BODY };
  }
}
