import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import type { IcbcConfig } from './config.ts';
import { ACCESS_TYPE_MOBILE, CUR_TYPE_CNY, ICBC_WAYS, PAY_MODE_ICBC_APP, PAY_STATUS, REFUND_STATUS, type IcbcWay } from './protocol.ts';
import { icbcTimestamp, parseIcbcTimestamp } from './sign.ts';

/** Pure translations between our orders and ICBC's biz_content fields (docs/channels/icbc.md I3, I7, I8). No I/O. */

export function isIcbcWay(way: WayCode): way is IcbcWay {
  return (ICBC_WAYS as readonly string[]).includes(way);
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `icbc: ${message}`);
}

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `icbc: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

const cut = (s: string, max: number): string => Array.from(s.trim()).slice(0, max).join('');

/** I3: the consumepurchase biz_content of an ICBC_APP order. */
export function orderBiz(order: PayOrderInput, config: IcbcConfig, now: number): Record<string, string> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const goods = cut(order.subject, 64);
  if (goods === '') throw paramError('subject is required');
  // I3: the order's remaining lifetime in seconds, at least a minute.
  const expire = Math.max(60, Math.floor((order.expiredAt.getTime() - now) / 1000));
  return {
    mer_id: config.merId,
    ...(config.merPrtclNo ? { mer_prtcl_no: config.merPrtclNo } : {}),
    out_trade_no: order.payOrderId,
    pay_mode: PAY_MODE_ICBC_APP,
    access_type: ACCESS_TYPE_MOBILE,
    orig_date_time: icbcTimestamp(now),
    order_amt: String(order.amount),
    cur_type: CUR_TYPE_CNY,
    goods_body: goods,
    notify_url: order.notifyUrl,
    ...(order.returnUrl ? { return_url: order.returnUrl } : {}),
    ...(order.clientIp ? { mer_custom_ip: order.clientIp } : {}),
    expire_time: String(expire),
  };
}

function str(biz: Record<string, unknown>, key: string): string | undefined {
  const v = biz[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw protocol(`${key} is not a string`);
  return v;
}

/** An integer-fen field; anything else is a protocol fault, never coerced. */
export function fenOf(biz: Record<string, unknown>, key: string): number | undefined {
  const v = str(biz, key);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw protocol(`${key} ${JSON.stringify(v)} is not an integer amount in fen`);
  return Number(v);
}

/** I7: a payment as the query answer or a pay notification describes it. */
export function toPaymentStatus(biz: Record<string, unknown>): PaymentStatus {
  const raw = str(biz, 'pay_status');
  const status = raw !== undefined && Object.hasOwn(PAY_STATUS, raw) ? PAY_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown pay_status ${JSON.stringify(raw)}`);
  const result: PaymentStatus = { status };
  const outTradeNo = str(biz, 'out_trade_no');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(biz, 'order_amt');
  if (amount !== undefined) result.amount = amount;
  if (str(biz, 'cur_type') !== undefined) result.currency = str(biz, 'cur_type') === CUR_TYPE_CNY ? 'CNY' : (str(biz, 'cur_type') as string);
  const orderId = str(biz, 'order_id');
  if (orderId !== undefined) result.channelOrderNo = orderId;
  const payer = str(biz, 'cust_id');
  if (payer !== undefined) result.channelUser = payer;
  const payTime = str(biz, 'pay_time');
  if (status === 'SUCCESS' && payTime !== undefined) {
    const at = parseIcbcTimestamp(payTime);
    if (at !== undefined) result.successAt = new Date(at);
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'PAY_FAIL', errMsg: 'payment failed at ICBC' });
  return result;
}

/** I8: a refund as the refund answer or the refund query describes it. */
export function toRefundStatus(biz: Record<string, unknown>): RefundStatus {
  const raw = str(biz, 'refund_status');
  const status = raw !== undefined && Object.hasOwn(REFUND_STATUS, raw) ? REFUND_STATUS[raw] : undefined;
  if (status === undefined) throw protocol(`unknown refund_status ${JSON.stringify(raw)}`);
  const result: RefundStatus = { status };
  const outRefundNo = str(biz, 'outtrx_serial_no');
  if (outRefundNo !== undefined) result.outRefundNo = outRefundNo;
  const outTradeNo = str(biz, 'out_trade_no');
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = fenOf(biz, 'ret_total_amt');
  if (amount !== undefined) result.refundAmount = amount;
  const refundNo = str(biz, 'intrx_serial_no');
  if (refundNo !== undefined) result.channelRefundNo = refundNo;
  const at = str(biz, 'refund_time');
  if (status === 'SUCCESS' && at !== undefined) {
    const ms = parseIcbcTimestamp(at);
    if (ms !== undefined) result.successAt = new Date(ms);
  }
  if (status === 'FAIL') Object.assign(result, { errCode: 'REFUND_FAIL', errMsg: 'refund failed at ICBC' });
  return result;
}

export { str };
