import type { WayCode } from '../../domain/pay-way.ts';
import type { RsaHash } from '../rsa.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * 工商银行 ICBC API 开放平台: every wire fact the client and the simulator share, in one place, so a
 * merchant holding ICBC's contract documents can check and change each. The numbers (I1 …) refer to
 * the assumption list in docs/channels/icbc.md.
 */

/** I1: the production gateway; every service is a path on it. */
export const ICBC_GATEWAY = 'https://gw.open.icbc.com.cn';

/** I2: the 聚合支付 B2C online service family (create, query, close, refund, refund query). */
export const ICBC_PATHS = {
  pay: '/api/cardbusiness/aggregatepay/b2c/online/consumepurchase/V1',
  query: '/api/cardbusiness/aggregatepay/b2c/online/orderqry/V1',
  close: '/api/cardbusiness/aggregatepay/b2c/online/orderclose/V1',
  refund: '/api/cardbusiness/aggregatepay/b2c/online/merrefund/V1',
  refundQuery: '/api/cardbusiness/aggregatepay/b2c/online/refundqry/V1',
} as const;

export const ICBC_WAYS = ['ICBC_APP'] as const satisfies readonly WayCode[];
export type IcbcWay = (typeof ICBC_WAYS)[number];

/** I3: pay_mode / access_type of an order the payer pays in 工行手机银行 / 工银e支付 (online, mobile). */
export const PAY_MODE_ICBC_APP = '11';
export const ACCESS_TYPE_MOBILE = '7';
/** I3: currency 001 = CNY (ICBC's own code list). */
export const CUR_TYPE_CNY = '001';

/** I4: common request parameters. Requests are signed RSA2 (SHA256withRSA). */
export const ICBC_FORMAT = 'json';
export const ICBC_CHARSET = 'UTF-8';
export const REQUEST_SIGN_TYPE = 'RSA2';
/** I4: sign_type → hash; notifications name theirs. */
export const SIGN_HASH: Record<string, RsaHash> = { RSA: 'sha1', RSA2: 'sha256' };
/** I5: the gateway signs its answers SHA1withRSA (as ICBC's own SDK verifies them). */
export const ANSWER_SIGN_HASH: RsaHash = 'sha1';
/** I4: how far a request's timestamp may be from the gateway's clock. */
export const TIMESTAMP_WINDOW_MS = 10 * 60 * 1000;

/** I6: return_code values. 0 = success; the busy ones mean "nothing decided, outcome unknown". */
export const ICBC_CODES = {
  success: 0,
  paramError: 400011,
  signError: 400017,
  appNotFound: 400019,
  msgIdUsed: 400020,
  timestampOutOfWindow: 400021,
  orderNotFound: 93001,
  orderPaid: 93002,
  orderClosed: 93003,
  outTradeNoUsed: 93004,
  refundExceeds: 93005,
  notRefundable: 93006,
  refundNoUsed: 93007,
  systemBusy: 500001,
} as const;
export const ICBC_BUSY_CODES: ReadonlySet<number> = new Set([ICBC_CODES.systemBusy, -1]);

/** I7: pay_status in queries and pay notifications. */
export const PAY_STATUS: Record<string, PaymentStatus['status']> = {
  '0': 'SUCCESS',
  '1': 'FAIL',
  '2': 'WAITING',
  '3': 'CLOSED',
  '4': 'REVOKED',
};

/** I8: refund_status of refund answers and queries (refunds settle in the answer). */
export const REFUND_STATUS: Record<string, RefundStatus['status']> = {
  '0': 'SUCCESS',
  '1': 'FAIL',
  '2': 'PROCESSING',
};

/** I9: notifications come from this sender; unacknowledged ones are re-sent on this schedule (seconds). */
export const NOTIFY_FROM = 'icbc-api';
export const NOTIFY_RETRY_S = [15, 15, 30, 180, 1800, 1800, 1800, 3600] as const;
/** I9: the merchant's answer is JSON signed RSA2 with its key. */
export const REPLY_SIGN_TYPE = 'RSA2';
