import type { KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { sendChannelRequest, tlsAgent, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type InboundCallback, type Logger } from '../types.ts';
import type { PaypalConfig } from './config.ts';
import { ISSUES, PAYPAL_PATHS } from './protocol.ts';
import { certKey, verifyWebhookSignature, webhookHeaders } from './webhook.ts';

/**
 * The PayPal REST client of one merchant app (docs/channels/paypal.md P2, P3, P7): an OAuth2
 * client-credentials token shared by every call until shortly before it expires (one fetch in
 * flight for all callers; a 401 invalid_token drops it and the call is retried once), JSON calls
 * with PayPal-Request-Id for idempotent retries, PayPal's error bodies classified for the core,
 * and the webhook signing certificates, downloaded once per URL.
 */

export type Json = Record<string, unknown>;

export interface PaypalClientDeps {
  send?: SendChannelRequest;
  now?: () => number;
}

const USER_AGENT = `Polypay/0.1 paypal (node ${process.version})`;
/** Tokens are dropped this long before PayPal's expiry, so a call never leaves with one about to lapse. */
const TOKEN_MARGIN_MS = 5 * 60_000;
const MAX_CERTS = 32;

const protocol = (message: string, httpStatus?: number): ChannelError => new ChannelError('protocol', `paypal: ${message}`, httpStatus !== undefined ? { httpStatus } : {});

function parseJson(res: ChannelHttpResponse, what: string): Json {
  try {
    const v: unknown = JSON.parse(res.body);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  } catch {
    /* classified below */
  }
  throw protocol(`${what}: answer is not a JSON object (HTTP ${res.status})`, res.status);
}

/**
 * P7: PayPal's error body `{name, message, debug_id, details:[{issue, description}]}` (OAuth:
 * `{error, error_description}`) → ChannelError. The issue is the channel code when there is one.
 * 5xx, 409 (a request with this PayPal-Request-Id still in progress) and 429 are faults whose
 * outcome is unknown or retryable; 401/403 are our credentials; every other 4xx is a definite refusal.
 */
export function paypalError(what: string, res: ChannelHttpResponse): ChannelError {
  let body: Json = {};
  try {
    const v: unknown = JSON.parse(res.body);
    if (v && typeof v === 'object') body = v as Json;
  } catch {
    /* a bare status */
  }
  const details = Array.isArray(body.details) ? (body.details as Json[]) : [];
  const first = details[0] ?? {};
  const code = (typeof first.issue === 'string' && first.issue) || (typeof body.name === 'string' && body.name) || (typeof body.error === 'string' && body.error) || `HTTP_${res.status}`;
  const message = (typeof first.description === 'string' && first.description) || (typeof body.message === 'string' && body.message) || (typeof body.error_description === 'string' && body.error_description) || '';
  const debugId = typeof body.debug_id === 'string' ? ` debug_id ${body.debug_id}` : '';
  const extra = { channelCode: code, channelMessage: message, httpStatus: res.status };
  const text = `paypal ${what} → ${res.status} ${code} ${message}${debugId}`.trim();
  if (res.status >= 500 || res.status === 409 || res.status === 429) return new ChannelError('system', text, extra);
  if (res.status === 401 || res.status === 403) return new ChannelError('misconfigured', text, extra);
  return new ChannelError('rejected', text, extra);
}

export class PaypalClient {
  readonly config: PaypalConfig;
  readonly #send: SendChannelRequest;
  readonly #now: () => number;
  #token: { value: string; expiresAt: number } | null = null;
  #tokenFetch: Promise<string> | null = null;
  readonly #certs = new Map<string, Promise<string>>();
  readonly #certDispatcher: Dispatcher | undefined;

  constructor(config: PaypalConfig, deps: PaypalClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#now = deps.now ?? Date.now;
    this.#certDispatcher = config.certCa ? tlsAgent({ ca: config.certCa }) : undefined;
  }

  #timeout(): { timeoutMs?: number } {
    return this.config.timeoutMs !== undefined ? { timeoutMs: this.config.timeoutMs } : {};
  }

  /** The cached token, or one fetch shared by every caller waiting for it. */
  token(): Promise<string> {
    if (this.#token && this.#now() < this.#token.expiresAt) return Promise.resolve(this.#token.value);
    this.#tokenFetch ??= this.#fetchToken().finally(() => {
      this.#tokenFetch = null;
    });
    return this.#tokenFetch;
  }

  async #fetchToken(): Promise<string> {
    const basic = Buffer.from(`${this.config.clientId}:${this.config.clientSecret}`).toString('base64');
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.apiBase}${PAYPAL_PATHS.token}`,
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: 'grant_type=client_credentials',
      ...this.#timeout(),
    });
    if (res.status !== 200) throw paypalError('oauth2/token', res);
    const body = parseJson(res, 'oauth2/token');
    const token = body.access_token;
    const expiresIn = body.expires_in;
    if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) throw protocol('oauth2/token: answer lacks access_token or expires_in');
    this.#token = { value: token, expiresAt: this.#now() + Math.max(0, expiresIn * 1000 - TOKEN_MARGIN_MS) };
    return token;
  }

  /** One REST call; 2xx answers are JSON objects (204 → {}). */
  async call(method: 'GET' | 'POST', path: string, o: { body?: unknown; requestId?: string; log?: Logger } = {}): Promise<Json> {
    const started = this.#now();
    let res = await this.#exchange(method, path, o, await this.token());
    if (res.status === 401 && /invalid_token/.test(res.body)) {
      // PayPal revoked or expired the token before our clock said so: fetch a new one, once.
      this.#token = null;
      res = await this.#exchange(method, path, o, await this.token());
    }
    o.log?.debug({ channel: 'paypal', method, path, status: res.status, ms: this.#now() - started }, 'paypal call');
    if (res.status < 200 || res.status > 299) throw paypalError(`${method} ${path}`, res);
    return res.status === 204 || res.body.trim() === '' ? {} : parseJson(res, path);
  }

  #exchange(method: 'GET' | 'POST', path: string, o: { body?: unknown; requestId?: string }, token: string): Promise<ChannelHttpResponse> {
    return this.#send({
      method,
      url: `${this.config.apiBase}${path}`,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        'User-Agent': USER_AGENT,
        ...(method === 'POST' ? { 'Content-Type': 'application/json', Prefer: 'return=representation' } : {}),
        ...(o.requestId !== undefined ? { 'PayPal-Request-Id': o.requestId } : {}),
      },
      ...(method === 'POST' ? { body: JSON.stringify(o.body ?? {}) } : {}),
      ...this.#timeout(),
    });
  }

  /** P9: verifies a webhook (headers, certificate, signature with our webhook id) and parses the event. */
  async verifyWebhook(request: InboundCallback): Promise<Json> {
    const now = this.#now();
    const h = webhookHeaders(request, this.config.certHosts, now);
    verifyWebhookSignature(h, this.config.webhookId, request.rawBody, await this.#certKey(h.certUrl.toString(), now));
    try {
      const v: unknown = JSON.parse(request.rawBody.toString('utf8'));
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
    } catch {
      /* below */
    }
    throw protocol('webhook body is not a JSON object');
  }

  /** Certificates are public and fixed per URL: downloaded once (a failed download is not kept), checked for validity on every use. */
  async #certKey(url: string, now: number): Promise<KeyObject> {
    let entry = this.#certs.get(url);
    if (!entry) {
      entry = this.#downloadCert(url);
      entry.catch(() => this.#certs.delete(url));
      this.#certs.set(url, entry);
      while (this.#certs.size > MAX_CERTS) this.#certs.delete(this.#certs.keys().next().value as string);
    }
    return certKey(await entry, now);
  }

  async #downloadCert(url: string): Promise<string> {
    const res = await this.#send({ method: 'GET', url, headers: { Accept: '*/*', 'User-Agent': USER_AGENT }, ...this.#timeout(), ...(this.#certDispatcher ? { dispatcher: this.#certDispatcher } : {}) });
    if (res.status !== 200) throw new ChannelError(res.status >= 500 ? 'system' : 'bad_signature', `paypal webhook: PAYPAL-CERT-URL answered HTTP ${res.status}`, { httpStatus: res.status });
    return res.body;
  }

  /** 404: the name is RESOURCE_NOT_FOUND, the issue says which id (INVALID_RESOURCE_ID …). */
  static notFound(err: unknown): boolean {
    return err instanceof ChannelError && err.kind === 'rejected' && err.httpStatus === 404;
  }

  /** True when the error is PayPal's refusal with this issue (or error name). */
  static refused(err: unknown, issue: string): boolean {
    return err instanceof ChannelError && err.kind === 'rejected' && err.channelCode === issue;
  }
}

export { ISSUES };
