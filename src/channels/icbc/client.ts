import { randomUUID } from 'node:crypto';
import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { IcbcConfig } from './config.ts';
import { ICBC_BUSY_CODES, ICBC_CHARSET, ICBC_FORMAT, REQUEST_SIGN_TYPE, SIGN_HASH } from './protocol.ts';
import { IcbcEnvelopeError, icbcTimestamp, openIcbcAnswer, signIcbcParams } from './sign.ts';

/**
 * The ICBC API 开放平台 client of one merchant app: form requests signed RSA2 over
 * `path?sorted params`, answers verified over the raw `response_biz_content` text with the gateway
 * key, and classified for the core (docs/channels/icbc.md I5–I6): a busy code or a 5xx is a system
 * fault with an unknown outcome; any other non-zero return_code is a definite refusal.
 */

export interface IcbcClientDeps {
  send?: SendChannelRequest;
  now?: () => number;
}

const USER_AGENT = `Polypay/0.1 icbc (node ${process.version})`;

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `icbc: ${message}`, extra);
}

export function codeError(path: string, code: number, msg: string): ChannelError {
  const text = `icbc ${path} → ${code} ${msg}`.trim();
  const extra = { channelCode: String(code), channelMessage: msg };
  return ICBC_BUSY_CODES.has(code) ? new ChannelError('system', text, extra) : new ChannelError('rejected', text, extra);
}

export class IcbcClient {
  readonly config: IcbcConfig;
  readonly #send: SendChannelRequest;
  readonly #now: () => number;

  constructor(config: IcbcConfig, deps: IcbcClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#now = deps.now ?? Date.now;
  }

  /** The signed form of one call; msg_id is fresh for every call (the gateway refuses a repeat). */
  requestParams(path: string, biz: Record<string, string>): Record<string, string> {
    const params: Record<string, string> = {
      app_id: this.config.appId,
      msg_id: randomUUID().replace(/-/g, ''),
      format: ICBC_FORMAT,
      charset: ICBC_CHARSET,
      sign_type: REQUEST_SIGN_TYPE,
      timestamp: icbcTimestamp(this.#now()),
      biz_content: JSON.stringify(biz),
    };
    return { ...params, sign: signIcbcParams(path, params, SIGN_HASH[REQUEST_SIGN_TYPE] as 'sha256', this.config.privateKey) };
  }

  async call(path: string, biz: Record<string, string>, log?: Logger): Promise<Record<string, unknown>> {
    const started = Date.now();
    const params = this.requestParams(path, biz);
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.baseUrl}${path}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: new URLSearchParams(params).toString(),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
    });
    const answer = this.parseAnswer(path, res, params.msg_id as string);
    log?.debug({ channel: 'icbc', path, status: res.status, ms: Date.now() - started }, 'icbc call');
    return answer;
  }

  parseAnswer(path: string, res: ChannelHttpResponse, msgId: string): Record<string, unknown> {
    if (res.status !== 200) {
      const text = `${path} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `icbc: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    let opened: ReturnType<typeof openIcbcAnswer>;
    try {
      opened = openIcbcAnswer(res.body, this.config.icbcPublicKey);
    } catch (err) {
      if (err instanceof IcbcEnvelopeError) throw protocol(`${path}: ${err.message}`);
      throw err;
    }
    // Refusals are signed too: an unverifiable one may be forged to make us fail a live order.
    if (!opened.verified) throw new ChannelError('bad_signature', `icbc: ${path}: answer signature does not verify with the gateway key`);
    const { biz } = opened;
    const code = biz.return_code;
    if (typeof code !== 'number' || !Number.isSafeInteger(code)) throw protocol(`${path}: answer has no numeric return_code`);
    if (biz.msg_id !== undefined && biz.msg_id !== msgId) throw new ChannelError('mismatch', `icbc: ${path}: answer is for msg_id ${String(biz.msg_id)}, sent ${msgId}`);
    if (code !== 0) throw codeError(path, code, typeof biz.return_msg === 'string' ? biz.return_msg : '');
    return biz;
  }
}
