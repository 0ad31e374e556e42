import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus } from '../types.ts';
import { mapTradeState, requireCny, type WechatWay } from './mapping.ts';
import type { WechatPayV2Config } from './v2-config.ts';
import { subAppIdForWay } from './sp-config.ts';

/**
 * Pure translations between our order model and WeChat Pay API v2 fields (protocols.md §B.3–B.4).
 * Amounts are integer fen as decimal strings; times are yyyyMMddHHmmss (or yyyy-MM-dd HH:mm:ss in
 * refund results) in China time.
 */

export const V2_TRADE_TYPE: Record<WechatWay, 'NATIVE' | 'JSAPI' | 'MWEB' | 'APP'> = {
  WX_NATIVE: 'NATIVE',
  WX_JSAPI: 'JSAPI',
  WX_LITE: 'JSAPI',
  WX_H5: 'MWEB',
  WX_APP: 'APP',
};

const CHINA_OFFSET_MS = 8 * 3600 * 1000;

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `wxpay v2: ${message}`);
}

function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `wxpay v2: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

/** yyyyMMddHHmmss in China time. */
export function v2Time(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/** Parses yyyyMMddHHmmss or yyyy-MM-dd HH:mm:ss (China time); undefined when absent or malformed. */
export function parseV2Time(value: string | undefined): Date | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ ]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(value ?? '');
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - CHINA_OFFSET_MS;
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** An integer-fen field; anything but plain digits is refused rather than coerced. */
export function fenField(fields: Record<string, string>, key: string): number | undefined {
  const v = fields[key];
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw protocol(`${key} "${v}" is not an integer amount`);
  return Number(v);
}

/** body is ≤128 characters in v2; cut by code point so an emoji is never split. */
export function v2Body(subject: string): string {
  const chars = Array.from(subject.trim());
  if (chars.length === 0) throw paramError('subject (body) is required');
  return chars.slice(0, 128).join('');
}

export function v2AppIdForWay(way: WechatWay, config: WechatPayV2Config): string {
  if (way === 'WX_LITE') return config.liteAppId ?? config.appId;
  if (way === 'WX_APP') return config.appAppId ?? config.appId;
  return config.appId;
}

/** Bank service providers send their 渠道号 on order creation (assumption, docs/configuration.md). */
export function v2OrderExtras(config: WechatPayV2Config): Record<string, string | undefined> {
  return config.sp?.providerType === 'bank' ? { channel_id: config.sp.channelId } : {};
}

/** The appid of the app the payer pays in (what the front end and paySign use) for a way. */
export function v2PayerAppId(way: WechatWay, config: WechatPayV2Config): string {
  return (config.sp && subAppIdForWay(way, config.sp)) ?? v2AppIdForWay(way, config);
}

export function buildUnifiedOrder(way: WechatWay, config: WechatPayV2Config, order: PayOrderInput): Record<string, string | undefined> {
  requireCny(order.currency);
  const fields: Record<string, string | undefined> = {
    appid: v2AppIdForWay(way, config),
    body: v2Body(order.subject),
    out_trade_no: order.payOrderId,
    fee_type: 'CNY',
    total_fee: String(order.amount),
    spbill_create_ip: order.clientIp || '127.0.0.1',
    time_expire: v2Time(order.expiredAt),
    notify_url: order.notifyUrl,
    trade_type: V2_TRADE_TYPE[way],
  };
  const subAppId = config.sp && subAppIdForWay(way, config.sp);
  if (subAppId !== undefined) fields.sub_appid = subAppId;
  if (way === 'WX_JSAPI' || way === 'WX_LITE') {
    const openid = order.extra.openid;
    if (typeof openid !== 'string' || openid.trim() === '') throw paramError(`${way} needs channelExtra.openid`);
    // Service provider: openid is under appid (the provider's), sub_openid under sub_appid (§B.1).
    fields[subAppId === undefined ? 'openid' : 'sub_openid'] = openid.trim();
  }
  Object.assign(fields, v2OrderExtras(config));
  // NATIVE requires product_id (§B.3); without a product catalogue the order id stands in.
  if (way === 'WX_NATIVE') {
    fields.product_id = typeof order.extra.productId === 'string' && order.extra.productId !== '' ? order.extra.productId : order.payOrderId;
    // 模式一: the payer who scanned the product code is known.
    if (typeof order.extra.openid === 'string' && order.extra.openid !== '') fields.openid = order.extra.openid;
  }
  if (way === 'WX_H5') fields.scene_info = JSON.stringify({ h5_info: { type: 'Wap', wap_url: order.returnUrl ?? '', wap_name: v2Body(order.subject).slice(0, 32) } });
  return fields;
}

/** An orderquery answer (or a micropay success, which carries the same trade fields) as our status. */
export function v2PaymentStatus(fields: Record<string, string>, tradeState = fields.trade_state): PaymentStatus {
  const status = mapTradeState(tradeState);
  const result: PaymentStatus = { status };
  if (fields.out_trade_no) result.outTradeNo = fields.out_trade_no;
  const amount = fenField(fields, 'total_fee');
  if (amount !== undefined) result.amount = amount;
  result.currency = fields.fee_type || 'CNY';
  if (fields.transaction_id) result.channelOrderNo = fields.transaction_id;
  // Service provider: sub_openid is the payer in the sub-merchant's app, when there is one.
  if (fields.sub_openid || fields.openid) result.channelUser = fields.sub_openid || fields.openid;
  const at = parseV2Time(fields.time_end);
  if (at && status === 'SUCCESS') result.successAt = at;
  if (status === 'FAIL') {
    result.errCode = 'PAYERROR';
    if (fields.trade_state_desc) result.errMsg = fields.trade_state_desc;
  }
  return result;
}

export function buildV2Refund(order: PayOrderInput, refund: RefundInput): Record<string, string | undefined> {
  requireCny(refund.currency);
  const reason = Array.from(refund.reason.trim()).slice(0, 80).join('');
  return {
    appid: undefined, // filled by the channel with the order's appid
    out_trade_no: order.payOrderId,
    out_refund_no: refund.refundOrderId,
    total_fee: String(refund.payAmount),
    refund_fee: String(refund.refundAmount),
    refund_fee_type: 'CNY',
    refund_desc: reason === '' ? undefined : reason,
    notify_url: refund.notifyUrl,
  };
}

const REFUND_STATES: Record<string, { status: RefundStatus['status']; errCode?: string }> = {
  SUCCESS: { status: 'SUCCESS' },
  PROCESSING: { status: 'PROCESSING' },
  REFUNDCLOSE: { status: 'CLOSED' },
  // CHANGE (退款异常): the money could not reach the payer; handled by hand in the portal.
  CHANGE: { status: 'FAIL', errCode: 'CHANGE' },
};

export function mapV2RefundStatus(value: string | undefined): { status: RefundStatus['status']; errCode?: string } {
  const mapped = value !== undefined && Object.hasOwn(REFUND_STATES, value) ? REFUND_STATES[value] : undefined;
  if (!mapped) throw protocol(`unknown refund_status ${JSON.stringify(value)}`);
  return mapped;
}

/** refundquery lists every refund of the order with indexed fields (out_refund_no_$n …); pick ours. */
export function v2RefundFromQuery(fields: Record<string, string>, outRefundNo: string): RefundStatus {
  const count = Number(fields.refund_count ?? '0');
  if (!Number.isSafeInteger(count) || count < 0 || count > 100) throw protocol(`refund_count ${fields.refund_count} is not a count`);
  for (let n = 0; n < count; n++) {
    if (fields[`out_refund_no_${n}`] !== outRefundNo) continue;
    const mapped = mapV2RefundStatus(fields[`refund_status_${n}`]);
    const result: RefundStatus = { status: mapped.status, outRefundNo, outTradeNo: fields.out_trade_no };
    const amount = fenField(fields, `refund_fee_${n}`);
    if (amount !== undefined) result.refundAmount = amount;
    if (fields[`refund_id_${n}`]) result.channelRefundNo = fields[`refund_id_${n}`];
    const at = parseV2Time(fields[`refund_success_time_${n}`]);
    if (at) result.successAt = at;
    if (mapped.errCode) {
      result.errCode = mapped.errCode;
      result.errMsg = 'refund abnormal: the payer account could not receive it; handle in the merchant portal';
    }
    return result;
  }
  return { status: 'NOT_FOUND' };
}

/** The decrypted <root> of a v2 refund notification. */
export function v2RefundFromNotification(inner: Record<string, string>): RefundStatus {
  const mapped = mapV2RefundStatus(inner.refund_status);
  const result: RefundStatus = { status: mapped.status };
  if (inner.out_refund_no) result.outRefundNo = inner.out_refund_no;
  if (inner.out_trade_no) result.outTradeNo = inner.out_trade_no;
  const amount = fenField(inner, 'refund_fee');
  if (amount !== undefined) result.refundAmount = amount;
  if (inner.refund_id) result.channelRefundNo = inner.refund_id;
  const at = parseV2Time(inner.success_time);
  if (at) result.successAt = at;
  if (mapped.errCode) result.errCode = mapped.errCode;
  return result;
}
