import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { parseCompactChinaTime } from '../china-time.ts';
import { PAY_TYPE_ALIPAY_LITE, REFUND_STATE, TRADE_STATE, XINLIAN_WAYS, type XinlianWay } from './protocol.ts';
import type { XlFields } from './sign.ts';

/** Pure translations between our orders and 信联's fields (docs/channels/xinlian.md X3, X5, X6). No I/O. */

export function isXinlianWay(way: WayCode): way is XinlianWay {
  return (XINLIAN_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `xinlian: ${message}`);
}

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `xinlian: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

const ALIPAY_USER_ID = /^2088[0-9]{12}$/;

/** X3: the payer's Alipay user id, under any of the names merchants use for it. */
export function buyerIdOf(extra: Record<string, unknown>): string {
  const v = ['buyerUserId', 'buyer_id', 'buyerId', 'userId', 'user_id'].map((k) => extra[k]).find((x) => typeof x === 'string' && x !== '');
  if (typeof v !== 'string') throw paramError('channelExtra.buyerUserId (the payer\'s 2088… Alipay user id) is required');
  if (!ALIPAY_USER_ID.test(v)) throw paramError('channelExtra.buyerUserId must be a 2088… Alipay user id');
  return v;
}

const cut = (s: string, max: number): string => Array.from(s.trim()).slice(0, max).join('');

/** X3: the unifiedorder fields of a mini-program order. */
export function orderFields(order: PayOrderInput, now: number): XlFields {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const subject = cut(order.subject, 64);
  if (subject === '') throw paramError('subject is required');
  const body = cut(order.body, 128);
  return {
    outTradeNo: order.payOrderId,
    payType: PAY_TYPE_ALIPAY_LITE,
    amount: order.amount,
    currency: 'CNY',
    subject,
    ...(body ? { body } : {}),
    buyerId: buyerIdOf(order.extra),
    notifyUrl: order.notifyUrl,
    ...(order.clientIp ? { clientIp: order.clientIp } : {}),
    expireSeconds: Math.max(60, Math.floor((order.expiredAt.getTime() - now) / 1000)),
  };
}

function str(f: Record<string, unknown>, key: string): string | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/** An integer-fen number; anything else is a protocol fault, never coerced. */
export function fenOf(f: Record<string, unknown>, key: string): number | undefined {
  const v = f[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw protocol(`${key} ${JSON.stringify(v)} is not an integer amount in fen`);
  return v;
}

function timeOf(f: Record<string, unknown>, key: string): Date | undefined {
  const v = str(f, key);
  return v === undefined ? undefined : parseCompactChinaTime(v);
}

/** X5: a payment as the query answer or a PAY notification describes it. */
export function toPaymentStatus(f: Record<string, unknown>): PaymentStatus {
  const raw = str(f, 'tradeState');
  const status = raw !== undefined && Object.hasOwn(TRADE_STATE, raw) ? TRADE_STATE[raw] : undefined;
  if (status === undefined) throw protocol(`unknown tradeState ${JSON.stringify(raw)}`);
  const result: PaymentStatus = { status };
  const outTradeNo = str(f, 'outTradeNo');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(f, 'amount');
  if (amount !== undefined) result.amount = amount;
  const currency = str(f, 'currency');
  if (currency !== undefined) result.currency = currency;
  const tradeNo = str(f, 'tradeNo');
  if (tradeNo !== undefined) result.channelOrderNo = tradeNo;
  const buyer = str(f, 'buyerId');
  if (buyer !== undefined) result.channelUser = buyer;
  const at = status === 'SUCCESS' ? timeOf(f, 'successTime') : undefined;
  if (at !== undefined) result.successAt = at;
  if (status === 'FAIL') Object.assign(result, { errCode: 'PAY_FAIL', errMsg: 'payment failed at Xinlian' });
  return result;
}

/** X6: a refund as the refund answer, the refund query or a REFUND notification describes it. */
export function toRefundStatus(f: Record<string, unknown>): RefundStatus {
  const raw = str(f, 'refundState');
  const status = raw !== undefined && Object.hasOwn(REFUND_STATE, raw) ? REFUND_STATE[raw] : undefined;
  if (status === undefined) throw protocol(`unknown refundState ${JSON.stringify(raw)}`);
  const result: RefundStatus = { status };
  const outRefundNo = str(f, 'outRefundNo');
  if (outRefundNo !== undefined) result.outRefundNo = outRefundNo;
  const outTradeNo = str(f, 'outTradeNo');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(f, 'refundAmount');
  if (amount !== undefined) result.refundAmount = amount;
  const refundNo = str(f, 'refundNo');
  if (refundNo !== undefined) result.channelRefundNo = refundNo;
  const at = status === 'SUCCESS' ? timeOf(f, 'successTime') : undefined;
  if (at !== undefined) result.successAt = at;
  if (status === 'FAIL') Object.assign(result, { errCode: 'REFUND_FAIL', errMsg: 'refund failed at Xinlian' });
  return result;
}

export { str };
