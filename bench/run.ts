import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { bareFastify, pgliteCommits, postgresCommits, rsaPerCore, type Ceilings } from './ceilings.ts';
import { type SaturationResult } from './load.ts';
import { DirectOrders, GatewayOrders, awaitNotifications, deliverCallbacks, halfLoad, prefillPglite, prefillPostgres, presignCallbacks, saturateDirect, saturateGateway } from './phases.ts';
import { type CpuShares, CpuMeter, createDatabase, freePort, killAllNow, serverVersion, stopChild } from './processes.ts';
import { type Figures, PER_CALLBACK, PER_NOTIFICATION, PER_ORDER, ceilingOf, renderReport, summarize } from './report.ts';
import { configureGateway, newAdminToken, newMasterKey, startGateway, startReceiver, startSimulator, type GatewayProcess } from './stack.ts';

/**
 * `npm run bench` — Polypay's benchmark (issue 3). The gateway (src/main.ts) and the WeChat Pay v3
 * simulator each run in their own process, the merchant's notify receiver in a third; this process
 * is the load generator. Everything on 127.0.0.1, every phase bounded in time and count, children
 * stopped on exit, error or signal. See docs/benchmarks.md.
 *
 *   npm run bench                        PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 *                                        a database polypay_bench_<random> is created and dropped)
 *   npm run bench -- --pglite            the embedded database
 *   npm run bench -- --quick             ~1 minute (3 s phases)
 *   npm run bench -- --prefill 1000000   cost growth: half-load latency before and after 1 M orders
 *   npm run bench -- --json out.json     all figures as JSON (bench/median.ts takes several)
 *   npm run bench -- --cpu-prof dir      V8 CPU profiles of the gateway and the simulator (bench/profile.ts summarises one)
 *   --connections N (default 32), BENCH_POOL=n (gateway pool, default 10 like POLYPAY_DB_POOL_SIZE)
 */

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const QUICK = flag('--quick');
const PGLITE = flag('--pglite');
const PREFILL = Number(value('--prefill') ?? 0);
const CONNECTIONS = Number(value('--connections') ?? 32);
const POOL = Number(process.env.BENCH_POOL ?? 10);
const PHASE_S = QUICK ? 3 : 10;
const WARM_S = QUICK ? 1 : 2;
const MAX_CALLBACKS = QUICK ? 2000 : 12_000;
const JSON_OUT = value('--json');
const CPU_PROF = value('--cpu-prof');
// Hard bound on the whole run (it stops by itself): generous for the prefill, which scales with rows.
const MAX_MS = (QUICK ? 4 : 9) * 60_000 + (PREFILL / 1_000_000) * 5 * 60_000;

if (!Number.isSafeInteger(PREFILL) || PREFILL < 0 || !Number.isSafeInteger(CONNECTIONS) || CONNECTIONS < 1) {
  process.stderr.write('usage: npm run bench -- [--pglite] [--quick] [--prefill N] [--connections N] [--json file] [--cpu-prof dir]\n');
  process.exit(2);
}

const log = (s: string) => process.stdout.write(`bench: ${s}\n`);
const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const deadline = new Promise<void>((r) => setTimeout(r, 45_000).unref());
    const run = (async () => {
      for (const fn of cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          process.stderr.write(`bench: cleanup: ${(err as Error).message}\n`);
        }
      }
    })();
    await Promise.race([run, deadline]);
    killAllNow();
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}, stopping\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
setTimeout(() => {
  process.stderr.write(`bench: time limit of ${Math.round(MAX_MS / 60_000)} min reached, stopping\n`);
  void cleanup().finally(() => process.exit(3));
}, MAX_MS).unref();

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'polypay-bench-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const loadavgBefore = loadavg().map((l) => l.toFixed(2)).join(' ');

  const db = PGLITE ? null : await createDatabase(serverUrl);
  if (db) cleanups.push(() => db.drop());
  const database = db ? `PostgreSQL ${await serverVersion(serverUrl)}` : `PGlite ${JSON.parse(readFileSync('node_modules/@electric-sql/pglite/package.json', 'utf8')).version as string} (embedded)`;
  log(`${database}${db ? ` (database ${db.name})` : ''}; phases of ${PHASE_S} s, ${CONNECTIONS} connections, gateway pool ${POOL}`);

  const sim = await startSimulator(dir, CPU_PROF ? resolve(CPU_PROF) : undefined);
  cleanups.push(() => stopChild(sim.child));
  const receiver = await startReceiver();
  cleanups.push(() => stopChild(receiver.child));
  const adminToken = newAdminToken();
  const gwOptions = { dir, port: await freePort(), adminToken, masterKey: newMasterKey(), databaseUrl: db?.url, poolSize: POOL, ...(CPU_PROF ? { cpuProfDir: resolve(CPU_PROF) } : {}) };
  let gw: GatewayProcess = await startGateway(gwOptions);
  cleanups.push(() => gw.stop());
  await configureGateway(gw.url, adminToken, sim);
  log(`gateway ${gw.url} (pid ${gw.child.pid}), simulator ${sim.url} (pid ${sim.child.pid}), receiver ${receiver.notifyUrl}`);

  let ceilingPid: number | null = null;
  const setCeilingPid = (pid: number | null) => {
    ceilingPid = pid;
  };
  const meter = new CpuMeter(() => ({ gateway: [gw.child.pid], simulator: [sim.child.pid], receiver: [receiver.child.pid], 'load generator': [process.pid], 'ceiling process': ceilingPid ? [ceilingPid] : [] }), db?.name ?? null);
  const cpu: Record<string, CpuShares> = {};
  // Phase windows on the monotonic clock (µs), the clock V8 CPU profiles use: bench/profile.ts --phase.
  const windows: Array<{ phase: string; startUs: number; endUs: number }> = [];
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  const measure = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    log(`${phase}…`);
    const end = meter.start();
    const startUs = monoUs();
    const result = await fn();
    windows.push({ phase, startUs, endUs: monoUs() });
    const shares = end();
    if (shares.seconds >= 0.5) cpu[phase] = shares; // a shorter window says nothing
    return result;
  };

  // 1. Ceilings, on this machine, now.
  const orders = new GatewayOrders(gw.url, receiver.notifyUrl);
  const direct = new DirectOrders(sim, gw.url);
  const rsa = await measure('ceiling: RSA sign/verify', async () => rsaPerCore(QUICK ? 1000 : 2000));
  const bareReqPerSecond = await measure('ceiling: bare Fastify', () => bareFastify(PHASE_S, CONNECTIONS, orders.request().body as string, setCeilingPid));
  const commitsPerSecond = await measure('ceiling: INSERT+COMMIT', () => (db ? postgresCommits(db.url, PHASE_S * 1000, POOL, CONNECTIONS) : pgliteCommits(PHASE_S * 1000, CONNECTIONS, setCeilingPid)));
  const ceilings: Ceilings = { ...rsa, bareReqPerSecond, commitsPerSecond };
  log(`signs/s per core ${rsa.signsPerCore.toFixed(0)}, verifies/s per core ${rsa.verifiesPerCore.toFixed(0)}, bare ${bareReqPerSecond.toFixed(0)} req/s, commits ${commitsPerSecond.toFixed(0)}/s`);

  // 2. Create-order at saturation, through the gateway and straight to the simulator.
  await saturateGateway(gw.url, orders, CONNECTIONS, WARM_S);
  const createSat = await measure('create-order saturation', () => saturateGateway(gw.url, orders, CONNECTIONS, PHASE_S));
  log(`create-order ${createSat.perSecond.toFixed(0)}/s`);
  await saturateDirect(sim.url, direct, CONNECTIONS, WARM_S);
  const directSat = await measure('direct saturation', () => saturateDirect(sim.url, direct, CONNECTIONS, PHASE_S));
  log(`direct ${directSat.perSecond.toFixed(0)}/s`);

  // 3. Latency at half the gateway's saturation rate, both paths interleaved second by second.
  const rate = Math.max(10, Math.round(createSat.perSecond / 2));
  const half = await measure(`half load (${rate}/s, interleaved)`, () => halfLoad(orders, direct, rate, PHASE_S * 1000));
  const gwHalf = summarize(half.gateway);
  const directHalf = summarize(half.direct);
  const added = { p50: gwHalf.p50 - directHalf.p50, p99: gwHalf.p99 - directHalf.p99 };
  log(`at ${rate}/s: gateway p50 ${gwHalf.p50.toFixed(2)} p99 ${gwHalf.p99.toFixed(2)} ms; direct p50 ${directHalf.p50.toFixed(2)} p99 ${directHalf.p99.toFixed(2)} ms`);

  // 4. Cost growth (--prefill N): the same half-load phase on a table of N more orders.
  let prefill: Figures['prefill'];
  const peaks: number[] = [];
  if (PREFILL > 0) {
    let seconds: number;
    if (db) {
      seconds = await measure(`prefill ${PREFILL} orders`, () => prefillPostgres(db.url, PREFILL));
    } else {
      const before = gw.rss.stop();
      peaks.push(before.peakMb);
      await gw.stop();
      seconds = await measure(`prefill ${PREFILL} orders`, () => prefillPglite(join(dir, 'gateway', 'db'), PREFILL));
      gw = await startGateway(gwOptions);
    }
    log(`prefilled ${PREFILL} orders in ${seconds.toFixed(1)} s`);
    await saturateGateway(gw.url, orders, CONNECTIONS, WARM_S);
    const saturation = await measure('create-order saturation after prefill', () => saturateGateway(gw.url, orders, CONNECTIONS, PHASE_S));
    const after = await measure(`half load after prefill (${rate}/s)`, () => halfLoad(orders, direct, rate, PHASE_S * 1000));
    const h = summarize(after.gateway);
    const d = summarize(after.direct);
    prefill = { rows: PREFILL, seconds, saturation, half: h, direct: d, added: { p50: h.p50 - d.p50, p99: h.p99 - d.p99 } };
    log(`after prefill: create-order ${saturation.perSecond.toFixed(0)}/s; at ${rate}/s gateway p99 ${h.p99.toFixed(2)} ms (before ${gwHalf.p99.toFixed(2)})`);
  }

  // 5. Callbacks for the PAYING orders created above, and the merchant notifications they cause.
  const ids = orders.created.slice(0, MAX_CALLBACKS);
  log(`pre-signing ${ids.length} callbacks…`);
  const callbacks = await presignCallbacks(sim, ids);
  const cb = await measure('callbacks', () => deliverCallbacks(gw.url, callbacks, CONNECTIONS, 120));
  log(`callbacks ${cb.perSecond.toFixed(0)}/s (${cb.ok} accepted)`);
  const notifications = await measure('notifications (tail after callbacks)', () => awaitNotifications(receiver, cb.ok, 90_000));
  log(`notifications ${notifications.perSecond.toFixed(0)}/s (${notifications.count})`);

  // 6. Peak memory of the gateway process(es), then stop everything (the CPU profile is written on exit).
  const rss = gw.rss.stop();
  const rssPeak = { peakMb: Math.max(rss.peakMb, ...peaks), peakSampledMb: rss.peakSampledMb };
  await orders.close();
  await cleanup();
  if (CPU_PROF) {
    writeFileSync(join(resolve(CPU_PROF), 'phases.json'), `${JSON.stringify(windows, null, 2)}\n`);
    log(`CPU profiles of the gateway in ${resolve(CPU_PROF)}, of the simulator in ${join(resolve(CPU_PROF), 'simulator')} (summary of one phase: node --import tsx bench/profile.ts <file> --phase 'create-order saturation')`);
  }

  const cores = cpus().length;
  const figures: Figures = {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { cores, cpuModel: cpuModel(), memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, database, loadavgBefore },
    options: { quick: QUICK, pglite: PGLITE, prefill: PREFILL, connections: CONNECTIONS, pool: POOL, phaseSeconds: PHASE_S },
    ceilings,
    create: { saturation: createSat, rate, half: gwHalf },
    direct: { saturation: directSat, half: directHalf },
    added,
    callbacks: { ...cb, n: callbacks.length },
    notifications,
    rss: rssPeak,
    ...(prefill ? { prefill } : {}),
    cpu,
    derived: { order: ceilingOf(ceilings, cores, PER_ORDER), callback: ceilingOf(ceilings, cores, PER_CALLBACK), notification: ceilingOf(ceilings, cores, PER_NOTIFICATION) },
  };
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(figures, null, 2)}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${renderReport(figures)}\n`);
}

function cpuModel(): string {
  const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
}

export type { SaturationResult };

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    void cleanup().finally(() => process.exit(1));
  },
);
