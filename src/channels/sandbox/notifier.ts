import { request } from 'undici';
import type { Scheduler } from './kit.ts';

/**
 * Asynchronous notification delivery of a channel simulator: POST the body the channel renders
 * (fresh for every attempt, so fault switches apply at send time), decide by the channel's rule
 * whether it was accepted, otherwise retry on the channel's schedule divided by timeScale, and
 * give up after the last delay. The record keeps the history the sandbox ledger shows.
 */

export interface Deliverable {
  id: string;
  url: string;
  attempts: number;
  delivered: boolean;
  gave_up: boolean;
  last_status: number | null;
  last_body?: string;
  last_error?: string;
  next_at: number | null;
  /** Fault: deliver once more after the accepted attempt. */
  duplicate: boolean;
}

export interface DeliveryResult {
  status: number | null;
  body?: string;
  error?: string;
}

export interface NotifierHost<R extends Deliverable> {
  scheduler: Scheduler;
  now(): number;
  timeScale: number;
  callbackTimeoutMs: number;
  log: { debug(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Seconds to wait after the 1st, 2nd, … failed attempt; after the last one, give up. */
  retryScheduleS: readonly number[];
  userAgent: string;
  records: Map<string, R>;
  /** The record changed (persist it). */
  changed(): void;
  /** The record is final (delivered or given up). */
  finished(id: string): void;
  /** The request of one attempt; `headers` for channels that sign in headers (PayPal). */
  render(n: R): { contentType: string; body: string; headers?: Record<string, string> };
  accepted(n: R, r: DeliveryResult): boolean;
}

export class RetryingNotifier<R extends Deliverable> {
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly host: NotifierHost<R>) {}

  schedule(id: string, delayMs: number): void {
    this.host.scheduler.at(Math.max(0, delayMs), () => void this.attempt(id));
  }

  /** After a restart, pending notifications continue on their schedule. */
  resumeAll(): void {
    const now = this.host.now();
    for (const n of this.host.records.values()) if (!n.delivered && !n.gave_up) this.schedule(n.id, (n.next_at ?? now) - now);
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
  }

  private async attempt(id: string): Promise<void> {
    const h = this.host;
    const n = h.records.get(id);
    if (!n || n.delivered || n.gave_up || this.closed) return;
    const result = await this.post(n);
    if (this.closed) return;
    n.attempts += 1;
    n.last_status = result.status;
    if (result.body !== undefined) n.last_body = result.body.slice(0, 200);
    if (result.error !== undefined) n.last_error = result.error;
    h.log.debug({ notifyId: n.id, attempt: n.attempts, status: result.status }, 'notification attempt');
    if (h.accepted(n, result)) {
      n.delivered = true;
      n.next_at = null;
      h.finished(n.id);
      if (n.duplicate) void this.post(n);
      return;
    }
    const delayS = h.retryScheduleS[n.attempts - 1];
    if (delayS === undefined) {
      n.gave_up = true;
      n.next_at = null;
      h.finished(n.id);
      h.log.warn({ notifyId: n.id, attempts: n.attempts }, 'notification given up');
      return;
    }
    const delayMs = (delayS * 1000) / h.timeScale;
    n.next_at = h.now() + delayMs;
    h.changed();
    this.schedule(n.id, delayMs);
  }

  private async post(n: R): Promise<DeliveryResult> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.host.callbackTimeoutMs);
    this.inflight.add(ac);
    try {
      const { contentType, body, headers } = this.host.render(n);
      const res = await request(n.url, { method: 'POST', headers: { ...headers, 'Content-Type': contentType, 'User-Agent': this.host.userAgent }, body, signal: ac.signal });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: null, error: ac.signal.aborted ? 'timeout' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }
}
