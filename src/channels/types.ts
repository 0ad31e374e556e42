import type { Currency } from '../domain/money.ts';
import type { PayDataType, WayCode } from '../domain/pay-way.ts';

/**
 * The contract between the gateway core and a payment channel. A channel turns our order
 * into its wire protocol and its answers back into these normalised results. Declines are
 * results; faults are thrown as ChannelError. The core owns state, persistence and the
 * integrity checks that compare a channel's claims with the stored order.
 */

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A channel configuration as stored for one merchant app: plain params + decrypted secrets. */
export interface ChannelConfig {
  params: Record<string, string>;
  secrets: Record<string, string>;
}

export interface ChannelContext {
  config: ChannelConfig;
  log: Logger;
}

export interface PayOrderInput {
  payOrderId: string; // our id, sent to the channel as out_trade_no
  wayCode: WayCode;
  amount: number; // minor units
  currency: Currency;
  subject: string;
  body: string;
  clientIp: string | null;
  expiredAt: Date;
  /** channelExtra parsed from the merchant's JSON string (openid, payDataType, ...). */
  extra: Record<string, unknown>;
  /** Where the channel must send its pay callback (per order, so per-merchant keys load first). */
  notifyUrl: string;
  returnUrl: string | null;
  channelOrderNo: string | null;
}

export interface RefundInput {
  refundOrderId: string; // our id, sent as out_refund_no (the channel's idempotency key)
  refundAmount: number;
  payAmount: number;
  currency: Currency;
  reason: string;
  notifyUrl: string;
  channelRefundNo: string | null;
}

export interface CreatePaymentResult {
  /** WAITING: the channel accepted and the payer must act. SUCCESS/FAIL: final (bar-code pay). */
  status: 'WAITING' | 'SUCCESS' | 'FAIL';
  payDataType: PayDataType;
  payData: string;
  channelOrderNo?: string;
  channelUser?: string;
  errCode?: string;
  errMsg?: string;
}

export interface PaymentStatus {
  /**
   * SUCCESS includes WeChat's REFUND (转入退款: it was paid). WAITING covers NOTPAY,
   * USERPAYING and ACCEPT. NOT_FOUND: the channel has no such order.
   */
  status: 'SUCCESS' | 'WAITING' | 'CLOSED' | 'FAIL' | 'REVOKED' | 'NOT_FOUND';
  /** Echoed by the channel; the core checks them against the order. */
  outTradeNo?: string;
  amount?: number;
  currency?: string;
  channelOrderNo?: string;
  channelUser?: string;
  successAt?: Date;
  errCode?: string;
  errMsg?: string;
}

export interface RefundStatus {
  status: 'SUCCESS' | 'PROCESSING' | 'FAIL' | 'CLOSED' | 'NOT_FOUND';
  outRefundNo?: string;
  outTradeNo?: string;
  refundAmount?: number;
  channelRefundNo?: string;
  successAt?: Date;
  errCode?: string;
  errMsg?: string;
}

export interface CloseResult {
  /** ALREADY_PAID: the channel refused to close because the order is paid — query and record it. */
  status: 'CLOSED' | 'ALREADY_PAID';
}

export interface ChannelBillRow {
  kind: 'pay' | 'refund';
  time: string;
  outTradeNo: string;
  channelOrderNo: string;
  outRefundNo?: string;
  /** Paid or refunded amount, minor units. */
  amount: number;
  /** Channel fee as the channel prints it (may carry sub-fen precision). */
  fee: string;
  raw: Record<string, string>;
}

export interface ChannelBill {
  rows: ChannelBillRow[];
  summary: Record<string, string>;
  /** Digest the channel vouched for, when it gives one. */
  hash?: string;
}

export interface ChannelFundFlowRow {
  time: string;
  /** The business number the movement belongs to (transaction id, refund id …). */
  channelOrderNo: string;
  flowNo: string;
  businessName: string;
  businessType: string;
  direction: 'IN' | 'OUT';
  /** Minor units, positive. */
  amount: number;
  /** Account balance after the movement, minor units. */
  balance: number;
  raw: Record<string, string>;
}

/** A fund-flow (资金) bill: money movements of one account on one day. */
export interface ChannelFundFlowBill {
  rows: ChannelFundFlowRow[];
  summary: Record<string, string>;
  hash?: string;
}

export interface ReverseResult {
  status: 'REVERSED' | 'RETRY' | 'ALREADY_PAID';
}

/** A raw inbound callback, before anything is trusted. */
export interface InboundCallback {
  headers: Record<string, string | undefined>; // lower-case names
  rawBody: Buffer;
  query: Record<string, string>;
  /** The request's URL path as received (ICBC signs the notify path with the parameters). */
  path?: string;
}

/** The HTTP answer the channel expects from us. */
export interface CallbackReply {
  status: number;
  contentType?: string;
  body: string;
}

export type ParsedCallback =
  | { kind: 'pay'; payment: PaymentStatus; eventId?: string }
  | { kind: 'refund'; refund: RefundStatus; eventId?: string };

export interface PayChannel {
  readonly ifCode: string;
  createPayment(ctx: ChannelContext, order: PayOrderInput): Promise<CreatePaymentResult>;
  queryPayment(ctx: ChannelContext, order: PayOrderInput): Promise<PaymentStatus>;
  closePayment(ctx: ChannelContext, order: PayOrderInput): Promise<CloseResult>;
  /**
   * Bar-code pay only (撤销 / alipay.trade.cancel): undo a payment the payer may still be
   * authorising, refunding it if it went through. RETRY: the channel asks to call again.
   */
  reversePayment?(ctx: ChannelContext, order: PayOrderInput): Promise<ReverseResult>;
  /** The channel's trade bill for one day (yyyy-MM-dd, China time), verified and parsed. */
  downloadBill?(ctx: ChannelContext, billDate: string): Promise<ChannelBill>;
  /** The channel's fund-flow bill of one account for one day (yyyy-MM-dd, China time), verified and parsed. */
  downloadFundFlowBill?(ctx: ChannelContext, billDate: string, accountType: string): Promise<ChannelFundFlowBill>;
  refund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus>;
  queryRefund(ctx: ChannelContext, order: PayOrderInput, refund: RefundInput): Promise<RefundStatus>;
  /** Verifies (signature, timestamp, serial), decrypts and parses. Throws ChannelError('bad_signature' | 'mismatch' | 'protocol'). */
  parseCallback(ctx: ChannelContext, kind: 'pay' | 'refund', request: InboundCallback): Promise<ParsedCallback>;
  /** `request` (optional) lets a channel with two callback dialects answer in the one it received. */
  ackReply(request?: InboundCallback): CallbackReply;
  /** An acknowledgement the channel wants signed with the merchant's key (ICBC); used instead of ackReply when present. */
  signedAckReply?(ctx: ChannelContext, request: InboundCallback): CallbackReply;
  /** Asks the channel to send the callback again (a non-2xx answer). */
  nackReply(reason: string, request?: InboundCallback): CallbackReply;
}

export interface ConfigField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  description: string;
  options?: readonly string[];
  /** Required in the own configuration of a service provider's sub-merchant app (e.g. WeChat's subMchId). */
  requiredForSubMerchant?: boolean;
}

export interface ChannelDescriptor {
  ifCode: string;
  name: string;
  ways: readonly WayCode[];
  configFields: readonly ConfigField[];
  create(): PayChannel;
}

export type ChannelErrorKind =
  | 'unavailable' // nothing reached the channel (connection refused, DNS): safe to treat as not sent
  | 'timeout' // sent, no answer: outcome unknown — query later, never treat as failure
  | 'rejected' // the channel answered with a definite refusal (channelCode/channelMessage)
  | 'system' // the channel answered 5xx / SYSTEMERROR: outcome unknown for writes, retryable
  | 'bad_signature' // an answer or callback failed verification
  | 'mismatch' // a verified callback/answer names another merchant, app, order or amount
  | 'misconfigured' // our configuration is unusable (bad key, missing field)
  | 'protocol'; // the answer could not be parsed

export class ChannelError extends Error {
  readonly kind: ChannelErrorKind;
  readonly channelCode: string | undefined;
  readonly channelMessage: string | undefined;
  readonly httpStatus: number | undefined;
  constructor(kind: ChannelErrorKind, message: string, extra: { channelCode?: string; channelMessage?: string; httpStatus?: number; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'ChannelError';
    this.kind = kind;
    this.channelCode = extra.channelCode;
    this.channelMessage = extra.channelMessage;
    this.httpStatus = extra.httpStatus;
  }
}
