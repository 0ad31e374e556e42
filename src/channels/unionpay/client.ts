import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import { CertificateError, verifyUnionPayCert } from './certs.ts';
import type { AcpConfig, SpConfig } from './config.ts';
import { ACP_VERSION, SIGN_METHOD_RSA, acpSignString, digestSign, digestVerify, parseAcpKv, signAcpFields, spSignString } from './sign.ts';
import type { KeyObject } from 'node:crypto';

/**
 * Clients of the two UnionPay gateways for one merchant app. Both sign with the merchant's
 * (or provider's) PFX key, send through the shared executor (src/channels/http.ts: one
 * deadline, "not sent" vs "outcome unknown"), and verify every answer before anything in it is
 * used: ACP answers by their signPubKeyCert (chain + CN) and signature, service-provider answers
 * by the gateway's configured public key.
 */

export interface UnionPayClientDeps {
  send?: SendChannelRequest;
  timeoutMs?: number;
}

const USER_AGENT = `Polypay/0.1 unionpay-acp/5.1.0 (node ${process.version})`;

export function badSignature(message: string): ChannelError {
  return new ChannelError('bad_signature', `unionpay: ${message}`);
}

function httpError(what: string, res: ChannelHttpResponse): ChannelError {
  const text = `unionpay: ${what} → HTTP ${res.status}`;
  return res.status >= 500 ? new ChannelError('system', text, { httpStatus: res.status }) : new ChannelError('protocol', text, { httpStatus: res.status });
}

export type AcpEndpoint = 'back' | 'app' | 'query' | 'userId' | 'file';

/** ASSUMPTION A6 (docs/channels/unionpay.md): the userId exchange endpoint of a direct merchant. */
const ACP_PATHS: Record<Exclude<AcpEndpoint, 'file'>, string> = {
  back: '/gateway/api/backTransReq.do',
  app: '/gateway/api/appTransReq.do',
  query: '/gateway/api/queryTrans.do',
  userId: '/gateway/api/userIdTrans.do',
};

export class AcpClient {
  readonly config: AcpConfig;
  readonly #send: SendChannelRequest;
  readonly #timeoutMs: number | undefined;
  /** signPubKeyCert PEM → its verified public key (UnionPay uses one certificate for months). */
  readonly #trusted = new Map<string, { key: KeyObject; until: number }>();

  constructor(config: AcpConfig, deps: UnionPayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#timeoutMs = deps.timeoutMs;
  }

  /** The common fields every ACP request carries, signed. */
  signed(fields: Record<string, string>): Record<string, string> {
    const c = this.config;
    return signAcpFields({ version: ACP_VERSION, encoding: 'UTF-8', signMethod: SIGN_METHOD_RSA, certId: c.signer.certId, merId: c.merId, accessType: '0', ...fields }, c.signer.privateKey);
  }

  async call(endpoint: AcpEndpoint, fields: Record<string, string>, log?: Logger): Promise<Record<string, string>> {
    const url = endpoint === 'file' ? this.config.fileUrl : `${this.config.acpBaseUrl}${ACP_PATHS[endpoint]}`;
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8', Accept: 'text/plain, */*', 'User-Agent': USER_AGENT },
      body: new URLSearchParams(this.signed(fields)).toString(),
      ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
    });
    if (res.status !== 200) throw httpError(`${endpoint} ${fields.txnType ?? ''}`, res);
    let answer: Record<string, string>;
    try {
      answer = parseAcpKv(res.body.trim());
    } catch {
      throw new ChannelError('protocol', `unionpay: ${endpoint} answer is not k=v text`);
    }
    this.verify(answer);
    log?.debug({ channel: 'unionpay', endpoint, txnType: fields.txnType, respCode: answer.respCode, ms: Date.now() - started }, 'unionpay call');
    return answer;
  }

  /**
   * An answer or back notification (protocols.md §D.3): signPubKeyCert must chain to the
   * configured middle and root and belong to UnionPay; then the signature over every field but
   * `signature` (signPubKeyCert and empty fields included) must verify with its key.
   */
  verify(fields: Readonly<Record<string, string>>): void {
    const pem = fields.signPubKeyCert;
    const signature = fields.signature;
    if (!pem || !signature) throw badSignature('unsigned answer or notification');
    if (fields.signMethod !== SIGN_METHOD_RSA) throw badSignature(`unsupported signMethod ${fields.signMethod ?? '(none)'}`);
    const now = Date.now();
    let trusted = this.#trusted.get(pem);
    if (!trusted || trusted.until < now) {
      try {
        const cert = verifyUnionPayCert(pem, { middle: this.config.middle, root: this.config.root, strictCn: this.config.strictCn }, now);
        trusted = { key: cert.publicKey, until: Math.min(Date.parse(cert.validTo), Date.parse(this.config.middle.validTo)) };
      } catch (err) {
        if (err instanceof CertificateError) throw badSignature(err.message);
        throw err;
      }
      if (this.#trusted.size > 16) this.#trusted.clear();
      this.#trusted.set(pem, trusted);
    }
    if (!digestVerify(acpSignString(fields, false), signature, trusted.key)) throw badSignature('signature does not verify');
  }
}

export class SpClient {
  readonly config: SpConfig;
  readonly #send: SendChannelRequest;
  readonly #timeoutMs: number | undefined;

  constructor(config: SpConfig, deps: UnionPayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#timeoutMs = deps.timeoutMs;
  }

  /** POST /gateway/api/pay/<method>: JSON with serProvId + merId, signed over the sorted non-empty fields. */
  async call(method: string, body: Record<string, unknown>, log?: Logger): Promise<Record<string, unknown>> {
    const c = this.config;
    const full: Record<string, unknown> = { serProvId: c.serProvId, merId: c.merId, ...body };
    full.signature = digestSign(spSignString(full), c.signer.privateKey);
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${c.spBaseUrl}/gateway/api/pay/${method}`,
      headers: { 'Content-Type': 'application/json;charset=UTF-8', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: JSON.stringify(full),
      ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
    });
    if (res.status !== 200) throw httpError(method, res);
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      throw new ChannelError('protocol', `unionpay sp: ${method} answer is not JSON`);
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new ChannelError('protocol', `unionpay sp: ${method} answer is not an object`);
    const a = answer as Record<string, unknown>;
    this.verify(a);
    log?.debug({ channel: 'unionpay', gateway: 'sp', method, respCode: a.respCode, ms: Date.now() - started }, 'unionpay sp call');
    return a;
  }

  verify(body: Readonly<Record<string, unknown>>): void {
    const signature = body.signature;
    if (typeof signature !== 'string' || signature === '') throw badSignature('unsigned service-provider answer or notification');
    if (!digestVerify(spSignString(body), signature, this.config.gatewayKey)) throw badSignature('service-provider signature does not verify');
  }
}
