import type { FastifyBaseLogger } from 'fastify';

/**
 * Types shared by the WeChat Pay v3 simulator. Wire objects (Transaction, RefundView, …) use
 * WeChat's snake_case names because they are serialised as-is (protocols.md §A.5, §A.7);
 * records are what the simulator keeps in memory and in the optional state file.
 */

/** Which identifier the simulator announces in Wechatpay-Serial for a merchant (protocols.md §A.4). */
export type VerifyMode = 'publicKey' | 'platformCert';

export type TradeType = 'NATIVE' | 'JSAPI' | 'APP' | 'MWEB' | 'MICROPAY';
export type PrepayEndpoint = 'native' | 'jsapi' | 'app' | 'h5';
/** The trade_state values this simulator produces (USERPAYING and REVOKED only for 付款码). */
export type TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED' | 'PAYERROR' | 'USERPAYING' | 'REVOKED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
export type RefundOutcome = 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

export interface WechatPaySimulatorOptions {
  /** 0 = random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Divides callback retry delays and the refund processing delay. Default 1 (real time). */
  timeScale?: number;
  /** JSON file keeping merchants, orders, refunds, pending callbacks and the platform keys across restarts. */
  stateFile?: string;
  /**
   * false: the state file keeps keys, merchants and sub-merchants only, not orders, refunds and
   * callbacks. For load runs (the benchmark): the whole ledger is rewritten on every change,
   * which pauses the simulator for tens of milliseconds once it holds thousands of orders.
   */
  persistLedger?: boolean;
  logger?: FastifyBaseLogger | false;
  /** Divides the password-entry delays of magic payment codes (付款码). Default: timeScale. */
  barcodeTimeScale?: number;
  /** PROCESSING → SUCCESS after this many ms (before timeScale). Default 1000. */
  refundDelayMs?: number;
  /** Emit ORDERNOTEXIST / NOTENOUGH / SYSTEMERROR instead of the underscored codes (protocols.md §A.7). */
  legacyErrorCodes?: boolean;
  /** When set, /sandbox/v1 admin routes require `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Base URL used in h5_url and pages when the simulator sits behind a proxy. Default: the listen address. */
  publicUrl?: string;
  /** Per-attempt callback timeout; WeChat counts an answer slower than 5 s as a failure (perf-reliability.md). */
  callbackTimeoutMs?: number;
}

export interface RegisterMerchantInput {
  mchid?: string;
  appids?: string[];
  verifyMode?: VerifyMode;
  apiV3Key?: string;
  merchantPrivateKeyPem?: string;
  merchantPublicKeyPem?: string;
  merchantSerialNo?: string;
  /** API v2 key (32 letters/digits); generated when absent. */
  apiKey?: string;
  /** Native 模式一 扫码回调URL: called when a payer scans one of the merchant's product codes. */
  nativeCallbackUrl?: string;
  /** Makes the account a service provider (服务商) that may use the partner endpoints. */
  providerType?: ProviderType;
  /** Bank service providers (银行服务商): the 渠道号 their v2 requests carry as channel_id. */
  channelId?: string;
}

/** 普通服务商 or 银行服务商 (seed 003 "后台下单" modes). */
export type ProviderType = 'normal' | 'bank';

export interface RegisterSubMerchantInput {
  /** The provider (服务商) the sub-merchant is onboarded under. */
  spMchid: string;
  subMchid?: string;
  /** Appids bound to the sub-merchant itself (its 公众号 / mini program / mobile app): usable as sub_appid. */
  appids?: string[];
  name?: string;
}

/** 特约商户: has no keys of its own; every call is made and signed by its provider. */
export interface SubMerchantRecord {
  sub_mchid: string;
  sp_mchid: string;
  appids: string[];
  name: string;
  createdAt: number;
}

/** What a partner (服务商) order carries besides the sub-merchant's own books. */
export interface PartnerInfo {
  sp_mchid: string;
  sp_appid: string;
  sub_appid?: string;
}

export interface SandboxCredentials {
  mchid: string;
  appids: string[];
  /** Present only in the answer of the call that generated it: the simulator never stores merchant private keys. */
  merchantPrivateKeyPem?: string;
  merchantSerialNo: string;
  apiV3Key: string;
  wxpayPublicKeyId: string;
  wxpayPublicKeyPem: string;
  platformCertificatePem: string;
  platformCertificateSerial: string;
  verifyMode: VerifyMode;
  providerType?: ProviderType;
  /** API v2 key: signs and verifies v2 XML; md5 of it decrypts v2 refund notifications. */
  apiKey: string;
  /** apiclient_cert.p12 (base64, password = mchid): only in the /sandbox/v1/merchants answer that generated the key. */
  merchantCertificateP12?: string;
  /** CA that issued the sandbox's HTTPS certificate (trust it as tlsCaCert for https:// base URLs, which v2 /secapi needs). */
  tlsCaCertificatePem: string;
}

export interface FaultSwitches {
  /** Deliver every callback a second time right after it was acknowledged. */
  duplicateCallbacks: boolean;
  /** First attempt of each new callback carries a WECHATPAY/SIGNTEST/ probe signature (protocols.md §A.4). */
  probeSignatureFirst: boolean;
  /** Callbacks carry a well-formed but wrong signature. */
  badCallbackSignature: boolean;
  /** Callbacks are signed over a timestamp 10 minutes in the past. */
  staleCallbackTimestamp: boolean;
  /** New callbacks encrypt an amount one fen off, properly signed: the gateway must cross-check amounts. */
  tamperCallbackAmount: boolean;
  /** The next N authenticated API requests answer 500 SYSTEM_ERROR without side effects. */
  failNextRequests: number;
  /** Extra latency before each API answer. */
  responseDelayMs: number;
  /** Refund requests answer 403 NOT_ENOUGH (merchant balance insufficient). */
  notEnoughBalanceForRefunds: boolean;
  /** New refunds stay PROCESSING until refunds.complete(). */
  holdRefunds: boolean;
}

export interface MerchantRecord {
  mchid: string;
  appids: string[];
  verifyMode: VerifyMode;
  apiV3Key: string;
  merchantPublicKeyPem: string;
  /** Upper-case hex, the serial of merchantCertificatePem when the simulator issued it. */
  merchantSerialNo: string;
  merchantCertificatePem?: string;
  wxpayPublicKeyId: string;
  /** API v2 key (absent in state files written before v2 existed: filled on load). */
  apiKey: string;
  nativeCallbackUrl?: string;
  providerType?: ProviderType;
  channelId?: string;
  createdAt: number;
}

/** Which API created an order or refund: decides the dialect of its notifications. */
export type ApiDialect = { api: 'v2'; signType: 'MD5' | 'HMAC-SHA256' } | { api: 'v3' };

export interface OrderRecord {
  /** For a partner order: the sub_mchid (out_trade_no is unique per sub-merchant). */
  mchid: string;
  /** Present on orders placed through the partner (服务商) endpoints. */
  partner?: PartnerInfo;
  appid: string;
  out_trade_no: string;
  trade_type: TradeType;
  description: string;
  attach?: string;
  notify_url: string;
  amount_total: number;
  currency: 'CNY';
  /** Epoch ms. */
  time_expire: number;
  create_time: number;
  /** Canonical JSON of the prepay request, to decide "same params" on a repeated prepay. */
  fingerprint: string;
  prepay_id: string;
  code_url?: string;
  /** Path + query of the H5 page; the answer prefixes the current base URL, which may change across restarts. */
  h5_path?: string;
  jsapi_openid?: string;
  /** Partner orders: whether jsapi_openid / payer_openid is an sp_openid or a sub_openid. */
  jsapi_openid_kind?: 'sp' | 'sub';
  payer_openid_kind?: 'sp' | 'sub';
  trade_state: TradeState;
  trade_state_desc: string;
  transaction_id?: string;
  success_time?: number;
  payer_openid?: string;
  /** Sum of SUCCESS refunds, fen. */
  refunded_total: number;
  refund_nos: string[];
  close_time?: number;
  payer_cancelled_at?: number;
  /** Absent = v3. */
  dialect?: ApiDialect;
  /** 付款码 refused for good: the err_code a repeat of the same micropay reports. */
  bar_refusal?: 'NOTENOUGH' | 'AUTHCODEEXPIRE';
}

export interface RefundRecord {
  /** For a partner order's refund: the sub_mchid. */
  mchid: string;
  /** The provider that requested it (partner orders). */
  sp_mchid?: string;
  out_refund_no: string;
  refund_id: string;
  out_trade_no: string;
  transaction_id: string;
  reason?: string;
  notify_url?: string;
  funds_account?: string;
  amount_refund: number;
  amount_total: number;
  currency: 'CNY';
  status: RefundStatus;
  create_time: number;
  success_time?: number;
  fingerprint: string;
  /** Epoch ms when a PROCESSING refund turns SUCCESS by itself; absent while held. */
  due_at?: number;
  /** Absent = v3. */
  dialect?: ApiDialect;
}

export interface CallbackRecord {
  id: string;
  mchid: string;
  url: string;
  event_type: string;
  /** The exact JSON body sent on every attempt; only the signature headers change per attempt. */
  body: string;
  out_trade_no: string;
  out_refund_no?: string;
  created_at: number;
  attempts: number;
  delivered: boolean;
  gave_up: boolean;
  last_status: number | null;
  last_error?: string;
  next_at: number | null;
  probe_first: boolean;
  probe_accepted?: boolean;
  duplicate: boolean;
  /** v2: an XML body, no signature headers, success = an XML return_code SUCCESS. Absent = v3. */
  format?: 'v2';
}

/** payments.Transaction as returned by the query APIs and encrypted in TRANSACTION.SUCCESS (protocols.md §A.5). */
export interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: TradeType;
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid: string };
  amount: { total: number; payer_total?: number; currency: string; payer_currency: string };
}

/** Refund answer / query shape (protocols.md §A.7 "Refund request"). */
export interface RefundView {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: 'ORIGINAL';
  user_received_account: string;
  success_time?: string;
  create_time: string;
  status: RefundStatus;
  funds_account: string;
  amount: {
    total: number;
    refund: number;
    from: Array<{ account: string; amount: number }>;
    payer_total: number;
    payer_refund: number;
    settlement_refund: number;
    settlement_total: number;
    discount_refund: number;
    currency: string;
    refund_fee: number;
  };
  promotion_detail: unknown[];
}

export interface LedgerOrder {
  /** The sub_mchid for a partner order. */
  mchid: string;
  /** Partner orders: the provider, the appids, and which payer field the prepay carried. */
  partner?: PartnerInfo & { openid_field: 'sp_openid' | 'sub_openid' | null; openid: string | null };
  appid: string;
  out_trade_no: string;
  transaction_id: string | null;
  trade_type: TradeType;
  trade_state: TradeState;
  description: string;
  amount_total: number;
  refunded_total: number;
  prepay_id: string;
  code_url: string | null;
  h5_url: string | null;
  notify_url: string;
  create_time: string;
  time_expire: string;
  success_time: string | null;
}

export interface LedgerRefund {
  mchid: string;
  out_refund_no: string;
  refund_id: string;
  out_trade_no: string;
  transaction_id: string;
  status: RefundStatus;
  amount_refund: number;
  amount_total: number;
  create_time: string;
  success_time: string | null;
}

export interface LedgerCallback {
  id: string;
  mchid: string;
  url: string;
  event_type: string;
  out_trade_no: string;
  out_refund_no: string | null;
  attempts: number;
  delivered: boolean;
  gave_up: boolean;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  probe_accepted: boolean | null;
}

export interface Ledger {
  orders: LedgerOrder[];
  refunds: LedgerRefund[];
  callbacks: LedgerCallback[];
}

export interface PayerApi {
  pay(mchid: string, outTradeNo: string, opts?: { openid?: string }): Promise<Transaction>;
  payByCodeUrl(codeUrl: string, opts?: { openid?: string }): Promise<Transaction>;
  /** The payer leaves the cashier: WeChat sends nothing and the order stays NOTPAY (it can still be paid). */
  cancel(mchid: string, outTradeNo: string): Promise<Transaction>;
  /** The payment fails (bank refusal): trade_state PAYERROR; the payer may retry until the order expires or closes. */
  fail(mchid: string, outTradeNo: string, reason?: string): Promise<Transaction>;
  /** Scans a Native 模式一 product code: the merchant's scan callback places the order; then pays it unless pay=false. */
  scanProduct(codeUrl: string, opts?: { openid?: string; pay?: boolean }): Promise<Transaction>;
}

export interface RefundAdminApi {
  complete(mchid: string, outRefundNo: string, outcome: RefundOutcome): Promise<RefundView>;
}

export interface WechatPaySimulator {
  baseUrl: string;
  registerMerchant(input?: RegisterMerchantInput): SandboxCredentials;
  /** Onboards a 特约商户 under a provider registered with providerType. */
  registerSubMerchant(input: RegisterSubMerchantInput): SubMerchantRecord;
  payer: PayerApi;
  refunds: RefundAdminApi;
  faults: FaultSwitches;
  /** Mini-program login and 公众号 OAuth (jscode2session, sns/oauth2): app secrets, codes, openids. */
  open: import('./open-platform.ts').OpenPlatform;
  /** The API certificate the sandbox CA issued for a merchant's key (PEM), once issued. */
  merchantCertificate(mchid: string): Promise<string>;
  /** apiclient_cert.p12 (base64) of that certificate with the given key, password = mch_id. */
  merchantCertificateP12(mchid: string, privateKeyPem: string): Promise<string>;
  /** A new platform certificate signs from now on; the previous one stays listed until it expires. */
  rotatePlatformCertificate(): Promise<{ serial: string }>;
  ledger(mchid?: string): Ledger;
  close(): Promise<void>;
}
