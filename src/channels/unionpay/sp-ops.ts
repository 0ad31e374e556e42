import { ChannelError, type CloseResult, type CreatePaymentResult, type Logger, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus, type ReverseResult } from '../types.ts';
import type { SpClient } from './client.ts';
import { authCodeOf, paramError, SP_WAYS, spPaymentStatus, txnTimeOf, userIdOf, type UnionPayWay } from './mapping.ts';

/**
 * The operations of a sub-merchant through a 云闪付 service provider's JSON gateway (protocols.md
 * §D.6.2). Paths, request fields and result codes follow jeequan/jeepay's ysfpay channel; the
 * parts it does not show are ASSUMPTIONS A9–A12 (docs/channels/unionpay.md), each used only here.
 */

type Answer = Record<string, unknown>;

const s = (a: Answer, k: string): string => (typeof a[k] === 'string' ? (a[k] as string) : typeof a[k] === 'number' ? String(a[k]) : '');

/** Jeepay's bar-code answer codes: 00 paid; 02 paying, 12 duplicate, 99 system — query later (A10). */
const SP_WAIT = new Set(['02', '03', '04', '05', '12', '99']);

function refusal(what: string, a: Answer): ChannelError {
  return new ChannelError('rejected', `unionpay sp ${what} → ${s(a, 'respCode')} ${s(a, 'respMsg')}`, { channelCode: s(a, 'respCode'), channelMessage: s(a, 'respMsg') });
}

function unknown(what: string, a: Answer): ChannelError {
  return new ChannelError('system', `unionpay sp ${what} → ${s(a, 'respCode')} ${s(a, 'respMsg')} (outcome unknown)`, { channelCode: s(a, 'respCode'), channelMessage: s(a, 'respMsg') });
}

function checkEcho(a: Answer, merId: string, orderNo: string): void {
  if (s(a, 'merId') && s(a, 'merId') !== merId) throw new ChannelError('mismatch', `unionpay sp: answer names merId ${s(a, 'merId')}`);
  if (s(a, 'orderNo') && s(a, 'orderNo') !== orderNo) throw new ChannelError('mismatch', `unionpay sp: answer names orderNo ${s(a, 'orderNo')}, expected ${orderNo}`);
}

function common(order: PayOrderInput): Record<string, unknown> {
  if (order.currency !== 'CNY') throw paramError(`currency ${order.currency} is not supported, only CNY`);
  const ip = order.clientIp ?? '127.0.0.1';
  return { orderNo: order.payOrderId, orderTime: txnTimeOf(order.payOrderId), txnAmt: order.amount, currencyCode: '156', orderInfo: Array.from(order.subject.trim()).slice(0, 32).join(''), termInfo: JSON.stringify({ ip }) };
}

export async function spCreate(client: SpClient, way: UnionPayWay, order: PayOrderInput, log: Logger): Promise<CreatePaymentResult> {
  if (!SP_WAYS.includes(way)) throw new ChannelError('misconfigured', `unionpay: ${way} is not offered through the service-provider gateway (sp mode serves ${SP_WAYS.join(', ')})`);
  const merId = client.config.merId;
  if (way === 'YSF_JSAPI') {
    const userId = userIdOf(order.extra);
    if (!userId) throw paramError('YSF_JSAPI needs channelExtra.userId (from the 云闪付 user authorisation)');
    const a = await client.call('unifiedorder', { ...common(order), orderType: 'upJs', backUrl: order.notifyUrl, ...(order.returnUrl ? { frontUrl: order.returnUrl } : {}), customerIp: order.clientIp ?? '127.0.0.1', userId }, log);
    checkEcho(a, merId, order.payOrderId);
    if (s(a, 'respCode') !== '00') throw SP_WAIT.has(s(a, 'respCode')) ? unknown('unifiedorder', a) : refusal('unifiedorder', a);
    let redirectUrl: unknown;
    try {
      redirectUrl = (JSON.parse(s(a, 'payData')) as Record<string, unknown>).redirectUrl;
    } catch {
      redirectUrl = undefined;
    }
    if (typeof redirectUrl !== 'string' || redirectUrl === '') throw new ChannelError('protocol', 'unionpay sp: unifiedorder answer lacks payData.redirectUrl');
    return { status: 'WAITING', payDataType: 'ysfapp', payData: JSON.stringify({ redirectUrl }), channelUser: userId };
  }
  const code = authCodeOf(order.extra);
  if (!code) throw paramError(`${way} needs channelExtra.authCode`);
  const a = await client.call('micropay', { ...common(order), orderType: 'unionpay', authCode: code, termId: client.config.termId }, log);
  checkEcho(a, merId, order.payOrderId);
  const rc = s(a, 'respCode');
  if (rc === '00') {
    if (s(a, 'txnAmt') !== String(order.amount)) throw new ChannelError('mismatch', `unionpay sp: micropay answered txnAmt ${s(a, 'txnAmt') || '(none)'} for ${order.amount}`);
    return { status: 'SUCCESS', payDataType: 'none', payData: '', ...(s(a, 'transIndex') ? { channelOrderNo: s(a, 'transIndex') } : {}) };
  }
  if (SP_WAIT.has(rc)) return { status: 'WAITING', payDataType: 'none', payData: '' };
  return { status: 'FAIL', payDataType: 'none', payData: '', errCode: rc, errMsg: s(a, 'respMsg') };
}

const orderType = (way: string): string => (way === 'YSF_JSAPI' ? 'upJs' : 'unionpay');

export async function spQueryPayment(client: SpClient, order: PayOrderInput, log: Logger): Promise<PaymentStatus> {
  const a = await client.call('queryOrder', { orderNo: order.payOrderId, orderType: orderType(order.wayCode) }, log);
  if (s(a, 'respCode') === '34') return { status: 'NOT_FOUND' };
  if (s(a, 'respCode') !== '00') throw unknown('queryOrder', a);
  checkEcho(a, client.config.merId, order.payOrderId);
  const status = spPaymentStatus(s(a, 'origRespCode'));
  const out: PaymentStatus = { status, outTradeNo: s(a, 'orderNo') || order.payOrderId };
  if (s(a, 'txnAmt')) out.amount = Number(s(a, 'txnAmt'));
  if (s(a, 'transIndex')) out.channelOrderNo = s(a, 'transIndex');
  return out;
}

/** closeOrder; a refusal is resolved by a query (paid → ALREADY_PAID). A9: which code means "paid" is not public. */
export async function spClose(client: SpClient, order: PayOrderInput, log: Logger): Promise<CloseResult> {
  const a = await client.call('closeOrder', { orderNo: order.payOrderId, orderType: orderType(order.wayCode) }, log);
  if (s(a, 'respCode') === '00') return { status: 'CLOSED' };
  const q = await spQueryPayment(client, order, log);
  if (q.status === 'SUCCESS') return { status: 'ALREADY_PAID' };
  if (q.status === 'CLOSED' || q.status === 'REVOKED' || q.status === 'NOT_FOUND' || q.status === 'FAIL') return { status: 'CLOSED' };
  throw refusal('closeOrder', a);
}

/** A 付款码 order still paying is revoked by closeOrder (origRespCode 04 "已撤销(付款码支付)"; A9). */
export async function spReverse(client: SpClient, order: PayOrderInput, log: Logger): Promise<ReverseResult> {
  const closed = await spClose(client, order, log).catch((err: unknown) => {
    if (err instanceof ChannelError && (err.kind === 'system' || err.kind === 'timeout')) return null;
    throw err;
  });
  if (closed === null) return { status: 'RETRY' };
  return { status: closed.status === 'ALREADY_PAID' ? 'ALREADY_PAID' : 'REVERSED' };
}

/** Refunds answer synchronously (Jeepay treats 00 as done; A12). */
export async function spRefund(client: SpClient, order: PayOrderInput, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
  const a = await client.call('refund', { orderNo: refund.refundOrderId, orderTime: txnTimeOf(refund.refundOrderId), origOrderNo: order.payOrderId, origTxnAmt: refund.payAmount, txnAmt: refund.refundAmount, orderType: orderType(order.wayCode) }, log);
  checkEcho(a, client.config.merId, refund.refundOrderId);
  const rc = s(a, 'respCode');
  if (rc === '00') return { status: 'SUCCESS', outRefundNo: refund.refundOrderId, refundAmount: refund.refundAmount };
  if (SP_WAIT.has(rc)) return { status: 'PROCESSING', outRefundNo: refund.refundOrderId };
  throw refusal('refund', a);
}

export async function spQueryRefund(client: SpClient, order: PayOrderInput, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  const a = await client.call('refundQuery', { orderNo: refund.refundOrderId, origOrderNo: order.payOrderId }, log);
  if (s(a, 'respCode') === '34') return { status: 'NOT_FOUND' };
  if (s(a, 'respCode') !== '00') throw unknown('refundQuery', a);
  checkEcho(a, client.config.merId, refund.refundOrderId);
  const base: RefundStatus = { status: 'PROCESSING', outRefundNo: refund.refundOrderId, ...(s(a, 'txnAmt') ? { refundAmount: Number(s(a, 'txnAmt')) } : {}) };
  const orig = s(a, 'origRespCode');
  if (orig === '00') return { ...base, status: 'SUCCESS' };
  if (orig === '01') return { ...base, status: 'FAIL', errCode: orig, errMsg: s(a, 'origRespMsg') };
  return base;
}

/** userAuthCode → userId on the provider gateway (ASSUMPTION A6). */
export async function spUserId(client: SpClient, userAuthCode: string, appUpIdentifier: string | undefined, log: Logger): Promise<string> {
  const a = await client.call('userId', { userAuthCode, ...(appUpIdentifier ? { appUpIdentifier } : {}) }, log);
  if (s(a, 'respCode') !== '00' || !s(a, 'userId')) throw refusal('userId', a);
  return s(a, 'userId');
}
