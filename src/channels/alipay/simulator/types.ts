import type { FastifyBaseLogger } from 'fastify';

/**
 * Types of the Alipay gateway simulator. Records use Alipay's snake_case names where they are
 * serialised as is; amounts are integer fen internally and become yuan strings only on the wire.
 */

export type KeyMode = 'publicKey' | 'cert';
export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';
/** Which method created the trade. */
export type TradeKind = 'precreate' | 'create' | 'pay' | 'page' | 'wap' | 'app';

export interface AlipaySimulatorOptions {
  /** 0 = random free port. */
  port?: number;
  host?: string;
  /** Divides notification retry delays and the bar-code password delay. Default 1. */
  timeScale?: number;
  /** JSON file keeping apps, trades, refunds, pending notifications and the simulator's keys. */
  stateFile?: string;
  logger?: FastifyBaseLogger | false;
  /** When set, /sandbox/v1 admin routes require `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Base URL used in qr_code, cashier links and bill URLs when behind a proxy. */
  publicUrl?: string;
  /** Per-attempt notification timeout. Default 5000 ms. */
  callbackTimeoutMs?: number;
  /** Bar-code codes starting 281: the payer confirms the password after this long (before timeScale). Default 5000 ms. */
  passwordDelayMs?: number;
}

export interface AppRecord {
  appId: string;
  /** The merchant's partner id (seller_id, 2088…). */
  pid: string;
  mode: KeyMode;
  /** Apps created after 2023 get buyer_open_id instead of buyer_id (jeepay.md §8 #123). */
  openId: boolean;
  appPublicKeyPem: string;
  appCertPem?: string;
  appCertSn?: string;
  createdAt: number;
}

export interface RegisterAppInput {
  appId?: string;
  mode?: KeyMode;
  openId?: boolean;
  pid?: string;
  /** Keep your own key: give the private key (the public key is derived) or just the public key. */
  appPrivateKeyPem?: string;
  appPublicKeyPem?: string;
}

export interface AppCredentials {
  appId: string;
  pid: string;
  mode: KeyMode;
  openId: boolean;
  gatewayUrl: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  appPrivateKeyPem?: string;
  appPublicKeyPem: string;
  /** Public-key mode. */
  alipayPublicKeyPem: string;
  /** Certificate mode. */
  appCertPem?: string;
  appCertSn?: string;
  alipayPublicCertPem?: string;
  alipayCertSn?: string;
  alipayRootCertPem?: string;
  alipayRootCertSn?: string;
}

export interface TradeRecord {
  app_id: string;
  out_trade_no: string;
  kind: TradeKind;
  product_code: string;
  subject: string;
  body?: string;
  /** fen */
  total_amount: number;
  params_hash: string;
  /** Absent while the trade does not exist at Alipay yet: a precreated code nobody scanned. */
  trade_no?: string;
  status?: TradeStatus;
  notify_url?: string;
  return_url?: string;
  quit_url?: string;
  qr_code?: string;
  qr_token?: string;
  passback_params?: string;
  buyer_id?: string;
  buyer_open_id?: string;
  buyer_logon_id?: string;
  auth_code?: string;
  /** Bar code: the payer is entering the password until then (10003). */
  password_until?: number;
  time_expire: number;
  gmt_create: number;
  gmt_payment?: number;
  gmt_close?: number;
  /** fen, cumulative */
  refunded: number;
}

export interface RefundRecord {
  app_id: string;
  out_trade_no: string;
  out_request_no: string;
  trade_no: string;
  /** fen */
  refund_amount: number;
  refund_reason?: string;
  gmt_refund_pay: number;
}

export interface NotifyRecord {
  /** notify_id: the same for every retry of one notification. */
  id: string;
  app_id: string;
  url: string;
  out_trade_no: string;
  trade_status: TradeStatus;
  /** Everything but notify_time, sign_type and sign, which each attempt adds. */
  params: Record<string, string>;
  created_at: number;
  attempts: number;
  delivered: boolean;
  gave_up: boolean;
  last_status: number | null;
  last_body?: string;
  last_error?: string;
  next_at: number | null;
  duplicate: boolean;
}

export interface FaultSwitches {
  /** Every notification answered `success` is delivered once more. */
  duplicateNotifications: boolean;
  /** Notifications carry a signature over other content. */
  badNotifySignature: boolean;
  /** Notifications are correctly signed but claim total_amount + 0.01. */
  tamperNotifyAmount: boolean;
  /** Notifications are correctly signed but name another app_id. */
  wrongNotifyAppId: boolean;
  /** Gateway answers carry a wrong signature. */
  badResponseSignature: boolean;
  /** The next N business calls answer 20000 ACQ.SYSTEM_ERROR without doing anything. */
  failNextRequests: number;
  /** Every gateway answer waits this long. */
  responseDelayMs: number;
  /** Refunds answer ACQ.TRADE_NOT_ALLOW_REFUND. */
  refundNotAllowed: boolean;
}

export interface TradeView {
  app_id: string;
  out_trade_no: string;
  trade_no: string | null;
  kind: TradeKind;
  trade_status: TradeStatus | 'NOT_EXIST';
  subject: string;
  total_amount: string;
  refunded: string;
  buyer: string | null;
  qr_code: string | null;
  notify_url: string | null;
  gmt_create: string;
  gmt_payment: string | null;
}

export interface Ledger {
  trades: TradeView[];
  refunds: Array<{ app_id: string; out_trade_no: string; out_request_no: string; trade_no: string; refund_amount: string; gmt_refund_pay: string }>;
  notifications: Array<{ notify_id: string; app_id: string; url: string; out_trade_no: string; trade_status: string; attempts: number; delivered: boolean; gave_up: boolean; last_status: number | null; last_body: string | null; next_attempt_at: string | null }>;
}

export interface PayerOptions {
  buyerId?: string;
  buyerOpenId?: string;
}

export interface AlipaySimulator {
  baseUrl: string;
  gatewayUrl: string;
  registerApp(input?: RegisterAppInput): Promise<AppCredentials>;
  payer: {
    /** Pays a trade: by out_trade_no, by its qr_code, or by an APP order string. */
    pay(appId: string, outTradeNo: string, o?: PayerOptions): TradeView;
    payByQr(qrCode: string, o?: PayerOptions): TradeView;
    payOrderString(orderString: string, o?: PayerOptions): TradeView;
    /** Scans a precreated code without paying: the trade now exists (WAIT_BUYER_PAY). */
    scan(qrCode: string, o?: PayerOptions): TradeView;
  };
  faults: FaultSwitches;
  ledger(appId?: string): Ledger;
  close(): Promise<void>;
}
