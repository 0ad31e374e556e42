import { createHash, randomInt } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Scheduler } from '../../sandbox/kit.ts';
import { acpTime } from '../sign.ts';
import type { SimKeys } from './keys.ts';
import type { SimState } from './state.ts';
import type { FaultSwitches } from './types.ts';

/** What the simulator's modules share, passed explicitly so several simulators can run in one process. */

export interface SimLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noopLog: SimLog = { debug() {}, info() {}, warn() {}, error() {} };

export function toSimLog(logger: FastifyBaseLogger | false | undefined): SimLog {
  return logger ? logger : noopLog;
}

export interface SimContext {
  state: SimState;
  keys: SimKeys;
  faults: FaultSwitches;
  log: SimLog;
  timeScale: number;
  passwordDelayMs: number;
  refundDelayMs: number;
  callbackTimeoutMs: number;
  /** Filled once the server listens. */
  baseUrl: string;
  now(): number;
  scheduler: Scheduler;
  /** Set by index.ts: delivers a notification created by a transaction module. */
  onNotification(id: string): void;
}

/**
 * A refusal with an ACP respCode (protocols.md §D.4), rendered as a signed answer by the
 * gateway routes. The same codes serve the service-provider gateway.
 */
export class AcpError extends Error {
  constructor(
    readonly respCode: string,
    readonly respMsg: string,
  ) {
    super(`${respCode} ${respMsg}`);
    this.name = 'AcpError';
  }
}

export const refuse = (code: string, msg: string): AcpError => new AcpError(code, msg);

/** The respMsg UnionPay pairs with each code we emit (wording ours; codes per protocols.md §D.4). */
export const RESP_MSG: Record<string, string> = {
  '00': '成功[0000000]',
  '01': '交易失败[1000001]',
  '03': '交易通讯超时，请发起查询交易[0300000]',
  '05': '交易已受理，请稍后查询交易结果[0500000]',
  '10': '报文格式错误[1000010]',
  '11': '验证签名失败[1100011]',
  '12': '重复交易[1200012]',
  '13': '报文交易要素缺失[1300013]',
  '31': '商户状态不正确[3100031]',
  '32': '无此交易权限[3200032]',
  '34': '查无此交易[3400034]',
  '35': '原交易不存在或状态不正确[3500035]',
  '36': '交易金额超限或与原交易不符[3600036]',
  '61': '输入的卡号（付款码）无效[6100061]',
  '65': '余额不足[6500065]',
};

export function respMsg(code: string): string {
  return RESP_MSG[code] ?? '交易失败';
}

export function digits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return out.slice(0, n);
}

/** queryId: 21 digits, starting with the transaction's yyMMddHHmmss like UnionPay's (vector: 792401011200005331358). */
export function newQueryId(now: number): string {
  return `7${acpTime(now).slice(2)}${digits(8)}`.slice(0, 21);
}

/** A stable, made-up 云闪付 user id for a sandbox payer (the real one is an opaque per-acquirer string). */
export function sandboxUserId(seed: string): string {
  return `ysf${createHash('sha256').update(`polypay-sandbox-user:${seed}`).digest('base64url').slice(0, 29)}`;
}

export const SANDBOX_USER = 'sandbox-payer';
