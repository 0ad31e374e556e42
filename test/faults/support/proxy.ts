import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { request } from 'undici';
import { sleep } from './harness.ts';

export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * What the proxy does with one request:
 * - pass: forward and relay the answer unchanged
 * - delay: forward after `ms` (a slow channel / a delayed callback)
 * - answer: do not forward; answer with this status and body (an unsigned 5xx, a fake refusal)
 * - lose: forward, let the target act, then cut the connection: the caller never learns the outcome
 * - replace: forward (the target acts), but answer this instead (a channel that lies about what it did)
 * - hang: forward, then never answer (the caller's deadline fires)
 * - hold: do not forward until `release` resolves (a delayed or reordered callback)
 */
export type ProxyAction =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'answer'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'lose' }
  | { kind: 'replace'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'hold'; release: Promise<void> };

export type ProxyRule = (req: ProxiedRequest) => ProxyAction | undefined;

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface FaultProxy {
  url: string;
  port: number;
  /** Rules are tried newest first; the first that returns an action wins; default pass. */
  rules: ProxyRule[];
  log: Array<{ method: string; path: string; action: ProxyAction['kind']; status: number | null; at: number }>;
  /** Forwards a request to the target exactly as given (replays, reordering). */
  forward(req: ProxiedRequest): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  close(): Promise<void>;
}

/** An HTTP proxy in front of a channel (or in front of the gateway, for callbacks) that misbehaves on demand. */
export async function startFaultProxy(target: () => string): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  const proxy: FaultProxy = {
    url: '',
    port: 0,
    rules: [],
    log: [],
    async forward(req) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k.toLowerCase())) headers[k] = v;
      const res = await request(`${target()}${req.path}`, {
        method: req.method as 'POST',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP.has(k.toLowerCase())) out[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers: out, body: await res.body.text() };
    },
    async close() {
      for (const r of hung) r.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const decide = (req: ProxiedRequest): ProxyAction => {
    for (let i = proxy.rules.length - 1; i >= 0; i--) {
      const a = proxy.rules[i]?.(req);
      if (a) return a;
    }
    return { kind: 'pass' };
  };

  const handle = async (inReq: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(inReq.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const req: ProxiedRequest = { method: inReq.method ?? 'GET', path: inReq.url ?? '/', headers, body };
    const action = decide(req);
    const entry = { method: req.method, path: req.path, action: action.kind, status: null as number | null, at: Date.now() };
    proxy.log.push(entry);
    const send = (status: number, h: Record<string, string>, text: string) => {
      entry.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { ...h, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      switch (action.kind) {
        case 'answer':
          return send(action.status, { 'content-type': 'application/json', ...action.headers }, action.body);
        case 'hang':
          hung.add(res);
          res.on('close', () => hung.delete(res));
          await proxy.forward(req).catch(() => undefined);
          return; // never answered
        case 'lose': {
          await proxy.forward(req).catch(() => undefined);
          entry.status = -1;
          res.socket?.destroy();
          return;
        }
        case 'replace':
          await proxy.forward(req).catch(() => undefined);
          return send(action.status, { 'content-type': 'application/json', ...action.headers }, action.body);
        case 'delay':
          await sleep(action.ms);
          break;
        case 'hold':
          await action.release;
          break;
        case 'pass':
          break;
      }
      const answer = await proxy.forward(req);
      send(answer.status, answer.headers, answer.body);
    } catch (err) {
      // The target is down (e.g. the gateway being restarted): what a client would see from it.
      entry.status = -2;
      res.socket?.destroy();
      void err;
    }
  };

  const server: Server = createServer((inReq, res) => {
    const chunks: Buffer[] = [];
    inReq.on('data', (c: Buffer) => chunks.push(c));
    inReq.on('end', () => void handle(inReq, res, Buffer.concat(chunks)));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.port = (server.address() as { port: number }).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}

/** A promise with its resolver, for `hold` actions. */
export function gate(): { release: Promise<void>; open(): void } {
  let open!: () => void;
  const release = new Promise<void>((r) => (open = r));
  return { release, open };
}
