import { ChannelError, type ChannelBill, type CloseResult, type CreatePaymentResult, type Logger, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus, type ReverseResult } from '../types.ts';
import { parseZmFile, unpackFileContent } from './bill.ts';
import type { AcpClient } from './client.ts';
import { ACP, authCodeOf, orderFields, paramError, toPaymentStatus, toRefundStatus, txnTimeMs, txnTimeOf, userIdOf, writeOutcome, type AcpOp, type UnionPayWay } from './mapping.ts';
import { acpTime, clearingDay } from './sign.ts';

/**
 * The operations of a direct 全渠道 merchant (ACP 5.1.0, protocols.md §D). Each turns an answer
 * into a normalised result; respCode 03/04/05 never fails anything (§D.4): writes in that state
 * are "outcome unknown" and settled by a query.
 */

const op = (o: AcpOp): Record<string, string> => ({ txnType: o.txnType, txnSubType: o.txnSubType, bizType: o.bizType });

function refusal(what: string, a: Record<string, string>): ChannelError {
  const text = `unionpay ${what} → ${a.respCode} ${a.respMsg ?? ''}`;
  const extra = { channelCode: a.respCode ?? '', channelMessage: a.respMsg ?? '' };
  return writeOutcome(a.respCode ?? '') === 'unknown' ? new ChannelError('system', `${text} (outcome unknown)`, extra) : new ChannelError('rejected', text, extra);
}

/** An answer about a transaction must be about this one and this merchant. */
function checkEcho(a: Record<string, string>, merId: string, orderId: string): void {
  if (a.merId && a.merId !== merId) throw new ChannelError('mismatch', `unionpay: answer names merId ${a.merId}, configured ${merId}`);
  if (a.orderId && a.orderId !== orderId) throw new ChannelError('mismatch', `unionpay: answer names orderId ${a.orderId}, expected ${orderId}`);
}

/** payTimeout: the order's expiry, so UnionPay refuses a payment after we would have closed it. */
function payTimeout(order: PayOrderInput): Record<string, string> {
  return order.expiredAt.getTime() > Date.now() ? { payTimeout: acpTime(order.expiredAt.getTime()) } : {};
}

const orderDesc = (order: PayOrderInput): string => Array.from(order.subject.trim()).slice(0, 32).join('');

export async function acpCreate(client: AcpClient, way: UnionPayWay, order: PayOrderInput, log: Logger): Promise<CreatePaymentResult> {
  const base = { ...orderFields(order), backUrl: order.notifyUrl, channelType: '08', ...payTimeout(order) };
  const merId = client.config.merId;
  if (way === 'UP_BAR' || way === 'YSF_BAR') {
    const code = authCodeOf(order.extra);
    if (!code) throw paramError(`${way} needs channelExtra.authCode`);
    const a = await client.call('back', { ...op(ACP.barConsume), ...base, qrNo: code }, log);
    checkEcho(a, merId, order.payOrderId);
    const outcome = writeOutcome(a.respCode ?? '');
    if (outcome === 'unknown') return { status: 'WAITING', payDataType: 'none', payData: '' };
    if (outcome === 'refused') return { status: 'FAIL', payDataType: 'none', payData: '', errCode: a.respCode ?? '', errMsg: a.respMsg ?? '' };
    // The core records a synchronous success as is, so the amount check happens here.
    if (a.txnAmt !== String(order.amount)) throw new ChannelError('mismatch', `unionpay: bar-code answer txnAmt ${a.txnAmt ?? '(none)'} for ${order.amount}`);
    return { status: 'SUCCESS', payDataType: 'none', payData: '', ...(a.queryId ? { channelOrderNo: a.queryId } : {}) };
  }
  if (way === 'UP_APP' || way === 'YSF_LITE') {
    // The app's UPPayment control and 云闪付 mini programs (upsdk.pay) both pay by tn (ASSUMPTION A2 for YSF_LITE).
    const a = await client.call('app', { ...op(ACP.appConsume), ...base, orderDesc: orderDesc(order) }, log);
    checkEcho(a, merId, order.payOrderId);
    if (a.respCode !== '00') throw refusal('appTransReq', a);
    if (!a.tn) throw new ChannelError('protocol', 'unionpay: appTransReq answer lacks tn');
    return { status: 'WAITING', payDataType: 'ysfapp', payData: JSON.stringify({ tn: a.tn }) };
  }
  const userId = userIdOf(order.extra);
  if (way === 'YSF_JSAPI' && !userId) throw paramError('YSF_JSAPI needs channelExtra.userId (from the 云闪付 user authorisation, see docs/channels/unionpay.md)');
  // UP_QR: 申码; YSF_JSAPI: the same code, tied to the authorised user, opened inside 云闪付 (ASSUMPTION A1).
  const a = await client.call('back', { ...op(ACP.qrApply), ...base, orderDesc: orderDesc(order), ...(userId && way === 'YSF_JSAPI' ? { userId } : {}) }, log);
  checkEcho(a, merId, order.payOrderId);
  if (a.respCode !== '00') throw refusal('申码', a);
  if (!a.qrCode) throw new ChannelError('protocol', 'unionpay: 申码 answer lacks qrCode');
  if (way === 'YSF_JSAPI') return { status: 'WAITING', payDataType: 'ysfapp', payData: JSON.stringify({ redirectUrl: a.qrCode }), ...(userId ? { channelUser: userId } : {}) };
  return { status: 'WAITING', payDataType: 'codeUrl', payData: a.qrCode };
}

export async function acpQuery(client: AcpClient, orderId: string, log: Logger): Promise<Record<string, string>> {
  const a = await client.call('query', { ...op(ACP.query), orderId, txnTime: txnTimeOf(orderId) }, log);
  checkEcho(a, client.config.merId, orderId);
  return a;
}

export async function acpQueryPayment(client: AcpClient, order: PayOrderInput, log: Logger): Promise<PaymentStatus> {
  return toPaymentStatus(await acpQuery(client, order.payOrderId, log), 'query');
}

/**
 * ACP has no close: an unscanned code simply lapses at payTimeout (= our expiry). So close asks
 * first: paid → ALREADY_PAID; the payer mid-authorisation before expiry → refused (try later);
 * otherwise closed here (a payment before payTimeout is then recorded as a late success).
 */
export async function acpClose(client: AcpClient, order: PayOrderInput, log: Logger): Promise<CloseResult> {
  const s = await acpQueryPayment(client, order, log);
  if (s.status === 'SUCCESS') return { status: 'ALREADY_PAID' };
  if (s.status === 'WAITING' && order.expiredAt.getTime() > Date.now()) throw new ChannelError('rejected', 'unionpay: the payer is authorising this payment; close again later', { channelCode: 'ORDER_PAYING', channelMessage: 'payer is paying' });
  return { status: 'CLOSED' };
}

/** 冲正 of a bar-code consume (ASSUMPTION A7): 00 reversed, 03/04/05 try again, 34 never arrived, 35 paid and no longer reversible. */
export async function acpReverse(client: AcpClient, order: PayOrderInput, log: Logger): Promise<ReverseResult> {
  const now = Date.now();
  const a = await client.call('back', { ...op(ACP.reversal), orderId: `${order.payOrderId}RV`, txnTime: acpTime(now), origOrderId: order.payOrderId, origTxnTime: txnTimeOf(order.payOrderId), channelType: '08' }, log);
  const outcome = writeOutcome(a.respCode ?? '');
  if (outcome === 'ok' || a.respCode === '34') return { status: 'REVERSED' };
  if (outcome === 'unknown') return { status: 'RETRY' };
  if (a.respCode === '35') return { status: 'ALREADY_PAID' };
  throw refusal('冲正', a);
}

/**
 * A full refund on the payment's own clearing day is a consume undo (31); anything else a refund
 * (04). Both answer 00 for "accepted" and settle by notification or query (§D.4). The choice is
 * made from the order id's time, so a retry never switches between the two.
 */
export async function acpRefund(client: AcpClient, order: PayOrderInput, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  if (refund.currency !== 'CNY') throw paramError(`refund currency ${refund.currency} is not supported`);
  let origQryId = order.channelOrderNo;
  if (!origQryId) {
    const s = await acpQueryPayment(client, order, log);
    if (s.status !== 'SUCCESS' || !s.channelOrderNo) throw paramError('the payment has no UnionPay queryId to refund');
    origQryId = s.channelOrderNo;
  }
  const undo = refund.refundAmount === refund.payAmount && clearingDay(txnTimeMs(order.payOrderId)) === clearingDay(Date.now());
  const fields = { ...op(undo ? ACP.undo : ACP.refund), orderId: refund.refundOrderId, txnTime: txnTimeOf(refund.refundOrderId), txnAmt: String(refund.refundAmount), origQryId, backUrl: refund.notifyUrl, channelType: '08' };
  const a = await client.call('back', fields, log);
  checkEcho(a, client.config.merId, refund.refundOrderId);
  const outcome = writeOutcome(a.respCode ?? '');
  if (outcome === 'refused') throw refusal(undo ? '消费撤销' : '退货', a);
  return { status: 'PROCESSING', outRefundNo: refund.refundOrderId, ...(a.queryId ? { channelRefundNo: a.queryId } : {}) };
}

export async function acpQueryRefund(client: AcpClient, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  return toRefundStatus(await acpQuery(client, refund.refundOrderId, log), 'query', refund.refundOrderId);
}

/** txnType 76 for a clearing day; 98 (no file) is a day without transactions. */
export async function acpBill(client: AcpClient, billDate: string, log: Logger): Promise<ChannelBill> {
  const [year, month, day] = billDate.split('-') as [string, string, string];
  const a = await client.call('file', { ...op(ACP.file), txnTime: acpTime(Date.now()), settleDate: `${month}${day}`, fileType: '00' }, log);
  if (a.merId && a.merId !== client.config.merId) throw new ChannelError('mismatch', `unionpay: file answer names merId ${a.merId}`);
  if (a.respCode === '98') return { rows: [], summary: { rows: '0', paid: '0', refunded: '0' } };
  if (a.respCode !== '00') throw refusal('对账文件下载', a);
  if (!a.fileContent) throw new ChannelError('protocol', 'unionpay: file answer lacks fileContent');
  const zm = unpackFileContent(a.fileContent);
  const bill = parseZmFile(zm.bytes, year);
  return { ...bill, summary: { ...bill.summary, fileName: a.fileName ?? '', member: zm.name } };
}

/** userAuthCode → userId (ASSUMPTION A6: no public ACP interface; see docs/channels/unionpay.md). */
export async function acpUserId(client: AcpClient, userAuthCode: string, appUpIdentifier: string | undefined, log: Logger): Promise<string> {
  const a = await client.call('userId', { txnTime: acpTime(Date.now()), userAuthCode, ...(appUpIdentifier ? { appUpIdentifier } : {}) }, log);
  if (a.respCode !== '00' || !a.userId) throw refusal('userAuth', a);
  return a.userId;
}
