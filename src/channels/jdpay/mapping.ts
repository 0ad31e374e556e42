import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { compactChinaTime, parseCompactChinaTime } from '../china-time.ts';
import type { XmlFields } from './envelope.ts';
import { JDPAY_WAYS, ORDER_TYPE, REFUND_STATUS, TRADE_STATUS, type JdpayWay } from './protocol.ts';

/** Pure translations between our orders and JD Pay's fields (docs/channels/jdpay.md J4–J9). No I/O. */

export function isJdpayWay(way: WayCode): way is JdpayWay {
  return (JDPAY_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `jdpay: ${message}`);
}

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `jdpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

function cut(s: string, max: number): string {
  return Array.from(s.trim()).slice(0, max).join('');
}

/** J4: the order fields shared by uniorder and the cashier forms. `now` is the trade time. */
export function orderFields(order: PayOrderInput, now: number): Record<string, string> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const tradeName = cut(order.subject, 64);
  if (tradeName === '') throw paramError('subject is required');
  const desc = cut(order.body, 128);
  // J4: expireTime is the order's remaining lifetime in seconds, counted from tradeTime.
  const expireSeconds = Math.max(60, Math.floor((order.expiredAt.getTime() - now) / 1000));
  return {
    tradeNum: order.payOrderId,
    tradeName,
    ...(desc !== '' && desc !== tradeName ? { tradeDesc: desc } : {}),
    tradeTime: compactChinaTime(now),
    amount: String(order.amount),
    orderType: ORDER_TYPE,
    currency: 'CNY',
    notifyUrl: order.notifyUrl,
    ...(order.returnUrl ? { callbackUrl: order.returnUrl } : {}),
    ip: order.clientIp ?? '127.0.0.1',
    expireTime: String(expireSeconds),
  };
}

function leaf(fields: XmlFields, key: string): string | undefined {
  const v = fields[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw protocol(`<${key}> is not a plain value`);
  return v;
}

/** An integer-fen element; anything else is a protocol fault, never coerced. */
export function fenOf(fields: XmlFields, key: string): number | undefined {
  const v = leaf(fields, key);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw protocol(`<${key}> ${JSON.stringify(v)} is not an integer amount`);
  return Number(v);
}

/** J8: a payment as the query answer (tradeType 0) or a pay notification describes it. */
export function toPaymentStatus(fields: XmlFields): PaymentStatus {
  const raw = leaf(fields, 'status');
  const status = raw !== undefined && Object.hasOwn(TRADE_STATUS, raw) ? TRADE_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown trade status ${JSON.stringify(raw)}`);
  const result: PaymentStatus = { status };
  const tradeNum = leaf(fields, 'tradeNum');
  if (tradeNum !== undefined) result.outTradeNo = tradeNum;
  const amount = fenOf(fields, 'amount');
  if (amount !== undefined) result.amount = amount;
  const currency = leaf(fields, 'currency');
  if (currency !== undefined) result.currency = currency;
  const orderId = leaf(fields, 'orderId');
  if (orderId !== undefined) result.channelOrderNo = orderId;
  const payer = leaf(fields, 'userId');
  if (payer !== undefined) result.channelUser = payer;
  const payTime = leaf(fields, 'payTime');
  if (status === 'SUCCESS' && payTime !== undefined) {
    const at = parseCompactChinaTime(payTime);
    if (at !== undefined) result.successAt = at;
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'PAY_FAIL', errMsg: 'payment failed at JD Pay' });
  return result;
}

/** J9: a refund as the refund answer, the query answer (tradeType 1) or a refund notification describes it. */
export function toRefundStatus(fields: XmlFields): RefundStatus {
  const raw = leaf(fields, 'status');
  const status = raw !== undefined && Object.hasOwn(REFUND_STATUS, raw) ? REFUND_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown refund status ${JSON.stringify(raw)}`);
  const result: RefundStatus = { status };
  const tradeNum = leaf(fields, 'tradeNum');
  if (tradeNum !== undefined) result.outRefundNo = tradeNum;
  const oTradeNum = leaf(fields, 'oTradeNum');
  if (oTradeNum !== undefined) result.outTradeNo = oTradeNum;
  const amount = fenOf(fields, 'amount');
  if (amount !== undefined) result.refundAmount = amount;
  const refundId = leaf(fields, 'refundId');
  if (refundId !== undefined) result.channelRefundNo = refundId;
  const at = leaf(fields, 'payTime');
  if (status === 'SUCCESS' && at !== undefined) {
    const ms = parseCompactChinaTime(at);
    if (ms !== undefined) result.successAt = ms;
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'REFUND_FAIL', errMsg: 'refund failed at JD Pay' });
  return result;
}

export { leaf };
