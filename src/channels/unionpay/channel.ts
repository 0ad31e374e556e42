import { ClientCache } from '../client-cache.ts';
import {
  ChannelError,
  type CallbackReply,
  type ChannelBill,
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
import { acpBill, acpClose, acpCreate, acpQueryPayment, acpQueryRefund, acpRefund, acpReverse, acpUserId } from './acp-ops.ts';
import { AcpClient, SpClient, type UnionPayClientDeps } from './client.ts';
import { parseUnionPayConfig } from './config.ts';
import { isUnionPayWay, toPaymentStatus, toRefundStatus, type UnionPayWay } from './mapping.ts';
import { spClose, spCreate, spQueryPayment, spQueryRefund, spRefund, spReverse, spUserId } from './sp-ops.ts';
import { userAuthRedirect } from './ysf-user.ts';

/**
 * 云闪付 / UnionPay (protocols.md §D), one channel with two access modes chosen by configuration:
 * a direct 全渠道 merchant (ACP 5.1.0) or a sub-merchant of a 云闪付 service provider (JSON
 * gateway). Wire work lives in acp-ops.ts / sp-ops.ts; this class picks the mode, verifies
 * callbacks and answers them. Every protocol assumption: docs/channels/unionpay.md.
 */

export interface UnionPayChannelDeps extends UnionPayClientDeps {
  maxClients?: number;
}

type Client = AcpClient | SpClient;

/**
 * What a back notification is answered with: HTTP 200 ends UnionPay's retries and the body is
 * ignored (§D.5). ASSUMPTION A11: the service-provider gateway is content with the same; Jeepay
 * answers it `success` — change this one constant if production asks for that body.
 */
export const ACK_BODY = 'ok';

function way(order: PayOrderInput): UnionPayWay {
  if (!isUnionPayWay(order.wayCode)) throw new ChannelError('misconfigured', `unionpay does not serve way ${order.wayCode}`);
  return order.wayCode;
}

function form(rawBody: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawBody.toString('utf8'))) out[k] = v;
  return out;
}

export class UnionPayChannel implements PayChannel {
  readonly ifCode = 'ysfpay';
  readonly #clients: ClientCache<Client>;

  constructor(deps: UnionPayChannelDeps = {}) {
    this.#clients = new ClientCache((config) => {
      const c = parseUnionPayConfig(config);
      return c.mode === 'acp' ? new AcpClient(c, deps) : new SpClient(c, deps);
    }, deps.maxClients ?? 1000);
  }

  /** One client per distinct configuration: the PFX is decrypted once, verified UnionPay certificates are remembered. */
  client(config: ChannelConfig): Client {
    return this.#clients.get(config);
  }

  async createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpCreate(c, way(order), order, ctx.log) : spCreate(c, way(order), order, ctx.log);
  }

  async queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpQueryPayment(c, order, ctx.log) : spQueryPayment(c, order, ctx.log);
  }

  async closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpClose(c, order, ctx.log) : spClose(c, order, ctx.log);
  }

  async reversePayment(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpReverse(c, order, ctx.log) : spReverse(c, order, ctx.log);
  }

  async refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpRefund(c, order, refund, ctx.log) : spRefund(c, order, refund, ctx.log);
  }

  async queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus> {
    const c = this.client(ctx.config);
    return c instanceof AcpClient ? acpQueryRefund(c, refund, ctx.log) : spQueryRefund(c, order, refund, ctx.log);
  }

  /** The 全渠道 reconciliation file of a clearing day (yyyy-MM-dd), parsed. The provider gateway offers none (A12). */
  async downloadBill(ctx: ChannelContext, billDate: string): Promise<ChannelBill> {
    const c = this.client(ctx.config);
    if (!(c instanceof AcpClient)) throw new ChannelError('misconfigured', 'unionpay: reconciliation files are downloaded in acp mode only');
    return acpBill(c, billDate, ctx.log);
  }

  /**
   * Back notifications (§D.5), verified before anything in them is used, and required to name
   * this merchant — a verified notification of another merchant is a mismatch, never applied.
   * Order, amount and currency are the core's checks (OrderSync).
   */
  async parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback> {
    const c = this.client(ctx.config);
    if (c instanceof SpClient) return this.#parseSpCallback(c, kind, request);
    const f = form(request.rawBody);
    c.verify(f);
    if (f.merId !== c.config.merId) throw new ChannelError('mismatch', `unionpay: notification names merId ${f.merId ?? '(none)'}, configured ${c.config.merId}`);
    const eventId = f.queryId ? { eventId: `${f.txnType}:${f.queryId}` } : {};
    if (kind === 'pay') {
      if (f.txnType !== '01') throw new ChannelError('protocol', `unionpay: txnType ${f.txnType ?? '(none)'} at the pay notification URL`);
      return { kind: 'pay', payment: toPaymentStatus(f, 'notify'), ...eventId };
    }
    if (f.txnType !== '04' && f.txnType !== '31') throw new ChannelError('protocol', `unionpay: txnType ${f.txnType ?? '(none)'} at the refund notification URL`);
    return { kind: 'refund', refund: toRefundStatus(f, 'notify', f.orderId ?? ''), ...eventId };
  }

  #parseSpCallback(c: SpClient, kind: 'pay' | 'refund', request: InboundCallback): ParsedCallback {
    if (kind !== 'pay') throw new ChannelError('protocol', 'unionpay sp: refunds are synchronous; the gateway sends no refund notifications');
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw new ChannelError('protocol', 'unionpay sp: notification is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ChannelError('protocol', 'unionpay sp: notification is not an object');
    const b = body as Record<string, unknown>;
    c.verify(b);
    const text = (k: string): string => (typeof b[k] === 'string' ? (b[k] as string) : typeof b[k] === 'number' ? String(b[k]) : '');
    if (text('merId') !== c.config.merId || text('serProvId') !== c.config.serProvId) throw new ChannelError('mismatch', `unionpay sp: notification names ${text('serProvId')}/${text('merId')}`);
    // ASSUMPTION A10: notifications report payments only, with respCode 00.
    if (text('respCode') !== '00') throw new ChannelError('protocol', `unionpay sp: notification respCode ${text('respCode') || '(none)'}`);
    if (!/^\d{1,12}$/.test(text('txnAmt'))) throw new ChannelError('protocol', 'unionpay sp: notification txnAmt is not an amount in fen');
    const payment: PaymentStatus = { status: 'SUCCESS', outTradeNo: text('orderNo'), amount: Number(text('txnAmt')), currency: 'CNY', ...(text('transIndex') ? { channelOrderNo: text('transIndex') } : {}) };
    return { kind: 'pay', payment, ...(text('transIndex') ? { eventId: text('transIndex') } : {}) };
  }

  /**
   * YSF_JSAPI step 1 (for a cashier page): where to send a payer inside 云闪付 so they come back
   * to `redirectUrl` with `userAuthCode`.
   */
  ysfUserAuthUrl(ctx: ChannelContext, redirectUrl: string): string {
    return userAuthRedirect(this.client(ctx.config).config.userAuthUrl, redirectUrl);
  }

  /**
   * YSF_JSAPI step 2: the payer's userId for `userAuthCode` (one use, minutes long). Pass it as
   * channelExtra.userId when ordering YSF_JSAPI. `appUpIdentifier`: ysf-user.ts appUpIdentifier().
   */
  async lookupYsfUser(ctx: ChannelContext, input: { userAuthCode: string; appUpIdentifier?: string }): Promise<{ userId: string }> {
    if (!/^[A-Za-z0-9_\-+/=]{8,128}$/.test(input.userAuthCode)) throw new ChannelError('rejected', 'unionpay: userAuthCode is malformed', { channelCode: 'PARAM_ERROR' });
    const c = this.client(ctx.config);
    const userId = c instanceof AcpClient ? await acpUserId(c, input.userAuthCode, input.appUpIdentifier, ctx.log) : await spUserId(c, input.userAuthCode, input.appUpIdentifier, ctx.log);
    return { userId };
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: ACK_BODY };
  }

  /** Anything but HTTP 200 makes UnionPay send the notification again. */
  nackReply(_reason: string): CallbackReply {
    return { status: 400, contentType: 'text/plain', body: 'fail' };
  }
}
