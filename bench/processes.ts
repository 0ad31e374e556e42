import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { request } from 'undici';

/**
 * The benchmark's processes: every child is a `node` process on 127.0.0.1 that is stopped on the
 * driver's exit, error or signal (and stops itself if the driver is killed: children/orphan-guard.mjs).
 * Also: the throw-away PostgreSQL database, RSS sampling and per-process CPU accounting.
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUARD = fileURLToPath(new URL('./children/orphan-guard.mjs', import.meta.url));

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last few kB of the child's stdout + stderr (for error messages). */
  tail(): string;
  exited: Promise<number | null>;
}

const live = new Set<Child>();
let quiet = false;

/** Spawns `node <nodeArgs> <script>`; tsx is loaded for .ts scripts. */
export function spawnNode(name: string, script: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): Child {
  const args = ['--import', GUARD, ...nodeArgs, ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script];
  const merged: Record<string, string> = {};
  // An env value of undefined removes the variable (e.g. DATABASE_URL for the embedded database).
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) merged[k] = v;
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-6000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(child);
      if (!quiet && !child.stopping && code !== 0) process.stderr.write(`bench: ${name} exited unexpectedly (${code ?? signal}):\n${tail}\n`);
      resolve(code);
    });
  });
  const child: Child & { stopping?: boolean } = { name, proc, pid: proc.pid as number, tail: () => tail, exited };
  live.add(child);
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 15_000): Promise<void> {
  (child as Child & { stopping?: boolean }).stopping = true;
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Synchronous last resort (process 'exit', fatal errors): SIGKILL whatever is still running. */
export function killAllNow(): void {
  quiet = true;
  for (const c of live) c.proc.kill('SIGKILL');
}
process.on('exit', killAllNow);

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

/** Polls `url` until it answers 200 (or, with anyStatus, anything below 500). */
export async function waitHttp(url: string, child: Child | null, timeoutMs = 120_000, anyStatus = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited before ${url} came up:\n${child.tail()}`);
    try {
      const r = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await r.body.dump();
      if (r.statusCode === 200 || (anyStatus && r.statusCode < 500)) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up within ${timeoutMs} ms${child ? `:\n${child.tail()}` : ''}`);
    await sleep(150);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// PostgreSQL: one dedicated database per run.

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `polypay_bench_${randomBytes(5).toString('hex')}`;
  const u = new URL(serverUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error(`DATABASE_URL must point at this machine (127.0.0.1), got ${u.hostname}`);
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: u.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return String((await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?');
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory: VmHWM is the kernel's own peak-RSS watermark; VmRSS is sampled as a cross-check.

export class RssSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  peakSampledMb = 0;
  constructor(pid: number, everyMs = 200) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
  }
  sample(): { rssMb: number; hwmMb: number } {
    try {
      const status = readFileSync(`/proc/${this.#pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
      const rssMb = kb('VmRSS') / 1024;
      const hwmMb = kb('VmHWM') / 1024;
      if (rssMb > this.peakSampledMb) this.peakSampledMb = rssMb;
      return { rssMb, hwmMb };
    } catch {
      return { rssMb: NaN, hwmMb: NaN };
    }
  }
  stop(): { peakMb: number; peakSampledMb: number } {
    const last = this.sample();
    clearInterval(this.#timer);
    return { peakMb: Number.isFinite(last.hwmMb) ? last.hwmMb : this.peakSampledMb, peakSampledMb: this.peakSampledMb };
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting per phase, from /proc: who used the two cores while a phase ran. Other
// engineers' tests share this machine; "others" makes that visible next to every figure.

const CLK_TCK = 100;

function procJiffies(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** PostgreSQL backends serving our database (their process title names it), and the server's shared processes. */
function postgresPids(dbName: string | null): { ours: number[]; shared: number[] } {
  const ours: number[] = [];
  const shared: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.startsWith('postgres')) continue;
    if (dbName && cmd.includes(` ${dbName} `)) ours.push(Number(entry));
    else if (/postgres: [^:]+: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|stats collector)/.test(cmd) || cmd.startsWith('/usr/lib/postgresql')) shared.push(Number(entry));
  }
  return { ours, shared };
}

export interface CpuShares {
  seconds: number;
  /** In cores (1.00 = one core fully busy); the machine has `cores` of them. */
  machine: number;
  byGroup: Record<string, number>;
  others: number;
}

export class CpuMeter {
  readonly #groups: () => Record<string, number[]>;
  readonly #dbName: string | null;
  constructor(groups: () => Record<string, number[]>, dbName: string | null) {
    this.#groups = groups;
    this.#dbName = dbName;
  }

  #currentGroups(withPostgres: boolean): Record<string, number[]> {
    const g = this.#groups();
    if (!withPostgres || !this.#dbName) return g;
    const pgp = postgresPids(this.#dbName);
    return { ...g, postgres: pgp.ours, 'postgres (shared)': pgp.shared };
  }

  /**
   * Starts measuring; the returned function ends the window and returns the shares. Processes are
   * polled during the window, so one that exits before the end still counts up to its last reading.
   */
  start(): () => CpuShares {
    const t0 = performance.now();
    const m0 = machineJiffies();
    const groupOf = new Map<number, string>();
    const first = new Map<number, number>();
    const latest = new Map<number, number>();
    const poll = (withPostgres: boolean, initial: boolean) => {
      for (const [name, pids] of Object.entries(this.#currentGroups(withPostgres))) {
        for (const pid of pids) {
          const j = procJiffies(pid);
          if (!groupOf.has(pid)) {
            groupOf.set(pid, name);
            first.set(pid, initial ? j : 0); // appeared during the window: counts from zero
          }
          if (j > 0) latest.set(pid, j);
        }
      }
      // Known postgres backends keep being read even when the /proc scan is skipped.
      if (!withPostgres) for (const [pid, name] of groupOf) if (name.startsWith('postgres')) {
        const j = procJiffies(pid);
        if (j > 0) latest.set(pid, j);
      }
    };
    poll(true, true);
    const timer = setInterval(() => poll(true, false), 250);
    timer.unref();
    return () => {
      clearInterval(timer);
      poll(true, false);
      const seconds = (performance.now() - t0) / 1000;
      const cores = (jiffies: number) => jiffies / CLK_TCK / seconds;
      const perGroup: Record<string, number> = {};
      let ours = 0;
      for (const [pid, name] of groupOf) {
        const d = Math.max(0, (latest.get(pid) ?? 0) - (first.get(pid) ?? 0));
        perGroup[name] = (perGroup[name] ?? 0) + d;
        ours += d;
      }
      const byGroup = Object.fromEntries(Object.entries(perGroup).map(([k, v]) => [k, cores(v)]));
      const m1 = machineJiffies();
      const machine = cores(m1.busy - m0.busy);
      return { seconds, machine, byGroup, others: Math.max(0, machine - cores(ours)) };
    };
  }
}
