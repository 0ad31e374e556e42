import type { WayCode } from '../../domain/pay-way.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * 信联 Xinlian acquiring: its contract is not public, so this module IS the protocol assumption
 * (docs/channels/xinlian.md X1–X9) — paths, field names, codes, states — shared by the client and
 * the simulator. When the real contract arrives, this file, sign.ts and mapping.ts change; the
 * channel and the core do not.
 */

/** X1: paths under the base URL Xinlian gives the merchant (no public host: `baseUrl` is required). */
export const XL_PATHS = {
  unifiedOrder: '/api/pay/unifiedorder',
  query: '/api/pay/query',
  close: '/api/pay/close',
  refund: '/api/refund/apply',
  refundQuery: '/api/refund/query',
} as const;

/** X3: both ways are an Alipay mini-program payment through Xinlian. */
export const XINLIAN_WAYS = ['XLALILITE', 'ALI_LITE'] as const satisfies readonly WayCode[];
export type XinlianWay = (typeof XINLIAN_WAYS)[number];
export const PAY_TYPE_ALIPAY_LITE = 'ALIPAY_LITE';

/** X2: RSA2 = SHA256withRSA over sorted k=v; timestamp in epoch ms within this window; nonce never reused. */
export const SIGN_TYPE = 'RSA2';
export const TIMESTAMP_WINDOW_MS = 5 * 60 * 1000;

/** X4: result codes. */
export const XL_CODES = {
  success: '0000',
  paramError: '1001',
  signError: '1002',
  merchantNotFound: '1003',
  timestampOutOfWindow: '1004',
  nonceUsed: '1005',
  orderNotFound: '2001',
  orderPaid: '2002',
  orderClosed: '2003',
  outTradeNoUsed: '2004',
  refundExceeds: '2005',
  notRefundable: '2006',
  refundNoUsed: '2007',
  systemBusy: '9999',
} as const;
export const XL_BUSY_CODES: ReadonlySet<string> = new Set([XL_CODES.systemBusy]);

/** X5: tradeState → our status. */
export const TRADE_STATE: Record<string, PaymentStatus['status']> = {
  WAIT_PAY: 'WAITING',
  SUCCESS: 'SUCCESS',
  CLOSED: 'CLOSED',
  FAIL: 'FAIL',
  REVOKED: 'REVOKED',
};

/** X6: refundState → our status. */
export const REFUND_STATE: Record<string, RefundStatus['status']> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  FAIL: 'FAIL',
};

/** X7: notifications (notifyType PAY / REFUND) are acknowledged by this text; otherwise re-sent on this schedule (seconds). */
export const NOTIFY_ACK = 'SUCCESS';
export const NOTIFY_RETRY_S = [15, 15, 30, 180, 1800, 1800, 3600] as const;
