import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus } from '../types.ts';
import type { WechatPayConfig } from './config.ts';

/**
 * Pure translations between our order model and WeChat Pay v3 JSON (protocols.md §A.2, §A.5,
 * §A.7). No I/O, no clock: everything time-dependent takes the time as an argument.
 */

export const WECHAT_WAYS = ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP'] as const satisfies readonly WayCode[];
export type WechatWay = (typeof WECHAT_WAYS)[number];

export function isWechatWay(way: WayCode): way is WechatWay {
  return (WECHAT_WAYS as readonly string[]).includes(way);
}

/** Prepay endpoint per way: the mini-program uses the JSAPI endpoint with its own appid. */
const PREPAY_ENDPOINT: Record<WechatWay, 'native' | 'jsapi' | 'app' | 'h5'> = {
  WX_NATIVE: 'native',
  WX_JSAPI: 'jsapi',
  WX_LITE: 'jsapi',
  WX_H5: 'h5',
  WX_APP: 'app',
};

/**
 * Error codes exist with and without underscores across doc generations (ORDERNOTEXIST vs
 * ORDER_NOT_EXIST, protocols.md §A.7). We store what WeChat sent and compare normalised.
 */
export function normalizeCode(code: string | undefined): string {
  return (code ?? '').replaceAll('_', '').toUpperCase();
}

export function sameCode(received: string | undefined, ...expected: string[]): boolean {
  const n = normalizeCode(received);
  return n !== '' && expected.some((e) => normalizeCode(e) === n);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `wxpay: ${message}`);
}

const TRADE_STATES: Record<string, PaymentStatus['status']> = {
  SUCCESS: 'SUCCESS',
  REFUND: 'SUCCESS', // 转入退款: the order was paid; refunds are tracked separately
  NOTPAY: 'WAITING',
  USERPAYING: 'WAITING',
  ACCEPT: 'WAITING', // accepted, deduction pending — not final
  CLOSED: 'CLOSED',
  REVOKED: 'REVOKED',
  PAYERROR: 'FAIL',
};

/** An unknown trade_state is a protocol fault, never guessed: guessing wrong moves money state. */
export function mapTradeState(state: unknown): PaymentStatus['status'] {
  const mapped = typeof state === 'string' && Object.hasOwn(TRADE_STATES, state) ? TRADE_STATES[state] : undefined;
  if (mapped === undefined) throw protocol(`unknown trade_state ${JSON.stringify(state)}`);
  return mapped;
}

export function mapRefundStatus(status: unknown): { status: RefundStatus['status']; errCode?: string } {
  switch (status) {
    case 'SUCCESS':
      return { status: 'SUCCESS' };
    case 'PROCESSING':
      return { status: 'PROCESSING' };
    // ABNORMAL: the money could not reach the payer (closed card…); WeChat needs manual
    // handling in the merchant portal, so for us the refund has failed.
    case 'ABNORMAL':
      return { status: 'FAIL', errCode: 'ABNORMAL' };
    case 'CLOSED':
      return { status: 'CLOSED' };
    default:
      throw protocol(`unknown refund status ${JSON.stringify(status)}`);
  }
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000; // Asia/Shanghai has had no DST since 1991

/** RFC 3339 in China time, second precision: 2026-11-22T02:00:00Z → 2026-11-22T10:00:00+08:00. */
export function formatTimeExpire(at: Date): string {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  return `${new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** success_time and friends; undefined when absent or not RFC 3339 with an explicit offset. */
export function parseWechatTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocol(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/** Amounts are integer fen; anything else (float, string) is refused rather than coerced. */
function optFen(obj: Record<string, unknown>, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw protocol(`${key} is not a non-negative integer amount`);
  return v;
}

function optTime(obj: Record<string, unknown>, key: string): Date | undefined {
  const raw = optString(obj, key);
  if (raw === undefined || raw === '') return undefined;
  const d = parseWechatTime(raw);
  if (d === undefined) throw protocol(`${key} is not an RFC 3339 time`);
  return d;
}

/** A transaction object (query answer or decrypted TRANSACTION.SUCCESS resource). */
export function toPaymentStatus(value: unknown): PaymentStatus {
  const tx = record(value, 'transaction');
  const status = mapTradeState(tx.trade_state);
  const amount = tx.amount === undefined ? {} : record(tx.amount, 'amount');
  const payer = tx.payer === undefined ? {} : record(tx.payer, 'payer');
  const result: PaymentStatus = { status };
  const assign = <K extends keyof PaymentStatus>(k: K, v: PaymentStatus[K] | undefined): void => {
    if (v !== undefined) result[k] = v;
  };
  assign('outTradeNo', optString(tx, 'out_trade_no'));
  assign('amount', optFen(amount, 'total'));
  assign('currency', optString(amount, 'currency'));
  assign('channelOrderNo', optString(tx, 'transaction_id') || undefined);
  // Partner transactions say sp_openid / sub_openid; the sub-merchant's own one identifies the payer best.
  assign('channelUser', optString(payer, 'openid') || optString(payer, 'sub_openid') || optString(payer, 'sp_openid') || undefined);
  assign('successAt', optTime(tx, 'success_time'));
  if (status === 'FAIL') {
    result.errCode = 'PAYERROR';
    assign('errMsg', optString(tx, 'trade_state_desc'));
  }
  return result;
}

/** A refund object (refund answer, refund query, or decrypted REFUND.* resource, which says `refund_status`). */
export function toRefundStatus(value: unknown): RefundStatus {
  const r = record(value, 'refund');
  const mapped = mapRefundStatus(r.status ?? r.refund_status);
  const amount = r.amount === undefined ? {} : record(r.amount, 'amount');
  const result: RefundStatus = { status: mapped.status };
  const assign = <K extends keyof RefundStatus>(k: K, v: RefundStatus[K] | undefined): void => {
    if (v !== undefined) result[k] = v;
  };
  assign('outRefundNo', optString(r, 'out_refund_no'));
  assign('outTradeNo', optString(r, 'out_trade_no'));
  assign('refundAmount', optFen(amount, 'refund'));
  assign('channelRefundNo', optString(r, 'refund_id') || undefined);
  assign('successAt', optTime(r, 'success_time'));
  if (mapped.errCode !== undefined) {
    result.errCode = mapped.errCode;
    result.errMsg = 'refund abnormal: the payer account could not receive it; handle in the merchant portal';
  }
  return result;
}

/** The appid WeChat expects for a way; optional per-product appids fall back to the default (Jeepay keeps one appid per config). */
export function appIdForWay(way: WechatWay, config: WechatPayConfig): string {
  if (way === 'WX_LITE') return config.liteAppId ?? config.appId;
  if (way === 'WX_APP') return config.appAppId ?? config.appId;
  return config.appId;
}

function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `wxpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

/** WeChat v3 settles in CNY only for direct merchants; refuse anything else before a request is sent. */
export function requireCny(currency: string): void {
  if (currency !== 'CNY') throw paramError(`currency ${currency} is not supported, only CNY`);
}

/** description is 1–127 characters; cut by code point so an emoji is never split in half. */
export function truncateDescription(subject: string): string {
  const chars = Array.from(subject.trim());
  return chars.length <= 127 ? chars.join('') : chars.slice(0, 127).join('');
}

export interface PrepayRequest {
  path: string;
  appId: string;
  body: Record<string, unknown>;
}

export function buildPrepayRequest(way: WechatWay, config: WechatPayConfig, order: PayOrderInput): PrepayRequest {
  requireCny(order.currency);
  const description = truncateDescription(order.subject);
  if (description === '') throw paramError('subject (description) is required');
  const appId = appIdForWay(way, config);
  const body: Record<string, unknown> = {
    appid: appId,
    mchid: config.mchId,
    description,
    out_trade_no: order.payOrderId,
    time_expire: formatTimeExpire(order.expiredAt),
    notify_url: order.notifyUrl,
    amount: { total: order.amount, currency: 'CNY' },
  };
  if (way === 'WX_JSAPI' || way === 'WX_LITE') {
    const openid = order.extra.openid;
    if (typeof openid !== 'string' || openid.trim() === '') throw paramError(`${way} needs channelExtra.openid`);
    body.payer = { openid: openid.trim() };
  }
  if (way === 'WX_H5') {
    body.scene_info = { payer_client_ip: order.clientIp || '127.0.0.1', h5_info: { type: 'Wap' } };
  }
  return { path: `/v3/pay/transactions/${PREPAY_ENDPOINT[way]}`, appId, body };
}

export function buildRefundBody(order: PayOrderInput, refund: RefundInput): Record<string, unknown> {
  requireCny(refund.currency);
  const body: Record<string, unknown> = {
    out_trade_no: order.payOrderId,
    out_refund_no: refund.refundOrderId,
    notify_url: refund.notifyUrl,
    amount: { refund: refund.refundAmount, total: refund.payAmount, currency: 'CNY' },
  };
  // reason is optional (≤80 chars) and shown to the payer; an empty one is omitted.
  const reason = Array.from(refund.reason.trim()).slice(0, 80).join('');
  if (reason !== '') body.reason = reason;
  return body;
}

/** H5: the cashier returns to redirect_url after payment (protocols.md §A.6). */
export function h5PayUrl(h5Url: string, returnUrl: string | null): string {
  if (!returnUrl) return h5Url;
  return `${h5Url}${h5Url.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(returnUrl)}`;
}
