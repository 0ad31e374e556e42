import { ApiError } from '../domain/errors.ts';
import { toMajorString } from '../domain/money.ts';
import { PAY_WAYS, type WayCode } from '../domain/pay-way.ts';
import type { Passage } from '../domain/routing.ts';
import type { Gateway } from '../gateway.ts';
import type { PassageInput } from '../services/passages.ts';
import type { BreakerSnapshot } from '../services/circuit-breakers.ts';

/** The settings an operator edits on a passage (docs/routing.md "Passage settings"). */
export type PassageSettings = Omit<PassageInput, 'wayCode' | 'ifCode'>;

export interface PassageView extends Passage {
  /** Share of first tries among the enabled passages of the same way and priority, in basis points (1/100 %); null when disabled. */
  shareBp: number | null;
  breaker: BreakerSnapshot;
}

export interface PassagesView {
  appId: string;
  passages: PassageView[];
  /** Channels configured for the app (the only ones a passage can use), with the ways each declares. */
  channels: Array<{ ifCode: string; name: string; ways: Array<{ wayCode: string; name: string }> }>;
  /** The latest circuit-breaker trips and recoveries of these passages, newest first. */
  events: Array<{ id: number; passageId: number; kind: string; detail: Record<string, unknown>; at: string }>;
}

/**
 * Each passage's share of first tries among its equals: weight ÷ Σ weights of the enabled
 * passages with the same way and priority (docs/routing.md, weighted rendezvous hashing), in
 * basis points rounded half up with integer arithmetic (weights ≤ 1,000,000, so no overflow).
 */
export function sharesBp(passages: readonly Passage[]): Map<number, number | null> {
  const totals = new Map<string, number>();
  const group = (p: Passage) => `${p.wayCode}/${p.priority}`;
  for (const p of passages) if (p.enabled) totals.set(group(p), (totals.get(group(p)) ?? 0) + p.weight);
  return new Map(passages.map((p) => {
    const total = totals.get(group(p));
    return [p.passageId, p.enabled && total ? Math.floor((p.weight * 20_000 + total) / (2 * total)) : null];
  }));
}

/** The app's passages with their shares and breaker states, the channels it may use, and the breakers' recent events. */
export async function passagesView(gw: Gateway, appId: string): Promise<PassagesView> {
  const passages = await gw.passages.list(appId);
  const shares = sharesBp(passages);
  const breakers = new Map(gw.passages.breakers.snapshot().map((b) => [b.passageId, b]));
  const closed = (passageId: number): BreakerSnapshot => ({ passageId, state: 'closed', consecutiveFailures: 0, openUntil: null, lastFailure: null });
  const channels = [];
  for (const d of gw.descriptors.values()) {
    if (!(await gw.tenancy.getChannelConfig(appId, d.ifCode))) continue;
    channels.push({ ifCode: d.ifCode, name: d.name, ways: d.ways.map((w) => ({ wayCode: w, name: PAY_WAYS[w] })) });
  }
  const events = passages.length === 0
    ? { rows: [] }
    : await gw.db.query<PassagesView['events'][number]>(
      `SELECT id, passage_id AS "passageId", kind, detail, created_at AS "at" FROM passage_events WHERE passage_id = ANY($1::int8[]) ORDER BY id DESC LIMIT 20`,
      [passages.map((p) => p.passageId)],
    );
  return {
    appId,
    passages: passages.map((p) => ({ ...p, shareBp: shares.get(p.passageId) ?? null, breaker: breakers.get(p.passageId) ?? closed(p.passageId) })),
    channels,
    events: events.rows,
  };
}

const yuan = (fen: number) => toMajorString({ minor: fen, currency: 'CNY' });
const clock = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/**
 * Refuses settings the table's CHECK constraints would refuse, with a message an operator can act
 * on (the database's "violates check constraint pay_passages_check" is not one). `merged` is the
 * passage as it would be saved: the stored values with the request's changes applied.
 */
export function checkPassageSettings(merged: PassageSettings): void {
  const { minAmount, maxAmount, windowStart, windowEnd } = merged;
  if (minAmount != null && maxAmount != null && minAmount > maxAmount) {
    throw new ApiError('PARAM_INVALID', `the per-order minimum (${yuan(minAmount)}) is above the per-order maximum (${yuan(maxAmount)})`);
  }
  if ((windowStart == null) !== (windowEnd == null)) throw new ApiError('PARAM_INVALID', 'a time window needs both its start and its end (China time), or neither for all day');
  if (windowStart != null && windowStart === windowEnd) throw new ApiError('PARAM_INVALID', `the time window starts and ends at ${clock(windowStart)}: leave both empty for a passage open all day`);
}

/** A passage can only use a channel the app is configured for (routing would skip it otherwise). */
export async function assertChannelConfigured(gw: Gateway, appId: string, ifCode: string, wayCode: string): Promise<void> {
  const descriptor = gw.descriptors.get(ifCode);
  if (!descriptor) throw new ApiError('PARAM_INVALID', `unknown channel ${ifCode}`);
  if (!descriptor.ways.includes(wayCode as WayCode)) throw new ApiError('PARAM_INVALID', `channel ${ifCode} does not serve ${wayCode}`);
  if (!(await gw.tenancy.getChannelConfig(appId, ifCode))) throw new ApiError('PARAM_INVALID', `channel ${ifCode} is not configured for app ${appId}: save its channel form first`);
}
