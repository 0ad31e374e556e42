import { Agent, request, type Dispatcher } from 'undici';
import { ChannelError } from './types.ts';

/**
 * The one HTTP executor every channel client goes through. It owns the keep-alive pool,
 * the deadline and — most importantly — the classification of transport failures:
 *
 *   'unavailable' = provably nothing reached the channel (no TCP connection, no DNS answer,
 *                   TLS refused before a byte of the request was written). The caller may
 *                   treat the operation as not performed.
 *   'timeout'     = the request may have been written. The channel may have acted on it
 *                   (created the prepay, accepted the refund), so the outcome is UNKNOWN and
 *                   must be settled by a later query — never by assuming failure.
 *
 * Anything we cannot positively place in the first group goes into the second: calling a
 * sent request "unavailable" could make the core fail an order the payer then pays, while
 * calling an unsent one "timeout" only costs a query.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ChannelHttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Sent instead of `body` when set: for channels whose charset is not UTF-8 (e.g. GB18030). */
  bodyBytes?: Buffer;
  /** Whole-exchange deadline (connect + send + headers + body). Default 10 s. */
  timeoutMs?: number;
  /** A pool of the caller's own, e.g. one presenting a client certificate (mutual TLS); default: the shared pool. */
  dispatcher?: Dispatcher;
}

export interface ChannelHttpResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The body's bytes, for channels whose answers are not UTF-8 (set by sendChannelRequest). */
  raw?: Buffer;
}

export type SendChannelRequest = (req: ChannelHttpRequest) => Promise<ChannelHttpResponse>;

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The connect budget is shorter than the default deadline so that an unreachable host
 * surfaces as UND_ERR_CONNECT_TIMEOUT ('unavailable', a clean "not sent") rather than as
 * the overall abort ('timeout', unknown). With a caller deadline below 5 s the abort may
 * win the race; that errs on the safe side.
 */
const CONNECT_TIMEOUT_MS = 5_000;

const agent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  connections: 64,
  connect: { timeout: CONNECT_TIMEOUT_MS },
});

/**
 * Error codes raised before any request byte is written: DNS failures, refused or
 * unroutable connections, connect timeouts, and TLS certificate rejections (the handshake
 * precedes the request).
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True only when every underlying cause is a pre-send failure (Happy Eyeballs reports an AggregateError per address family). */
export function isNotSentError(err: unknown): boolean {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.every(isNotSentError);
  const code = errorCode(err);
  if (code !== undefined) return NOT_SENT_CODES.has(code);
  // A wrapper without a code of its own: judge by what it wraps.
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isNotSentError(cause);
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A keep-alive pool like the shared one, with the caller's TLS options (client certificate, extra CA). */
export function tlsAgent(tls: { cert?: string; key?: string; pfx?: Buffer; passphrase?: string; ca?: string }): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 16, connect: { timeout: CONNECT_TIMEOUT_MS, ...tls } });
}

export async function sendChannelRequest(req: ChannelHttpRequest): Promise<ChannelHttpResponse> {
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = new URL(req.url);
  try {
    const res = await request(target, {
      method: req.method,
      headers: req.headers,
      body: req.bodyBytes ?? req.body,
      dispatcher: req.dispatcher ?? agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // headers/body timeouts are per phase; the signal caps the whole exchange, so a
      // slow-drip answer cannot hold a payment request open past the deadline.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const raw = Buffer.from(await res.body.arrayBuffer());
    // TextDecoder, like undici's text(): UTF-8, a leading BOM dropped.
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: new TextDecoder().decode(raw), raw };
  } catch (err) {
    const where = `${req.method} ${target.origin}${target.pathname}`;
    if (isNotSentError(err)) {
      throw new ChannelError('unavailable', `channel unreachable (${errorCode(err) ?? 'connect failed'}): ${where}`, { cause: err });
    }
    const code = errorCode(err) ?? (err instanceof Error ? err.name : 'unknown');
    throw new ChannelError('timeout', `no complete answer (${code}), outcome unknown: ${where}`, { cause: err });
  }
}

export interface ChannelFileResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type FetchChannelFile = (url: string, opts?: { timeoutMs?: number; maxBytes?: number }) => Promise<ChannelFileResponse>;

/**
 * A file from a channel (bills: zip, gzip) as raw bytes — `sendChannelRequest` decodes text,
 * which would corrupt them — on the same pool and with the same failure classification.
 * Bounded: a channel file larger than `maxBytes` (default 200 MB) is refused.
 */
export const fetchChannelFile: FetchChannelFile = async (url, opts = {}) => {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxBytes = opts.maxBytes ?? 200 * 1024 * 1024;
  const target = new URL(url);
  try {
    const res = await request(target, { method: 'GET', headers: { accept: '*/*' }, dispatcher: agent, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new ChannelError('protocol', `channel file larger than ${maxBytes} bytes: ${target.origin}${target.pathname}`);
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks) };
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    const where = `GET ${target.origin}${target.pathname}`;
    if (isNotSentError(err)) throw new ChannelError('unavailable', `channel unreachable (${errorCode(err) ?? 'connect failed'}): ${where}`, { cause: err });
    throw new ChannelError('timeout', `no complete answer (${errorCode(err) ?? (err instanceof Error ? err.name : 'unknown')}): ${where}`, { cause: err });
  }
};
