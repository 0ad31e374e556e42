import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { buildAuthorization, loadPrivateKey, loadPublicKey, requestMessage, responseMessage, rsaSign, rsaVerify } from '../v3-crypto.ts';
import type { SandboxCredentials } from './types.ts';

/**
 * Test helpers (not a test file): a minimal signing client built straight from protocols.md §A.3
 * and an in-process HTTP receiver for callbacks. Kept out of production code paths.
 */

export interface WxAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

export interface SignOverrides {
  timestamp?: string;
  nonce?: string;
  serial?: string;
  scheme?: string;
  signature?: string;
  mchid?: string;
  /** Send (and sign) these exact bytes instead of JSON.stringify(body). */
  rawBody?: string;
}

export async function wxCall(baseUrl: string, creds: SandboxCredentials, method: 'GET' | 'POST', url: string, body?: unknown, o: SignOverrides = {}): Promise<WxAnswer> {
  const text = o.rawBody ?? (body === undefined ? '' : JSON.stringify(body));
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? randomBytes(16).toString('hex');
  const signature = o.signature ?? rsaSign(requestMessage(method, url, timestamp, nonce, text), loadPrivateKey(creds.merchantPrivateKeyPem as string));
  let authorization = buildAuthorization({ mchid: o.mchid ?? creds.mchid, nonce_str: nonce, signature, timestamp, serial_no: o.serial ?? creds.merchantSerialNo });
  if (o.scheme !== undefined) authorization = authorization.replace('WECHATPAY2-SHA256-RSA2048', o.scheme);
  const res = await request(`${baseUrl}${url}`, {
    method,
    headers: { authorization, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    body: method === 'POST' ? text : undefined,
  });
  const answer = await res.body.text();
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: res.statusCode, headers, text: answer, json: answer ? JSON.parse(answer) : undefined };
}

/** Verifies an answer (or a callback) as a client must (protocols.md §A.4). */
export function verifySigned(headers: Record<string, string | string[] | undefined>, body: string, creds: SandboxCredentials): boolean {
  const h = (name: string): string => String(headers[name] ?? headers[name.toLowerCase()] ?? '');
  const serial = h('wechatpay-serial');
  const pem =
    serial === creds.wxpayPublicKeyId ? creds.wxpayPublicKeyPem : serial === creds.platformCertificateSerial ? creds.platformCertificatePem : null;
  if (!pem) return false;
  return rsaVerify(responseMessage(h('wechatpay-timestamp'), h('wechatpay-nonce'), body), h('wechatpay-signature'), loadPublicKey(pem));
}

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each answer's status; default 200. */
  respond: (r: Received, index: number) => number;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(path = '/notify/wxpay'): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  let server: Server;
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => 200,
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received.slice(0, count));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`expected ${count} callbacks, got ${received.length}`)), timeoutMs);
        const waiter = (): void => {
          if (!check()) waiters.push(waiter);
        };
        waiter();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const status = receiver.respond(r, received.length - 1);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 || status === 204 ? '' : JSON.stringify({ code: 'FAIL', message: '失败' }));
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}

export function nativeOrder(creds: SandboxCredentials, notifyUrl: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: creds.appids[0],
    mchid: creds.mchid,
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: `T${randomBytes(8).toString('hex')}`,
    notify_url: notifyUrl,
    amount: { total: 1000, currency: 'CNY' },
    ...over,
  };
}

export interface CapturedCallback {
  path: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  query: Record<string, string>;
}

/** A merchant notify endpoint for channel tests: keeps each callback raw (parseCallback input) and answers with `reply`. */
export async function startCaptureServer(reply: (c: CapturedCallback) => { status: number; contentType: string; body: string }): Promise<{ url: string; captured: CapturedCallback[]; close(): Promise<void> }> {
  const captured: CapturedCallback[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const c: CapturedCallback = { path: req.url ?? '', headers, rawBody: Buffer.concat(chunks), query: {} };
      captured.push(c);
      const answer = reply(c);
      res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, captured, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
