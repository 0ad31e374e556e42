import { X509Certificate, type KeyObject } from 'node:crypto';
import { newNonce } from '../../domain/ids.ts';
import { sendChannelRequest, type ChannelHttpResponse, type HttpMethod, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { WechatPayConfig } from './config.ts';
import { normalizeCode } from './mapping.ts';
import {
  PROBE_SIGNATURE_PREFIX,
  aesGcmDecrypt,
  buildAuthorization,
  certificateSerial,
  requestMessage,
  responseMessage,
  rsaSign,
  rsaSignAsync,
  rsaVerify,
} from './v3-crypto.ts';

/**
 * Signed WeChat Pay v3 client for one merchant configuration: signs every request
 * (protocols.md §A.3), verifies every 2xx answer (§A.4) and turns error answers into
 * ChannelError (§A.7). In platformCert mode it also owns the platform-certificate cache.
 */

export interface WechatPayClientDeps {
  send?: SendChannelRequest;
  /** Milliseconds since the epoch; injectable so fixed vectors can be verified. */
  now?: () => number;
  timeoutMs?: number;
}

export interface WechatPayAnswer {
  status: number;
  requestId: string | undefined;
  /** Parsed JSON, or null for an empty body (204). */
  data: unknown;
}

/** wechatpay-go FiveMinute / axios plugin MAXIMUM_CLOCK_OFFSET (§A.4). */
const MAX_CLOCK_SKEW_S = 300;
/** An unknown serial triggers at most one certificate download per interval, so forged callbacks cannot make us hammer /v3/certificates. */
const CERT_REFRESH_MIN_INTERVAL_MS = 60_000;
const CERT_RETRY_AFTER_FAILURE_MS = 5_000;
const SYSTEM_CODES = new Set(['SYSTEMERROR', 'BANKERROR', 'FREQUENCYLIMITED']);
const USER_AGENT = `Polypay/0.1 WechatPay-APIv3 (node ${process.version})`;

function badSignature(message: string): ChannelError {
  return new ChannelError('bad_signature', `wxpay: ${message}`);
}

/** Turns a non-2xx answer into the right ChannelError; the code is kept as WeChat spelled it. */
export function errorFromAnswer(res: ChannelHttpResponse, what: string): ChannelError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body);
    if (typeof parsed === 'object' && parsed !== null) {
      const p = parsed as Record<string, unknown>;
      if (typeof p.code === 'string' && p.code !== '') code = p.code;
      if (typeof p.message === 'string') message = p.message;
    }
  } catch {
    // a proxy's HTML page or an empty body: classified by status alone
  }
  const requestId = res.headers['request-id'];
  const text = `wxpay ${what} → HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${requestId ? ` (Request-ID ${requestId})` : ''}`;
  const extra = { httpStatus: res.status, ...(code !== undefined && { channelCode: code }), ...(message !== undefined && { channelMessage: message }) };
  // 5xx, 429 and the "retry with the same parameters" codes: for a write the outcome is unknown.
  if (res.status >= 500 || res.status === 429 || SYSTEM_CODES.has(normalizeCode(code))) return new ChannelError('system', text, extra);
  if (res.status >= 400) return new ChannelError('rejected', text, extra);
  return new ChannelError('protocol', text, extra);
}

export class WechatPayClient {
  readonly config: WechatPayConfig;
  readonly #send: SendChannelRequest;
  readonly #now: () => number;
  readonly #timeoutMs: number | undefined;
  /** Platform certificate serial (upper-case hex) → public key. */
  #platformKeys = new Map<string, KeyObject>();
  #lastCertRefresh = Number.NEGATIVE_INFINITY;
  #certRefresh: Promise<void> | null = null;

  constructor(config: WechatPayConfig, deps: WechatPayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#now = deps.now ?? Date.now;
    this.#timeoutMs = deps.timeoutMs;
  }

  /** The Authorization header for a request; `canonicalUrl` is path + query exactly as sent. */
  authorize(method: string, canonicalUrl: string, body: string, timestamp: string, nonce: string): string {
    const signature = rsaSign(requestMessage(method, canonicalUrl, timestamp, nonce, body), this.config.merchantPrivateKey);
    return buildAuthorization({ mchid: this.config.mchId, nonce_str: nonce, signature, timestamp, serial_no: this.config.merchantSerialNo });
  }

  /** `authorize` with the signature computed off the event loop (the request path uses this one). */
  async authorizeAsync(method: string, canonicalUrl: string, body: string, timestamp: string, nonce: string): Promise<string> {
    const signature = await rsaSignAsync(requestMessage(method, canonicalUrl, timestamp, nonce, body), this.config.merchantPrivateKey);
    return buildAuthorization({ mchid: this.config.mchId, nonce_str: nonce, signature, timestamp, serial_no: this.config.merchantSerialNo });
  }

  /**
   * Sends a signed request; resolves with a verified 2xx answer, otherwise throws. A 2xx that
   * fails verification throws bad_signature even though WeChat may have acted on it — for a
   * write, the caller must treat that as an unknown outcome.
   */
  async call(method: HttpMethod, pathAndQuery: string, body?: Record<string, unknown>, log?: Logger): Promise<WechatPayAnswer> {
    const res = await this.#exchange(method, pathAndQuery, body, log);
    const what = `${method} ${pathAndQuery.split('?')[0]}`;
    // Error answers are not verified: SDKs do not verify non-2xx bodies and WeChat does not
    // promise to sign them (protocols.md §A.4), so requiring it would turn refusals into faults.
    if (res.status < 200 || res.status >= 300) throw errorFromAnswer(res, what);
    await this.verify(res.headers, res.body);
    return { status: res.status, requestId: res.headers['request-id'], data: parseJsonBody(res.body, what) };
  }

  /**
   * Verifies Wechatpay-* headers over a body (answers and callbacks alike): all four headers
   * present, timestamp within ±5 minutes, a known serial, and an RSA-SHA256 signature over
   * `TIMESTAMP\nNONCE\nBODY\n`. Throws bad_signature.
   */
  async verify(headers: Record<string, string | undefined>, body: string): Promise<void> {
    const timestamp = headers['wechatpay-timestamp'];
    const nonce = headers['wechatpay-nonce'];
    const serial = headers['wechatpay-serial'];
    const signature = headers['wechatpay-signature'];
    if (!timestamp || !nonce || !serial || !signature) throw badSignature('missing Wechatpay-Timestamp/Nonce/Serial/Signature header');
    const type = headers['wechatpay-signature-type'];
    if (type !== undefined && type !== 'WECHATPAY2-SHA256-RSA2048') throw badSignature(`unsupported Wechatpay-Signature-Type ${type}`);
    // WeChat's probe traffic (签名探测) carries a deliberately invalid signature; it would fail
    // below anyway, but naming it makes the log line self-explanatory (§A.4).
    if (signature.startsWith(PROBE_SIGNATURE_PREFIX)) throw badSignature('probe signature (WECHATPAY/SIGNTEST) rejected');
    this.#checkTimestamp(timestamp);
    const key = await this.#verificationKey(serial);
    if (!key) throw badSignature(`unknown Wechatpay-Serial ${serial}`);
    if (!rsaVerify(responseMessage(timestamp, nonce, body), signature, key)) throw badSignature('signature does not verify');
  }

  #checkTimestamp(timestamp: string): void {
    if (!/^[0-9]{1,12}$/.test(timestamp)) throw badSignature('malformed Wechatpay-Timestamp');
    const skew = Math.abs(Math.floor(this.#now() / 1000) - Number(timestamp));
    if (skew > MAX_CLOCK_SKEW_S) throw badSignature(`Wechatpay-Timestamp is ${skew}s away from our clock (max ${MAX_CLOCK_SKEW_S}s)`);
  }

  async #exchange(method: HttpMethod, pathAndQuery: string, body: Record<string, unknown> | undefined, log?: Logger): Promise<ChannelHttpResponse> {
    const url = new URL(`${this.config.baseUrl}${pathAndQuery}`);
    // Sign exactly what undici puts on the wire: the normalised path and query of this URL,
    // and the one JSON string that is also sent as the body.
    const canonicalUrl = `${url.pathname}${url.search}`;
    const bodyText = body === undefined ? '' : JSON.stringify(body);
    const timestamp = String(Math.floor(this.#now() / 1000));
    const headers: Record<string, string> = {
      Authorization: await this.authorizeAsync(method, canonicalUrl, bodyText, timestamp, newNonce(32)),
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const started = Date.now();
    const res = await this.#send({
      method,
      url: url.toString(),
      headers,
      ...(body !== undefined && { body: bodyText }),
      ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
    });
    log?.debug({ channel: 'wxpay', method, path: url.pathname, status: res.status, requestId: res.headers['request-id'], ms: Date.now() - started }, 'wxpay call');
    return res;
  }

  async #verificationKey(serial: string): Promise<KeyObject | undefined> {
    const { wxpayPublicKeyId, wxpayPublicKey, verifyMode } = this.config;
    if (wxpayPublicKeyId !== undefined && serial === wxpayPublicKeyId) return wxpayPublicKey;
    if (verifyMode !== 'platformCert') return undefined;
    const id = serial.toUpperCase();
    const known = this.#platformKeys.get(id);
    if (known) return known;
    await this.refreshCertificates();
    return this.#platformKeys.get(id);
  }

  /**
   * Downloads the platform certificates (single flight, rate limited). Concurrent callers
   * share one download; a refresh inside the minimum interval is skipped.
   */
  async refreshCertificates(force = false): Promise<void> {
    if (this.#certRefresh) return this.#certRefresh;
    if (!force && this.#now() - this.#lastCertRefresh < CERT_REFRESH_MIN_INTERVAL_MS) return;
    this.#lastCertRefresh = this.#now();
    this.#certRefresh = this.#downloadCertificates()
      .catch((err: unknown) => {
        // A failed download must not block the next attempt for a whole interval.
        this.#lastCertRefresh = this.#now() - CERT_REFRESH_MIN_INTERVAL_MS + CERT_RETRY_AFTER_FAILURE_MS;
        throw err;
      })
      .finally(() => {
        this.#certRefresh = null;
      });
    return this.#certRefresh;
  }

  /**
   * /v3/certificates is signed by one of the certificates it carries. They are trusted first
   * because each decrypts under the APIv3 key (AES-GCM authenticates: only WeChat and the
   * merchant hold that key) — the same bootstrap wechatpay-java uses — and then the answer's
   * own signature is checked against them.
   */
  async #downloadCertificates(): Promise<void> {
    const res = await this.#exchange('GET', '/v3/certificates', undefined);
    const what = 'GET /v3/certificates';
    if (res.status < 200 || res.status >= 300) throw errorFromAnswer(res, what);
    const data = parseJsonBody(res.body, what) as { data?: unknown } | null;
    if (!data || !Array.isArray(data.data)) throw new ChannelError('protocol', `wxpay ${what}: no data array`);
    const fresh = new Map<string, KeyObject>();
    for (const entry of data.data as unknown[]) {
      const parsed = this.#decryptCertificate(entry);
      if (parsed) fresh.set(parsed.serial, parsed.key);
    }
    const timestamp = res.headers['wechatpay-timestamp'] ?? '';
    const serial = (res.headers['wechatpay-serial'] ?? '').toUpperCase();
    this.#checkTimestamp(timestamp);
    const key = fresh.get(serial) ?? this.#platformKeys.get(serial);
    const signature = res.headers['wechatpay-signature'] ?? '';
    if (!key || !rsaVerify(responseMessage(timestamp, res.headers['wechatpay-nonce'] ?? '', res.body), signature, key)) {
      throw badSignature('certificate list signature does not verify');
    }
    // WeChat lists every certificate currently valid, so the list replaces the cache.
    this.#platformKeys = fresh;
  }

  #decryptCertificate(entry: unknown): { serial: string; key: KeyObject } | undefined {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const enc = (typeof e.encrypt_certificate === 'object' && e.encrypt_certificate !== null ? e.encrypt_certificate : {}) as Record<string, unknown>;
    const { nonce, associated_data: aad, ciphertext, algorithm } = enc;
    if (typeof e.serial_no !== 'string' || algorithm !== 'AEAD_AES_256_GCM' || typeof nonce !== 'string' || typeof ciphertext !== 'string') {
      throw new ChannelError('protocol', 'wxpay /v3/certificates: malformed certificate entry');
    }
    let pem: string;
    try {
      pem = aesGcmDecrypt(this.config.apiV3Key, nonce, typeof aad === 'string' ? aad : '', ciphertext);
    } catch {
      throw badSignature(`platform certificate ${e.serial_no} does not decrypt with the APIv3 key`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw new ChannelError('protocol', `wxpay /v3/certificates: entry ${e.serial_no} is not a certificate`);
    }
    const serial = certificateSerial(pem);
    if (serial !== e.serial_no.toUpperCase()) throw badSignature(`platform certificate serial ${serial} differs from listed ${e.serial_no}`);
    // An expired certificate must not verify anything, even if still listed.
    if (new Date(cert.validTo).getTime() < this.#now()) return undefined;
    return { serial, key: cert.publicKey };
  }
}

function parseJsonBody(body: string, what: string): unknown {
  if (body === '') return null;
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new ChannelError('protocol', `wxpay ${what}: answer is not JSON`, { cause: err });
  }
}
