import { createHmac } from 'node:crypto';
import { compactChinaTime, parseCompactChinaTime } from '../china-time.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus } from '../types.ts';
import type { QqpayConfig } from './config.ts';
import { QQ_AUTH_CODE, REFUND_STATE, TRADE_STATE, TRADE_TYPES, type TradeType } from './protocol.ts';

/** Pure translations between our orders and QPay's fields (docs/channels/qqpay.md). Amounts are integer fen. */

type Fields = Record<string, string>;

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `qqpay: ${message}`, { channelCode: 'PARAM_ERROR', channelMessage: message });
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `qqpay: ${message}`);
}

function requireCny(currency: string): void {
  if (currency !== 'CNY') throw paramError(`currency ${currency} is not supported (CNY only)`);
}

export function authCodeOf(order: PayOrderInput): string | undefined {
  const code = order.extra.authCode ?? order.extra.auth_code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** Q3: channelExtra.tradeType, else MICROPAY when the payer's code is given, else NATIVE. */
export function tradeTypeOf(order: PayOrderInput): TradeType {
  const given = order.extra.tradeType;
  const code = authCodeOf(order);
  if (given === undefined) return code ? 'MICROPAY' : 'NATIVE';
  if (typeof given !== 'string' || !(TRADE_TYPES as readonly string[]).includes(given)) throw paramError(`channelExtra.tradeType must be one of ${TRADE_TYPES.join(', ')}`);
  if (code && given !== 'MICROPAY') throw paramError(`channelExtra.authCode goes with tradeType MICROPAY, not ${given}`);
  return given as TradeType;
}

/** body: at most 128 characters, cut by code point. */
function body(subject: string): string {
  const chars = Array.from(subject.trim());
  if (chars.length === 0) throw paramError('subject (body) is required');
  return chars.slice(0, 128).join('');
}

function common(order: PayOrderInput): Fields {
  requireCny(order.currency);
  return { body: body(order.subject), out_trade_no: order.payOrderId, fee_type: 'CNY', total_fee: String(order.amount), spbill_create_ip: order.clientIp || '127.0.0.1' };
}

export function unifiedOrderFields(config: QqpayConfig, order: PayOrderInput, tradeType: 'NATIVE' | 'JSAPI' | 'APP'): Fields {
  if (tradeType !== 'NATIVE' && !config.appId) throw new ChannelError('misconfigured', `qqpay: trade type ${tradeType} needs appId`);
  return {
    ...(config.appId ? { appid: config.appId } : {}),
    ...common(order),
    time_expire: compactChinaTime(order.expiredAt.getTime()),
    notify_url: order.notifyUrl,
    trade_type: tradeType,
  };
}

export function microPayFields(config: QqpayConfig, order: PayOrderInput): Fields {
  const code = authCodeOf(order);
  if (!code || !QQ_AUTH_CODE.test(code)) throw new ChannelError('rejected', 'qqpay: MICROPAY needs channelExtra.authCode, an 18-digit QQ 钱包 payment code (91…)', { channelCode: 'AUTH_CODE_INVALID', channelMessage: 'invalid auth code' });
  return { ...(config.appId ? { appid: config.appId } : {}), ...common(order), notify_url: order.notifyUrl, auth_code: code };
}

/** Q10: what `mqq.tenpay.pay` takes in the QQ JS API: the prepay id as tokenId, and the app/merchant as appInfo. */
export function jsapiPayParams(config: QqpayConfig, prepayId: string): Fields {
  return { tokenId: prepayId, appInfo: `appid#${config.appId ?? ''}|bargainor_id#${config.mchId}|channel#wallet`, pubAcc: '' };
}

/**
 * Q11: the QQ 钱包 app SDK's PayApi: sig = base64(HMAC-SHA1(sorted `k=v&…` over appId, bargainorId,
 * nonce, pubAcc, tokenId — pubAcc kept even when empty —, key = appKey + "&")).
 */
export function appPayParams(config: QqpayConfig, prepayId: string, nonce: string, timeStamp: string): Fields {
  if (!config.appKey) throw new ChannelError('misconfigured', 'qqpay: the APP trade type needs appKey');
  const signed: Fields = { appId: config.appId ?? '', bargainorId: config.mchId, nonce, pubAcc: '', tokenId: prepayId };
  const text = Object.keys(signed).sort().map((k) => `${k}=${signed[k]}`).join('&');
  const sig = createHmac('sha1', `${config.appKey}&`).update(text, 'utf8').digest('base64');
  return { ...signed, timeStamp, sig, sigType: 'HMAC-SHA1' };
}

export function fen(fields: Fields, key: string): number | undefined {
  const v = fields[key];
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw protocol(`${key} "${v}" is not an integer amount`);
  return Number(v);
}

/** An order query, a micropay success or a notification as our status; trade_state decides (Q5). */
export function paymentStatus(fields: Fields, tradeState = fields.trade_state): PaymentStatus {
  const status = tradeState !== undefined && Object.hasOwn(TRADE_STATE, tradeState) ? TRADE_STATE[tradeState] : undefined;
  if (!status) throw protocol(`unknown trade_state ${JSON.stringify(tradeState)}`);
  const result: PaymentStatus = { status, currency: fields.fee_type || 'CNY' };
  if (fields.out_trade_no) result.outTradeNo = fields.out_trade_no;
  const amount = fen(fields, 'total_fee');
  if (amount !== undefined) result.amount = amount;
  if (fields.transaction_id) result.channelOrderNo = fields.transaction_id;
  if (fields.openid) result.channelUser = fields.openid;
  const at = fields.time_end ? parseCompactChinaTime(fields.time_end) : undefined;
  if (at && status === 'SUCCESS') result.successAt = at;
  if (status === 'FAIL') {
    result.errCode = 'PAYERROR';
    if (fields.trade_state_desc) result.errMsg = fields.trade_state_desc;
  }
  return result;
}

export function refundFields(order: PayOrderInput, refund: RefundInput): Fields {
  requireCny(refund.currency);
  return { ...(order.channelOrderNo ? { transaction_id: order.channelOrderNo } : {}), out_trade_no: order.payOrderId, out_refund_no: refund.refundOrderId, refund_fee: String(refund.refundAmount) };
}

/** Q7: the refund query lists the order's refunds with indexed fields (out_refund_no_$n …); pick ours. */
export function refundFromQuery(fields: Fields, outRefundNo: string): RefundStatus {
  const count = Number(fields.refund_count ?? '0');
  if (!Number.isSafeInteger(count) || count < 0 || count > 100) throw protocol(`refund_count ${fields.refund_count} is not a count`);
  for (let n = 0; n < count; n++) {
    if (fields[`out_refund_no_${n}`] !== outRefundNo) continue;
    const state = fields[`refund_status_${n}`];
    const status = state !== undefined && Object.hasOwn(REFUND_STATE, state) ? REFUND_STATE[state] : undefined;
    if (!status) throw protocol(`unknown refund_status ${JSON.stringify(state)}`);
    const result: RefundStatus = { status, outRefundNo, ...(fields.out_trade_no ? { outTradeNo: fields.out_trade_no } : {}) };
    const amount = fen(fields, `refund_fee_${n}`);
    if (amount !== undefined) result.refundAmount = amount;
    if (fields[`refund_id_${n}`]) result.channelRefundNo = fields[`refund_id_${n}`];
    if (status === 'FAIL') {
      result.errCode = state;
      result.errMsg = state === 'CHANGE' ? 'the refund could not reach the payer (转入代发); handle it in the merchant portal' : 'QPay reports the refund failed';
    }
    return result;
  }
  return { status: 'NOT_FOUND' };
}
