import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { AlipayConfig } from './config.ts';
import { NOTIFY_UNSIGNED, chinaTime, pkcs8Pem, responseKey, rsa2Verify, signContent, spkiPem } from './sign.ts';

/**
 * The Alipay client of one merchant app. Protocol work is done by the official `alipay-sdk`
 * (v4): request signing (`sdkExecute`, `pageExecute`), certificate SNs and the Alipay key
 * taken from the public-key certificate (its constructor), and answer verification over the
 * exact raw substring (`checkResponseSign` / `getSignStr`, protocols.md §C.3).
 *
 * The transport is ours (src/channels/http.ts), not `sdk.exec()`. Measured reasons
 * (docs/sandbox/alipay.md "Client library"): with `validateSign: true`, an unsigned error
 * answer — which C.3 says the gateway may send (isv.invalid-signature…) — makes `exec` throw a
 * bare TypeError and the answer's code is lost, so a refusal cannot be told from a fault; and
 * `exec` runs on urllib's own agent, outside the one deadline and the "not sent" vs "outcome
 * unknown" classification every channel call must get. So we POST the SDK's signed parameter
 * string ourselves and hand the raw answer back to the SDK for verification.
 */

export interface AlipayClientDeps {
  send?: SendChannelRequest;
  /** Milliseconds since the epoch; injectable so fixed vectors can be reproduced. */
  now?: () => number;
  timeoutMs?: number;
}

export interface AlipayAnswer {
  code: string;
  msg: string;
  subCode: string | undefined;
  subMsg: string | undefined;
  /** The `…_response` object, snake_case as Alipay sent it. */
  data: Record<string, unknown>;
  /** false only for error answers that came without a sign (never for 10000/10003). */
  signed: boolean;
}

export interface CallExtra {
  notifyUrl?: string;
  /** Further top-level parameters (e.g. grant_type and code of alipay.system.oauth.token). */
  params?: Record<string, string>;
}

const USER_AGENT = `Polypay/0.1 alipay-sdk/4 (node ${process.version})`;

function badSignature(message: string): ChannelError {
  return new ChannelError('bad_signature', `alipay: ${message}`);
}

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `alipay: ${message}`, extra);
}

export class AlipayClient {
  readonly config: AlipayConfig;
  readonly sdk: AlipaySdk;
  /** The key that verifies Alipay: configured (public-key mode) or the SDK's, from the certificate. */
  readonly alipayKey: KeyObject;
  readonly #send: SendChannelRequest;
  readonly #now: () => number;
  readonly #timeoutMs: number | undefined;

  constructor(config: AlipayConfig, deps: AlipayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#now = deps.now ?? Date.now;
    this.#timeoutMs = deps.timeoutMs;
    const keys =
      config.mode === 'cert'
        ? { appCertContent: config.appPublicCert, alipayPublicCertContent: config.alipayPublicCert, alipayRootCertContent: config.alipayRootCert }
        : { alipayPublicKey: spkiPem(config.alipayPublicKey as KeyObject) };
    try {
      this.sdk = new AlipaySdk({ appId: config.appId, privateKey: pkcs8Pem(config.privateKey), keyType: 'PKCS8', signType: 'RSA2', gateway: config.gatewayUrl, camelcase: false, ...keys });
      this.alipayKey = createPublicKey(this.sdk.config.alipayPublicKey);
    } catch {
      throw new ChannelError('misconfigured', 'alipay config: the keys or certificates were refused by alipay-sdk');
    }
  }

  /** app_cert_sn / alipay_root_cert_sn / alipay_cert_sn as the SDK derived them (certificate mode). */
  get certSns(): { appCertSn: string; alipayRootCertSn: string; alipayCertSn: string } | undefined {
    if (this.config.mode !== 'cert') return undefined;
    const c = this.sdk.config;
    return { appCertSn: c.appCertSn, alipayRootCertSn: c.alipayRootCertSn, alipayCertSn: c.alipayCertSn };
  }

  /**
   * Common parameters we always set ourselves: the SDK would stamp the server's *local* time,
   * which on a UTC host is eight hours off the GMT+8 Alipay expects (§C.1).
   */
  #common(extra: { notifyUrl?: string | undefined; returnUrl?: string | undefined }): Record<string, string> {
    return {
      timestamp: chinaTime(this.#now()),
      // ISV mode: every call acts for the sub-merchant that issued this token (§C.1).
      ...(this.config.isv ? { app_auth_token: this.config.isv.appAuthToken } : {}),
      ...(extra.notifyUrl ? { notify_url: extra.notifyUrl } : {}),
      ...(extra.returnUrl ? { return_url: extra.returnUrl } : {}),
    };
  }

  /** Every parameter incl. sign, each value URL-encoded, joined by `&`: the APP order string (§C.4) and our POST body. */
  signedString(method: string, biz: Record<string, unknown> | undefined, extra: CallExtra = {}): string {
    return this.sdk.sdkExecute(method, { ...(biz ? { bizContent: biz } : {}), ...this.#common(extra), ...extra.params }, { bizContentAutoSnakeCase: false });
  }

  /** page.pay / wap.pay: the signed GET link to the cashier and, for forms, its parameters. */
  pageRequest(method: string, biz: Record<string, unknown>, extra: { notifyUrl?: string; returnUrl?: string }): { url: string; params: Array<[string, string]> } {
    // pageExecute camel-cases then snake-cases biz keys; every key we send survives the round trip.
    const url = this.sdk.pageExecute(method, 'GET', { bizContent: biz, ...this.#common(extra) });
    return { url, params: [...new URL(url).searchParams] };
  }

  /** One gateway call: signed by the SDK, sent by us, verified by the SDK. */
  async call(method: string, biz: Record<string, unknown> | undefined, log?: Logger, extra: CallExtra = {}): Promise<AlipayAnswer> {
    const body = this.signedString(method, biz, extra);
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.gatewayUrl}?charset=utf-8`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body,
      ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
    });
    const answer = this.parseAnswer(method, res);
    log?.debug({ channel: 'alipay', method, status: res.status, code: answer.code, subCode: answer.subCode, ms: Date.now() - started }, 'alipay call');
    return answer;
  }

  parseAnswer(method: string, res: ChannelHttpResponse): AlipayAnswer {
    if (res.status !== 200) {
      const text = `${method} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `alipay: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw protocol(`${method}: answer is not JSON`);
    }
    const envelope = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const key = Object.hasOwn(envelope, responseKey(method)) ? responseKey(method) : 'error_response';
    const data = envelope[key];
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw protocol(`${method}: answer has no ${responseKey(method)}`);
    const d = data as Record<string, unknown>;
    const code = typeof d.code === 'string' ? d.code : String(d.code ?? '');
    const sign = envelope.sign;
    let signed = false;
    if (typeof sign === 'string' && sign !== '') {
      const certSn = envelope.alipay_cert_sn;
      const expected = this.certSns?.alipayCertSn;
      if (expected !== undefined && certSn !== undefined && certSn !== expected) throw badSignature(`${method}: answer signed under alipay_cert_sn ${String(certSn)}, configured ${expected}`);
      try {
        this.sdk.checkResponseSign(res.body, key, sign, '');
      } catch {
        throw badSignature(`${method}: answer signature does not verify`);
      }
      signed = true;
    } else if (code === '10000' || code === '10003') {
      throw badSignature(`${method}: unsigned ${code} answer`);
    }
    return {
      code,
      msg: typeof d.msg === 'string' ? d.msg : '',
      subCode: typeof d.sub_code === 'string' && d.sub_code !== '' ? d.sub_code : undefined,
      subMsg: typeof d.sub_msg === 'string' && d.sub_msg !== '' ? d.sub_msg : undefined,
      data: d,
      signed,
    };
  }

  /**
   * Notification and return-URL parameters (§C.5): drop sign and sign_type, sort, verify with
   * the Alipay key. Legacy RSA (SHA1) is accepted when the parameters say so — verification
   * only, we never sign with it.
   */
  verifyParams(params: Readonly<Record<string, string>>): void {
    const sign = params.sign;
    if (!sign) throw badSignature('parameters carry no sign');
    const type = params.sign_type || 'RSA2';
    const content = signContent(params, NOTIFY_UNSIGNED);
    let ok: boolean;
    if (type === 'RSA2') ok = rsa2Verify(content, sign, this.alipayKey);
    else if (type === 'RSA') ok = createVerify('RSA-SHA1').update(content, 'utf8').verify(this.alipayKey, sign, 'base64');
    else throw badSignature(`unsupported sign_type ${type}`);
    if (!ok) throw badSignature('parameter signature does not verify');
  }
}

/** A non-success answer as a ChannelError: what the core needs to know is whether anything can have happened. */
export function answerError(method: string, a: AlipayAnswer): ChannelError {
  const text = `alipay ${method} → ${a.code} ${a.msg}${a.subCode ? ` ${a.subCode}` : ''}${a.subMsg ? `: ${a.subMsg}` : ''}`;
  const extra = { channelCode: a.subCode ?? a.code, channelMessage: a.subMsg ?? a.msg };
  // 20000 and ACQ.SYSTEM_ERROR: "retry or query" — for a write the outcome is unknown (§C.3).
  if (a.code === '20000' || a.subCode === 'ACQ.SYSTEM_ERROR' || a.subCode === 'isp.unknow-error') return new ChannelError('system', text, extra);
  // A business refusal must be signed to be believed; an unsigned one may not come from Alipay.
  if (a.code === '40004' && !a.signed) return new ChannelError('bad_signature', `${text} (unsigned)`, extra);
  if (['20001', '40001', '40002', '40004', '40006'].includes(a.code)) return new ChannelError('rejected', text, extra);
  return new ChannelError('protocol', text, extra);
}
