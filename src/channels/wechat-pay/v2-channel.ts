import { newNonce } from '../../domain/ids.ts';
import {
  ChannelError,
  type CallbackReply,
  type CloseResult,
  type CreatePaymentResult,
  type InboundCallback,
  type Logger,
  type ParsedCallback,
  type PaymentStatus,
  type PayOrderInput,
  type RefundInput,
  type RefundStatus,
} from '../types.ts';
import { h5PayUrl, isWechatWay, sameCode } from './mapping.ts';
import type { WechatPayV2Client } from './v2-client.ts';
import { buildUnifiedOrder, buildV2Refund, v2PayerAppId, v2PaymentStatus, v2RefundFromNotification, v2RefundFromQuery } from './v2-mapping.ts';
import { declaredSignType, decryptReqInfo, v2AppPayParams, v2JsapiPayParams, v2SignMatches } from './v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from './v2-xml.ts';

/** WeChat Pay API v2 operations behind the `wxpay` channel when apiVersion=v2 (protocols.md §B). */

function isRejected(err: unknown, ...codes: string[]): err is ChannelError {
  return err instanceof ChannelError && (err.kind === 'rejected' || err.kind === 'system') && sameCode(err.channelCode, ...codes);
}

function required(fields: Record<string, string>, key: string, what: string): string {
  const v = fields[key];
  if (v === undefined || v === '') throw new ChannelError('protocol', `wxpay v2: ${what} lacks ${key}`);
  return v;
}

function parseDoc(body: string, root: 'xml' | 'root' = 'xml'): Record<string, string> {
  try {
    return parseWechatXml(body, root);
  } catch (err) {
    if (err instanceof XmlFormatError) throw new ChannelError('protocol', `wxpay v2: notification is not a v2 XML document (${err.message})`);
    throw err;
  }
}

export async function createV2Payment(client: WechatPayV2Client, order: PayOrderInput, nowSeconds: string, log: Logger): Promise<CreatePaymentResult> {
  const way = order.wayCode;
  if (!isWechatWay(way)) throw new ChannelError('misconfigured', `wxpay v2 does not serve way ${way}`);
  const answer = await client.call('/pay/unifiedorder', buildUnifiedOrder(way, client.config, order), log);
  // Native 模式一: the scan callback answers WeChat with the prepay_id, not a code_url (v2-product-qr.ts).
  if (way === 'WX_NATIVE' && order.extra.scanMode === 'product') {
    return { status: 'WAITING', payDataType: 'wxapp', payData: JSON.stringify({ prepay_id: required(answer, 'prepay_id', 'NATIVE unifiedorder answer') }) };
  }
  if (way === 'WX_NATIVE') return { status: 'WAITING', payDataType: 'codeUrl', payData: required(answer, 'code_url', 'NATIVE unifiedorder answer') };
  if (way === 'WX_H5') return { status: 'WAITING', payDataType: 'payurl', payData: h5PayUrl(required(answer, 'mweb_url', 'MWEB unifiedorder answer'), order.returnUrl) };
  const prepayId = required(answer, 'prepay_id', `${way} unifiedorder answer`);
  // The app the payer pays in: the sub-merchant's in the outsourced and component scenarios.
  const appId = v2PayerAppId(way, client.config);
  const { apiKey, signType, mchId, sp } = client.config;
  const params =
    way === 'WX_APP'
      ? v2AppPayParams(appId, sp ? sp.subMchId : mchId, prepayId, newNonce(32), nowSeconds, apiKey)
      : v2JsapiPayParams(appId, nowSeconds, newNonce(32), prepayId, apiKey, signType);
  return { status: 'WAITING', payDataType: 'wxapp', payData: JSON.stringify(params) };
}

export async function queryV2Payment(client: WechatPayV2Client, order: PayOrderInput, log: Logger): Promise<PaymentStatus> {
  let answer: Record<string, string>;
  try {
    answer = await client.call('/pay/orderquery', { appid: client.config.appId, out_trade_no: order.payOrderId }, log);
  } catch (err) {
    if (isRejected(err, 'ORDERNOTEXIST')) return { status: 'NOT_FOUND' };
    throw err;
  }
  // return_code and result_code were SUCCESS (the client checked, in that order); now trade_state.
  return v2PaymentStatus(answer);
}

export async function closeV2Payment(client: WechatPayV2Client, order: PayOrderInput, log: Logger): Promise<CloseResult> {
  try {
    await client.call('/pay/closeorder', { appid: client.config.appId, out_trade_no: order.payOrderId }, log);
    return { status: 'CLOSED' };
  } catch (err) {
    if (isRejected(err, 'ORDERPAID')) return { status: 'ALREADY_PAID' };
    if (isRejected(err, 'ORDERCLOSED')) return { status: 'CLOSED' };
    throw err;
  }
}

/** /secapi/pay/refund (mutual TLS). An accepted refund is PROCESSING until notified or queried. */
export async function refundV2(client: WechatPayV2Client, order: PayOrderInput, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  const fields = { ...buildV2Refund(order, refund), appid: client.config.appId };
  const answer = await client.call('/secapi/pay/refund', fields, log);
  const result: RefundStatus = { status: 'PROCESSING', outRefundNo: required(answer, 'out_refund_no', 'refund answer'), outTradeNo: answer.out_trade_no };
  if (answer.refund_id) result.channelRefundNo = answer.refund_id;
  if (answer.refund_fee && /^[0-9]+$/.test(answer.refund_fee)) result.refundAmount = Number(answer.refund_fee);
  return result;
}

export async function queryV2Refund(client: WechatPayV2Client, refund: RefundInput, log: Logger): Promise<RefundStatus> {
  let answer: Record<string, string>;
  try {
    answer = await client.call('/pay/refundquery', { appid: client.config.appId, out_refund_no: refund.refundOrderId }, log);
  } catch (err) {
    if (isRejected(err, 'REFUNDNOTEXIST')) return { status: 'NOT_FOUND' };
    throw err;
  }
  return v2RefundFromQuery(answer, refund.refundOrderId);
}

/**
 * Pay notifications are signed like answers (the declared sign_type, MD5 when absent); refund
 * notifications are not signed at all: their proof is that req_info decrypts under md5(API key).
 */
export function parseV2Callback(client: WechatPayV2Client, kind: 'pay' | 'refund', request: InboundCallback): ParsedCallback {
  const doc = parseDoc(request.rawBody.toString('utf8'));
  if (doc.return_code !== 'SUCCESS') throw new ChannelError('protocol', `wxpay v2: notification return_code ${String(doc.return_code)}`);
  if (kind === 'pay') {
    if (doc.req_info !== undefined) throw new ChannelError('protocol', 'wxpay v2: a refund notification arrived at the pay URL');
    const signType = declaredSignType(doc);
    if (!signType || !v2SignMatches(doc, client.config.apiKey, signType)) throw new ChannelError('bad_signature', 'wxpay v2: pay notification sign does not verify');
    client.checkOwner(doc, true);
    const payment = doc.result_code === 'SUCCESS' ? v2PaymentStatus(doc, 'SUCCESS') : { ...v2PaymentStatus(doc, 'PAYERROR'), errCode: doc.err_code ?? 'PAYERROR' };
    return { kind: 'pay', payment, eventId: doc.transaction_id ?? doc.out_trade_no };
  }
  const reqInfo = doc.req_info;
  if (!reqInfo) throw new ChannelError('protocol', 'wxpay v2: refund notification lacks req_info');
  client.checkOwner(doc);
  let plaintext: string;
  try {
    plaintext = decryptReqInfo(reqInfo, client.config.apiKey);
  } catch {
    throw new ChannelError('bad_signature', 'wxpay v2: req_info does not decrypt with this API key');
  }
  const inner = parseDoc(plaintext, 'root');
  return { kind: 'refund', refund: v2RefundFromNotification(inner), eventId: inner.refund_id };
}

/** v2 wants an XML answer and nothing around it (protocols.md §B.4); anything else counts as a failure. */
export function v2Reply(ok: boolean, message: string): CallbackReply {
  return {
    status: ok ? 200 : 400,
    contentType: 'text/xml; charset=utf-8',
    body: buildWechatXml({ return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: message }),
  };
}

/** A v2 notification is an XML document; v3 sends JSON. */
export function isV2Callback(request: InboundCallback | undefined): boolean {
  if (!request) return false;
  const type = request.headers['content-type'] ?? '';
  if (/xml/i.test(type)) return true;
  return request.rawBody.subarray(0, 64).toString('utf8').trimStart().startsWith('<');
}
