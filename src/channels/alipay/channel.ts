import { autoSubmitForm } from '../answers.ts';
import {
  ChannelError,
  type CallbackReply,
  type ChannelConfig,
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
import { downloadBill, type BillFile, type BillRow } from './bill.ts';
import type { ChannelBill } from '../types.ts';
import { ClientCache } from '../client-cache.ts';
import type { FetchChannelFile } from '../http.ts';
import { AlipayClient, answerError, type AlipayAnswer, type AlipayClientDeps } from './client.ts';
import { parseAlipayConfig, type AlipayConfig } from './config.ts';
import { buildTradeRequest, buyerOf, fen, gatewayReturnUrl, resolveWay, toPaymentStatus, toRefundStatus, yuan } from './mapping.ts';
import { buyerAppId, lookupBuyer, publicAppAuthorizeUrl } from './identity.ts';

/** Alipay OpenAPI gateway protocol, direct merchant. Wire details: protocols.md §C. */

export interface AlipayChannelDeps extends AlipayClientDeps {
  /** Bill downloads (raw bytes); injectable for tests. */
  fetchFile?: FetchChannelFile;
  /** Distinct configurations kept with their parsed keys (LRU). */
  maxClients?: number;
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `alipay: ${message}`);
}

const isSub = (a: AlipayAnswer, ...codes: string[]): boolean => a.code === '40004' && a.signed && a.subCode !== undefined && codes.includes(a.subCode);

/** An answer about a trade must be about this order; anything else is not ours to apply. */
function checkEcho(data: Record<string, unknown>, order: PayOrderInput): void {
  const echoed = data.out_trade_no;
  if (echoed !== undefined && echoed !== order.payOrderId) throw new ChannelError('mismatch', `alipay: answer names out_trade_no ${String(echoed)}, expected ${order.payOrderId}`);
}


export class AlipayChannel implements PayChannel {
  readonly ifCode = 'alipay';
  readonly #deps: AlipayChannelDeps;
  readonly #clients: ClientCache<AlipayClient>;

  constructor(deps: AlipayChannelDeps = {}) {
    this.#deps = deps;
    this.#clients = new ClientCache((config) => new AlipayClient(parseAlipayConfig(config), deps), deps.maxClients ?? 1000);
  }

  /** One client per distinct configuration (keys parsed once); keyed by a hash so secrets are not map keys. */
  client(config: ChannelConfig): AlipayClient {
    return this.#clients.get(config);
  }

  /**
   * Turns channelExtra.sessionToken (a payer identified through our Alipay login routes) into the
   * buyer; set by src/http/alipay-identity-routes.ts, which knows the payer-session service.
   */
  resolveBuyerSession: ((token: string, alipayAppId: string) => { buyerUserId: string } | { buyerOpenId: string }) | undefined;

  /** The order with the buyer its session token names (ALI_JSAPI / ALI_LITE / ALI), if it names none itself. */
  #withSessionBuyer(order: PayOrderInput, client: AlipayClient): PayOrderInput {
    const token = order.extra.sessionToken;
    if (typeof token !== 'string' || buyerOf(order.extra) !== undefined) return order;
    if (!['ALI_JSAPI', 'ALI_LITE', 'ALI'].includes(order.wayCode)) return order;
    if (!this.resolveBuyerSession) throw new ChannelError('misconfigured', 'alipay: payer sessions are not available');
    let buyer: { buyerUserId: string } | { buyerOpenId: string };
    try {
      buyer = this.resolveBuyerSession(token, buyerAppId(client.config));
    } catch (err) {
      // Refused before anything is sent: the order fails with the reason.
      throw new ChannelError('rejected', `alipay: ${(err as Error).message}`, { channelCode: 'PARAM_ERROR', channelMessage: (err as Error).message });
    }
    return { ...order, extra: { ...order.extra, ...buyer } };
  }

  async createPayment(ctx: ChannelContext, input: PayOrderInput): Promise<CreatePaymentResult> {
    const client = this.client(ctx.config);
    const order = this.#withSessionBuyer(input, client);
    const way = resolveWay(order);
    const returnUrl = gatewayReturnUrl(order.notifyUrl);
    const { method, biz } = buildTradeRequest(way, order, order.returnUrl ?? returnUrl, client.config.isv?.pid);
    const wanted = order.extra.payDataType;

    if (way === 'ALI_APP') {
      // Not a server call: the order string goes to the Alipay app SDK, which submits it.
      return { status: 'WAITING', payDataType: 'aliapp', payData: client.signedString(method, biz, { notifyUrl: order.notifyUrl }) };
    }
    if (way === 'ALI_PC' || way === 'ALI_WAP') {
      // The trade is created when the buyer opens the cashier; return_url comes back to our route.
      const page = client.pageRequest(method, biz, { notifyUrl: order.notifyUrl, ...(returnUrl ? { returnUrl } : {}) });
      if (wanted === 'form') return { status: 'WAITING', payDataType: 'form', payData: autoSubmitForm('alipaysubmit', `${client.config.gatewayUrl}?charset=utf-8`, page.params) };
      return { status: 'WAITING', payDataType: 'payurl', payData: page.url }; // codeImgUrl (WAP) is rendered by the core from this URL
    }

    const a = await client.call(method, biz, ctx.log, { notifyUrl: order.notifyUrl });
    if (way === 'ALI_BAR') return this.#barResult(a, order);
    if (a.code !== '10000') throw answerError(method, a);
    checkEcho(a.data, order);
    if (way === 'ALI_QR') {
      const qr = a.data.qr_code;
      if (typeof qr !== 'string' || qr === '') throw protocol('precreate answer lacks qr_code');
      return { status: 'WAITING', payDataType: 'codeUrl', payData: qr };
    }
    const tradeNo = a.data.trade_no;
    if (typeof tradeNo !== 'string' || tradeNo === '') throw protocol('trade.create answer lacks trade_no');
    // my.tradePay({ tradeNO }) / AlipayJSBridge 'tradePay' take the trade number (jeepay.md §3.6).
    const buyer = buyerOf(order.extra);
    const channelUser = buyer ? ('buyer_id' in buyer ? buyer.buyer_id : buyer.buyer_open_id) : undefined;
    return { status: 'WAITING', payDataType: 'aliapp', payData: JSON.stringify({ alipayTradeNo: tradeNo }), channelOrderNo: tradeNo, ...(channelUser ? { channelUser } : {}) };
  }

  /** alipay.trade.pay (§C.4): 10000 paid, 10003 the payer is entering the password, 40004 declined. */
  #barResult(a: AlipayAnswer, order: PayOrderInput): CreatePaymentResult {
    const tradeNo = typeof a.data.trade_no === 'string' ? a.data.trade_no : undefined;
    const buyer = [a.data.buyer_open_id, a.data.buyer_user_id].find((v): v is string => typeof v === 'string' && v !== '');
    const common = { payDataType: 'none' as const, payData: '', ...(tradeNo ? { channelOrderNo: tradeNo } : {}), ...(buyer ? { channelUser: buyer } : {}) };
    if (a.code === '10000') {
      // The core records a synchronous success as is, so the integrity check happens here.
      checkEcho(a.data, order);
      if (fen(a.data.total_amount, 'total_amount') !== order.amount) throw new ChannelError('mismatch', `alipay: trade.pay answered total_amount ${String(a.data.total_amount)} for ${yuan(order.amount)}`);
      return { status: 'SUCCESS', ...common };
    }
    if (a.code === '10003') return { status: 'WAITING', ...common };
    const err = answerError('alipay.trade.pay', a);
    if (err.kind === 'rejected' && a.code === '40004') return { status: 'FAIL', ...common, errCode: a.subCode ?? a.code, errMsg: a.subMsg ?? a.msg };
    throw err;
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    const a = await this.client(ctx.config).call('alipay.trade.query', { out_trade_no: order.payOrderId }, ctx.log);
    // Precreated codes nobody scanned and unopened cashiers do not exist yet (§C.4).
    if (isSub(a, 'ACQ.TRADE_NOT_EXIST')) return { status: 'NOT_FOUND' };
    if (a.code !== '10000') throw answerError('alipay.trade.query', a);
    checkEcho(a.data, order);
    return toPaymentStatus(a.data);
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    const a = await this.client(ctx.config).call('alipay.trade.close', { out_trade_no: order.payOrderId }, ctx.log);
    if (a.code === '10000' || isSub(a, 'ACQ.TRADE_NOT_EXIST', 'ACQ.TRADE_HAS_CLOSE')) return { status: 'CLOSED' };
    if (isSub(a, 'ACQ.TRADE_HAS_SUCCESS', 'ACQ.TRADE_HAS_FINISHED')) return { status: 'ALREADY_PAID' };
    if (isSub(a, 'ACQ.TRADE_STATUS_ERROR')) {
      // "Not closable" covers closed and paid alike: ask which.
      const s = await this.queryPayment(ctx, order);
      if (s.status === 'SUCCESS') return { status: 'ALREADY_PAID' };
      if (s.status === 'CLOSED' || s.status === 'NOT_FOUND') return { status: 'CLOSED' };
    }
    throw answerError('alipay.trade.close', a);
  }

  /** alipay.trade.cancel (撤销): closes an unpaid trade, refunds a paid one; retry_flag Y asks for another call. */
  async reversePayment(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult> {
    const a = await this.client(ctx.config).call('alipay.trade.cancel', { out_trade_no: order.payOrderId }, ctx.log);
    if (a.code === '10000') {
      checkEcho(a.data, order);
      return { status: a.data.retry_flag === 'Y' ? 'RETRY' : 'REVERSED' };
    }
    if (isSub(a, 'ACQ.TRADE_NOT_EXIST')) return { status: 'REVERSED' }; // nothing reached Alipay: nothing to undo
    if (isSub(a, 'ACQ.TRADE_HAS_FINISHED', 'ACQ.TRADE_STATUS_ERROR', 'ACQ.REASON_TRADE_REFUND_FEE_ERR')) return { status: 'ALREADY_PAID' };
    const err = answerError('alipay.trade.cancel', a);
    if (err.kind === 'system') return { status: 'RETRY' };
    throw err;
  }

  /**
   * alipay.trade.refund is synchronous: fund_change Y = the money moved now. N also answers a
   * repeat of a refund that already succeeded, so N is settled by a refund query (§C.4).
   */
  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    if (refund.currency !== 'CNY') throw new ChannelError('rejected', `alipay: refund currency ${refund.currency} is not supported`, { channelCode: 'PARAM_ERROR' });
    const biz: Record<string, unknown> = { out_trade_no: order.payOrderId, refund_amount: yuan(refund.refundAmount), out_request_no: refund.refundOrderId };
    const reason = Array.from(refund.reason.trim()).slice(0, 256).join('');
    if (reason !== '') biz.refund_reason = reason;
    const a = await this.client(ctx.config).call('alipay.trade.refund', biz, ctx.log);
    if (a.code !== '10000') throw answerError('alipay.trade.refund', a);
    checkEcho(a.data, order);
    if (a.data.fund_change === 'Y') return { status: 'SUCCESS', outRefundNo: refund.refundOrderId, outTradeNo: order.payOrderId, refundAmount: refund.refundAmount };
    const confirmed = await this.queryRefund(ctx, order, refund).catch(() => undefined);
    return confirmed && confirmed.status !== 'NOT_FOUND' ? confirmed : { status: 'PROCESSING', outRefundNo: refund.refundOrderId };
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const biz = { out_trade_no: order.payOrderId, out_request_no: refund.refundOrderId, query_options: ['gmt_refund_pay'] };
    const a = await this.client(ctx.config).call('alipay.trade.fastpay.refund.query', biz, ctx.log);
    if (isSub(a, 'ACQ.TRADE_NOT_EXIST')) return { status: 'NOT_FOUND' };
    if (a.code !== '10000') throw answerError('alipay.trade.fastpay.refund.query', a);
    checkEcho(a.data, order);
    return toRefundStatus(a.data, refund.refundOrderId);
  }

  /**
   * Async notifications (§C.5): verified over all parameters but sign and sign_type, then they
   * must name this app (and seller, when configured) — Jeepay trusted the signature alone and
   * applied another merchant's payment (jeepay.md §8 #81). Order, amount and currency are the
   * core's checks (OrderSync). Refund-related notifications arrive here too and read as "paid".
   */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    if (kind !== 'pay') throw protocol('Alipay refunds are synchronous; it sends no refund notifications');
    const client = this.client(ctx.config);
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(request.rawBody.toString('utf8'))) params[k] = v;
    client.verifyParams(params);
    checkOwner(params, client.config);
    if (params.notify_type !== undefined && params.notify_type !== 'trade_status_sync') throw protocol(`unexpected notify_type ${params.notify_type}`);
    return { kind: 'pay', payment: toPaymentStatus(params), ...(params.notify_id ? { eventId: params.notify_id } : {}) };
  }

  /**
   * Return-URL parameters of PC/WAP pay (§C.5): same verification rule, same owner checks. They
   * carry no trade_status; the caller must ask the channel before believing anything.
   */
  verifyReturn(ctx: ChannelContext, params: Record<string, string>): { outTradeNo: string; tradeNo: string | undefined; amount: number | undefined } {
    const client = this.client(ctx.config);
    client.verifyParams(params);
    checkOwner(params, client.config);
    const outTradeNo = params.out_trade_no;
    if (!outTradeNo) throw protocol('return parameters lack out_trade_no');
    return { outTradeNo, tradeNo: params.trade_no || undefined, amount: params.total_amount ? fen(params.total_amount, 'total_amount') : undefined };
  }

  /** The gateway's bill contract (PayChannel.downloadBill): rows in our shape, the summary file's totals. */
  async downloadBill(ctx: ChannelContext, billDate: string): Promise<ChannelBill> {
    const file = await this.downloadBillFile(ctx, billDate);
    return {
      summary: { rows: String(file.rows.length), ...file.summary },
      rows: file.rows.map((r) => ({
        kind: r.refundRequestNo ? ('refund' as const) : ('pay' as const),
        time: (r.finishedAt ?? r.createdAt)?.toISOString() ?? '',
        outTradeNo: r.outTradeNo,
        channelOrderNo: r.tradeNo,
        ...(r.refundRequestNo ? { outRefundNo: r.refundRequestNo } : {}),
        amount: Math.abs(r.amount),
        fee: '',
        raw: { type: r.type, subject: r.subject, received: String(r.received) },
      })),
    };
  }

  /** Reconciliation: the trade bill of a day ("yyyy-MM-dd") or month, fetched, unzipped and parsed. */
  async downloadBillFile(ctx: ChannelContext, billDate: string, billType: 'trade' | 'signcustomer' = 'trade'): Promise<BillFile> {
    const client = this.client(ctx.config);
    const a = await client.call('alipay.data.dataservice.bill.downloadurl.query', { bill_type: billType, bill_date: billDate }, ctx.log);
    if (a.code !== '10000') throw answerError('alipay.data.dataservice.bill.downloadurl.query', a);
    const url = a.data.bill_download_url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw protocol('bill answer lacks bill_download_url');
    return downloadBill(url, this.#deps.fetchFile);
  }

  async downloadBillRows(ctx: ChannelContext, billDate: string, billType: 'trade' | 'signcustomer' = 'trade'): Promise<BillRow[]> {
    return (await this.downloadBillFile(ctx, billDate, billType)).rows;
  }

  /** OAuth user lookup (identity.ts): user_id or open_id, with the Alipay app it belongs to. */
  lookupBuyer(ctx: ChannelContext, authCode: string): ReturnType<typeof lookupBuyer> {
    return lookupBuyer(this.client(ctx.config), authCode, ctx.log);
  }

  /** Where a 生活号 H5 page sends the buyer for a silent (auth_base) authorisation. */
  oauthAuthorizeUrl(config: ChannelConfig, redirectUri: string, state: string): string {
    return publicAppAuthorizeUrl(this.client(config).config, redirectUri, state);
  }

  /** Alipay stops retrying only on the 7 characters `success` (§C.5). */
  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'success' };
  }

  nackReply(_reason: string): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'failure' };
  }
}

/** app_id is the caller (the provider's app in ISV mode), auth_app_id the merchant acted for (§C.5). */
function checkOwner(params: Record<string, string>, config: AlipayConfig): void {
  const { appId, sellerId } = config;
  if (params.app_id !== appId) throw new ChannelError('mismatch', `alipay: parameters name app_id ${params.app_id ?? '(none)'}, configured ${appId}`);
  const authAppId = config.isv?.authAppId;
  if (authAppId !== undefined && params.auth_app_id !== authAppId) throw new ChannelError('mismatch', `alipay: parameters name auth_app_id ${params.auth_app_id ?? '(none)'}, authorised ${authAppId}`);
  if (sellerId !== undefined && params.seller_id !== sellerId) {
    throw new ChannelError('mismatch', `alipay: parameters name seller_id ${params.seller_id ?? '(none)'}, configured ${sellerId}`);
  }
}
