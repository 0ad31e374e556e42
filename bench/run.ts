import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { MerchantClient } from '../src/merchant-api/client.ts';
import { WechatPayClient } from '../src/channels/wechat-pay/client.ts';
import { parseWechatPayConfig } from '../src/channels/wechat-pay/config.ts';
import { aesGcmEncrypt, loadPrivateKey, responseMessage, rsaSign } from '../src/channels/wechat-pay/v3-crypto.ts';
import { bareFastify, dbCommits, rsaPerCore } from './ceilings.ts';
import { fixedRate, freePort, peakRssMb, percentile, saturate, startChild, stopChildren, waitHttp } from './lib.ts';

/**
 * `npm run bench`: the gateway (own process) on PostgreSQL (or --pglite), the WeChat Pay v3
 * simulator (own process, signing every answer), this driver as the load generator. Everything
 * on 127.0.0.1, bounded in time, stops by itself. Prints a table and one line per figure:
 * `name: value unit (ratio to ceiling: x.xx)`. See docs/benchmarks.md.
 */
const args = process.argv.slice(2);
const PGLITE = args.includes('--pglite');
const QUICK = args.includes('--quick');
const PREFILL = args.includes('--prefill') ? Number(args[args.indexOf('--prefill') + 1]) : 0;
const PHASE_MS = QUICK ? 4000 : 10_000;
const CONCURRENCY = 32;
const POOL = Number(process.env.BENCH_POOL ?? 10);
const ADMIN = `bench-admin-${randomBytes(6).toString('hex')}`;
const DEMO = { mchNo: 'MBENCH01', appId: 'benchapp00000001', appSecret: 'bench-app-secret-0123456789abcdef' };
const log = (s: string) => process.stdout.write(`${s}\n`);

async function admin(base: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300 || (typeof json.code === 'number' && json.code !== 0)) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'polypay-bench-'));
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `polypay_bench_${randomBytes(4).toString('hex')}`;
  const dbUrl = baseUrl.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  if (!PGLITE) {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
  }
  try {
    await run(dir, dbUrl);
  } finally {
    stopChildren();
    if (!PGLITE) {
      await new Promise((r) => setTimeout(r, 500));
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    }
  }
}

async function run(dir: string, dbUrl: string): Promise<void> {
  // 1. The channel: the simulator in its own process.
  const simPort = await freePort();
  const stateFile = join(dir, 'sim.json');
  startChild(['--import', 'tsx', 'src/channels/wechat-pay/simulator/main.ts'], { SIM_PORT: String(simPort), SIM_STATE_FILE: stateFile, SIM_LOG_LEVEL: 'silent', SIM_TIME_SCALE: '1000' }, 'simulator');
  const simUrl = `http://127.0.0.1:${simPort}`;
  await waitHttp(`${simUrl}/sandbox/`);
  const cred = (await (await fetch(`${simUrl}/sandbox/v1/merchants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mchid: '1900000009', appids: ['wxbench000000001'], verifyMode: 'publicKey' }) })).json()) as Record<string, string>;

  // 2. The gateway in its own process, configured through its admin API like an operator would.
  const port = await freePort();
  const gwUrl = `http://127.0.0.1:${port}`;
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of the gateway (issue 3: profile where a target is missed).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const gateway = startChild([...profile, '--import', 'tsx', 'src/main.ts'], {
    PORT: String(port), HOST: '127.0.0.1', POLYPAY_SANDBOX: 'false', POLYPAY_DATA_DIR: join(dir, 'gw'), ...(PGLITE ? {} : { DATABASE_URL: dbUrl }),
    POLYPAY_MASTER_KEY: randomBytes(32).toString('base64'), POLYPAY_ADMIN_TOKEN: ADMIN, POLYPAY_DEMO_MCH_NO: DEMO.mchNo, POLYPAY_DEMO_APP_ID: DEMO.appId, POLYPAY_DEMO_APP_SECRET: DEMO.appSecret,
    POLYPAY_DB_POOL_SIZE: String(POOL), LOG_LEVEL: 'warn', POLYPAY_QUERY_SCHEDULE: '3600', POLYPAY_NOTIFY_SCHEDULE: '0,1,1,1', POLYPAY_WORKER_INTERVAL_MS: '200',
  }, 'gateway');
  await waitHttp(`${gwUrl}/health`, 120_000);
  const params = { mchId: cred.mchid as string, appId: 'wxbench000000001', merchantSerialNo: cred.merchantSerialNo as string, verifyMode: 'publicKey', wxpayPublicKeyId: cred.wxpayPublicKeyId as string, wxpayPublicKey: cred.wxpayPublicKeyPem as string, baseUrl: simUrl };
  const secrets = { apiClientKey: cred.merchantPrivateKeyPem as string, apiV3Key: cred.apiV3Key as string };
  await admin(gwUrl, 'PUT', `/admin/v1/apps/${DEMO.appId}/channels/wxpay`, { params, secrets });
  await admin(gwUrl, 'PUT', `/admin/v1/apps/${DEMO.appId}/ways`, { ifCode: 'wxpay', ways: ['WX_NATIVE'] });

  if (PREFILL > 0 && !PGLITE) {
    log(`prefilling ${PREFILL} orders…`);
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    await c.query(
      `INSERT INTO pay_orders (pay_order_id, mch_no, app_id, mch_order_no, if_code, way_code, amount, currency, state, subject, body, request_hash, expired_at, created_at)
       SELECT 'PF' || g, $1, $2, 'pf' || g, 'wxpay', 'WX_NATIVE', 100, 'CNY', 2, 's', 'b', 'h', now(), now() - interval '1 day'
         FROM generate_series(1, $3::int) g`,
      [DEMO.mchNo, DEMO.appId, PREFILL],
    );
    await c.query('ANALYZE pay_orders');
    await c.end();
  }

  // 3. A merchant notify endpoint in this process.
  const deliveries: number[] = [];
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      deliveries.push(performance.now());
      res.end('SUCCESS');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/notify`;

  // 4. Ceilings, same run.
  log('measuring ceilings…');
  const rsa = rsaPerCore(QUICK ? 800 : 1500);
  const bare = await bareFastify(QUICK ? 3000 : 5000, CONCURRENCY);
  const commits = PGLITE ? NaN : await dbCommits(dbUrl, QUICK ? 3000 : 5000, POOL);

  // 5. Create-order through the gateway.
  const merchant = new MerchantClient({ baseUrl: gwUrl, ...DEMO });
  const gwPool = new Pool(gwUrl, { connections: CONCURRENCY, pipelining: 1 });
  const created: string[] = [];
  let seq = 0;
  const createOrder = async (): Promise<boolean> => {
    const body = JSON.stringify(merchant.signedBody({ mchOrderNo: `b${process.pid}x${++seq}`, wayCode: 'WX_NATIVE', amount: 100, currency: 'cny', subject: 'bench', body: 'bench', notifyUrl }));
    const res = await gwPool.request({ method: 'POST', path: '/api/pay/unifiedOrder', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.body.json()) as { code: number; data?: { payOrderId: string; orderState: number } };
    if (json.code === 0 && json.data?.orderState === 1) {
      if (created.length < 5000) created.push(json.data.payOrderId);
      return true;
    }
    return false;
  };
  log('create-order at saturation…');
  await saturate(1500, CONCURRENCY, createOrder); // warm-up
  const sat = await saturate(PHASE_MS, CONCURRENCY, createOrder);
  const rate = Math.max(10, Math.round(sat.perSecond / 2));
  log(`create-order at ${rate}/s (half of saturation)…`);
  const half = await fixedRate(PHASE_MS, rate, createOrder);

  // 6. The same order straight to the simulator (no gateway), same offered rate.
  const direct = new WechatPayClient(parseWechatPayConfig({ params, secrets }));
  let dseq = 0;
  const directOrder = async (): Promise<boolean> => {
    const r = await direct.call('POST', '/v3/pay/transactions/native', { appid: params.appId, mchid: params.mchId, description: 'bench', out_trade_no: `D${process.pid}x${++dseq}`, notify_url: notifyUrl, amount: { total: 100, currency: 'CNY' } });
    return r.status === 200;
  };
  log('direct to the simulator…');
  await saturate(1000, CONCURRENCY, directOrder);
  const directSat = await saturate(PHASE_MS, CONCURRENCY, directOrder);
  const directHalf = await fixedRate(PHASE_MS, rate, directOrder);

  // 7. Callbacks: pre-signed TRANSACTION.SUCCESS (allowed: within WeChat's 5-minute window), as fast as the gateway takes them.
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { platform: { pubKeyPrivateKeyPem: string } };
  const platformKey = loadPrivateKey(state.platform.pubKeyPrivateKeyPem);
  const cbOrders = created.slice(0, QUICK ? 800 : 3000);
  const ts = String(Math.floor(Date.now() / 1000));
  const callbacks = cbOrders.map((id, i) => {
    const nonce = randomBytes(6).toString('hex');
    const plaintext = JSON.stringify({ mchid: params.mchId, appid: params.appId, out_trade_no: id, transaction_id: `4200000000${String(i).padStart(18, '0')}`, trade_type: 'NATIVE', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', success_time: '2026-11-22T10:00:00+08:00', payer: { openid: 'obench' }, amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' } });
    const body = JSON.stringify({ id: `EV-${i}`, create_time: '2026-11-22T10:00:00+08:00', resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功', resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: aesGcmEncrypt(secrets.apiV3Key, nonce, 'transaction', plaintext), associated_data: 'transaction', nonce } });
    const hn = randomBytes(16).toString('hex');
    return { id, body, headers: { 'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': hn, 'wechatpay-serial': params.wxpayPublicKeyId, 'wechatpay-signature': rsaSign(responseMessage(ts, hn, body), platformKey), 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048' } };
  });
  deliveries.length = 0;
  let next = 0;
  let cbOk = 0;
  log(`callbacks (${callbacks.length})…`);
  const cbStart = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < callbacks.length) {
      const c = callbacks[next++] as (typeof callbacks)[number];
      const res = await gwPool.request({ method: 'POST', path: `/api/pay/notify/wxpay/${c.id}`, headers: c.headers, body: c.body });
      await res.body.dump();
      if (res.statusCode === 204 || res.statusCode === 200) cbOk += 1;
    }
  }));
  const cbPerSecond = cbOk / ((performance.now() - cbStart) / 1000);

  // 8. Merchant notifications those payments produced.
  const deadline = Date.now() + 60_000;
  while (deliveries.length < cbOk && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const notifPerSecond = deliveries.length > 1 ? (deliveries.length - 1) / (((deliveries.at(-1) as number) - (deliveries[0] as number)) / 1000) : NaN;
  const rss = peakRssMb(gateway.pid as number);
  await gwPool.close();
  receiver.close();

  // 9. Report.
  const cores = cpus().length;
  const orderCeiling = Math.min((rsa.signs * cores) / 2, PGLITE ? Infinity : commits / 2, bare / 2);
  const callbackCeiling = Math.min(rsa.verifies * cores, PGLITE ? Infinity : commits, bare);
  const notifyCeiling = Math.min(PGLITE ? Infinity : commits / 2, bare);
  const added = { p50: percentile(half.sorted, 50) - percentile(directHalf.sorted, 50), p99: percentile(half.sorted, 99) - percentile(directHalf.sorted, 99) };
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  log('');
  log(`machine: ${cores} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, database ${PGLITE ? 'PGlite (embedded)' : 'PostgreSQL'}${PREFILL ? `, ${PREFILL} orders prefilled` : ''}`);
  log('| figure | value |');
  log('|---|---|');
  const rows: Array<[string, string]> = [
    ['RSA-2048 SHA-256 signs/s per core', f(rsa.signs, 0)], ['RSA-2048 SHA-256 verifies/s per core', f(rsa.verifies, 0)], ['bare Fastify route req/s', f(bare, 0)], [`INSERT+COMMIT/s (pool ${POOL})`, f(commits, 0)],
    ['create-order saturation (orders/s)', `${f(sat.perSecond, 0)} (${sat.failed} failed)`], [`create-order latency at ${rate}/s p50 / p90 / p99 (ms)`, `${f(percentile(half.sorted, 50), 2)} / ${f(percentile(half.sorted, 90), 2)} / ${f(percentile(half.sorted, 99), 2)} (${half.failed} failed)`],
    ['direct to simulator saturation (orders/s)', f(directSat.perSecond, 0)], [`direct latency at ${rate}/s p50 / p90 / p99 (ms)`, `${f(percentile(directHalf.sorted, 50), 2)} / ${f(percentile(directHalf.sorted, 90), 2)} / ${f(percentile(directHalf.sorted, 99), 2)}`],
    ['gateway throughput ÷ direct throughput', f(sat.perSecond / directSat.perSecond, 2)], ['callbacks/s', `${f(cbPerSecond, 0)} (${cbOk}/${callbacks.length} accepted)`], ['notifications delivered/s', `${f(notifPerSecond, 0)} (${deliveries.length})`], ['gateway peak RSS (MB)', f(rss, 0)],
  ];
  for (const [k, v] of rows) log(`| ${k} | ${v} |`);
  log('');
  log(`ceiling formula: per order the machine does 2 RSA signs (gateway request, simulator answer) and 2 commits (insert, update) over 2 HTTP hops: ceiling = min(signs/s × cores ÷ 2, commits/s ÷ 2, bare req/s ÷ 2) = ${f(orderCeiling, 0)}/s; callbacks: min(verifies/s × cores, commits/s, bare req/s); notifications: min(commits/s ÷ 2, bare req/s); latency and RSS are compared with their targets (2 ms, 10 ms, 250 MB).`);
  log(`create-order: ${f(sat.perSecond, 0)} orders/s (ratio to ceiling: ${f(sat.perSecond / orderCeiling, 2)})`);
  log(`added-latency-p50: ${f(added.p50, 2)} ms (ratio to ceiling: ${f(added.p50 / 2, 2)})`);
  log(`added-latency-p99: ${f(added.p99, 2)} ms (ratio to ceiling: ${f(added.p99 / 10, 2)})`);
  log(`callbacks: ${f(cbPerSecond, 0)} callbacks/s (ratio to ceiling: ${f(cbPerSecond / callbackCeiling, 2)})`);
  log(`notifications: ${f(notifPerSecond, 0)} notifications/s (ratio to ceiling: ${f(notifPerSecond / notifyCeiling, 2)})`);
  log(`rss: ${f(rss, 0)} MB (ratio to ceiling: ${f(rss / 250, 2)})`);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ sat, rate, added, cbPerSecond, notifPerSecond, rss, rsa, bare, commits }));
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  stopChildren();
  process.exit(1);
});
