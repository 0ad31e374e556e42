import { fromMajorString, money, toMajorString } from '../../domain/money.ts';
import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { compactChinaTime, parseCompactChinaTime, slashedChinaDateTime } from '../china-time.ts';
import { ABCPAY_WAYS, ORDER_CONSTANTS, ORDER_STATUS, PAYMENT_LINK, REFUND_STATUS, TRX_TYPE, type AbcpayWay } from './protocol.ts';

/** Pure translations between our orders and ABC TrustPay's transactions (docs/channels/abc.md A5–A9). No I/O. */

export function isAbcpayWay(way: WayCode): way is AbcpayWay {
  return (ABCPAY_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `abcpay: ${message}`);
}

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `abcpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

/** Fen → "12.34" (A7: ABC amounts are yuan strings). */
export const yuan = (fen: number): string => toMajorString(money(fen, 'CNY'));

function cut(s: string, max: number): string {
  return Array.from(s.trim()).slice(0, max).join('');
}

/** A5: the TrxRequest creating an order — 一码多扫 for the QR ways, the page payment (mobile) for ABC_APP. */
export function orderRequest(way: AbcpayWay, order: PayOrderInput, now: number): Record<string, unknown> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const desc = cut(order.subject, 100);
  if (desc === '') throw paramError('subject is required');
  const { date, time } = slashedChinaDateTime(now);
  const amount = yuan(order.amount);
  const Order = {
    PayTypeID: ORDER_CONSTANTS.payTypeId,
    OrderNo: order.payOrderId,
    OrderAmount: amount,
    OrderDate: date,
    OrderTime: time,
    OrderDesc: desc,
    CurrencyCode: ORDER_CONSTANTS.currencyCode,
    CommodityType: ORDER_CONSTANTS.commodityType,
    InstallmentMark: ORDER_CONSTANTS.installmentMark,
    // A5: ExpiredDate counts days (seen); OrderTimeoutDate the exact end (our assumption).
    ExpiredDate: String(Math.max(1, Math.ceil((order.expiredAt.getTime() - now) / 86_400_000))),
    OrderTimeoutDate: compactChinaTime(order.expiredAt.getTime()),
    ...(order.clientIp ? { BuyIP: order.clientIp } : {}),
  };
  const common = {
    Order,
    OrderDetail: [{ ProductName: desc, UnitPrice: amount, Qty: '1' }],
    PaymentType: ORDER_CONSTANTS.paymentType,
    NotifyType: ORDER_CONSTANTS.notifyType,
    ResultNotifyURL: order.notifyUrl,
    IsBreakAccount: ORDER_CONSTANTS.isBreakAccount,
  };
  if (way !== 'ABC_APP') return { TrxType: TRX_TYPE.scanOrder, ...common, PaymentLinkType: PAYMENT_LINK.pc };
  if (!order.returnUrl) throw paramError('ABC_APP needs returnUrl (ABC sends the payer back to it)');
  return { TrxType: TRX_TYPE.pageOrder, ...common, PaymentLinkType: PAYMENT_LINK.mobile, MerchantSuccessURL: order.returnUrl, MerchantErrorURL: order.returnUrl };
}

function optString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/** "12.34" → fen; a malformed amount is a protocol fault, never coerced. */
export function fenOf(obj: Record<string, unknown>, key: string): number | undefined {
  const v = optString(obj, key);
  if (v === undefined) return undefined;
  const n = fromMajorString(v, 'CNY');
  if (n === undefined) throw protocol(`${key} ${JSON.stringify(v)} is not a yuan amount`);
  return n;
}

/** A8: an order as the query answer or a notification describes it. */
export function toPaymentStatus(obj: Record<string, unknown>): PaymentStatus {
  const raw = optString(obj, 'Status');
  const status = raw !== undefined && Object.hasOwn(ORDER_STATUS, raw) ? ORDER_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown order Status ${JSON.stringify(raw)}`);
  const result: PaymentStatus = { status };
  const orderNo = optString(obj, 'OrderNo');
  if (orderNo !== undefined) result.outTradeNo = orderNo;
  const amount = fenOf(obj, 'OrderAmount');
  if (amount !== undefined) result.amount = amount;
  const trxId = optString(obj, 'TrxID');
  if (trxId !== undefined) result.channelOrderNo = trxId;
  const payer = optString(obj, 'PayerID');
  if (payer !== undefined) result.channelUser = payer;
  const payTime = optString(obj, 'PayTime');
  if (status === 'SUCCESS' && payTime !== undefined) {
    const at = parseCompactChinaTime(payTime);
    if (at !== undefined) result.successAt = at;
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'PAY_FAIL', errMsg: 'payment failed at ABC' });
  return result;
}

/** A9: a refund as the refund answer or the refund query describes it. */
export function toRefundStatus(obj: Record<string, unknown>): RefundStatus {
  const raw = optString(obj, 'RefundStatus');
  const status = raw !== undefined && Object.hasOwn(REFUND_STATUS, raw) ? REFUND_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown RefundStatus ${JSON.stringify(raw)}`);
  const result: RefundStatus = { status };
  const newOrderNo = optString(obj, 'NewOrderNo');
  if (newOrderNo !== undefined) result.outRefundNo = newOrderNo;
  const orderNo = optString(obj, 'OrderNo');
  if (orderNo !== undefined) result.outTradeNo = orderNo;
  const amount = fenOf(obj, 'TrxAmount');
  if (amount !== undefined) result.refundAmount = amount;
  const trxId = optString(obj, 'TrxID');
  if (trxId !== undefined) result.channelRefundNo = trxId;
  if (status === 'FAIL') Object.assign(result, { errCode: 'REFUND_FAIL', errMsg: 'refund failed at ABC' });
  return result;
}
