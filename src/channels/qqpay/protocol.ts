import type { WayCode } from '../../domain/pay-way.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * QQ 钱包 (QPay) merchant API: the wire facts client and simulator share. QPay is a sibling of
 * WeChat Pay API v2 (protocols.md §F.1, §B): flat XML, MD5 signatures with `&key=`, and the
 * return_code → result_code → trade_state layers. The numbers (Q1 …) refer to the assumption
 * list in docs/channels/qqpay.md.
 */

/** Q1: the order host, and the host of the money-back calls, which demand the merchant's client certificate. */
export const QPAY_HOSTS = { pay: 'https://qpay.qq.com', api: 'https://api.qpay.qq.com' } as const;

export const QPAY_PATHS = {
  unifiedOrder: '/cgi-bin/pay/qpay_unified_order.cgi',
  microPay: '/cgi-bin/pay/qpay_micro_pay.cgi',
  orderQuery: '/cgi-bin/pay/qpay_order_query.cgi',
  closeOrder: '/cgi-bin/pay/qpay_close_order.cgi',
  refundQuery: '/cgi-bin/pay/qpay_refund_query.cgi',
  refund: '/cgi-bin/pay/qpay_refund.cgi',
  reverse: '/cgi-bin/pay/qpay_reverse.cgi',
} as const;

/** Q1: served by the api host over mutual TLS. */
export const CERT_PATHS: ReadonlySet<string> = new Set([QPAY_PATHS.refund, QPAY_PATHS.reverse]);

export const QQPAY_WAYS = ['QQ_PAY'] as const satisfies readonly WayCode[];

/** Q3: QQ_PAY's trade types, picked by channelExtra.tradeType (NATIVE by default, MICROPAY with an authCode). */
export const TRADE_TYPES = ['NATIVE', 'JSAPI', 'APP', 'MICROPAY'] as const;
export type TradeType = (typeof TRADE_TYPES)[number];

/** Q4: a QQ 钱包 payment code: 18 digits starting 91. */
export const QQ_AUTH_CODE = /^91\d{16}$/;

/** Q5: trade_state → our status. REFUND (转入退款) was paid. */
export const TRADE_STATE: Record<string, PaymentStatus['status']> = {
  SUCCESS: 'SUCCESS',
  REFUND: 'SUCCESS',
  NOTPAY: 'WAITING',
  USERPAYING: 'WAITING',
  CLOSED: 'CLOSED',
  REVOKED: 'REVOKED',
  PAYERROR: 'FAIL',
};

/** Q7: refund_status → our status. NOTSURE asks for the same refund again: still in progress for us. */
export const REFUND_STATE: Record<string, RefundStatus['status']> = {
  SUCCESS: 'SUCCESS',
  PROCESSING: 'PROCESSING',
  NOTSURE: 'PROCESSING',
  FAIL: 'FAIL',
  CHANGE: 'FAIL',
};

/**
 * Q6: err_codes that are a definite answer. Any other err_code (SYSTEMERROR, BANKERROR, one we do
 * not know) leaves the outcome unknown: a fault the core settles by querying.
 */
export const DEFINITE_CODES: ReadonlySet<string> = new Set([
  'ORDERPAID', 'ORDERCLOSED', 'ORDERREVERSED', 'ORDERNOTEXIST', 'REFUNDNOTEXIST', 'OUT_TRADE_NO_USED', 'USERPAYING',
  'AUTHCODEEXPIRE', 'AUTH_CODE_INVALID', 'AUTH_CODE_ERROR', 'NOTENOUGH', 'NOTSUPORTCARD', 'BUYER_MISMATCH', 'TRADE_ERROR',
  'NOAUTH', 'PARAM_ERROR', 'LACK_PARAMS', 'SIGNERROR', 'INVALID_REQUEST', 'XML_FORMAT_ERROR', 'APPID_NOT_EXIST', 'MCHID_NOT_EXIST',
  'APPID_MCHID_NOT_MATCH', 'REFUND_FEE_INVALID', 'TRADE_STATE_ERROR', 'OPUSER_INVALID',
]);

/** Q4: MICROPAY refusals after which the payment code cannot pay this order. */
export const BAR_FINAL_CODES = ['AUTHCODEEXPIRE', 'AUTH_CODE_INVALID', 'AUTH_CODE_ERROR', 'NOTENOUGH', 'NOTSUPORTCARD', 'ORDERCLOSED', 'ORDERREVERSED', 'BUYER_MISMATCH', 'TRADE_ERROR', 'NOAUTH', 'PARAM_ERROR'] as const;

/** Q8: the acknowledgement QPay expects; anything else makes it retry on this schedule (seconds). */
export const NOTIFY_ACK_XML = '<xml><return_code>SUCCESS</return_code></xml>';
export const NOTIFY_NACK_XML = '<xml><return_code>FAIL</return_code><return_msg>refused</return_msg></xml>';
export const NOTIFY_RETRY_S = [15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600] as const;
