/**
 * One circuit breaker per pay passage, in this process. After `threshold` consecutive channel
 * faults (unreachable, 5xx/system error, timeout) the passage is taken out of routing for
 * `openMs`; then one order may try it (half-open): success closes the breaker, a fault opens it
 * again at once. Declines are answers, not faults, and count as success. Each gateway process
 * judges for itself: a breaker is a local health estimate, not shared state.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSnapshot {
  passageId: number;
  state: BreakerState;
  consecutiveFailures: number;
  openUntil: string | null;
  lastFailure: string | null;
}

interface Breaker {
  failures: number;
  openUntil: number;
  lastFailure: string | null;
  /** A half-open trial is under way: other orders keep avoiding the passage until it reports. */
  trialInFlight: boolean;
}

export interface BreakerEvents {
  tripped(passageId: number, failures: number, reason: string, openUntil: Date): void;
  recovered(passageId: number): void;
}

export class CircuitBreakers {
  readonly #breakers = new Map<number, Breaker>();
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #now: () => number;
  readonly #events: BreakerEvents;

  constructor(opts: { threshold: number; openMs: number; events: BreakerEvents; now?: () => number }) {
    this.#threshold = opts.threshold;
    this.#openMs = opts.openMs;
    this.#events = opts.events;
    this.#now = opts.now ?? Date.now;
  }

  state(passageId: number): BreakerState {
    const b = this.#breakers.get(passageId);
    if (!b || b.failures < this.#threshold) return 'closed';
    return this.#now() < b.openUntil ? 'open' : 'half-open';
  }

  /** True when routing must skip the passage; claims the half-open trial for the caller otherwise. */
  isOpen(passageId: number): boolean {
    const state = this.state(passageId);
    if (state === 'closed') return false;
    if (state === 'open') return true;
    const b = this.#breakers.get(passageId) as Breaker;
    if (b.trialInFlight) return true;
    b.trialInFlight = true;
    return false;
  }

  success(passageId: number): void {
    const b = this.#breakers.get(passageId);
    if (!b) return;
    const wasTripped = b.failures >= this.#threshold;
    this.#breakers.delete(passageId);
    if (wasTripped) this.#events.recovered(passageId);
  }

  failure(passageId: number, reason: string): void {
    const b = this.#breakers.get(passageId) ?? { failures: 0, openUntil: 0, lastFailure: null, trialInFlight: false };
    const wasHalfOpen = b.failures >= this.#threshold;
    b.failures += 1;
    b.lastFailure = reason;
    b.trialInFlight = false;
    this.#breakers.set(passageId, b);
    if (b.failures === this.#threshold || wasHalfOpen) {
      b.openUntil = this.#now() + this.#openMs;
      this.#events.tripped(passageId, b.failures, reason, new Date(b.openUntil));
    }
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.#breakers.entries()].map(([passageId, b]) => ({
      passageId,
      state: this.state(passageId),
      consecutiveFailures: b.failures,
      openUntil: b.failures >= this.#threshold ? new Date(b.openUntil).toISOString() : null,
      lastFailure: b.lastFailure,
    }));
  }
}
