import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { type Child, RssSampler, freePort, sleep, spawnNode, stopChild, waitHttp } from './processes.ts';

/**
 * The system under test, each part in its own process on 127.0.0.1: the WeChat Pay v3 simulator
 * (signs every answer, like WeChat), the gateway (`src/main.ts`, sandbox off, configured through
 * its admin API like an operator would), and the merchant's notify receiver.
 */

export const DEMO = { mchNo: 'MBENCH01', appId: 'benchapp00000001', appSecret: 'bench-app-secret-0123456789abcdef' };
export const WX = { mchid: '1900000009', appid: 'wxbench000000001' };

export interface SimCredentials {
  mchid: string;
  merchantSerialNo: string;
  merchantPrivateKeyPem: string;
  apiV3Key: string;
  wxpayPublicKeyId: string;
  wxpayPublicKeyPem: string;
}

export interface Simulator {
  child: Child;
  url: string;
  stateFile: string;
  creds: SimCredentials;
  /** The private key behind the WeChat Pay public key, read from the simulator's state file (to sign callbacks). */
  platformPrivateKeyPem(): Promise<string>;
}

export async function startSimulator(dir: string, cpuProfDir?: string): Promise<Simulator> {
  const port = await freePort();
  const stateFile = join(dir, 'wechatpay-sim.json');
  const child = spawnNode('simulator', 'src/channels/wechat-pay/simulator/main.ts', { SIM_PORT: String(port), SIM_HOST: '127.0.0.1', SIM_STATE_FILE: stateFile, SIM_PERSIST_LEDGER: 'false', SIM_TIME_SCALE: '1', SIM_LOG_LEVEL: 'warn' }, cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, 'simulator')] : []);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/sandbox/`, child, 60_000, true);
  const res = await request(`${url}/sandbox/v1/merchants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mchid: WX.mchid, appids: [WX.appid], verifyMode: 'publicKey' }) });
  const creds = (await res.body.json()) as SimCredentials;
  if (res.statusCode !== 200 || !creds.merchantPrivateKeyPem) throw new Error(`simulator merchant registration failed: ${JSON.stringify(creds)}`);
  return {
    child,
    url,
    stateFile,
    creds,
    async platformPrivateKeyPem() {
      for (let i = 0; i < 100; i++) {
        if (existsSync(stateFile)) {
          const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { platform?: { pubKeyPrivateKeyPem?: string } };
          if (state.platform?.pubKeyPrivateKeyPem) return state.platform.pubKeyPrivateKeyPem;
        }
        await sleep(100);
      }
      throw new Error(`no platform key in ${stateFile}`);
    },
  };
}

export interface GatewayProcess {
  child: Child;
  url: string;
  rss: RssSampler;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  dir: string;
  port: number;
  adminToken: string;
  masterKey: string;
  databaseUrl: string | undefined;
  poolSize: number;
  cpuProfDir?: string;
}

export async function startGateway(o: GatewayOptions): Promise<GatewayProcess> {
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [];
  const child = spawnNode('gateway', 'src/main.ts', {
    PORT: String(o.port),
    HOST: '127.0.0.1',
    POLYPAY_SANDBOX: 'false',
    POLYPAY_DATA_DIR: join(o.dir, 'gateway'),
    DATABASE_URL: o.databaseUrl, // undefined: embedded PGlite in the data dir
    POLYPAY_DB_POOL_SIZE: String(o.poolSize),
    POLYPAY_MASTER_KEY: o.masterKey,
    POLYPAY_ADMIN_TOKEN: o.adminToken,
    POLYPAY_DEMO_MCH_NO: DEMO.mchNo,
    POLYPAY_DEMO_APP_ID: DEMO.appId,
    POLYPAY_DEMO_APP_SECRET: DEMO.appSecret,
    LOG_LEVEL: 'warn',
    // The reconciler's first active query of a PAYING order comes 10 s after creation by default; the
    // bench keeps it out of the measured phases (it is a separate cost: one signed query per order).
    POLYPAY_QUERY_SCHEDULE: '3600',
    NODE_ENV: undefined,
  }, nodeArgs);
  const url = `http://127.0.0.1:${o.port}`;
  await waitHttp(`${url}/health`, child, 180_000);
  const rss = new RssSampler(child.pid);
  return { child, url, rss, stop: () => stopChild(child, 30_000) };
}

export async function configureGateway(gw: string, adminToken: string, sim: Simulator): Promise<void> {
  const admin = async (method: 'PUT' | 'POST', path: string, body: unknown) => {
    const res = await request(`${gw}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${method} ${path} → ${res.statusCode}: ${text}`);
  };
  await admin('PUT', `/admin/v1/apps/${DEMO.appId}/channels/wxpay`, { params: channelParams(sim), secrets: channelSecrets(sim) });
  await admin('PUT', `/admin/v1/apps/${DEMO.appId}/ways`, { ifCode: 'wxpay', ways: ['WX_NATIVE'] });
}

export function channelParams(sim: Simulator): Record<string, string> {
  return { mchId: sim.creds.mchid, appId: WX.appid, merchantSerialNo: sim.creds.merchantSerialNo, verifyMode: 'publicKey', wxpayPublicKeyId: sim.creds.wxpayPublicKeyId, wxpayPublicKey: sim.creds.wxpayPublicKeyPem, baseUrl: sim.url };
}

export function channelSecrets(sim: Simulator): Record<string, string> {
  return { apiClientKey: sim.creds.merchantPrivateKeyPem, apiV3Key: sim.creds.apiV3Key };
}

export interface Receiver {
  child: Child;
  notifyUrl: string;
  stats(): Promise<{ count: number; distinct: number; badSign: number; firstMs: number; lastMs: number }>;
}

export async function startReceiver(): Promise<Receiver> {
  const port = await freePort();
  const child = spawnNode('notify receiver', fileURLToPath(new URL('./children/receiver.ts', import.meta.url)), { RECEIVER_PORT: String(port), RECEIVER_APP_SECRET: DEMO.appSecret });
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/stats`, child, 60_000);
  return {
    child,
    notifyUrl: `${base}/notify`,
    async stats() {
      const r = await request(`${base}/stats`);
      return (await r.body.json()) as { count: number; distinct: number; badSign: number; firstMs: number; lastMs: number };
    },
  };
}

export const newAdminToken = () => `bench-admin-${randomBytes(12).toString('hex')}`;
export const newMasterKey = () => randomBytes(32).toString('base64');
