import type { Db } from '../../../src/db/db.ts';
import type { ApiAnswer, MerchantClient } from '../../../src/merchant-api/client.ts';
import { openTestDb, type TestDb } from '../../helpers/db.ts';
import { FAULT_APP_SECRET, GatewayProcess, WX_APPID } from './gateway-process.ts';
import { type FaultProxy, startFaultProxy } from './proxy.ts';
import { NotifyReceiver } from './receiver.ts';
import { type SimHandle, startSim } from './wechat.ts';

export interface Scenario {
  db: Db;
  h: SimHandle;
  gw: GatewayProcess;
  client: MerchantClient;
  receiver: NotifyReceiver;
  /** Between the gateway and WeChat (create/query/close/refund), when asked for. */
  channelProxy: FaultProxy | null;
  /** Between WeChat's callbacks and the gateway (POLYPAY_PUBLIC_URL), when asked for. */
  callbackProxy: FaultProxy | null;
  close(): Promise<void>;
}

export interface ScenarioOptions {
  channelProxy?: boolean;
  callbackProxy?: boolean;
  env?: Record<string, string>;
  timeScale?: number;
  refundDelayMs?: number;
  /** Use this database (e.g. a throwaway cluster) instead of a fresh one on the shared server. */
  databaseUrl?: string;
  openDb?: () => Promise<Db>;
}

/**
 * One fault scenario's world: a fresh PostgreSQL database, the WeChat Pay simulator in this
 * process, the gateway as a child process configured through its admin API, a merchant notify
 * receiver, and optional fault proxies on either side of the gateway.
 */
export async function startScenario(o: ScenarioOptions = {}): Promise<Scenario> {
  let testDb: TestDb | null = null;
  let db: Db;
  let databaseUrl: string;
  if (o.databaseUrl && o.openDb) {
    databaseUrl = o.databaseUrl;
    db = await o.openDb();
  } else {
    testDb = await openTestDb('postgres');
    db = testDb.db;
    databaseUrl = testDb.url as string;
  }
  const h = await startSim({ appids: [WX_APPID], timeScale: o.timeScale, refundDelayMs: o.refundDelayMs });
  const channelProxy = o.channelProxy ? await startFaultProxy(() => h.sim.baseUrl) : null;
  const ref: { gw: GatewayProcess | null } = { gw: null };
  const callbackProxy = o.callbackProxy ? await startFaultProxy(() => ref.gw?.url ?? 'http://127.0.0.1:9') : null;
  const gw = new GatewayProcess({ databaseUrl, publicUrl: callbackProxy ? () => callbackProxy.url : undefined, env: o.env });
  ref.gw = gw;
  await gw.start();
  await gw.configureWechat(h.creds, channelProxy?.url ?? h.sim.baseUrl);
  const receiver = await NotifyReceiver.start(FAULT_APP_SECRET);
  return {
    db,
    h,
    gw,
    client: gw.client(),
    receiver,
    channelProxy,
    callbackProxy,
    async close() {
      await gw.close();
      await receiver.close();
      await channelProxy?.close();
      await callbackProxy?.close();
      await h.close();
      if (testDb) await testDb.drop();
      else await db.close();
    },
  };
}

/** A merchant call that never throws: transport failures (gateway down) become code -1. */
export async function safeCall<T = Record<string, unknown>>(fn: () => Promise<ApiAnswer<T>>): Promise<ApiAnswer<T> & { transport?: string }> {
  try {
    return await fn();
  } catch (err) {
    return { code: -1, msg: (err as Error).message, transport: (err as { code?: string }).code ?? (err as Error).name };
  }
}

let seq = 0;
export function uniqueNo(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${(++seq).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
