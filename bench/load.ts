import autocannon, { type AutocannonRequest } from 'autocannon';

/**
 * Load shapes. Saturation: autocannon (the vetted tool, stack.md) with per-request bodies from
 * `next()` and a per-response check. Fixed rate: an open-loop constant-arrival loop here, timed
 * with process.hrtime from the *scheduled* send time (queueing counts, no coordinated omission),
 * with sub-millisecond resolution that autocannon's 1 ms histogram lacks.
 */

export interface PreparedRequest {
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface SaturationResult {
  perSecond: number;
  ok: number;
  failed: number;
  errors: number;
  seconds: number;
  /** autocannon's own latency (1 ms resolution), for reference. */
  p50: number;
  p99: number;
}

export function lowerCaseHeaders(h: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * Closed loop at `connections` for `seconds` (or until `amount` responses). `next()` returns the
 * next request (null: nothing left); `check(status, body, headers)` says whether the answer counts.
 */
export async function saturate(opts: {
  url: string;
  connections: number;
  seconds: number;
  amount?: number;
  next: () => PreparedRequest | null;
  check: (status: number, body: string, headers: Record<string, string>) => boolean;
}): Promise<SaturationResult> {
  let ok = 0;
  let failed = 0;
  let exhausted = false;
  let lastCounted = 0;
  const request: AutocannonRequest = {
    setupRequest: (req) => {
      const r = exhausted ? null : opts.next();
      if (!r) {
        exhausted = true;
        // autocannon restarts the request list on a falsy value; send a harmless 404 instead and stop counting.
        return { ...req, method: 'GET', path: '/__bench_exhausted', headers: {}, body: undefined };
      }
      return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body };
    },
    onResponse: (status, body, _ctx, headers) => {
      if (status === 404 && exhausted) return;
      if (opts.check(status, body, lowerCaseHeaders(headers))) ok += 1;
      else failed += 1;
      lastCounted = performance.now();
    },
  };
  const started = performance.now();
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
    timeout: 30,
    requests: [request],
  });
  // From the start to the last counted answer: an `amount` run may end before `seconds`.
  const seconds = ((lastCounted || performance.now()) - started) / 1000;
  return { perSecond: ok / seconds, ok, failed, errors: result.errors + result.timeouts, seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

export interface OpenLoopResult {
  /** Latencies of successful requests, ms, sorted ascending. */
  sorted: number[];
  failed: number;
  offered: number;
}

export type Sender = () => Promise<boolean>;

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Open loop at `rate`/s over several senders, interleaved in slices (A for sliceMs, then B, then
 * A, …) so that a burst of background load on this shared machine hits both paths alike.
 */
export async function openLoopInterleaved(senders: Record<string, Sender>, rate: number, msEach: number, sliceMs = 1000): Promise<Record<string, OpenLoopResult>> {
  const names = Object.keys(senders);
  const out: Record<string, { lat: number[]; failed: number; offered: number }> = Object.fromEntries(names.map((n) => [n, { lat: [], failed: 0, offered: 0 }]));
  const slices = Math.max(1, Math.round(msEach / sliceMs));
  const inflight: Promise<void>[] = [];
  const interval = 1000 / rate;
  for (let s = 0; s < slices; s++) {
    for (const name of names) {
      const send = senders[name] as Sender;
      const acc = out[name] as { lat: number[]; failed: number; offered: number };
      const t0 = nowMs();
      for (let i = 0; ; i++) {
        const scheduled = t0 + i * interval;
        if (scheduled - t0 >= sliceMs) break;
        const wait = scheduled - nowMs();
        if (wait > 0.5) await new Promise((r) => setTimeout(r, wait));
        acc.offered += 1;
        inflight.push(
          send().then(
            (ok) => {
              if (ok) acc.lat.push(nowMs() - scheduled);
              else acc.failed += 1;
            },
            () => {
              acc.failed += 1;
            },
          ),
        );
      }
      // Let the slice's stragglers finish before the other path starts, so slices do not overlap.
      await Promise.all(inflight.splice(0));
    }
  }
  return Object.fromEntries(names.map((n) => {
    const acc = out[n] as { lat: number[]; failed: number; offered: number };
    return [n, { sorted: acc.lat.sort((a, b) => a - b), failed: acc.failed, offered: acc.offered }];
  }));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
