import { money, toMajorString } from '../../domain/money.ts';
import type { WayCode } from '../../domain/pay-way.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundStatus } from '../types.ts';
import { acpTime, parseAcpTime } from './sign.ts';

/**
 * Pure translations between our orders and UnionPay's transactions: which transaction each way
 * is (protocols.md §D.2), what a respCode means (§D.4: 03/04/05 = query later, never failure),
 * and what a query or notification says about a payment or refund. No I/O and no clock.
 */

export const UNIONPAY_WAYS = ['UP_QR', 'UP_BAR', 'UP_APP', 'YSF_BAR', 'YSF_JSAPI', 'YSF_LITE'] as const satisfies readonly WayCode[];
export type UnionPayWay = (typeof UNIONPAY_WAYS)[number];
/** The ways the service-provider gateway carries (Jeepay's: micropay and JSAPI). */
export const SP_WAYS: readonly UnionPayWay[] = ['YSF_BAR', 'UP_BAR', 'YSF_JSAPI'];

export function isUnionPayWay(way: WayCode): way is UnionPayWay {
  return (UNIONPAY_WAYS as readonly string[]).includes(way);
}

export interface AcpOp {
  txnType: string;
  txnSubType: string;
  bizType: string;
}

/** Transaction type triples (§D.2; confirmed in egzosn/pay-java-parent UnionTransactionType). */
export const ACP = {
  qrApply: { txnType: '01', txnSubType: '07', bizType: '000000' },
  barConsume: { txnType: '01', txnSubType: '06', bizType: '000000' },
  appConsume: { txnType: '01', txnSubType: '01', bizType: '000000' },
  undo: { txnType: '31', txnSubType: '00', bizType: '000000' },
  refund: { txnType: '04', txnSubType: '00', bizType: '000000' },
  // ASSUMPTION A7: the 冲正 triple and its origOrderId/origTxnTime reference (docs/channels/unionpay.md).
  reversal: { txnType: '99', txnSubType: '01', bizType: '000000' },
  query: { txnType: '00', txnSubType: '00', bizType: '000000' },
  file: { txnType: '76', txnSubType: '01', bizType: '000000' },
} as const satisfies Record<string, AcpOp>;

export function yuan(fen: number): string {
  return toMajorString(money(fen, 'CNY'));
}

/** Refused before anything is sent: the merchant's input cannot make a valid request. */
export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `unionpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `unionpay: ${message}`);
}

/**
 * UnionPay keys a transaction by orderId + txnTime, and a query must repeat both. Our ids carry
 * their UTC creation time (domain/ids.ts: P/R + yyyyMMddHHmmss + 8 digits), so txnTime is derived
 * from the id — the same value at create, query, refund and undo, without storing it anywhere.
 */
export function txnTimeOf(id: string): string {
  const m = /^[PR](\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d{8}$/.exec(id);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
  // Date.UTC rolls month 13 into the next year: a round trip refuses it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 14) !== id.slice(1, 15)) throw new ChannelError('misconfigured', `unionpay: id ${id} carries no creation time`);
  return acpTime(ms);
}

export function txnTimeMs(id: string): number {
  return parseAcpTime(txnTimeOf(id)) as number;
}

function text(extra: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = extra[k];
    if (typeof v === 'string' && v.trim() !== '' && !/^(undefined|null)$/i.test(v.trim())) return v.trim();
  }
  return undefined;
}

export function authCodeOf(extra: Record<string, unknown>): string | undefined {
  return text(extra, 'authCode', 'auth_code');
}

/** The 云闪付 user of YSF_JSAPI (from the user-authorisation step, ysf-user.ts). */
export function userIdOf(extra: Record<string, unknown>): string | undefined {
  return text(extra, 'userId', 'user_id', 'ysfUserId');
}

/** respCode of a write (§D.4): 00 done/accepted, 03/04/05 unknown — query later, anything else a refusal. */
export function writeOutcome(respCode: string): 'ok' | 'unknown' | 'refused' {
  if (respCode === '00') return 'ok';
  if (respCode === '03' || respCode === '04' || respCode === '05') return 'unknown';
  return 'refused';
}

function amountOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,12}$/.test(value)) throw protocol(`${field} "${value}" is not an amount in fen`);
  return Number(value);
}

/**
 * A payment as a query answer or a consume notification describes it. In a query, respCode is the
 * query's own result and origRespCode the transaction's (§D.4); a notification carries the
 * outcome in respCode. 34 = no such transaction (an unscanned code is not one yet).
 */
export function toPaymentStatus(f: Record<string, string>, source: 'query' | 'notify'): PaymentStatus {
  if (source === 'query' && f.respCode === '34') return { status: 'NOT_FOUND' };
  const outcome = source === 'query' ? f.origRespCode : f.respCode;
  if (source === 'query' && f.respCode !== '00') throw new ChannelError('system', `unionpay query → ${f.respCode} ${f.respMsg ?? ''}`, { channelCode: f.respCode, channelMessage: f.respMsg });
  if (outcome === undefined || outcome === '') throw protocol('the answer carries no transaction outcome');
  const base: PaymentStatus = { status: 'WAITING' };
  if (f.orderId) base.outTradeNo = f.orderId;
  const amount = amountOf(f.txnAmt, 'txnAmt');
  if (amount !== undefined) base.amount = amount;
  if (f.currencyCode) base.currency = f.currencyCode === '156' ? 'CNY' : f.currencyCode;
  if (f.queryId) base.channelOrderNo = f.queryId;
  const w = writeOutcome(outcome);
  if (w === 'ok') return { ...base, status: 'SUCCESS' };
  if (w === 'unknown') return base;
  return { ...base, status: 'FAIL', errCode: outcome, errMsg: (source === 'query' ? f.origRespMsg : f.respMsg) ?? '' };
}

/** A refund or undo as a query answer or notification describes it. */
export function toRefundStatus(f: Record<string, string>, source: 'query' | 'notify', refundOrderId: string): RefundStatus {
  if (source === 'query' && f.respCode === '34') return { status: 'NOT_FOUND' };
  if (source === 'query' && f.respCode !== '00') throw new ChannelError('system', `unionpay refund query → ${f.respCode} ${f.respMsg ?? ''}`, { channelCode: f.respCode, channelMessage: f.respMsg });
  const outcome = source === 'query' ? f.origRespCode : f.respCode;
  if (outcome === undefined || outcome === '') throw protocol('the answer carries no refund outcome');
  const base: RefundStatus = { status: 'PROCESSING', outRefundNo: f.orderId || refundOrderId };
  const amount = amountOf(f.txnAmt, 'txnAmt');
  if (amount !== undefined) base.refundAmount = amount;
  if (f.queryId) base.channelRefundNo = f.queryId;
  const w = writeOutcome(outcome);
  if (w === 'ok') return { ...base, status: 'SUCCESS' };
  if (w === 'unknown') return base;
  return { ...base, status: 'FAIL', errCode: outcome, errMsg: (source === 'query' ? f.origRespMsg : f.respMsg) ?? '' };
}

/** The 云闪付 service-provider gateway's query origRespCode (Jeepay's list): 00 paid, 01 转入退款, 02 unpaid, 03 closed, 04 revoked, 05 paying, 06 failed. */
export function spPaymentStatus(origRespCode: string | undefined): PaymentStatus['status'] {
  switch (origRespCode) {
    case '00':
    case '01':
      return 'SUCCESS';
    case '02':
    case '05':
      return 'WAITING';
    case '03':
      return 'CLOSED';
    case '04':
      return 'REVOKED';
    case '06':
      return 'FAIL';
    default:
      throw protocol(`unknown origRespCode ${JSON.stringify(origRespCode)}`);
  }
}

/** The order's own fields every consume request carries. */
export function orderFields(order: PayOrderInput): Record<string, string> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  return { orderId: order.payOrderId, txnTime: txnTimeOf(order.payOrderId), txnAmt: String(order.amount), currencyCode: '156' };
}
