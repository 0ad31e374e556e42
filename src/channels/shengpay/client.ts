import { randomBytes } from 'node:crypto';
import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { ShengpayConfig } from './config.ts';
import { BUSY_ERROR_CODES } from './protocol.ts';
import { signShengpay, verifyShengpay } from './sign.ts';

/**
 * The Shengpay client of one merchant app: signed JSON POSTs (docs/channels/shengpay.md S2–S4),
 * answers verified with the platform key and classified for the core — "busy" (S7) is a system
 * fault with an unknown outcome, any other refusal is definite.
 */

export interface ShengpayClientDeps {
  send?: SendChannelRequest;
}

const USER_AGENT = `Polypay/0.1 shengpay (node ${process.version})`;

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `shengpay: ${message}`, extra);
}

function str(fields: Record<string, unknown>, key: string): string | undefined {
  const v = fields[key];
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

export class ShengpayClient {
  readonly config: ShengpayConfig;
  readonly #send: SendChannelRequest;

  constructor(config: ShengpayConfig, deps: ShengpayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
  }

  /** The request body: merchant, nonce, the call's fields, signType and sign. */
  signedBody(fields: Record<string, unknown>): string {
    const { mchId, subMchId, signType, privateKey } = this.config;
    const base = { mchId, ...(subMchId ? { subMchId } : {}), nonceStr: randomBytes(16).toString('hex'), ...fields };
    return JSON.stringify(signShengpay(base, signType, privateKey));
  }

  /** One call; resolves with the verified fields of a SUCCESS/SUCCESS answer, throws ChannelError otherwise. */
  async call(path: string, fields: Record<string, unknown>, log?: Logger): Promise<Record<string, unknown>> {
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.baseUrl}${path}`,
      headers: { 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: this.signedBody(fields),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
    });
    const answer = this.parseAnswer(path, res);
    log?.debug({ channel: 'shengpay', path, status: res.status, ms: Date.now() - started }, 'shengpay call');
    return answer;
  }

  parseAnswer(path: string, res: ChannelHttpResponse): Record<string, unknown> {
    if (res.status !== 200) {
      const text = `${path} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `shengpay: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw protocol(`${path}: answer is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw protocol(`${path}: answer is not a JSON object`);
    const fields = parsed as Record<string, unknown>;
    const signed = typeof fields.sign === 'string' && fields.sign !== '';
    if (signed && !verifyShengpay(fields, this.config.shengpayPublicKey)) throw new ChannelError('bad_signature', `shengpay: ${path}: answer signature does not verify`);
    const returnCode = str(fields, 'returnCode');
    const resultCode = str(fields, 'resultCode');
    const code = str(fields, 'errorCode');
    const message = str(fields, 'errorCodeDes') ?? str(fields, 'returnMsg') ?? '';
    const extra = { channelCode: code ?? returnCode ?? 'UNKNOWN', channelMessage: message };
    const text = `shengpay ${path} → ${returnCode ?? '?'}/${resultCode ?? '?'} ${code ?? ''} ${message}`.trim();
    // S7: busy / system error means nothing was decided: retryable, outcome unknown for writes.
    if (code !== undefined && BUSY_ERROR_CODES.has(code)) throw new ChannelError('system', text, extra);
    // S8: a communication-level refusal (signature, missing parameter) is sent unsigned; nothing was processed.
    if (returnCode !== 'SUCCESS') throw new ChannelError('rejected', text, extra);
    if (!signed) throw new ChannelError('bad_signature', `${text} (unsigned)`, extra);
    if (resultCode !== 'SUCCESS') throw new ChannelError('rejected', text, extra);
    if (str(fields, 'mchId') !== undefined && fields.mchId !== this.config.mchId) throw new ChannelError('mismatch', `shengpay: ${path}: answer names mchId ${String(fields.mchId)}`);
    return fields;
  }

  /** A notification body: JSON, signed by Shengpay, for this merchant (and sub-merchant). */
  verifyNotification(raw: string): Record<string, unknown> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw protocol('notification is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw protocol('notification is not a JSON object');
    const fields = parsed as Record<string, unknown>;
    if (!verifyShengpay(fields, this.config.shengpayPublicKey)) throw new ChannelError('bad_signature', 'shengpay: notification signature does not verify');
    if (fields.mchId !== this.config.mchId) throw new ChannelError('mismatch', `shengpay: notification names mchId ${String(fields.mchId)}, configured ${this.config.mchId}`);
    if (this.config.subMchId !== undefined && fields.subMchId !== this.config.subMchId) {
      throw new ChannelError('mismatch', `shengpay: notification names subMchId ${String(fields.subMchId)}, configured ${this.config.subMchId}`);
    }
    return fields;
  }
}
