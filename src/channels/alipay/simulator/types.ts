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
  /** Lifetime of an app_auth_token (expires_in). Default 365 days, as Alipay documents. */
  appAuthTokenTtlSeconds?: number;
  /** Lifetime of its app_refresh_token (re_expires_in). Default 372 days. */
  appAuthRefreshTtlSeconds?: number;
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
  /** 第三方应用: a service provider's app, which acts for merchants through app_auth_token. */
  isv?: boolean;
  /** 授权回调地址 of a third-party app: when set, app-to-app authorisation redirects only there. */
  authRedirectUri?: string;
}

export interface RegisterAppInput {
  appId?: string;
  mode?: KeyMode;
  openId?: boolean;
  pid?: string;
  /** Keep your own key: give the private key (the public key is derived) or just the public key. */
  appPrivateKeyPem?: string;
  appPublicKeyPem?: string;
  isv?: boolean;
  authRedirectUri?: string;
}

export interface AppCredentials {
  appId: string;
  pid: string;
  mode: KeyMode;
  openId: boolean;
  isv: boolean;
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
  /** Created by a service provider's app through an app_auth_token (app_id is then the merchant's). */
  isv_app_id?: string;
  /** extend_params.sys_service_provider_id: the provider credited with the trade. */
  sys_service_provider_id?: string;
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
  isv_app_id: string | null;
  sys_service_provider_id: string | null;
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

/** An app-to-app authorisation (第三方应用授权) as the simulated Alipay keeps it. */
export interface AppAuthRecord {
  app_auth_token: string;
  app_refresh_token: string;
  /** The service provider's (third-party) app the merchant authorised. */
  isv_app_id: string;
  /** The merchant's app (auth_app_id) and partner id (user_id). */
  auth_app_id: string;
  user_id: string;
  auth_start: number;
  expires_at: number;
  re_expires_at: number;
  /** invalid: revoked by the merchant, or replaced by a refresh. */
  status: 'valid' | 'invalid';
}

export interface AppAuthView {
  isv_app_id: string;
  auth_app_id: string;
  user_id: string;
  status: 'valid' | 'invalid' | 'expired';
  expires_at: string;
  re_expires_at: string;
}

export interface AlipaySimulator {
  baseUrl: string;
  gatewayUrl: string;
  registerApp(input?: RegisterAppInput): Promise<AppCredentials>;
  /** The merchant's side of 第三方应用授权 (the authorise page, as calls). */
  appAuth: {
    /** The merchant grants `isvAppId` access to `merchantAppId`: the redirect back to the provider, carrying app_auth_code. */
    authorize(input: { isvAppId: string; merchantAppId: string; redirectUri: string; state?: string }): { appAuthCode: string; redirect: string };
    /** Ends an authorisation's token lifetime now (the refresh token stays usable). */
    expire(authAppId: string): number;
    /** The merchant withdraws the authorisation: its tokens stop working. */
    revoke(authAppId: string): number;
    list(isvAppId?: string): AppAuthView[];
  };
  /** 用户信息授权 from the buyer's side. */
  identity: {
    /** What my.getAuthCode() hands a mini program (or the web authorisation a 生活号 page): a one-time auth_code for the app. */
    authCode(appId: string, buyerId?: string): string;
  };
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
