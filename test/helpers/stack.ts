import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as netServer } from 'node:net';
import { after, before } from 'node:test';
import pino from 'pino';
import { loadConfig, type GatewayConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import type { ChannelDescriptor } from '../../src/channels/types.ts';
import { createLogger } from '../../src/logger.ts';
import { ensureDemoMerchant, type DemoCredentials } from '../../src/demo.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { verifySignature } from '../../src/merchant-api/sign.ts';
import { startWechatPaySimulator, type WechatPaySimulator } from '../../src/channels/wechat-pay/simulator/index.ts';
import { type DbLeg, type TestDb, openTestDb } from './db.ts';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Stack {
  gw: Gateway;
  sim: WechatPaySimulator;
  testDb: TestDb;
  url: string;
  port: number;
  config: GatewayConfig;
  demo: DemoCredentials;
  client: MerchantClient;
  /** Stops the gateway only (the simulator and database stay). */
  stopGateway(): Promise<void>;
  /** A new gateway process-equivalent on the same database, port and simulator. */
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  workers?: boolean;
  /** PGlite on disk instead of in memory (restart tests). */
  onDisk?: boolean;
  /** Capture the gateway's own log lines (production logger and redaction, debug level). */
  logStream?: NodeJS.WritableStream;
  /** Installed channels (default: the registry's). */
  descriptors?: readonly ChannelDescriptor[];
}

/** Gateway + WeChat Pay simulator + a fresh database of the given leg, on random ports. */
export async function startStack(leg: DbLeg, options: StackOptions = {}): Promise<Stack> {
  const sim = await startWechatPaySimulator({ port: 0, host: '127.0.0.1', timeScale: 1000, refundDelayMs: 50, logger: false });
  const dataDir = mkdtempSync(join(tmpdir(), 'polypay-test-'));
  let testDb = await openTestDb(leg, options.onDisk ? { dataDir: join(dataDir, 'db') } : {});
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    POLYPAY_DATA_DIR: dataDir,
    POLYPAY_MASTER_KEY: TEST_MASTER_KEY,
    POLYPAY_ADMIN_TOKEN: ADMIN_TOKEN,
    POLYPAY_NOTIFY_SCHEDULE: '0,0.2,0.2,0.3,0.5',
    POLYPAY_QUERY_SCHEDULE: '0.3,0.5,1',
    POLYPAY_WORKER_INTERVAL_MS: '50',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const logger = options.logStream ? createLogger('debug', options.logStream as never) : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let gw = await createGateway(config, { db: testDb.db, logger, workers: options.workers, ...(options.descriptors ? { descriptors: options.descriptors } : {}) });
  const demo = await ensureDemoMerchant(gw, sim);
  const url = await gw.start();
  const client = new MerchantClient({ baseUrl: url, ...demo });
  let running = true;
  const stack: Stack = {
    get gw() {
      return gw;
    },
    sim,
    get testDb() {
      return testDb;
    },
    url,
    port,
    config,
    demo,
    client,
    async stopGateway() {
      if (!running) return;
      await gw.stop();
      running = false;
      // A real restart reopens the embedded database from disk.
      if (options.onDisk && leg === 'pglite') await testDb.db.close();
    },
    async restartGateway() {
      await stack.stopGateway();
      if (options.onDisk && leg === 'pglite') testDb = await openTestDb(leg, { dataDir: join(dataDir, 'db') });
      gw = await createGateway(config, { db: testDb.db, logger, workers: options.workers, ...(options.descriptors ? { descriptors: options.descriptors } : {}) });
      await gw.start();
      running = true;
    },
    async close() {
      const wasRunning = running;
      if (running) await gw.stop();
      running = false;
      await sim.close();
      if (!wasRunning && options.onDisk && leg === 'pglite') return;
      await testDb.drop();
    },
  } as Stack;
  return stack;
}

export interface Received {
  fields: Record<string, string>;
  signatureValid: boolean;
  at: number;
}

/** A merchant notify endpoint for tests: verifies signatures, records, answers per `respond`. */
export async function startReceiver(secret: string, respond: (n: number) => string | 'DROP' = () => 'SUCCESS'): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const fields = Object.fromEntries(new URLSearchParams(raw));
      received.push({ fields, signatureValid: typeof fields.sign === 'string' && verifySignature(fields, secret, 'MD5', fields.sign), at: Date.now() });
      const answer = respond(++count);
      if (answer === 'DROP') return req.socket.destroy();
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/notify`, received, close: () => new Promise((r) => server.close(() => r())) };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

let seq = 0;
export function orderNo(prefix = 'mo'): string {
  return `${prefix}${Date.now()}${++seq}${Math.floor(Math.random() * 1000)}`;
}

export async function countRows(gw: Gateway, table: string): Promise<number> {
  const r = await gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return r.rows[0]?.n ?? 0;
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Inside a describe: a stack and a merchant notify receiver, started before and closed after its tests. */
export function useStackWithReceiver(leg: DbLeg, options: StackOptions = {}): { readonly s: Stack; readonly receiver: Receiver } {
  const ctx = {} as { s: Stack; receiver: Receiver };
  before(async () => {
    ctx.s = await startStack(leg, options);
    ctx.receiver = await startReceiver(ctx.s.demo.appSecret);
  });
  after(async () => {
    await ctx.receiver?.close();
    await ctx.s?.close();
  });
  return ctx;
}
