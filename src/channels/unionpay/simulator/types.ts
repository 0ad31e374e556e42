import type { FastifyBaseLogger } from 'fastify';
import type { Deliverable } from '../../sandbox/notifier.ts';

/**
 * Types of the UnionPay simulator: the ACP 5.1.0 全渠道 gateway, the 云闪付 service-provider JSON
 * gateway, the file-download host and the 云闪付 user-authorisation page, on one server under
 * different path prefixes. Amounts are integer fen everywhere (they are fen on the wire too).
 */

export interface UnionPaySimulatorOptions {
  /** 0 = random free port. */
  port?: number;
  host?: string;
  /** Divides notification retry delays, the bar-code password delay and the refund delay. Default 1. */
  timeScale?: number;
  /** JSON file keeping merchants, providers, transactions, pending notifications and the PKI. */
  stateFile?: string;
  logger?: FastifyBaseLogger | false;
  /** When set, /sandbox/v1 admin routes require `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Base URL used in QR codes, redirect URLs and credentials when behind a proxy. */
  publicUrl?: string;
  /** Per-attempt notification timeout. Default 5000 ms. */
  callbackTimeoutMs?: number;
  /** Bar-code codes 6210…: the payer confirms the password after this long (before timeScale). Default 5000 ms. */
  passwordDelayMs?: number;
  /** Refunds and consume undos settle after this long (before timeScale). Default 2000 ms. */
  refundDelayMs?: number;
}

export interface MerchantRecord {
  merId: string;
  /** The merchant's signing certificate (public part only: the simulator never keeps a private key). */
  certificatePem: string;
  certId: string;
  createdAt: number;
}

export interface ProviderRecord {
  serProvId: string;
  certificatePem: string;
  certId: string;
  /** Sub-merchants (merId) the provider may act for. */
  merIds: string[];
  createdAt: number;
}

/** How a consume came to be. `sp_*` belong to the service-provider gateway. */
export type ConsumeKind = 'qr' | 'bar' | 'app' | 'jsapi' | 'sp_jsapi' | 'sp_bar';
/** WAITING: code/tn issued, nobody acted yet. PAYING: the payer is authorising (scanned, entering the password). */
export type ConsumeStatus = 'WAITING' | 'PAYING' | 'SUCCESS' | 'FAILED' | 'CLOSED' | 'REVOKED';

export interface ConsumeRecord {
  /** ACP: `acp|merId|orderId|txnTime`; SP: `sp|merId|orderNo`. */
  key: string;
  kind: ConsumeKind;
  merId: string;
  serProvId?: string;
  orderId: string;
  txnTime: string;
  txnAmt: number;
  currencyCode: string;
  params_hash: string;
  backUrl?: string;
  frontUrl?: string;
  reqReserved?: string;
  orderDesc?: string;
  payTimeout: number;
  status: ConsumeStatus;
  /** The outcome code of the consume (origRespCode in queries) once it has one. */
  resultCode?: string;
  resultMsg?: string;
  queryId?: string;
  traceNo?: string;
  traceTime?: string;
  settleDate?: string;
  paidAt?: number;
  qrToken?: string;
  qrCode?: string;
  tn?: string;
  /** The 云闪付 user the order is for (YSF_JSAPI): another user cannot pay it. */
  userId?: string;
  /** Who paid. */
  payerUserId?: string;
  payerCode?: string;
  passwordUntil?: number;
  /** fen, cumulative (refunds and an undo). */
  refunded: number;
  createdAt: number;
}

export type AfterKind = 'undo' | 'refund' | 'reversal';

/** A consume undo (31), refund (04) or reversal (99) and its outcome. */
export interface AfterRecord {
  key: string;
  kind: AfterKind;
  merId: string;
  serProvId?: string;
  orderId: string;
  txnTime: string;
  origKey: string;
  origQryId?: string;
  txnAmt: number;
  params_hash: string;
  backUrl?: string;
  reqReserved?: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  resultCode?: string;
  queryId: string;
  settleDate?: string;
  createdAt: number;
  doneAt?: number;
}

export interface NotifyRecord extends Deliverable {
  /** Which gateway's format: ACP form or service-provider JSON. */
  format: 'acp' | 'sp';
  merId: string;
  orderId: string;
  txnType: string;
  /** Everything but the signature (and, for ACP, signPubKeyCert), which each attempt adds. */
  fields: Record<string, string>;
  created_at: number;
}

export interface FaultSwitches {
  /** Every delivered notification is delivered once more. */
  duplicateNotifications: boolean;
  /** Notifications carry a signature over other content. */
  badNotifySignature: boolean;
  /** Notifications are correctly signed but claim txnAmt + 1 fen. */
  tamperNotifyAmount: boolean;
  /** Notifications are correctly signed but name another merId. */
  wrongNotifyMerId: boolean;
  /** Answers and notifications are signed by a certificate that looks like UnionPay's but chains to another root. */
  foreignSignCert: boolean;
  /** Answers carry a wrong signature. */
  badResponseSignature: boolean;
  /** The next N business requests answer respCode 03 (timeout, outcome unknown) without doing anything. */
  failNextRequests: number;
  /** Every answer waits this long. */
  responseDelayMs: number;
}

export interface MerchantCredentials {
  merId: string;
  certId: string;
  /** Only in the answer that issued the certificate. */
  pfxBase64?: string;
  pfxPassword?: string;
  certificatePem: string;
  middleCertPem: string;
  rootCertPem: string;
  acpBaseUrl: string;
  fileBaseUrl: string;
  userAuthUrl: string;
}

export interface ProviderCredentials {
  serProvId: string;
  merIds: string[];
  certId: string;
  pfxBase64?: string;
  pfxPassword?: string;
  certificatePem: string;
  /** The gateway's public key, bare base64 SPKI (Jeepay: ysfpayPublicKey). */
  ysfPublicKey: string;
  spBaseUrl: string;
  userAuthUrl: string;
}

export interface ConsumeView {
  merId: string;
  serProvId: string | null;
  orderId: string;
  txnTime: string;
  kind: ConsumeKind;
  status: ConsumeStatus;
  txnAmt: number;
  refunded: number;
  queryId: string | null;
  qrCode: string | null;
  tn: string | null;
  userId: string | null;
  payer: string | null;
  settleDate: string | null;
}

export interface Ledger {
  consumes: ConsumeView[];
  after: Array<{ merId: string; kind: AfterKind; orderId: string; txnTime: string; origOrderId: string; txnAmt: number; status: string; queryId: string }>;
  notifications: Array<{ id: string; merId: string; url: string; orderId: string; txnType: string; attempts: number; delivered: boolean; gave_up: boolean; last_status: number | null; next_attempt_at: string | null }>;
}

export interface UnionPaySimulator {
  baseUrl: string;
  acpBaseUrl: string;
  spBaseUrl: string;
  fileBaseUrl: string;
  userAuthUrl: string;
  registerMerchant(input?: { merId?: string; certificatePem?: string }): Promise<MerchantCredentials>;
  registerProvider(input?: { serProvId?: string; merId?: string; certificatePem?: string }): Promise<ProviderCredentials>;
  payer: {
    /** Pays whatever a QR code, tn or redirect URL names; `user` names the sandbox 云闪付 user paying (default: the one the order is for). */
    pay(target: { qrCode?: string; tn?: string; redirectUrl?: string }, o?: { user?: string }): ConsumeView;
    /** Scans a QR code without paying: the payer is now authorising (origRespCode 05). */
    scan(qrCode: string): ConsumeView;
    /** The 云闪付 user-authorisation page: where it redirects (with userAuthCode) for sandbox user `user`. */
    authorize(redirectUrl: string, user?: string): { location: string; userAuthCode: string; userId: string };
  };
  faults: FaultSwitches;
  ledger(merId?: string): Ledger;
  close(): Promise<void>;
}
