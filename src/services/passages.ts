import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';
import { isWayCode, type WayCode } from '../domain/pay-way.ts';
import { type Passage, type RoutePlan, chinaDay, planRoute } from '../domain/routing.ts';
import type { ChannelDescriptor, Logger } from '../channels/types.ts';
import { type BreakerSnapshot, CircuitBreakers } from './circuit-breakers.ts';

/** What an operator sets on a passage; omitted fields keep their value (or the default on creation). */
export interface PassageInput {
  wayCode: string;
  ifCode: string;
  priority?: number;
  weight?: number;
  minAmount?: number | null;
  maxAmount?: number | null;
  dailyLimit?: number | null;
  windowStart?: number | null;
  windowEnd?: number | null;
  feeRatePpm?: number;
  enabled?: boolean;
}

interface PassageRow {
  passage_id: number;
  app_id: string;
  way_code: string;
  if_code: string;
  priority: number;
  weight: number;
  min_amount: number | null;
  max_amount: number | null;
  daily_limit: number | null;
  window_start: number | null;
  window_end: number | null;
  fee_rate_ppm: number;
  state: number;
}

const toPassage = (r: PassageRow): Passage => ({
  passageId: r.passage_id,
  appId: r.app_id,
  wayCode: r.way_code,
  ifCode: r.if_code,
  priority: r.priority,
  weight: r.weight,
  minAmount: r.min_amount,
  maxAmount: r.max_amount,
  dailyLimit: r.daily_limit,
  windowStart: r.window_start,
  windowEnd: r.window_end,
  feeRatePpm: r.fee_rate_ppm,
  enabled: r.state === 1,
});

export interface PassageServiceOptions {
  ttlMs?: number;
  breakerThreshold: number;
  breakerOpenSeconds: number;
}

/**
 * Pay passages: which channels serve a pay way for an app, with priority, weight, limits, time
 * window and fee rate (routing rules in src/domain/routing.ts), the daily-limit reservations, and
 * the circuit breakers whose trips and recoveries are written to passage_events for operators.
 */
export class PassageService {
  readonly #db: Db;
  readonly #channels: ReadonlyMap<string, ChannelDescriptor>;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { value: Passage[]; expires: number }>();
  readonly breakers: CircuitBreakers;

  constructor(db: Db, channels: ReadonlyMap<string, ChannelDescriptor>, log: Logger, options: PassageServiceOptions) {
    this.#db = db;
    this.#channels = channels;
    this.#log = log;
    this.#ttlMs = options.ttlMs ?? 5000;
    this.breakers = new CircuitBreakers({
      threshold: options.breakerThreshold,
      openMs: options.breakerOpenSeconds * 1000,
      events: {
        tripped: (passageId, failures, reason, openUntil) => {
          this.#log.error({ passageId, failures, reason, openUntil }, 'pay passage taken out of routing: circuit breaker open');
          this.#recordEvent(passageId, 'breaker_open', { failures, reason, openUntil: openUntil.toISOString() });
        },
        recovered: (passageId) => {
          this.#log.warn({ passageId }, 'pay passage back in routing: circuit breaker closed');
          this.#recordEvent(passageId, 'breaker_closed', {});
        },
      },
    });
  }

  /** Binds ways to a channel with default routing settings (priority 0, weight 100, no limits); re-enables existing passages. */
  async enableWays(appId: string, ifCode: string, ways: readonly string[]): Promise<void> {
    for (const way of ways) this.#checkWay(ifCode, way);
    await this.#db.transaction(async (tx) => {
      for (const way of ways) {
        await tx.query(
          `INSERT INTO pay_passages (app_id, way_code, if_code) VALUES ($1, $2, $3)
           ON CONFLICT (app_id, way_code, if_code) DO UPDATE SET state = 1, updated_at = now()`,
          [appId, way, ifCode],
        );
      }
    });
    this.#invalidate(appId);
  }

  /** Creates or updates the passage of (app, way, channel). */
  async upsert(appId: string, input: PassageInput): Promise<Passage> {
    this.#checkWay(input.ifCode, input.wayCode);
    if ((input.windowStart === undefined) !== (input.windowEnd === undefined)) throw new ApiError('PARAM_INVALID', 'windowStart and windowEnd go together');
    const app = await this.#db.query(`SELECT 1 FROM merchant_apps WHERE app_id = $1`, [appId]);
    if (app.rows.length === 0) throw new ApiError('NOT_FOUND', `app ${appId}`);
    const set = (v: unknown) => (v === undefined ? null : v);
    const keep = (col: string, i: number) => `${col} = CASE WHEN $${i}::boolean THEN EXCLUDED.${col} ELSE pay_passages.${col} END`;
    const given = (v: unknown) => v !== undefined;
    try {
      const r = await this.#db.query<PassageRow>(
        `INSERT INTO pay_passages (app_id, way_code, if_code, priority, weight, min_amount, max_amount, daily_limit, window_start, window_end, fee_rate_ppm, state)
         VALUES ($1, $2, $3, COALESCE($4, 0), COALESCE($5, 100), $6, $7, $8, $9, $10, COALESCE($11, 0), COALESCE($12, 1))
         ON CONFLICT (app_id, way_code, if_code) DO UPDATE SET
           priority = COALESCE($4, pay_passages.priority), weight = COALESCE($5, pay_passages.weight),
           ${keep('min_amount', 13)}, ${keep('max_amount', 14)}, ${keep('daily_limit', 15)}, ${keep('window_start', 16)}, ${keep('window_end', 16)},
           fee_rate_ppm = COALESCE($11, pay_passages.fee_rate_ppm), state = COALESCE($12, pay_passages.state), updated_at = now()
         RETURNING *`,
        [
          appId, input.wayCode, input.ifCode, set(input.priority), set(input.weight), set(input.minAmount), set(input.maxAmount), set(input.dailyLimit),
          set(input.windowStart), set(input.windowEnd), set(input.feeRatePpm), input.enabled === undefined ? null : input.enabled ? 1 : 0,
          given(input.minAmount), given(input.maxAmount), given(input.dailyLimit), given(input.windowStart),
        ],
      );
      this.#invalidate(appId);
      return toPassage(r.rows[0] as PassageRow);
    } catch (err) {
      // A CHECK constraint (weight range, min ≤ max, …) is the operator's mistake, not ours.
      if ((err as { code?: string }).code === '23514') throw new ApiError('PARAM_INVALID', `passage settings out of range: ${(err as Error).message}`);
      throw err;
    }
  }

  async remove(appId: string, passageId: number): Promise<void> {
    if (!Number.isSafeInteger(passageId)) throw new ApiError('NOT_FOUND', `passage ${passageId} of app ${appId}`);
    const r = await this.#db.query(`DELETE FROM pay_passages WHERE app_id = $1 AND passage_id = $2`, [appId, passageId]);
    if (r.rowCount === 0) throw new ApiError('NOT_FOUND', `passage ${passageId} of app ${appId}`);
    this.#invalidate(appId);
  }

  async list(appId: string): Promise<Passage[]> {
    const r = await this.#db.query<PassageRow>(`SELECT * FROM pay_passages WHERE app_id = $1 ORDER BY way_code, priority, passage_id`, [appId]);
    return r.rows.map(toPassage);
  }

  /** Passages of one way, cached like the other hot lookups (admin writes invalidate this process's cache). */
  async forWay(appId: string, way: WayCode): Promise<Passage[]> {
    const key = `${appId}/${way}`;
    const hit = this.#cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const r = await this.#db.query<PassageRow>(`SELECT * FROM pay_passages WHERE app_id = $1 AND way_code = $2 ORDER BY passage_id`, [appId, way]);
    const value = r.rows.map(toPassage);
    this.#cache.set(key, { value, expires: Date.now() + this.#ttlMs });
    return value;
  }

  /** The passages to try for an order, in order, and why the others were left out. */
  async plan(appId: string, way: WayCode, amount: number, orderId: string, now = new Date()): Promise<RoutePlan> {
    return planRoute(await this.forWay(appId, way), amount, orderId, now, (id) => this.breakers.isOpen(id));
  }

  /**
   * Takes `amount` from the passage's daily limit for the China-time day, atomically (two gateways
   * cannot both take the last of it). True when taken or when the passage has no daily limit.
   */
  async reserve(p: Passage, amount: number, now = new Date()): Promise<boolean> {
    if (p.dailyLimit === null) return true;
    const r = await this.#db.query(
      `INSERT INTO passage_daily_usage AS u (passage_id, day, amount, orders) SELECT $1::int8, $2::date, $3::int8, 1 WHERE $3::int8 <= $4::int8
       ON CONFLICT (passage_id, day) DO UPDATE SET amount = u.amount + EXCLUDED.amount, orders = u.orders + 1 WHERE u.amount + EXCLUDED.amount <= $4::int8`,
      [p.passageId, chinaDay(now), amount, p.dailyLimit],
    );
    return r.rowCount === 1;
  }

  /** Gives a reservation back (the order went to another passage or failed before reaching the payer). */
  async release(p: Passage, amount: number, reservedAt: Date): Promise<void> {
    if (p.dailyLimit === null) return;
    await this.#db.query(`UPDATE passage_daily_usage SET amount = GREATEST(amount - $3, 0), orders = GREATEST(orders - 1, 0) WHERE passage_id = $1 AND day = $2::date`, [
      p.passageId,
      chinaDay(reservedAt),
      amount,
    ]);
  }

  async health(): Promise<{ breakers: BreakerSnapshot[]; events: Array<Record<string, unknown>> }> {
    const events = await this.#db.query(`SELECT id, passage_id AS "passageId", kind, detail, created_at AS "at" FROM passage_events ORDER BY id DESC LIMIT 100`);
    return { breakers: this.breakers.snapshot(), events: events.rows };
  }

  #checkWay(ifCode: string, way: string): void {
    const descriptor = this.#channels.get(ifCode);
    if (!descriptor) throw new ApiError('PARAM_INVALID', `unknown channel ${ifCode}`);
    if (!isWayCode(way) || !descriptor.ways.includes(way)) throw new ApiError('PARAM_INVALID', `channel ${ifCode} does not serve ${way}`);
  }

  #invalidate(appId: string): void {
    for (const key of this.#cache.keys()) if (key.startsWith(`${appId}/`)) this.#cache.delete(key);
  }

  #recordEvent(passageId: number, kind: string, detail: Record<string, unknown>): void {
    this.#db.query(`INSERT INTO passage_events (passage_id, kind, detail) VALUES ($1, $2, $3)`, [passageId, kind, JSON.stringify(detail)]).catch((err: unknown) => {
      this.#log.error({ passageId, kind, err: (err as Error).message }, 'could not record a passage event');
    });
  }
}
