import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { request } from 'undici';

/** Small helpers for the benchmark driver: child processes, ports, percentiles, RSS. */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const children: ChildProcess[] = [];
export function startChild(args: string[], env: Record<string, string>, name: string): ChildProcess {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL' && !stopping) process.stderr.write(`bench: ${name} exited (${code ?? signal}):\n${tail}\n`);
  });
  children.push(child);
  return child;
}

let stopping = false;
export function stopChildren(): void {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { stopChildren(); process.exit(130); });
process.on('exit', stopChildren);

export async function waitHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await request(url);
      await r.body.dump();
      if (r.statusCode < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] as number;
}

/** Peak resident set (VmHWM) of a process, MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Closed loop: `concurrency` workers send back to back for `ms`; returns completions/s and errors. */
export async function saturate(ms: number, concurrency: number, send: () => Promise<boolean>): Promise<{ perSecond: number; ok: number; failed: number }> {
  const end = performance.now() + ms;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      try {
        if (await send()) ok += 1;
        else failed += 1;
      } catch {
        failed += 1;
      }
    }
  }));
  return { perSecond: ok / ((performance.now() - started) / 1000), ok, failed };
}

/** Open loop at a fixed offered rate: latency is measured from the scheduled start, so queueing counts. */
export async function fixedRate(ms: number, ratePerSecond: number, send: () => Promise<boolean>): Promise<{ sorted: number[]; failed: number }> {
  const interval = 1000 / ratePerSecond;
  const latencies: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; ; i++) {
    const scheduled = t0 + i * interval;
    if (scheduled - t0 > ms) break;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send().then((ok) => { if (ok) latencies.push(performance.now() - scheduled); else failed += 1; }, () => { failed += 1; }));
  }
  await Promise.all(inflight);
  return { sorted: latencies.sort((a, b) => a - b), failed };
}
