import type { PayDataType, WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { compactChinaTime, parseCompactChinaTime } from '../china-time.ts';
import type { ShengpayConfig } from './config.ts';
import { ORDER_STATUS, REFUND_STATUS, SHENGPAY_WAYS, TRADE_TYPE, type ShengpayWay } from './protocol.ts';

/** Pure translations between our orders and Shengpay's fields (docs/channels/shengpay.md S5–S12). No I/O. */

export function isShengpayWay(way: WayCode): way is ShengpayWay {
  return (SHENGPAY_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `shengpay: ${message}`);
}

/** Refused before anything is sent: the merchant's input cannot make a valid request. */
export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `shengpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

function text(extra: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = extra[k];
    if (typeof v === 'string' && v.trim() !== '' && !/^(undefined|null)$/i.test(v.trim())) return v.trim();
  }
  return undefined;
}

function cut(s: string, max: number): string {
  return Array.from(s.trim()).slice(0, max).join('');
}

/** The unified-order (or authPay) fields of an order. */
export function buildOrderFields(way: ShengpayWay, order: PayOrderInput, config: ShengpayConfig): Record<string, unknown> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const body = cut(order.subject, 128);
  if (body === '') throw paramError('subject is required');
  const fields: Record<string, unknown> = {
    outTradeNo: order.payOrderId,
    totalFee: order.amount,
    currency: 'CNY',
    tradeType: TRADE_TYPE[way],
    body,
    notifyUrl: order.notifyUrl,
    clientIp: order.clientIp ?? '127.0.0.1',
  };
  const detail = cut(order.body, 256);
  if (detail !== '' && detail !== body) fields.detail = detail;
  if (way === 'WX_BAR' || way === 'ALI_BAR' || way === 'UP_BAR' || way === 'YSF_BAR') {
    const authCode = text(order.extra, 'authCode', 'auth_code');
    if (!authCode) throw paramError(`${way} needs channelExtra.authCode`);
    fields.authCode = authCode;
    return fields;
  }
  fields.timeExpire = compactChinaTime(order.expiredAt.getTime());
  if (order.returnUrl && (way === 'WX_H5' || way === 'ALI_WAP' || way === 'ALI_PC')) fields.pageUrl = order.returnUrl;
  // S11: extra carries the payer for the JSAPI family, as a JSON string.
  if (way === 'WX_JSAPI' || way === 'WX_LITE') {
    const openId = text(order.extra, 'openid', 'openId', 'sub_openid');
    if (!openId) throw paramError(`${way} needs channelExtra.openid`);
    const appId = way === 'WX_LITE' ? config.wxLiteAppId : config.wxAppId;
    if (!appId) throw new ChannelError('misconfigured', `shengpay config: ${way === 'WX_LITE' ? 'wxLiteAppId' : 'wxAppId'} is required for ${way}`);
    fields.extra = JSON.stringify({ openId, appId });
  }
  if (way === 'ALI_JSAPI') {
    const buyer = text(order.extra, 'buyerUserId', 'buyerId', 'userId', 'buyer_id');
    if (!buyer || !/^2088[0-9]{12}$/.test(buyer)) throw paramError('ALI_JSAPI needs channelExtra.buyerUserId (2088…)');
    fields.extra = JSON.stringify({ openId: buyer });
  }
  return fields;
}

/** S5: what payInfo is for each way, and how the merchant receives it. */
export function toPayData(way: ShengpayWay, payInfo: unknown): { payDataType: PayDataType; payData: string } {
  if (typeof payInfo !== 'string' || payInfo === '') throw protocol(`${way}: answer lacks payInfo`);
  switch (way) {
    case 'WX_NATIVE':
    case 'ALI_QR':
    case 'UP_QR':
      return { payDataType: 'codeUrl', payData: payInfo };
    case 'WX_H5':
    case 'ALI_WAP':
    case 'ALI_PC':
      if (!/^https?:\/\//.test(payInfo)) throw protocol(`${way}: payInfo is not a URL`);
      return { payDataType: 'payurl', payData: payInfo };
    case 'WX_JSAPI':
    case 'WX_LITE': {
      const params = jsonObject(payInfo, way);
      if (typeof params.package !== 'string' || typeof params.paySign !== 'string') throw protocol(`${way}: payInfo lacks package/paySign`);
      return { payDataType: 'wxapp', payData: payInfo };
    }
    case 'ALI_JSAPI': {
      const tradeNo = jsonObject(payInfo, way).tradeNo;
      if (typeof tradeNo !== 'string' || tradeNo === '') throw protocol('ALI_JSAPI: payInfo lacks tradeNo');
      return { payDataType: 'aliapp', payData: JSON.stringify({ alipayTradeNo: tradeNo }) };
    }
    default:
      return { payDataType: 'none', payData: '' };
  }
}

function jsonObject(textValue: string, way: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(textValue);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw protocol(`${way}: payInfo is not a JSON object`);
}

function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/** An integer-fen field (number or digits); anything else is a protocol fault, never coerced. */
export function fenOf(obj: Record<string, unknown>, key: string): number | undefined {
  const v = optString(obj, key);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw protocol(`${key} ${JSON.stringify(v)} is not an integer amount`);
  return Number(v);
}

/** S10: an order as a query answer, authPay answer or notification describes it. */
export function toPaymentStatus(obj: Record<string, unknown>): PaymentStatus {
  const raw = optString(obj, 'status');
  const status = raw !== undefined && Object.hasOwn(ORDER_STATUS, raw) ? ORDER_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown order status ${JSON.stringify(raw)}`);
  const result: PaymentStatus = { status };
  const outTradeNo = optString(obj, 'outTradeNo');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(obj, 'totalFee');
  if (amount !== undefined) result.amount = amount;
  const currency = optString(obj, 'currency');
  if (currency !== undefined) result.currency = currency;
  const transactionId = optString(obj, 'transactionId');
  if (transactionId !== undefined) result.channelOrderNo = transactionId;
  const payer = payerOf(obj);
  if (payer !== undefined) result.channelUser = payer;
  const payTime = optString(obj, 'payTime');
  if (status === 'SUCCESS' && payTime !== undefined) {
    const at = parseCompactChinaTime(payTime);
    if (at !== undefined) result.successAt = at;
  }
  if (status === 'FAIL') Object.assign(result, { errCode: optString(obj, 'errorCode') ?? raw, errMsg: optString(obj, 'errorCodeDes') ?? 'payment failed' });
  return result;
}

/** S11: payerInfo is a JSON string naming the payer (openid / user id). */
function payerOf(obj: Record<string, unknown>): string | undefined {
  const raw = obj.payerInfo;
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    const info = JSON.parse(raw) as Record<string, unknown>;
    const id = info.openid ?? info.openId ?? info.userId;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** S12: a refund as the refund query answer or the refund notification describes it. */
export function toRefundStatus(obj: Record<string, unknown>): RefundStatus {
  const raw = optString(obj, 'refundStatus');
  const status = raw !== undefined && Object.hasOwn(REFUND_STATUS, raw) ? REFUND_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown refundStatus ${JSON.stringify(raw)}`);
  const result: RefundStatus = { status };
  const outRefundNo = optString(obj, 'outRefundNo');
  if (outRefundNo !== undefined) result.outRefundNo = outRefundNo;
  const outTradeNo = optString(obj, 'outTradeNo');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(obj, 'refundFee');
  if (amount !== undefined) result.refundAmount = amount;
  const refundId = optString(obj, 'refundId');
  if (refundId !== undefined) result.channelRefundNo = refundId;
  const at = optString(obj, 'refundTime');
  if (status === 'SUCCESS' && at !== undefined) {
    const ms = parseCompactChinaTime(at);
    if (ms !== undefined) result.successAt = ms;
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'REFUND_FAIL', errMsg: optString(obj, 'errorCodeDes') ?? 'refund failed at Shengpay' });
  return result;
}
