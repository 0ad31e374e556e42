import type { WayCode } from '../../domain/pay-way.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * 中国农业银行 ABC TrustPay / 综合收银台: every wire fact the client and the simulator share, in
 * one place, so a merchant holding ABC's kit (TrustPayClient, TrustPay.cer) can check and change
 * each. The numbers (A1 …) refer to the assumption list in docs/channels/abc.md.
 */

/** A1: production and test servlet. */
export const ABC_DEFAULT_BASE_URL = 'https://pay.abchina.com';
export const ABC_TEST_BASE_URL = 'https://pay.test.abchina.com';
export const ABC_SERVLET = '/ebus/ReceiveMerchantTrxReqServlet';

/** A2: every message is JSON text in GB18030. */
export const ABC_CHARSET = 'gb18030';
export const ABC_CONTENT_TYPE = 'text/plain; charset=GB18030';

/** A3: the fixed envelope values. */
export const ABC_ENVELOPE = { version: 'V3.0.0', format: 'JSON', merchantType: 'EBUS', signatureAlgorithm: 'SHA1withRSA' } as const;

export const ABCPAY_WAYS = ['QR_CASHIER', 'WX_NATIVE', 'ALI_QR', 'UP_QR', 'ABC_APP'] as const satisfies readonly WayCode[];
export type AbcpayWay = (typeof ABCPAY_WAYS)[number];

/** A5: TrxType per call. One code (一码多扫) serves QR_CASHIER and the three wallets' QR ways. */
export const TRX_TYPE = {
  scanOrder: 'OLScanPayOrderReq',
  pageOrder: 'PayReq',
  query: 'Query',
  refund: 'Refund',
  refundQuery: 'RefundQuery',
  close: 'CloseOrder',
} as const;

/** A5: order constants. */
export const ORDER_CONSTANTS = {
  payTypeId: 'ImmediatePay',
  currencyCode: '156',
  commodityType: '0201',
  installmentMark: '0',
  paymentType: 'A',
  notifyType: '1',
  isBreakAccount: '0',
} as const;

/** A6: PaymentLinkType — 1 computer, 2 mobile (ABC_APP: the mobile bank app). */
export const PAYMENT_LINK = { pc: '1', mobile: '2' } as const;

/** A4: ReturnCode values. */
export const ABC_CODES = {
  success: '0000',
  unknown: 'EUNKWN',
  systemError: 'APE001',
  merchantNotFound: 'APE002',
  notEnabled: 'APE003',
  formatError: 'APE009',
  signatureError: 'APE400',
  orderNotExist: 'E001',
  orderPaid: 'E002',
  orderClosed: 'E003',
  orderRefunded: 'E004',
  refundExceeds: 'E005',
  notRefundable: 'E006',
  orderNoUsed: 'E007',
} as const;

/** A4: codes that decide nothing: outcome unknown, retry or query. */
export const ABC_UNKNOWN_CODES: ReadonlySet<string> = new Set([ABC_CODES.unknown]);

/** A8: order `Status` in query answers and notifications → our status. */
export const ORDER_STATUS: Record<string, PaymentStatus['status']> = {
  '01': 'WAITING',
  '02': 'WAITING',
  '03': 'SUCCESS',
  '04': 'SUCCESS',
  '05': 'SUCCESS',
  '06': 'FAIL',
  '07': 'SUCCESS',
  '99': 'CLOSED',
};

/** A9: refund `RefundStatus` → our status (refunds are synchronous; the query confirms). */
export const REFUND_STATUS: Record<string, RefundStatus['status']> = {
  SUCCESS: 'SUCCESS',
  PROCESSING: 'PROCESSING',
  FAIL: 'FAIL',
};

/** A10: notifications are a form field MSG (base64 of the GB18030 envelope); any HTTP 200 acknowledges; retries (seconds). */
export const NOTIFY_FIELD = 'MSG';
export const NOTIFY_RETRY_S = [30, 60, 300, 900, 1800, 3600] as const;

/** A7: which wallet paid (PayChannel). */
export const PAY_CHANNEL = { WECHAT: 'WX', ALIPAY: 'ALIPAY', UNIONPAY: 'UNIONPAY', ABC: 'ABC', JD: 'JD' } as const;
