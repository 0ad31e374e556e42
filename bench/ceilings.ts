import { generateKeyPairSync, sign, verify } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { saturate, startChild, freePort, waitHttp } from './lib.ts';

/** This machine's limits, measured in the same run as the gateway figures (perf-reliability.md Part 2). */

export function rsaPerCore(ms = 1500): { signs: number; verifies: number } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const msg = Buffer.from('POST\n/v3/pay/transactions/native\n1700000000\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"appid":"wx","mchid":"1900000001","description":"bench","out_trade_no":"P1","notify_url":"https://x/n","amount":{"total":100,"currency":"CNY"}}\n');
  let n = 0;
  let t = performance.now();
  let sig = Buffer.alloc(0);
  while (performance.now() - t < ms) {
    sig = sign('RSA-SHA256', msg, privateKey);
    n += 1;
  }
  const signs = n / ((performance.now() - t) / 1000);
  n = 0;
  t = performance.now();
  while (performance.now() - t < ms) {
    verify('RSA-SHA256', msg, publicKey, sig);
    n += 1;
  }
  return { signs, verifies: n / ((performance.now() - t) / 1000) };
}

/** A bare Fastify route in its own process, loaded by the same client the gateway phases use. */
export async function bareFastify(ms: number, concurrency: number): Promise<number> {
  const port = await freePort();
  const code = `import Fastify from 'fastify'; const app = Fastify(); app.post('/x', async () => ({ code: 0, msg: 'SUCCESS' })); await app.listen({ port: ${port}, host: '127.0.0.1' });`;
  const child = startChild(['--input-type=module', '-e', code], {}, 'bare fastify');
  await waitHttp(`http://127.0.0.1:${port}/`);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  const body = JSON.stringify({ mchNo: 'M1', appId: 'a', amount: 100, subject: 's' });
  const r = await saturate(ms, concurrency, async () => {
    const res = await pool.request({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body });
    await res.body.dump();
    return res.statusCode === 200;
  });
  await pool.close();
  child.kill('SIGTERM');
  return r.perSecond;
}

/** Single-row INSERT + COMMIT per transaction, with the gateway's pool size and as many workers. */
export async function dbCommits(url: string, ms: number, poolSize: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, a text NOT NULL, b int8 NOT NULL, c timestamptz NOT NULL DEFAULT now())`);
  let i = 0;
  const r = await saturate(ms, poolSize, async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO bench_commit (a, b) VALUES ($1, $2)`, [`row-${++i}-${'x'.repeat(200)}`, i]);
      await c.query('COMMIT');
      return true;
    } finally {
      c.release();
    }
  });
  await pool.query('DROP TABLE bench_commit');
  await pool.end();
  return r.perSecond;
}
