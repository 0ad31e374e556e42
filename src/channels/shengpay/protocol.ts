import type { WayCode } from '../../domain/pay-way.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * 盛付通 Shengpay 聚合收单: every wire fact the client and the simulator share, in one place, so
 * a merchant holding Shengpay's contract kit can check and change each. The numbers (S1 …) refer
 * to the assumption list in docs/channels/shengpay.md; sources are named there.
 */

/** S1: production host. */
export const SHENGPAY_DEFAULT_BASE_URL = 'https://mchapi.shengpay.com';

/** S2: the API paths. Trade creation has an offline (线下) and an online (线上) variant, chosen per contract. */
export const SHENGPAY_PATHS = {
  unifiedOffline: '/pay/unifiedorderOffline',
  unifiedOnline: '/pay/unifiedorder',
  authPay: '/pay/authPay',
  query: '/pay/queryOrder',
  close: '/pay/closeOrder',
  reverse: '/pay/reverseOrder',
  refund: '/refund/orderRefund',
  refundQuery: '/refund/queryRefundOrder',
} as const;

export const SHENGPAY_WAYS = ['WX_JSAPI', 'WX_LITE', 'WX_NATIVE', 'WX_H5', 'ALI_QR', 'ALI_JSAPI', 'ALI_WAP', 'ALI_PC', 'UP_QR', 'WX_BAR', 'ALI_BAR', 'UP_BAR', 'YSF_BAR'] as const satisfies readonly WayCode[];
export type ShengpayWay = (typeof SHENGPAY_WAYS)[number];

/** S5: our way → Shengpay tradeType. The bar-code types (S9) go to authPay. */
export const TRADE_TYPE: Record<ShengpayWay, string> = {
  WX_JSAPI: 'wx_jsapi',
  WX_LITE: 'wx_lite',
  WX_NATIVE: 'wx_native',
  WX_H5: 'wx_wap',
  ALI_QR: 'alipay_qr',
  ALI_JSAPI: 'alipay_jsapi',
  ALI_WAP: 'alipay_wap',
  ALI_PC: 'alipay_pc',
  UP_QR: 'upacp_qr',
  WX_BAR: 'wx_scan',
  ALI_BAR: 'alipay_scan',
  UP_BAR: 'upacp_scan',
  YSF_BAR: 'upacp_scan',
};

export const BAR_TRADE_TYPES: ReadonlySet<string> = new Set(['wx_scan', 'alipay_scan', 'upacp_scan']);

/** S4: signType values and the hash each means (RSA = PHP openssl_sign's default, SHA1). */
export const SIGN_TYPES = { RSA: 'sha1', RSA2: 'sha256' } as const;
export type ShengpaySignType = keyof typeof SIGN_TYPES;

/** S10: order `status` in queries, authPay answers and notifications → our status. */
export const ORDER_STATUS: Record<string, PaymentStatus['status']> = {
  PAY_INIT: 'WAITING',
  PAY_ING: 'WAITING',
  PAY_SUCCESS: 'SUCCESS',
  // Refunds keep the order paid: money was taken.
  REFUND_ING: 'SUCCESS',
  REFUND_SUCCESS: 'SUCCESS',
  PAY_FAIL: 'FAIL',
  CLOSED: 'CLOSED',
  REVOKED: 'REVOKED',
};

/** S12: refund `refundStatus` → our status. */
export const REFUND_STATUS: Record<string, RefundStatus['status']> = {
  REFUND_ING: 'PROCESSING',
  REFUND_SUCCESS: 'SUCCESS',
  REFUND_FAIL: 'FAIL',
};

/** S7: errorCode values meaning "busy / unknown, nothing decided": retryable, outcome unknown. */
export const BUSY_ERROR_CODES: ReadonlySet<string> = new Set(['BIZERR_NEED_RETRY', 'SYSTEM_ERROR', 'SYSTEM_BUSY']);

/** S7: errorCode answered for an order (or refund) Shengpay does not know. */
export const ORDER_NOT_EXIST = 'ORDER_NOT_EXIST';
export const REFUND_NOT_EXIST = 'REFUND_NOT_EXIST';
/** S7: closing a paid order. */
export const ORDER_PAID = 'ORDER_PAID';
/** S7: the other business refusals the simulator gives (the client treats any non-busy FAIL as a refusal). */
export const SHENGPAY_ERRORS = {
  paramsError: 'PARAMS_ERROR',
  lackParams: 'LACK_PARAMS',
  signError: 'SIGN_ERROR',
  merchantNotFound: 'MCH_NOT_FOUND',
  orderClosed: 'ORDER_CLOSED',
  orderInconsistent: 'OUT_TRADE_NO_USED',
  authCodeInvalid: 'AUTH_CODE_INVALID',
  balanceNotEnough: 'BALANCE_NOT_ENOUGH',
  refundAmountError: 'REFUND_AMOUNT_ERROR',
  notRefundable: 'ORDER_NOT_REFUNDABLE',
} as const;

/** S13: notifications are acknowledged by exactly this text; otherwise re-sent on this schedule (seconds). */
export const NOTIFY_ACK = 'SUCCESS';
export const NOTIFY_RETRY_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800] as const;

/** S6: yyyyMMddHHmmss in China time for timeExpire / payTime / refundTime. */
export const TIME_FORMAT = 'yyyyMMddHHmmss';
