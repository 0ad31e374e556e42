import { newNonce } from '../../domain/ids.ts';
import {
  ChannelError,
  type CallbackReply,
  type ChannelBill,
  type ChannelFundFlowBill,
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
import { createV2Bar, createV3Bar, reverseV2, reverseV3 } from './bar.ts';
import { WechatPayClient, type WechatPayClientDeps } from './client.ts';
import { ClientCache } from '../client-cache.ts';
import { downloadFundFlowBill, downloadTradeBill } from './bill-download.ts';
import { FUND_ACCOUNT_TYPES, type FundAccountType } from './fund-flow.ts';
import type { ParsedBill } from './bill.ts';
import { downloadV2Bill } from './v2-bill.ts';
import { configuredAppIds, parseWechatPayConfig, type WechatPayConfig } from './config.ts';
import { buildPrepayRequest, buildRefundBody, h5PayUrl, isWechatWay, sameCode, toPaymentStatus, toRefundStatus } from './mapping.ts';
import { aesGcmDecrypt, appPaySign, jsapiPaySign } from './v3-crypto.ts';
import { checkPartnerOwner, partnerClose, partnerQueryPath, toPartnerPrepay } from './partner.ts';
import { WechatPayV2Client } from './v2-client.ts';
import { apiVersionOf, parseWechatPayV2Config } from './v2-config.ts';
import { closeV2Payment, createV2Payment, isV2Callback, parseV2Callback, queryV2Payment, queryV2Refund, refundV2, v2Reply } from './v2-channel.ts';

/**
 * WeChat Pay, direct merchant (普通商户): API v3 (protocols.md §A) by default, API v2 (§B, v2-*.ts)
 * when the configuration says apiVersion=v2. Each operation picks its dialect from the config.
 */

export interface WechatPayChannelDeps extends WechatPayClientDeps {
  /** Distinct configurations kept with their parsed keys and certificate caches (LRU). */
  maxClients?: number;
}

const PAY_EVENTS = ['TRANSACTION.SUCCESS'];
const REFUND_EVENTS = ['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'];

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `wxpay: ${message}`);
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocol(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function requiredString(obj: Record<string, unknown>, key: string, what: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') throw protocol(`${what} lacks ${key}`);
  return v;
}

function isRejected(err: unknown, ...codes: string[]): err is ChannelError {
  return err instanceof ChannelError && err.kind === 'rejected' && sameCode(err.channelCode, ...codes);
}

/**
 * A verified answer or callback must name this merchant (and one of its appids): a
 * misrouted notification or a config pointing at another merchant's keys must not move
 * our orders. Fields absent from an answer are not invented; callbacks require them.
 */
function checkOwner(obj: Record<string, unknown>, config: WechatPayConfig, opts: { requireMchId: boolean; appId: 'required' | 'ifPresent' | 'skip' }): void {
  const mchid = obj.mchid;
  if (mchid !== undefined || opts.requireMchId) {
    if (mchid !== config.mchId) throw new ChannelError('mismatch', `wxpay: answer names mchid ${String(mchid)}, configured ${config.mchId}`);
  }
  if (opts.appId === 'skip') return;
  const appid = obj.appid;
  if (appid === undefined && opts.appId === 'ifPresent') return;
  if (typeof appid !== 'string' || !configuredAppIds(config).includes(appid)) {
    throw new ChannelError('mismatch', `wxpay: answer names appid ${String(appid)}, not one of this config's appids`);
  }
}

export class WechatPayChannel implements PayChannel {
  readonly ifCode = 'wxpay';
  readonly #deps: WechatPayChannelDeps;
  readonly #clients: ClientCache<WechatPayClient>;
  readonly #v2Clients: ClientCache<WechatPayV2Client>;

  constructor(deps: WechatPayChannelDeps = {}) {
    this.#deps = deps;
    this.#clients = new ClientCache((config) => new WechatPayClient(parseWechatPayConfig(config), deps), deps.maxClients ?? 1000);
    this.#v2Clients = new ClientCache((config) => new WechatPayV2Client(parseWechatPayV2Config(config), deps), deps.maxClients ?? 1000);
  }

  /** The API v2 client of a configuration with apiVersion=v2, otherwise undefined. */
  v2Client(config: ChannelConfig): WechatPayV2Client | undefined {
    return apiVersionOf(config) === 'v2' ? this.#v2Clients.get(config) : undefined;
  }

  /**
   * One client per distinct configuration, so PEM parsing and the platform-certificate cache
   * happen once per merchant app, not per call. Keyed by a hash so secrets are not kept as
   * map keys; a changed config simply gets a new entry.
   */
  client(config: ChannelConfig): WechatPayClient {
    return this.#clients.get(config);
  }

  #nowSeconds(): string {
    return String(Math.floor((this.#deps.now ?? Date.now)() / 1000));
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    const way = order.wayCode;
    const v2 = this.v2Client(ctx.config);
    if (way === 'WX_BAR') {
      const query = () => this.queryPayment(ctx, order);
      return v2 ? createV2Bar(ctx, v2, order, query) : createV3Bar(ctx, this.client(ctx.config), order, query);
    }
    if (!isWechatWay(way)) throw new ChannelError('misconfigured', `wxpay does not serve way ${way}`);
    if (v2) return createV2Payment(v2, order, this.#nowSeconds(), ctx.log);
    const client = this.client(ctx.config);
    const { sp } = client.config;
    const direct = buildPrepayRequest(way, client.config, order);
    const req = sp ? toPartnerPrepay(way, sp, direct) : direct;
    const answer = objectOf((await client.call('POST', req.path, req.body, ctx.log)).data, 'prepay answer');

    if (way === 'WX_NATIVE') {
      // A codeImgUrl request is also answered with the code_url: the core renders the image.
      return { status: 'WAITING', payDataType: 'codeUrl', payData: requiredString(answer, 'code_url', 'native prepay answer') };
    }
    if (way === 'WX_H5') {
      return { status: 'WAITING', payDataType: 'payurl', payData: h5PayUrl(requiredString(answer, 'h5_url', 'h5 prepay answer'), order.returnUrl) };
    }
    const prepayId = requiredString(answer, 'prepay_id', `${way} prepay answer`);
    const timeStamp = this.#nowSeconds();
    const nonceStr = newNonce(32);
    const key = client.config.merchantPrivateKey;
    if (way === 'WX_APP') {
      // APP signs the bare prepay id, not "prepay_id=…" (protocols.md §A.6).
      const sign = appPaySign(req.appId, timeStamp, nonceStr, prepayId, key);
      // Partner APP pay names the sub-merchant as partnerid (assumption, docs/configuration.md).
      const params = { appid: req.appId, partnerid: sp ? sp.subMchId : client.config.mchId, prepayid: prepayId, package: 'Sign=WXPay', noncestr: nonceStr, timestamp: timeStamp, sign };
      return { status: 'WAITING', payDataType: 'wxapp', payData: JSON.stringify(params) };
    }
    const pkg = `prepay_id=${prepayId}`;
    const paySign = jsapiPaySign(req.appId, timeStamp, nonceStr, pkg, key);
    const params = { appId: req.appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
    return { status: 'WAITING', payDataType: 'wxapp', payData: JSON.stringify(params) };
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    const v2 = this.v2Client(ctx.config);
    if (v2) return queryV2Payment(v2, order, ctx.log);
    const client = this.client(ctx.config);
    const { sp } = client.config;
    const path = sp ? partnerQueryPath(client.config, sp, order.payOrderId) : `/v3/pay/transactions/out-trade-no/${encodeURIComponent(order.payOrderId)}?mchid=${encodeURIComponent(client.config.mchId)}`;
    let data: unknown;
    try {
      data = (await client.call('GET', path, undefined, ctx.log)).data;
    } catch (err) {
      if (isRejected(err, 'ORDER_NOT_EXIST')) return { status: 'NOT_FOUND' };
      throw err;
    }
    const tx = objectOf(data, 'transaction');
    if (sp) checkPartnerOwner(tx, client.config, sp, { require: false, appIds: true });
    else checkOwner(tx, client.config, { requireMchId: false, appId: 'ifPresent' });
    return toPaymentStatus(tx);
  }

  async reversePayment(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult> {
    const v2 = this.v2Client(ctx.config);
    return v2 ? reverseV2(ctx, v2, order) : reverseV3(ctx, this.client(ctx.config), order);
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    const v2 = this.v2Client(ctx.config);
    if (v2) return closeV2Payment(v2, order, ctx.log);
    const client = this.client(ctx.config);
    const { sp } = client.config;
    const close = sp ? partnerClose(client.config, sp, order.payOrderId) : { path: `/v3/pay/transactions/out-trade-no/${encodeURIComponent(order.payOrderId)}/close`, body: { mchid: client.config.mchId } };
    try {
      await client.call('POST', close.path, close.body, ctx.log); // 204 No Content
      return { status: 'CLOSED' };
    } catch (err) {
      // ORDERPAID is the v2 spelling; v3 close of a paid order answers ORDER_PAID (protocols.md §A.7).
      if (isRejected(err, 'ORDER_PAID', 'ORDERPAID')) return { status: 'ALREADY_PAID' };
      if (isRejected(err, 'ORDER_CLOSED')) return { status: 'CLOSED' };
      throw err;
    }
  }

  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const v2 = this.v2Client(ctx.config);
    if (v2) return refundV2(v2, order, refund, ctx.log);
    const client = this.client(ctx.config);
    // Partners name the sub-merchant in the body (protocols.md §A.7 refund request).
    const sp = client.config.sp;
    const answer = await client.call('POST', '/v3/refund/domestic/refunds', { ...(sp && { sub_mchid: sp.subMchId }), ...buildRefundBody(order, refund) }, ctx.log);
    return toRefundStatus(objectOf(answer.data, 'refund answer'));
  }

  async queryRefund(ctx: ChannelContext, _order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const v2 = this.v2Client(ctx.config);
    if (v2) return queryV2Refund(v2, refund, ctx.log);
    const client = this.client(ctx.config);
    let data: unknown;
    try {
      const sub = client.config.sp ? `?sub_mchid=${encodeURIComponent(client.config.sp.subMchId)}` : '';
      data = (await client.call('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(refund.refundOrderId)}${sub}`, undefined, ctx.log)).data;
    } catch (err) {
      // Only a WeChat-shaped 404 (it carries a code, e.g. RESOURCE_NOT_EXISTS) means "no such
      // refund"; a bare 404 from a proxy or a wrong baseUrl must stay an error.
      if (err instanceof ChannelError && err.kind === 'rejected' && err.httpStatus === 404 && err.channelCode !== undefined) return { status: 'NOT_FOUND' };
      throw err;
    }
    return toRefundStatus(objectOf(data, 'refund'));
  }

  /** Verify the raw bytes first, then parse, then decrypt (protocols.md §A.4–A.5). */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const v2 = this.v2Client(ctx.config);
    // A config is one dialect: a JSON callback for a v2 merchant (or XML for v3) is refused unread.
    if (v2 || isV2Callback(request)) {
      if (!v2) throw protocol('an API v2 (XML) notification arrived for an API v3 configuration');
      if (!isV2Callback(request)) throw protocol('an API v3 notification arrived for an API v2 configuration');
      return parseV2Callback(v2, kind, request);
    }
    const client = this.client(ctx.config);
    const body = request.rawBody.toString('utf8');
    await client.verify(request.headers, body);

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw protocol('notification body is not JSON');
    }
    const n = objectOf(parsed, 'notification');
    const eventId = requiredString(n, 'id', 'notification');
    const eventType = requiredString(n, 'event_type', 'notification');
    if (n.resource_type !== 'encrypt-resource') throw protocol(`unexpected resource_type ${String(n.resource_type)}`);
    if (!(kind === 'pay' ? PAY_EVENTS : REFUND_EVENTS).includes(eventType)) throw protocol(`event_type ${eventType} is not a ${kind} event`);
    const resource = objectOf(n.resource, 'notification resource');
    if (resource.algorithm !== 'AEAD_AES_256_GCM') throw protocol(`unsupported resource algorithm ${String(resource.algorithm)}`);
    const originalType = kind === 'pay' ? 'transaction' : 'refund';
    if (resource.original_type !== originalType) throw protocol(`original_type ${String(resource.original_type)} is not ${originalType}`);
    const nonce = requiredString(resource, 'nonce', 'notification resource');
    const ciphertext = requiredString(resource, 'ciphertext', 'notification resource');
    const aad = typeof resource.associated_data === 'string' ? resource.associated_data : '';

    let plaintext: string;
    try {
      plaintext = aesGcmDecrypt(client.config.apiV3Key, nonce, aad, ciphertext);
    } catch {
      // GCM authentication failed: forged or encrypted for another merchant's APIv3 key.
      throw new ChannelError('bad_signature', 'wxpay: notification resource does not decrypt with the APIv3 key');
    }
    let decrypted: unknown;
    try {
      decrypted = JSON.parse(plaintext);
    } catch {
      throw protocol('decrypted resource is not JSON');
    }
    const resourceObj = objectOf(decrypted, 'decrypted resource');
    const { sp } = client.config;
    if (sp) checkPartnerOwner(resourceObj, client.config, sp, { require: true, appIds: kind === 'pay' });
    else checkOwner(resourceObj, client.config, { requireMchId: true, appId: kind === 'pay' ? 'required' : 'skip' });
    return kind === 'pay'
      ? { kind: 'pay', payment: toPaymentStatus(resourceObj), eventId }
      : { kind: 'refund', refund: toRefundStatus(resourceObj), eventId };
  }

  /** WeChat accepts 200 or 204 without a body as success (protocols.md §A.5). */
  ackReply(request?: InboundCallback): CallbackReply {
    if (isV2Callback(request)) return v2Reply(true, 'OK');
    return { status: 204, body: '' };
  }

  nackReply(reason: string, request?: InboundCallback): CallbackReply {
    if (isV2Callback(request)) return v2Reply(false, reason);
    // 4xx, not 500 (fault suite, test/faults): a refused callback (forged, tampered, unknown order)
    // is the sender's fault, and WeChat retries on any 4xx/5xx alike (protocols.md §A.5); a 500
    // made every forgery look like a gateway failure. Our own faults still answer 5xx (503).
    return { status: 400, contentType: 'application/json', body: JSON.stringify({ code: 'FAIL', message: reason }) };
  }

  /** v3 only: v2's downloadfundflow is not implemented (it needs HMAC-SHA256 and the API certificate). */
  async downloadFundFlowBill(ctx: ChannelContext, billDate: string, accountType: string): Promise<ChannelFundFlowBill> {
    if (this.v2Client(ctx.config)) throw new ChannelError('misconfigured', 'wxpay: fund-flow bills are fetched through API v3; this configuration is API v2');
    // A provider's fund flow is its own account's, not the sub-merchant's (that one is the encrypted sub-merchant-fundflowbill, not implemented).
    if (this.client(ctx.config).config.sp) throw new ChannelError('misconfigured', "wxpay: fund-flow bills of a sub-merchant are not supported; fetch the provider's own through a direct configuration");
    if (!(FUND_ACCOUNT_TYPES as readonly string[]).includes(accountType)) throw new ChannelError('rejected', `wxpay: account_type ${accountType} is not one of ${FUND_ACCOUNT_TYPES.join(', ')}`, { channelCode: 'PARAM_ERROR' });
    const bill = await downloadFundFlowBill(this.client(ctx.config), billDate, accountType as FundAccountType);
    return { hash: bill.hash, summary: bill.summary.raw, rows: bill.rows };
  }

  async downloadBill(ctx: ChannelContext, billDate: string): Promise<ChannelBill> {
    const v2 = this.v2Client(ctx.config);
    if (v2) return toChannelBill(await downloadV2Bill(v2, billDate));
    const client = this.client(ctx.config);
    const bill = await downloadTradeBill(client, billDate, 'ALL', client.config.sp?.subMchId);
    return toChannelBill(bill, bill.hash);
  }

}

function toChannelBill(bill: ParsedBill, hash?: string): ChannelBill {
  return {
    ...(hash !== undefined && { hash }),
    summary: bill.summary.raw,
    rows: bill.rows.map((r) => ({
      kind: r.tradeState === 'REFUND' ? ('refund' as const) : ('pay' as const),
      time: r.tradeTime,
      outTradeNo: r.outTradeNo,
      channelOrderNo: r.transactionId,
      ...(r.outRefundNo ? { outRefundNo: r.outRefundNo } : {}),
      amount: r.tradeState === 'REFUND' ? r.refundAmount : r.settlementAmount,
      fee: r.fee,
      raw: r.raw,
    })),
  };
}
