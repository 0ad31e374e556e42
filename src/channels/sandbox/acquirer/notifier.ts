import { request } from 'undici';
import type { AcquirerContext } from './engine.ts';
import type { NoticeRecord } from './types.ts';

/**
 * Notification delivery of an acquirer sandbox: the channel renders each attempt (fresh nonce
 * and signature, fault switches applied at send time, so switching one off heals the next retry)
 * and says which answers acknowledge it; delivery follows the channel's retry schedule, each
 * delay divided by timeScale, then gives up.
 */

export interface NoticeCodec {
  /** The request actually sent for this attempt. */
  render(n: NoticeRecord): { contentType: string; body: string };
  /** Whether the merchant's answer stops the retries. */
  acknowledged(status: number, body: string): boolean;
  /** Seconds before each retry after the first attempt. */
  retryScheduleS: readonly number[];
}

interface PostResult {
  status: number | null;
  body?: string;
  error?: string;
}

export class AcquirerNotifier {
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly ctx: AcquirerContext,
    private readonly codec: NoticeCodec,
    private readonly userAgent: string,
  ) {}

  schedule(id: string, delayMs: number): void {
    this.ctx.scheduler.at(Math.max(0, delayMs), () => void this.attempt(id));
  }

  /** After a restart, pending notifications continue on their schedule. */
  resumeAll(): void {
    const now = this.ctx.now();
    for (const n of this.ctx.book.notices.values()) if (!n.delivered && !n.gaveUp) this.schedule(n.id, (n.nextAt ?? now) - now);
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
  }

  private async attempt(id: string): Promise<void> {
    const { ctx } = this;
    const n = ctx.book.notices.get(id);
    if (!n || n.delivered || n.gaveUp || this.closed) return;
    const result = await this.post(n);
    if (this.closed) return;
    n.attempts += 1;
    n.lastStatus = result.status;
    if (result.body !== undefined) n.lastBody = result.body.slice(0, 200);
    if (result.error !== undefined) n.lastError = result.error;
    ctx.log.debug({ notice: n.id, kind: n.kind, attempt: n.attempts, status: result.status }, 'notification attempt');
    if (result.status !== null && this.codec.acknowledged(result.status, result.body ?? '')) {
      n.delivered = true;
      n.nextAt = null;
      ctx.book.noticeFinished(n);
      if (n.duplicate) void this.post(n);
      return;
    }
    const delayS = this.codec.retryScheduleS[n.attempts - 1];
    if (delayS === undefined) {
      n.gaveUp = true;
      n.nextAt = null;
      ctx.book.noticeFinished(n);
      ctx.log.warn({ notice: n.id, attempts: n.attempts }, 'notification given up');
      return;
    }
    const delayMs = (delayS * 1000) / ctx.timeScale;
    n.nextAt = ctx.now() + delayMs;
    ctx.book.changed();
    this.schedule(n.id, delayMs);
  }

  private async post(n: NoticeRecord): Promise<PostResult> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.ctx.callbackTimeoutMs);
    this.inflight.add(ac);
    try {
      const sent = this.codec.render(n);
      const res = await request(n.url, { method: 'POST', headers: { 'Content-Type': sent.contentType, 'User-Agent': this.userAgent }, body: sent.body, signal: ac.signal });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: null, error: ac.signal.aborted ? 'timeout' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }
}
