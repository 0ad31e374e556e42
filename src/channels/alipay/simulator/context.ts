import { createHash, randomInt, type KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { chinaTime } from '../sign.ts';
import type { SimKeys } from './keys.ts';
import type { SimState } from './state.ts';
import type { AppAuthBook } from './app-auth.ts';
import type { UserAuthCodes } from './user-auth.ts';
import type { AppRecord, FaultSwitches } from './types.ts';

/** What the simulator's modules share, passed explicitly so several simulators can run in one process. */

export interface SimLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const noopLog: SimLog = { debug() {}, info() {}, warn() {}, error() {} };

export function toSimLog(logger: FastifyBaseLogger | false | undefined): SimLog {
  return logger ? logger : noopLog;
}

export type { Scheduler } from '../../sandbox/kit.ts';
import type { Scheduler } from '../../sandbox/kit.ts';

export interface SimContext {
  state: SimState;
  keys: SimKeys;
  faults: FaultSwitches;
  log: SimLog;
  timeScale: number;
  passwordDelayMs: number;
  callbackTimeoutMs: number;
  /** HMAC key of bill download links. */
  billSecret: string;
  /** Filled once the server listens. */
  baseUrl: string;
  now(): number;
  scheduler: Scheduler;
  /** 第三方应用授权: codes and app_auth_tokens (app-auth.ts). */
  appAuth: AppAuthBook;
  /** 用户信息授权: buyers' auth codes (user-auth.ts). */
  userAuth: UserAuthCodes;
  /** Set by index.ts: delivers a notification created by a trade module. */
  onNotification(id: string): void;
}

/**
 * An Alipay business or gateway error (protocols.md §C.3): the common `code`/`msg` pair plus
 * `sub_code`/`sub_msg`. Thrown by handlers, rendered as a signed `…_response` by the gateway.
 */
export class AlipayError extends Error {
  constructor(
    readonly code: string,
    readonly subCode: string,
    readonly subMsg: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code} ${subCode}: ${subMsg}`);
    this.name = 'AlipayError';
  }
}

/** Answered under `error_response` (signed) instead of the method's key, as Alipay does for isv.code-invalid. */
export class ErrorResponse extends AlipayError {}

const MSG: Record<string, string> = {
  '10000': 'Success',
  '10003': 'Order success pay inprocess',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
  '40006': 'Insufficient Permissions',
};

export function codeMsg(code: string): string {
  return MSG[code] ?? 'Unknown';
}

export const missing = (sub: string, what: string) => new AlipayError('40001', sub, `缺少必选参数 ${what}`);
export const invalid = (sub: string, what: string) => new AlipayError('40002', sub, what);
export const business = (sub: string, what: string, extra: Record<string, unknown> = {}) => new AlipayError('40004', sub, what, extra);

export function digits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return out.slice(0, n);
}

const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';

export function alnum(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[randomInt(0, ALNUM.length)];
  return out;
}

/** 28 digits: yyyyMMdd + 22001 + 15 digits, the shape of real trade numbers (2015042721001004330245521573). */
export function tradeNo(now: number): string {
  return `${chinaTime(now).slice(0, 10).replace(/-/g, '')}22001${digits(15)}`;
}

/** The one sandbox buyer every payment comes from unless the payer names another. */
export const SANDBOX_BUYER_ID = '2088102177846880';

/** A buyer's open_id is per app (that is the point of open_id): derived, so it is stable. */
export function openIdFor(appId: string, buyerId: string): string {
  return `0${createHash('sha256').update(`polypay-sandbox:${appId}:${buyerId}`).digest('base64url').slice(0, 43)}`; // sha256 in base64url: 43 characters
}

/** The identity an app sees for a buyer: open_id for apps in open_id mode, user_id otherwise. */
export function buyerFields(app: AppRecord | undefined, buyerId: string, buyerOpenId: string | undefined): { buyer_id?: string; buyer_open_id?: string } {
  if (app?.openId) return { buyer_open_id: buyerOpenId ?? openIdFor(app.appId, buyerId) };
  return { buyer_id: buyerId };
}

/** The key that signs for an app: per key mode (keys.ts). Unknown apps get the public-key-mode key. */
export function signerFor(ctx: SimContext, app: AppRecord | undefined): { key: KeyObject; certSn?: string } {
  if (app?.mode === 'cert') return { key: ctx.keys.alipayCertKey, certSn: ctx.keys.alipayCertSn };
  return { key: ctx.keys.alipayKey };
}
