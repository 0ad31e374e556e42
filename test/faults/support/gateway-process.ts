import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { MerchantClient } from '../../../src/merchant-api/client.ts';
import type { SandboxCredentials } from '../../../src/channels/wechat-pay/simulator/index.ts';
import { ADMIN_TOKEN, TEST_MASTER_KEY, freePort } from '../../helpers/stack.ts';
import { sleep } from './harness.ts';

export const FAULT_MCH_NO = 'MFAULTS01';
export const FAULT_APP_ID = 'faultsapp0001';
export const FAULT_APP_SECRET = 'faults-app-secret-0123456789abcdef';
export const WX_APPID = 'wxfaults00000001';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIE_WITH_PARENT = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'die-with-parent.mjs')).href;
/** Children still running: killed if this process exits first (the preload covers SIGKILL of this process). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface GatewayProcessOptions {
  databaseUrl: string;
  /** What channels call back: the gateway itself, or a proxy in front of it. */
  publicUrl?: (port: number) => string;
  env?: Record<string, string>;
  port?: number;
}

/**
 * The gateway as a real child process (`node --import tsx src/main.ts`, sandbox off), on a
 * fixed port across restarts so the channel's callback URLs stay valid. Its log goes to a file
 * (`logPath`) that scenarios scan for unhandled errors.
 */
export class GatewayProcess {
  readonly dir: string;
  readonly logPath: string;
  port = 0;
  url = '';
  child: ChildProcess | null = null;
  starts = 0;
  kills = 0;
  #log: WriteStream;
  #exited: Promise<void> = Promise.resolve();
  /** Exits nobody asked for (the gateway died by itself). */
  unexpectedExits: string[] = [];
  #expectingExit = false;
  readonly #o: GatewayProcessOptions;

  constructor(o: GatewayProcessOptions) {
    this.#o = o;
    this.dir = mkdtempSync(join(tmpdir(), 'polypay-faults-gw-'));
    this.logPath = join(this.dir, 'gateway.log');
    this.#log = createWriteStream(this.logPath, { flags: 'a' });
  }

  env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? this.dir,
      NODE_ENV: 'test',
      PORT: String(this.port),
      HOST: '127.0.0.1',
      POLYPAY_SANDBOX: 'false',
      DATABASE_URL: this.#o.databaseUrl,
      POLYPAY_PUBLIC_URL: this.#o.publicUrl ? this.#o.publicUrl(this.port) : `http://127.0.0.1:${this.port}`,
      POLYPAY_DATA_DIR: join(this.dir, 'data'),
      POLYPAY_MASTER_KEY: TEST_MASTER_KEY,
      POLYPAY_ADMIN_TOKEN: ADMIN_TOKEN,
      POLYPAY_DEMO_MCH_NO: FAULT_MCH_NO,
      POLYPAY_DEMO_APP_ID: FAULT_APP_ID,
      POLYPAY_DEMO_APP_SECRET: FAULT_APP_SECRET,
      POLYPAY_NOTIFY_SCHEDULE: '0,0.3,0.3,0.5,1,2',
      POLYPAY_QUERY_SCHEDULE: '0.3,0.5,1',
      POLYPAY_WORKER_INTERVAL_MS: '100',
      POLYPAY_DB_POOL_SIZE: '10',
      LOG_LEVEL: 'warn',
      ...this.#o.env,
    };
  }

  async start(timeoutMs = 30_000): Promise<void> {
    if (!this.port) this.port = this.#o.port ?? (await freePort());
    this.url = `http://127.0.0.1:${this.port}`;
    this.#log.write(`\n==== start #${this.starts + 1} at ${new Date().toISOString()} ====\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', DIE_WITH_PARENT, 'src/main.ts'], { cwd: REPO, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    this.#expectingExit = false;
    child.stdout?.on('data', (c) => this.#log.write(c));
    child.stderr?.on('data', (c) => this.#log.write(c));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.#log.write(`\n==== exit code=${code} signal=${signal} ====\n`);
        if (!this.#expectingExit) this.unexpectedExits.push(`gateway exited by itself (code ${code}, signal ${signal})`);
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    this.starts++;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) throw new Error(`gateway exited during start; log: ${this.logTail()}`);
      try {
        const res = await request(`${this.url}/health`, { headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gateway did not become healthy in ${timeoutMs} ms; log: ${this.logTail()}`);
      await sleep(50);
    }
  }

  /** kill -9: no shutdown hooks, in-flight requests and transactions die with it. */
  async kill9(): Promise<void> {
    if (!this.child) return;
    this.#expectingExit = true;
    this.child.kill('SIGKILL');
    this.kills++;
    await this.#exited;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.#expectingExit = true;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.#exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) await this.kill9();
  }

  get running(): boolean {
    return this.child !== null;
  }

  logText(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(n = 3000): string {
    return this.logText().slice(-n);
  }

  /** Log lines of errors that must never happen (a 500 or an unhandled rejection). */
  unhandledErrors(): string[] {
    return this.logText()
      .split('\n')
      .filter((l) => /"msg":"unhandled error"|UnhandledPromiseRejection|Unhandled rejection|uncaughtException/i.test(l))
      .map((l) => l.slice(0, 600));
  }

  client(): MerchantClient {
    return new MerchantClient({ baseUrl: this.url, mchNo: FAULT_MCH_NO, appId: FAULT_APP_ID, appSecret: FAULT_APP_SECRET });
  }

  async admin(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await request(`${this.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  /** Wires the demo app's wxpay channel to a (simulated) WeChat Pay through the admin API, as an operator would. */
  async configureWechat(creds: SandboxCredentials, baseUrl: string): Promise<void> {
    const channel = await this.admin('PUT', `/apps/${FAULT_APP_ID}/channels/wxpay`, {
      params: {
        mchId: creds.mchid,
        appId: WX_APPID,
        merchantSerialNo: creds.merchantSerialNo,
        verifyMode: 'publicKey',
        wxpayPublicKeyId: creds.wxpayPublicKeyId,
        wxpayPublicKey: creds.wxpayPublicKeyPem,
        baseUrl,
      },
      secrets: { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key },
    });
    if (channel.status !== 200) throw new Error(`channel configuration refused: ${JSON.stringify(channel.json)}`);
    const ways = await this.admin('PUT', `/apps/${FAULT_APP_ID}/ways`, { ifCode: 'wxpay', ways: ['WX_NATIVE', 'WX_JSAPI', 'WX_H5', 'WX_APP'] });
    if (ways.status !== 200) throw new Error(`ways refused: ${JSON.stringify(ways.json)}`);
  }

  /** Stops the gateway and deletes its data directory and log (kept with FAULTS_KEEP_LOGS=1). */
  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((r) => this.#log.end(() => r()));
    if (process.env.FAULTS_KEEP_LOGS === '1') console.log(`faults: gateway log kept at ${this.logPath}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
