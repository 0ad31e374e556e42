import type { FastifyBaseLogger } from 'fastify';
import type { Deliverable } from '../notifier.ts';

/**
 * The books of an acquirer sandbox (盛付通, 京东支付, 农业银行 …): channels that collect money for
 * a merchant through several wallets. The records are protocol-neutral; each channel's simulator
 * renders them in its own wire format. Amounts are integer minor units, times epoch milliseconds.
 */

/** Whose app pays: one acquirer code may be payable from several wallets (一码多扫). */
export const WALLETS = ['WECHAT', 'ALIPAY', 'UNIONPAY', 'JD', 'ABC', 'QQ', 'ICBC'] as const;
export type Wallet = (typeof WALLETS)[number];

/**
 * CREATED: waiting for the payer. PAYING: the payer is entering a password (bar code).
 * SUCCESS: paid (also after refunds). CLOSED: closed unpaid (expiry, merchant close, payer
 * cancel). FAILED: the payer's payment failed. REVOKED: a bar-code payment undone (撤销).
 */
export type TradeStatus = 'CREATED' | 'PAYING' | 'SUCCESS' | 'CLOSED' | 'FAILED' | 'REVOKED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'FAILED';

export interface MerchantRecord {
  id: string;
  name: string;
  /** The merchant's RSA public key (PEM): the simulator verifies requests with it. */
  publicKeyPem: string;
  /** Channel-specific shared secrets (JD's 3DES key). */
  secrets: Record<string, string>;
  createdAt: number;
}

export interface TradeRecord {
  merchantId: string;
  outTradeNo: string;
  /** The channel's own number for the trade. */
  tradeNo: string;
  /** The channel's product (tradeType) the trade was created with. */
  product: string;
  wallets: Wallet[];
  amount: number;
  currency: string;
  subject: string;
  status: TradeStatus;
  /** Fingerprint of the creating request: a repeat with other fields is refused. */
  paramsHash: string;
  /** Identifies the trade's payer page and code. */
  token: string;
  notifyUrl?: string;
  returnUrl?: string;
  /** Who paid and with which wallet. */
  payer?: string;
  paidWith?: Wallet;
  paidAt?: number;
  closedAt?: number;
  createdAt: number;
  expiresAt: number;
  /** Bar code: the payer confirms the password at this time. */
  passwordUntil?: number;
  /** Refunded (SUCCESS) plus reserved by refunds in progress. */
  refunded: number;
  /** Channel specifics echoed in answers (openid, app id, auth code …). */
  attrs: Record<string, string>;
}

export interface RefundRecord {
  merchantId: string;
  outTradeNo: string;
  outRefundNo: string;
  refundNo: string;
  amount: number;
  status: RefundStatus;
  reason?: string;
  notifyUrl?: string;
  createdAt: number;
  doneAt?: number;
}

/** A notification (delivery history in the shared notifier's fields; `id` is the same on every retry). */
export interface NoticeRecord extends Deliverable {
  merchantId: string;
  kind: 'pay' | 'refund';
  outTradeNo: string;
  outRefundNo?: string;
  createdAt: number;
}

export interface AcquirerFaults {
  /** The next N API calls answer the channel's "system busy" without doing anything. */
  busyNextRequests: number;
  /** The same for the next N order-creating calls only (background queries do not use them up). */
  busyNextCreates: number;
  /** Every API answer waits this long (the client's deadline may pass: a timeout). */
  responseDelayMs: number;
  /** Notifications carry a signature over other content. */
  badNotifySignature: boolean;
  /** Notifications are correctly signed but claim the amount + 1. */
  tamperNotifyAmount: boolean;
  /** Notifications are correctly signed but name another merchant. */
  wrongNotifyMerchant: boolean;
  /** Every acknowledged notification is delivered once more. */
  duplicateNotifications: boolean;
  /** Refunds stay PROCESSING until released (admin API). */
  holdRefunds: boolean;
  /** Refunds end FAILED (the money could not go back). */
  failRefunds: boolean;
}

export function defaultAcquirerFaults(): AcquirerFaults {
  return { busyNextRequests: 0, busyNextCreates: 0, responseDelayMs: 0, badNotifySignature: false, tamperNotifyAmount: false, wrongNotifyMerchant: false, duplicateNotifications: false, holdRefunds: false, failRefunds: false };
}

export interface AcquirerOptions {
  /** 0 = a free port. */
  port?: number;
  host?: string;
  /** Divides notification retry delays, the bar-code password delay and the refund delay. */
  timeScale?: number;
  /** JSON file keeping merchants, trades, refunds, pending notifications and the simulator's keys. */
  stateFile?: string;
  logger?: FastifyBaseLogger | false;
  /** When set, /sandbox/v1 admin routes require `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Base URL used in payer links behind a proxy. */
  publicUrl?: string;
  /** Per-attempt notification timeout. Default 5000 ms. */
  callbackTimeoutMs?: number;
  /** Bar code: the payer confirms the password after this long (before timeScale). Default 5000 ms. */
  passwordDelayMs?: number;
  /** Refunds complete after this long (before timeScale). Default 2000 ms. */
  refundDelayMs?: number;
}

export interface TradeView {
  merchant_id: string;
  out_trade_no: string;
  trade_no: string;
  product: string;
  status: TradeStatus;
  amount: number;
  refunded: number;
  subject: string;
  wallets: Wallet[];
  paid_with: Wallet | null;
  payer: string | null;
  pay_url: string;
  created_at: string;
  paid_at: string | null;
}

export interface Ledger {
  trades: TradeView[];
  refunds: Array<{ merchant_id: string; out_trade_no: string; out_refund_no: string; refund_no: string; amount: number; status: RefundStatus }>;
  notifications: Array<{ id: string; kind: 'pay' | 'refund'; out_trade_no: string; out_refund_no: string | null; url: string; attempts: number; delivered: boolean; gave_up: boolean; last_status: number | null; last_body: string | null; next_attempt_at: string | null }>;
}

/** A payer's or merchant's request the channel refuses; each simulator renders `reason` as its own code. */
export type RefusalReason =
  | 'NOT_FOUND'
  | 'PAID'
  | 'CLOSED'
  | 'INCONSISTENT'
  | 'NOT_PAYABLE'
  | 'BAR_INVALID'
  | 'BAR_DECLINED'
  | 'NOT_REFUNDABLE'
  | 'REFUND_EXCEEDS'
  | 'REFUND_INCONSISTENT'
  | 'WALLET_NOT_ACCEPTED';

export class SimRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'SimRefusal';
  }
}
