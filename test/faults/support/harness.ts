import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';

/**
 * Fault-suite sizing and reporting. `npm test` and CI run the CI size (the issue's minimums:
 * ≥ 10 kills, ≥ 10,000 fuzz cases); FAULTS_SCALE=full runs the long version; FAULTS_FUZZ_RUNS
 * overrides the fuzz case count; FAULTS_SEED makes the random choices reproducible.
 */
export const FULL = (process.env.FAULTS_SCALE ?? '').toLowerCase() === 'full';

export function scaled(ci: number, full: number): number {
  return FULL ? full : ci;
}

export const SEED = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : randomInt(1, 2 ** 31 - 1);

/** A small seeded PRNG (mulberry32) so a failing run can be replayed with FAULTS_SEED. */
export function rng(seed = SEED): { next(): number; int(min: number, max: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
    chance: (p) => next() < p,
  };
}

/** Collects invariant violations instead of stopping at the first, so a run reports all of them. */
export class Violations {
  readonly list: string[] = [];
  check(ok: unknown, message: string | (() => string)): boolean {
    if (!ok) this.add(typeof message === 'string' ? message : message());
    return Boolean(ok);
  }
  add(message: string): void {
    if (this.list.length < 10_000) this.list.push(message);
  }
  get count(): number {
    return this.list.length;
  }
}

/** Prints the scenario's summary line and fails the test when an invariant was violated. */
export function report(scenario: string, cases: number, v: Violations, extra = '', gatewayLog?: () => string): void {
  console.log(`faults: ${scenario}: cases ${cases}, violations ${v.count}${extra ? ` (${extra})` : ''}`);
  if (v.count > 0) {
    const shown = v.list.slice(0, 60).map((m) => `  - ${m}`).join('\n');
    console.log(`faults: ${scenario}: seed ${SEED}; first violations:\n${shown}`);
    if (gatewayLog) console.log(`faults: ${scenario}: end of the gateway's log:\n${gatewayLog()}`);
  }
  assert.equal(v.count, 0, `${scenario}: ${v.count} invariant violation(s), first: ${v.list[0] ?? ''}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(what: string, fn: () => Promise<unknown> | unknown, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return true;
    } catch {
      // not yet (e.g. the gateway is restarting)
    }
    if (Date.now() > deadline) {
      console.log(`faults: gave up waiting for ${what} after ${timeoutMs} ms`);
      return false;
    }
    await sleep(intervalMs);
  }
}

/** True when the PostgreSQL legs can run (the runner checked the server unless told to skip it). */
export function postgresAvailable(): boolean {
  return process.env.POLYPAY_TEST_SKIP_PG !== '1';
}
