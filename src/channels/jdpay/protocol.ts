import type { WayCode } from '../../domain/pay-way.ts';
import type { PaymentStatus, RefundStatus } from '../types.ts';

/**
 * 京东支付 JD Pay: every wire fact the client and the simulator share, in one place, so a
 * merchant holding JD's contract kit can check and change each. The numbers (J1 …) refer to the
 * assumption list in docs/channels/jdpay.md; sources are named there.
 */

/** J1: production hosts (server API, PC cashier, H5 cashier). With `baseUrl` (sandbox) all three live under it. */
export const JD_HOSTS = {
  paygate: 'https://paygate.jd.com',
  pc: 'https://wepay.jd.com',
  h5: 'https://h5pay.jd.com',
} as const;

/** J1: paths on those hosts; the sandbox serves the cashiers under /wepay and /h5pay. */
export const JD_PATHS = {
  uniorder: '/service/uniorder',
  query: '/service/query',
  refund: '/service/refund',
  revoke: '/service/revoke',
  saveOrder: '/jdpay/saveOrder',
} as const;

export const JD_SANDBOX_CASHIER_PREFIX = { pc: '/wepay', h5: '/h5pay' } as const;

/** J2: the message version. */
export const JD_VERSION = 'V2.0';

export const JDPAY_WAYS = ['JD_H5', 'JD_PC', 'JD_QR', 'JD_APP', 'WX_NATIVE', 'ALI_QR'] as const satisfies readonly WayCode[];
export type JdpayWay = (typeof JDPAY_WAYS)[number];

/**
 * J6: how each way is created. uniorder `tradeType` GEN (a JD order the JD app pays) or QR (a
 * code); `payTool` names the wallet of JD's aggregated code (J7).
 */
export const WAY_REQUEST: Record<JdpayWay, { api: 'uniorder' | 'pc' | 'h5'; tradeType?: 'GEN' | 'QR'; payTool?: 'WX' | 'ALIPAY' }> = {
  JD_H5: { api: 'h5' },
  JD_PC: { api: 'pc' },
  JD_QR: { api: 'uniorder', tradeType: 'QR' },
  JD_APP: { api: 'uniorder', tradeType: 'GEN' },
  WX_NATIVE: { api: 'uniorder', tradeType: 'QR', payTool: 'WX' },
  ALI_QR: { api: 'uniorder', tradeType: 'QR', payTool: 'ALIPAY' },
};

/** J5: outer result codes. Only SUCCESS carries an encrypted body. */
export const JD_CODES = {
  success: '000000',
  paramError: '000001',
  signError: '000002',
  merchantNotFound: '000003',
  decryptError: '000004',
  orderNotExist: '000005',
  orderPaid: '000006',
  orderClosed: '000007',
  tradeNumUsed: '000008',
  refundExceeds: '000009',
  notRefundable: '000010',
  systemBusy: '999999',
} as const;

/** J5: codes meaning "busy / unknown, nothing decided". */
export const JD_BUSY_CODES: ReadonlySet<string> = new Set([JD_CODES.systemBusy]);

/** J8: trade `status` (query with tradeType 0, pay notifications) → our status. */
export const TRADE_STATUS: Record<string, PaymentStatus['status']> = {
  '0': 'WAITING',
  '1': 'WAITING',
  '2': 'SUCCESS',
  '3': 'FAIL',
  '4': 'CLOSED',
  '5': 'REVOKED',
};

/** J9: refund `status` (refund answer, query with tradeType 1, refund notifications) → our status. */
export const REFUND_STATUS: Record<string, RefundStatus['status']> = {
  '0': 'PROCESSING',
  '1': 'SUCCESS',
  '2': 'FAIL',
};

/** J8/J9: the query's tradeType: 0 a payment, 1 a refund. */
export const QUERY_TRADE_TYPE = { pay: '0', refund: '1' } as const;

/** J10: notifications are acknowledged by this text; otherwise re-sent on this schedule (seconds). */
export const NOTIFY_ACK = 'success';
export const NOTIFY_RETRY_S = [60, 120, 600, 1800, 3600, 7200, 21600] as const;

/** J4: orderType 1 = virtual goods (0 = physical, which wants a receiver address). */
export const ORDER_TYPE = '1';
