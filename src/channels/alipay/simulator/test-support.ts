import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey } from 'node:crypto';
import { request } from 'undici';
import { chinaTime, REQUEST_UNSIGNED, rsa2Sign, signContent } from '../sign.ts';
import type { AppCredentials } from './types.ts';

/**
 * Test helpers (not a test file): a minimal gateway client written straight from protocols.md
 * §C.2 (so simulator tests can send deliberately broken requests) and a notify receiver.
 */

export interface RawAnswer {
  status: number;
  text: string;
  json: any;
}

export async function gatewayCall(creds: AppCredentials, method: string, biz: unknown, o: { params?: Record<string, string>; drop?: string[]; signWith?: string; signature?: string } = {}): Promise<RawAnswer> {
  const params: Record<string, string> = {
    app_id: creds.appId,
    method,
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: chinaTime(Date.now()),
    version: '1.0',
    ...(biz !== undefined ? { biz_content: typeof biz === 'string' ? biz : JSON.stringify(biz) } : {}),
    ...(creds.mode === 'cert' ? { app_cert_sn: creds.appCertSn as string, alipay_root_cert_sn: creds.alipayRootCertSn as string } : {}),
    ...o.params,
  };
  for (const d of o.drop ?? []) delete params[d];
  params.sign = o.signature ?? rsa2Sign(signContent(params, REQUEST_UNSIGNED), createPrivateKey(o.signWith ?? (creds.appPrivateKeyPem as string)));
  if (o.drop?.includes('sign')) delete params.sign;
  const res = await request(creds.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' }, body: new URLSearchParams(params).toString() });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: JSON.parse(text) };
}

/** The `…_response` object of an answer. */
export function inner(a: RawAnswer, method: string): any {
  return a.json[`${method.replaceAll('.', '_')}_response`] ?? a.json.error_response;
}

export interface Received {
  at: number;
  fields: Record<string, string>;
  raw: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The body answered to delivery n (0-based); default 'success'. */
  respond: (r: Received, index: number) => string;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let server: Server;
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => 'success',
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received.slice(0, count);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const r: Received = { at: Date.now(), fields: Object.fromEntries(new URLSearchParams(raw)), raw };
      received.push(r);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(receiver.respond(r, received.length - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify/alipay`;
  return receiver;
}
