import { createHash } from 'node:crypto';

/**
 * Pay passages (支付通道 per app and way) and how one is chosen for an order. Pure functions:
 * the service layer supplies the passages, today's usage and the circuit-breaker state.
 *
 * Rules (docs/routing.md):
 *  1. A passage is eligible when it is enabled, the order amount is within its per-order limits,
 *     the current China-time minute is inside its window, and its breaker is not open.
 *  2. Eligible passages are tried by priority (lower number first); among equal priorities the
 *     order is a weighted choice that is deterministic for the order id (weighted rendezvous
 *     hashing), so a retried request routes the same way and shares follow the weights.
 *  3. The daily limit is enforced by the caller with an atomic reservation, in this order.
 */

export interface Passage {
  passageId: number;
  appId: string;
  wayCode: string;
  ifCode: string;
  priority: number;
  weight: number;
  /** Per-order limits in minor units; null = none. */
  minAmount: number | null;
  maxAmount: number | null;
  /** Sum of order amounts per China-time day, minor units; null = none. */
  dailyLimit: number | null;
  /** Minutes of the China-time day, [start, end); start > end wraps midnight; null = always. */
  windowStart: number | null;
  windowEnd: number | null;
  /** Merchant fee rate in parts per million of the amount (0.38 % = 3800). */
  feeRatePpm: number;
  enabled: boolean;
}

export interface Skipped {
  passageId: number;
  ifCode: string;
  reason: string;
}

export interface RoutePlan {
  /** In the order they should be tried. */
  candidates: Passage[];
  skipped: Skipped[];
}

const CHINA_OFFSET_MINUTES = 8 * 60;

/** Minute of the day in China time (UTC+8, no daylight saving). */
export function chinaMinuteOfDay(at: Date): number {
  return Math.floor((at.getTime() / 60_000 + CHINA_OFFSET_MINUTES) % 1440);
}

/** The China-time calendar day (yyyy-MM-dd) a moment belongs to: daily limits reset at midnight Beijing time. */
export function chinaDay(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MINUTES * 60_000).toISOString().slice(0, 10);
}

export function inWindow(p: Pick<Passage, 'windowStart' | 'windowEnd'>, minute: number): boolean {
  if (p.windowStart === null || p.windowEnd === null || p.windowStart === p.windowEnd) return true;
  return p.windowStart < p.windowEnd ? minute >= p.windowStart && minute < p.windowEnd : minute >= p.windowStart || minute < p.windowEnd;
}

/** Why a passage cannot take this order (before the daily limit and the channel are asked), or null. */
export function ineligibility(p: Passage, amount: number, minute: number, breakerOpen: boolean): string | null {
  if (!p.enabled) return 'passage disabled';
  if (p.minAmount !== null && amount < p.minAmount) return `amount ${amount} below the passage minimum ${p.minAmount}`;
  if (p.maxAmount !== null && amount > p.maxAmount) return `amount ${amount} above the passage maximum ${p.maxAmount}`;
  if (!inWindow(p, minute)) return `outside the passage's time window`;
  if (breakerOpen) return 'circuit breaker open after repeated channel failures';
  return null;
}

/**
 * Weighted rendezvous hashing: each passage draws u ∈ (0,1) from a hash of (order, passage) and
 * scores ln(u)/weight; the highest score goes first. P(first) is proportional to the weight, the
 * draw is the same every time for the same order, and removing a passage leaves the relative
 * order of the others unchanged. (A float here ranks passages; it never touches an amount.)
 */
export function weightedOrder<P extends Pick<Passage, 'passageId' | 'weight'>>(passages: readonly P[], orderId: string): P[] {
  const score = (p: P): number => {
    const h = createHash('sha256').update(`${orderId}|${p.passageId}`).digest().readUIntBE(0, 6);
    const u = (h + 1) / (2 ** 48 + 1);
    return Math.log(u) / Math.max(p.weight, 1);
  };
  return passages
    .map((p) => ({ p, s: score(p) }))
    .sort((a, b) => b.s - a.s || a.p.passageId - b.p.passageId)
    .map((x) => x.p);
}

export function planRoute(passages: readonly Passage[], amount: number, orderId: string, now: Date, breakerOpen: (passageId: number) => boolean): RoutePlan {
  const minute = chinaMinuteOfDay(now);
  const skipped: Skipped[] = [];
  const eligible: Passage[] = [];
  for (const p of passages) {
    const why = ineligibility(p, amount, minute, breakerOpen(p.passageId));
    if (why) skipped.push({ passageId: p.passageId, ifCode: p.ifCode, reason: why });
    else eligible.push(p);
  }
  const priorities = [...new Set(eligible.map((p) => p.priority))].sort((a, b) => a - b);
  const candidates = priorities.flatMap((prio) => weightedOrder(eligible.filter((p) => p.priority === prio), orderId));
  return { candidates, skipped };
}

const PPM = 1_000_000n;

/**
 * The merchant fee of an order: amount × rate, rounded half up to the minor unit, in integer
 * arithmetic (BigInt, so no amount × rate product can overflow or lose precision). Example: 1,001
 * fen at 0.38 % (3,800 ppm) = 3.8038 fen → 4 fen; 100 fen at 0.25 % = 0.25 fen → 0 fen.
 */
export function feeAmount(amount: number, feeRatePpm: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount must be a non-negative safe integer, got ${amount}`);
  if (!Number.isInteger(feeRatePpm) || feeRatePpm < 0 || feeRatePpm > 1_000_000) throw new RangeError(`fee rate must be 0..1,000,000 ppm, got ${feeRatePpm}`);
  return Number((BigInt(amount) * BigInt(feeRatePpm) + PPM / 2n) / PPM);
}

/**
 * Whether an order may move to the next passage after this channel fault. Only when nothing can
 * have reached the payer: the channel was unreachable or our configuration was unusable (nothing
 * was sent), or it answered an explicit system error to a create whose pay data never reached
 * the payer — except bar-code pay, where the payer's code was presented and the channel may have
 * charged it. Never after a timeout (the channel may have accepted: the order is queried
 * instead), never on a decline.
 */
export function mayFailOver(faultKind: string, barCode: boolean): boolean {
  if (faultKind === 'unavailable' || faultKind === 'misconfigured') return true;
  return faultKind === 'system' && !barCode;
}

/** Faults that count against a passage's circuit breaker (a decline or a bad request is the channel working). */
export function isChannelFault(faultKind: string): boolean {
  return faultKind === 'unavailable' || faultKind === 'system' || faultKind === 'timeout';
}
