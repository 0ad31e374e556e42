import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { saturate } from './load.ts';
import { freePort, spawnNode, stopChild, waitHttp } from './processes.ts';

/**
 * This machine's limits, measured in the same run as the gateway figures (the machine is shared
 * and noisy: only ratios within one run mean something). perf-reliability.md Part 2 has the
 * idle-machine reference values.
 */

export interface Ceilings {
  signsPerCore: number;
  verifiesPerCore: number;
  bareReqPerSecond: number;
  commitsPerSecond: number;
}

/** RSA-2048 PKCS#1 v1.5 SHA-256 with a parsed KeyObject, synchronous, on this thread: per core. */
export function rsaPerCore(ms: number): { signsPerCore: number; verifiesPerCore: number } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // A WeChat v3 request sign string of the size the gateway signs (~320 B).
  const msg = Buffer.from(`POST\n/v3/pay/transactions/native\n1700000000\n593BEC0C930BF1AFEB40B4A08C8FB242\n${JSON.stringify({ appid: 'wxbench000000001', mchid: '1900000009', description: 'bench', out_trade_no: 'P20261122000000000001', notify_url: 'http://127.0.0.1:9216/api/pay/notify/wxpay/P20261122000000000001', amount: { total: 100, currency: 'CNY' } })}\n`);
  let sig = sign('RSA-SHA256', msg, privateKey);
  for (let i = 0; i < 50; i++) sig = sign('RSA-SHA256', msg, privateKey); // warm-up
  let n = 0;
  let t = performance.now();
  while (performance.now() - t < ms) {
    sig = sign('RSA-SHA256', msg, privateKey);
    n += 1;
  }
  const signsPerCore = n / ((performance.now() - t) / 1000);
  n = 0;
  t = performance.now();
  while (performance.now() - t < ms) {
    if (!verify('RSA-SHA256', msg, publicKey, sig)) throw new Error('verify failed');
    n += 1;
  }
  return { signsPerCore, verifiesPerCore: n / ((performance.now() - t) / 1000) };
}

/** A bare Fastify route in its own process, loaded like the gateway (same tool, connections, body size). */
export async function bareFastify(seconds: number, connections: number, body: string, onPid?: (pid: number | null) => void): Promise<number> {
  const port = await freePort();
  const child = spawnNode('bare fastify', fileURLToPath(new URL('./children/bare-fastify.mjs', import.meta.url)), { BARE_PORT: String(port) });
  onPid?.(child.pid);
  try {
    await waitHttp(`http://127.0.0.1:${port}/`, child, 30_000, true);
    const req = { method: 'POST' as const, path: '/api/pay/unifiedOrder', headers: { 'content-type': 'application/json' }, body };
    const check = (status: number) => status === 200;
    await saturate({ url: `http://127.0.0.1:${port}`, connections, seconds: 1, next: () => req, check }); // warm-up
    return (await saturate({ url: `http://127.0.0.1:${port}`, connections, seconds, next: () => req, check })).perSecond;
  } finally {
    onPid?.(null);
    await stopChild(child);
  }
}

/** Single-row INSERT + COMMIT transactions through a pool of `poolSize`, `concurrency` callers (the gateway's shape). */
export async function postgresCommits(url: string, ms: number, poolSize: number, concurrency: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  try {
    await pool.query(`CREATE TABLE bench_commit (id bigserial PRIMARY KEY, a text NOT NULL, b int8 NOT NULL, c timestamptz NOT NULL DEFAULT now())`);
    let i = 0;
    const insert = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO bench_commit (a, b) VALUES ($1, $2)`, [`row-${++i}-${'x'.repeat(200)}`, i]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    for (let w = 0; w < 200; w++) await insert();
    const end = performance.now() + ms;
    let n = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await insert();
        n += 1;
      }
    }));
    const perSecond = n / ((performance.now() - started) / 1000);
    await pool.query('DROP TABLE bench_commit');
    return perSecond;
  } finally {
    await pool.end();
  }
}

/** The same on a fresh embedded database, in its own process (PGlite is single-process). */
export async function pgliteCommits(ms: number, concurrency: number, onPid?: (pid: number | null) => void): Promise<number> {
  const child = spawnNode('pglite commits', fileURLToPath(new URL('./children/pglite-commits.ts', import.meta.url)), { BENCH_MS: String(ms), BENCH_CONCURRENCY: String(concurrency) });
  onPid?.(child.pid);
  const code = await child.exited;
  onPid?.(null);
  const line = child.tail().trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`pglite commit ceiling failed:\n${child.tail()}`);
  return (JSON.parse(line) as { perSecond: number }).perSecond;
}
