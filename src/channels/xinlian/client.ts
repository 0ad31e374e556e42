import { randomBytes } from 'node:crypto';
import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { XinlianConfig } from './config.ts';
import { XL_BUSY_CODES, XL_CODES } from './protocol.ts';
import { parseFlatJson, signXinlian, verifyXinlian, type XlFields } from './sign.ts';

/**
 * The 信联 client of one merchant app: JSON requests signed RSA2 (X2), answers verified with
 * Xinlian's key and checked to be for this merchant and app, then classified for the core (X4): the
 * busy code or a 5xx is a system fault with an unknown outcome; any other non-0000 code a refusal.
 */

export interface XinlianClientDeps {
  send?: SendChannelRequest;
  now?: () => number;
}

const USER_AGENT = `Polypay/0.1 xinlian (node ${process.version})`;

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `xinlian: ${message}`, extra);
}

export class XinlianClient {
  readonly config: XinlianConfig;
  readonly #send: SendChannelRequest;
  readonly #now: () => number;

  constructor(config: XinlianConfig, deps: XinlianClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#now = deps.now ?? Date.now;
  }

  requestBody(fields: XlFields): string {
    return JSON.stringify(signXinlian({ mchNo: this.config.mchNo, appId: this.config.appId, ...fields, timestamp: this.#now(), nonce: randomBytes(16).toString('hex') }, this.config.privateKey));
  }

  async call(path: string, fields: XlFields, log?: Logger): Promise<Record<string, unknown>> {
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.baseUrl}${path}`,
      headers: { 'Content-Type': 'application/json;charset=utf-8', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: this.requestBody(fields),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
    });
    const answer = this.parseAnswer(path, res);
    log?.debug({ channel: 'xinlian', path, status: res.status, ms: Date.now() - started }, 'xinlian call');
    return answer;
  }

  parseAnswer(path: string, res: ChannelHttpResponse): Record<string, unknown> {
    if (res.status !== 200) {
      const text = `${path} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `xinlian: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    const a = this.open(res.body, path);
    const code = typeof a.code === 'string' ? a.code : undefined;
    if (code === undefined) throw protocol(`${path}: answer has no code`);
    if (code !== XL_CODES.success) {
      const msg = typeof a.msg === 'string' ? a.msg : '';
      const extra = { channelCode: code, channelMessage: msg };
      throw new ChannelError(XL_BUSY_CODES.has(code) ? 'system' : 'rejected', `xinlian ${path} → ${code} ${msg}`.trim(), extra);
    }
    return a;
  }

  /** An answer or notification: JSON, signed by Xinlian, for this merchant and app. */
  open(body: string, what: string): Record<string, unknown> {
    const fields = parseFlatJson(body);
    if (!fields) throw protocol(`${what}: not a JSON object`);
    if (!verifyXinlian(fields, this.config.xinlianPublicKey)) throw new ChannelError('bad_signature', `xinlian: ${what}: signature does not verify with Xinlian's key`);
    for (const k of ['mchNo', 'appId'] as const) {
      if (fields[k] !== undefined && fields[k] !== this.config[k]) throw new ChannelError('mismatch', `xinlian: ${what} names ${k} ${String(fields[k])}, configured ${this.config[k]}`);
    }
    return fields;
  }
}
