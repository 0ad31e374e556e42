import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { PROBE_SIGNATURE_PREFIX, responseMessage, rsaSign } from '../v3-crypto.ts';
import { alnum } from './ids.ts';
import type { KeyPool, PlatformKeys } from './keys.ts';
import type { OpenPlatform } from './open-platform.ts';
import type { SimState } from './state.ts';
import type { FaultSwitches, MerchantRecord } from './types.ts';

/**
 * Everything the simulator's modules share. Plain object passed explicitly (style.md §16) rather
 * than module singletons, so several simulators can run in one process (tests do).
 */

export interface SimLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Scheduler {
  /** Runs fn after delayMs; tracked so close() can cancel it. */
  at(delayMs: number, fn: () => void): void;
}

export interface SimContext {
  state: SimState;
  keys: PlatformKeys;
  keyPool: KeyPool;
  faults: FaultSwitches;
  log: SimLog;
  timeScale: number;
  barcodeTimeScale: number;
  refundDelayMs: number;
  legacyErrorCodes: boolean;
  callbackTimeoutMs: number;
  /** Filled once the server listens. */
  baseUrl: string;
  /** The CA certificate behind the sandbox's HTTPS certificate (filled at start). */
  tlsCaPem: string;
  now(): number;
  scheduler: Scheduler;
  /** Login/authorisation side: knows which appid an openid was issued for. */
  open: OpenPlatform;
  /** Hooks set by index.ts so domain modules can trigger side effects without import cycles. */
  onCallbackCreated(id: string): void;
  onRefundDue(mchid: string, outRefundNo: string, delayMs: number): void;
}

export const noopLog: SimLog = { debug() {}, info() {}, warn() {}, error() {} };

export function toSimLog(logger: FastifyBaseLogger | false | undefined): SimLog {
  return logger ? logger : noopLog;
}

/** The key and Wechatpay-Serial a merchant's answers and callbacks are signed with (protocols.md §A.4). */
export function signerFor(ctx: SimContext, merchant: MerchantRecord | undefined): { key: KeyObject; serial: string } {
  if (merchant?.verifyMode === 'publicKey') return { key: ctx.keys.pubKeyKey, serial: merchant.wxpayPublicKeyId };
  return { key: ctx.keys.certKey, serial: ctx.keys.certSerial };
}

export interface SignedHeaders {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature': string;
}

export type SignatureFault = 'none' | 'probe' | 'bad' | 'stale';

/**
 * Signs `TIMESTAMP\nNONCE\nBODY\n` over the exact body string that will be sent (protocols.md §G:
 * emit once, sign those bytes). Faults produce what a misbehaving or probing WeChat would send.
 */
export function signBody(ctx: SimContext, merchant: MerchantRecord | undefined, body: string, fault: SignatureFault = 'none'): SignedHeaders {
  const { key, serial } = signerFor(ctx, merchant);
  const nowS = Math.floor(ctx.now() / 1000);
  // Stale: ten minutes old, twice the 5-minute window every verifier allows.
  const timestamp = String(fault === 'stale' ? nowS - 600 : nowS);
  const nonce = alnum(32);
  let signature: string;
  if (fault === 'probe') signature = `${PROBE_SIGNATURE_PREFIX}${Buffer.from(alnum(48)).toString('base64')}`;
  else if (fault === 'bad') signature = rsaSign(responseMessage(timestamp, nonce, `${body} `), key);
  else signature = rsaSign(responseMessage(timestamp, nonce, body), key);
  return { 'Wechatpay-Timestamp': timestamp, 'Wechatpay-Nonce': nonce, 'Wechatpay-Serial': serial, 'Wechatpay-Signature': signature };
}
