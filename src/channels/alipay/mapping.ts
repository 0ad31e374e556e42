import { fromMajorString, money, toMajorString } from '../../domain/money.ts';
import { concreteWay, type WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { chinaTime, parseChinaTime } from './sign.ts';

/**
 * Pure translations between our orders and Alipay's trade methods (protocols.md §C.4, §C.5) and
 * payDataType/payData per way (jeepay.md §3.6). No I/O and no clock.
 */

export const ALIPAY_WAYS = ['ALI_QR', 'ALI_BAR', 'ALI_JSAPI', 'ALI_LITE', 'ALI_APP', 'ALI_PC', 'ALI_WAP', 'ALI'] as const satisfies readonly WayCode[];
export type AlipayWay = (typeof ALIPAY_WAYS)[number];
export type ConcreteAlipayWay = Exclude<AlipayWay, 'ALI'>;

export function isAlipayWay(way: WayCode): way is AlipayWay {
  return (ALIPAY_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `alipay: ${message}`);
}

/** Refused before anything is sent: the merchant's input cannot make a valid request. */
export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `alipay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

function text(extra: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = extra[k];
    // "undefined"/"null" strings are what a broken OAuth lookup stores (Jeepay #123): not an id.
    if (typeof v === 'string' && v.trim() !== '' && !/^(undefined|null)$/i.test(v.trim())) return v.trim();
  }
  return undefined;
}

export const BUYER_USER_ID = /^2088[0-9]{12}$/;
/** open_id: Alipay's per-app buyer id for apps created after 2023 (jeepay.md §8 #123). */
export const BUYER_OPEN_ID = /^[0-9A-Za-z_-]{16,128}$/;

/** The payer of ALI_JSAPI/ALI_LITE: a 2088… user_id or an open_id (either key; an open_id given as buyerUserId is recognised by its shape). */
export function buyerOf(extra: Record<string, unknown>): { buyer_id: string } | { buyer_open_id: string } | undefined {
  const openId = text(extra, 'buyerOpenId', 'buyer_open_id', 'openId', 'open_id');
  const userId = text(extra, 'buyerUserId', 'buyer_id', 'buyerId', 'userId', 'user_id');
  if (userId !== undefined && BUYER_USER_ID.test(userId)) return { buyer_id: userId };
  const candidate = openId ?? userId;
  if (candidate !== undefined && BUYER_OPEN_ID.test(candidate) && !BUYER_USER_ID.test(candidate)) return { buyer_open_id: candidate };
  if (candidate !== undefined) throw paramError('channelExtra.buyerUserId must be a 2088… user id, or buyerOpenId an open_id');
  return undefined;
}

export function authCodeOf(extra: Record<string, unknown>): string | undefined {
  return text(extra, 'authCode', 'auth_code');
}

/**
 * The Alipay product of an order. The core resolves the generic way ALI before routing
 * (domain/pay-way.ts concreteWay); orders stored as ALI by earlier versions resolve the same way here.
 */
export function resolveWay(order: Pick<PayOrderInput, 'wayCode' | 'extra' | 'returnUrl'>): ConcreteAlipayWay {
  const way = order.wayCode === 'ALI' ? concreteWay('ALI', { authCode: authCodeOf(order.extra), identifiedPayer: buyerOf(order.extra) !== undefined || typeof order.extra.sessionToken === 'string', returnUrl: order.returnUrl }) : order.wayCode;
  if (!isAlipayWay(way) || way === 'ALI') throw new ChannelError('misconfigured', `alipay does not serve way ${order.wayCode}`);
  return way;
}

/** Fen → "12.34" (integer arithmetic, domain/money.ts). */
export function yuan(fen: number): string {
  return toMajorString(money(fen, 'CNY'));
}

/** "12.34" → fen; a malformed amount is a protocol fault, never coerced. */
export function fen(value: unknown, field: string): number {
  const n = typeof value === 'string' ? fromMajorString(value, 'CNY') : undefined;
  if (n === undefined) throw protocol(`${field} ${JSON.stringify(value)} is not a yuan amount`);
  return n;
}

function cut(s: string, max: number): string {
  const chars = Array.from(s.trim());
  return chars.length <= max ? chars.join('') : chars.slice(0, max).join('');
}

export interface TradeRequest {
  method: string;
  biz: Record<string, unknown>;
}

const PRODUCT: Record<ConcreteAlipayWay, { method: string; product: string }> = {
  ALI_QR: { method: 'alipay.trade.precreate', product: 'FACE_TO_FACE_PAYMENT' },
  ALI_BAR: { method: 'alipay.trade.pay', product: 'FACE_TO_FACE_PAYMENT' },
  ALI_JSAPI: { method: 'alipay.trade.create', product: 'JSAPI_PAY' },
  ALI_LITE: { method: 'alipay.trade.create', product: 'JSAPI_PAY' },
  ALI_APP: { method: 'alipay.trade.app.pay', product: 'QUICK_MSECURITY_PAY' },
  ALI_PC: { method: 'alipay.trade.page.pay', product: 'FAST_INSTANT_TRADE_PAY' },
  ALI_WAP: { method: 'alipay.trade.wap.pay', product: 'QUICK_WAP_WAY' },
};

/** biz_content of the create call for a way (§C.4); `isvPid` credits a service provider (ISV mode, §C.1). */
export function buildTradeRequest(way: ConcreteAlipayWay, order: PayOrderInput, quitUrl: string | undefined, isvPid?: string): TradeRequest {
  // Alipay settles CNY here; a foreign-currency order must not become a CNY charge.
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const subject = cut(order.subject, 256);
  if (subject === '') throw paramError('subject is required');
  const { method, product } = PRODUCT[way];
  const biz: Record<string, unknown> = {
    out_trade_no: order.payOrderId,
    total_amount: yuan(order.amount),
    subject,
    product_code: product,
    time_expire: chinaTime(order.expiredAt.getTime()),
  };
  const body = cut(order.body, 128);
  if (body !== '' && body !== subject) biz.body = body;
  if (way === 'ALI_BAR') {
    const authCode = authCodeOf(order.extra);
    if (!authCode) throw paramError('ALI_BAR needs channelExtra.authCode');
    biz.scene = 'bar_code';
    biz.auth_code = authCode;
  }
  if (way === 'ALI_JSAPI' || way === 'ALI_LITE') {
    const buyer = buyerOf(order.extra);
    if (!buyer) throw paramError(`${way} needs channelExtra.buyerUserId (2088…) or buyerOpenId`);
    Object.assign(biz, buyer);
  }
  if (way === 'ALI_WAP' && quitUrl) biz.quit_url = quitUrl;
  if (isvPid) biz.extend_params = { sys_service_provider_id: isvPid };
  return { method, biz };
}

/** Our return route for a PC/WAP order: derived from its notify URL, which the core builds from the public URL. */
export function gatewayReturnUrl(notifyUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(notifyUrl);
  } catch {
    return undefined;
  }
  const m = /^(.*)\/api\/pay\/notify\/alipay\/([^/]+)$/.exec(u.pathname);
  if (!m) return undefined;
  return `${u.origin}${m[1]}/api/pay/return/alipay/${m[2]}`;
}

const TRADE_STATUS: Record<string, PaymentStatus['status']> = {
  WAIT_BUYER_PAY: 'WAITING',
  TRADE_SUCCESS: 'SUCCESS',
  TRADE_FINISHED: 'SUCCESS', // paid, no longer refundable
  TRADE_CLOSED: 'CLOSED',
};

function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/**
 * A trade as Alipay describes it (query answer, notification, return parameters). TRADE_CLOSED
 * also means "paid, then refunded in full" (§C.4): a closed trade that shows a payment time or a
 * refunded amount was paid, so it is reported as SUCCESS — money taken is never hidden.
 */
export function toPaymentStatus(obj: Record<string, unknown>): PaymentStatus {
  const raw = optString(obj, 'trade_status');
  const mapped = raw !== undefined && Object.hasOwn(TRADE_STATUS, raw) ? TRADE_STATUS[raw] : undefined;
  if (mapped === undefined) throw protocol(`unknown trade_status ${JSON.stringify(raw)}`);
  const paidAt = optString(obj, 'gmt_payment') ?? optString(obj, 'send_pay_date');
  const refunded = optString(obj, 'refund_fee');
  const status: PaymentStatus['status'] = mapped === 'CLOSED' && (paidAt !== undefined || (refunded !== undefined && refunded !== '0.00')) ? 'SUCCESS' : mapped;
  const result: PaymentStatus = { status };
  const outTradeNo = optString(obj, 'out_trade_no');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const total = optString(obj, 'total_amount');
  if (total !== undefined) result.amount = fen(total, 'total_amount');
  const tradeNo = optString(obj, 'trade_no');
  if (tradeNo !== undefined) result.channelOrderNo = tradeNo;
  const buyer = optString(obj, 'buyer_open_id') ?? optString(obj, 'buyer_user_id') ?? optString(obj, 'buyer_id');
  if (buyer !== undefined) result.channelUser = buyer;
  if (status === 'SUCCESS' && paidAt !== undefined) {
    const at = parseChinaTime(paidAt);
    if (at !== undefined) result.successAt = new Date(at);
  }
  return result;
}

/** alipay.trade.fastpay.refund.query answer (§C.4): empty data = unknown refund; absent status with data = success. */
export function toRefundStatus(obj: Record<string, unknown>, outRequestNo: string): RefundStatus {
  const amount = optString(obj, 'refund_amount');
  const status = optString(obj, 'refund_status');
  if (amount === undefined && status === undefined) return { status: 'NOT_FOUND' };
  const result: RefundStatus = { status: 'PROCESSING', outRefundNo: optString(obj, 'out_request_no') ?? outRequestNo };
  if (status === undefined || status === 'REFUND_SUCCESS') result.status = 'SUCCESS';
  else if (status === 'REFUND_FAIL') Object.assign(result, { status: 'FAIL', errCode: 'REFUND_FAIL' });
  else if (status !== 'REFUND_PROCESSING') throw protocol(`unknown refund_status ${status}`);
  const outTradeNo = optString(obj, 'out_trade_no');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  if (amount !== undefined) result.refundAmount = fen(amount, 'refund_amount');
  const at = optString(obj, 'gmt_refund_pay');
  if (at !== undefined && result.status === 'SUCCESS') {
    const ms = parseChinaTime(at);
    if (ms !== undefined) result.successAt = new Date(ms);
  }
  return result;
}
