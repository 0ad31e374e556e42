import { ApiError } from '../domain/errors.ts';
import type { WayCode } from '../domain/pay-way.ts';
import { type Passage, type Skipped } from '../domain/routing.ts';
import type { PayChannel } from '../channels/types.ts';
import type { PassageService } from './passages.ts';
import type { TenancyService } from './tenancy.ts';

/** Why this passage was taken, for the order's timeline. */
export interface RouteDecision {
  passageId: number;
  ifCode: string;
  priority: number;
  weight: number;
  feeRatePpm: number;
  /** Passages still eligible after this one, in order (failover candidates). */
  next: number[];
  skipped: Skipped[];
}

/**
 * Walks one order's route: the passages of its way in the order routing chose, skipping those
 * whose channel is not installed or configured for the app and those whose daily limit this
 * order would exceed (the reservation is taken here). `next()` gives the passage to try now;
 * calling it again after a fault moves on (failover).
 */
export class RouteCursor {
  readonly #passages: PassageService;
  readonly #tenancy: TenancyService;
  readonly #channels: ReadonlyMap<string, PayChannel>;
  readonly #appId: string;
  readonly #way: WayCode;
  readonly #amount: number;
  readonly #orderId: string;
  readonly #reservedAt = new Date();
  #queue: Passage[] | null = null;
  readonly #skipped: Skipped[] = [];
  #current: Passage | null = null;

  constructor(deps: { passages: PassageService; tenancy: TenancyService; channels: ReadonlyMap<string, PayChannel> }, appId: string, way: WayCode, amount: number, orderId: string) {
    this.#passages = deps.passages;
    this.#tenancy = deps.tenancy;
    this.#channels = deps.channels;
    this.#appId = appId;
    this.#way = way;
    this.#amount = amount;
    this.#orderId = orderId;
  }

  get current(): Passage | null {
    return this.#current;
  }

  /** The next usable passage with its daily amount reserved, or null when none is left. */
  async next(): Promise<{ passage: Passage; decision: RouteDecision } | null> {
    if (this.#queue === null) {
      const plan = await this.#passages.plan(this.#appId, this.#way, this.#amount, this.#orderId, this.#reservedAt);
      this.#queue = plan.candidates;
      this.#skipped.push(...plan.skipped);
    }
    for (let p = this.#queue.shift(); p; p = this.#queue.shift()) {
      const why = await this.#unusable(p);
      if (why) {
        this.#skipped.push({ passageId: p.passageId, ifCode: p.ifCode, reason: why });
        continue;
      }
      this.#current = p;
      const decision = { passageId: p.passageId, ifCode: p.ifCode, priority: p.priority, weight: p.weight, feeRatePpm: p.feeRatePpm, next: this.#queue.map((q) => q.passageId), skipped: [...this.#skipped] };
      return { passage: p, decision };
    }
    this.#current = null;
    return null;
  }

  /** The first passage, or WAY_NOT_AVAILABLE saying why each passage was left out. */
  async first(): Promise<{ passage: Passage; decision: RouteDecision }> {
    const taken = await this.next();
    if (taken) return taken;
    const why = this.#skipped.map((s) => `${s.ifCode}#${s.passageId}: ${s.reason}`).join('; ');
    throw new ApiError('WAY_NOT_AVAILABLE', why ? `${this.#way} has no usable passage for app ${this.#appId} (${why})` : `${this.#way} is not enabled for app ${this.#appId}`);
  }

  /** Gives a passage's daily reservation back (the order left it or failed at creation). */
  async release(p: Passage | null = this.#current): Promise<void> {
    if (p) await this.#passages.release(p, this.#amount, this.#reservedAt);
  }

  async #unusable(p: Passage): Promise<string | null> {
    if (!this.#channels.has(p.ifCode)) return `channel ${p.ifCode} is not installed`;
    if (!(await this.#tenancy.getChannelConfig(this.#appId, p.ifCode))) return `channel ${p.ifCode} is not configured for this app`;
    if (!(await this.#passages.reserve(p, this.#amount, this.#reservedAt))) return `daily limit ${p.dailyLimit} reached`;
    return null;
  }
}
