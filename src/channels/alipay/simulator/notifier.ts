import { request } from 'undici';
import { fromMajorString } from '../../../domain/money.ts';
import { yuan } from '../mapping.ts';
import { NOTIFY_UNSIGNED, chinaTime, rsa2Sign, signContent } from '../sign.ts';
import { digits, signerFor, type SimContext } from './context.ts';
import type { NotifyRecord } from './types.ts';

/**
 * Asynchronous notification delivery (protocols.md §C.5): a form POST, RSA2-signed over every
 * parameter but sign and sign_type. Delivered until the body is exactly the 7 characters
 * `success`; otherwise retried after 4m, 10m, 10m, 1h, 2h, 6h, 15h (8 deliveries in about 25 h),
 * each delay divided by timeScale. notify_id stays the same across retries; notify_time and the
 * signature are fresh on each.
 */

export const RETRY_SCHEDULE_S = [240, 600, 600, 3600, 7200, 21600, 54000] as const;

interface PostResult {
  status: number | null;
  body?: string;
  error?: string;
}

export class Notifier {
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly ctx: SimContext) {}

  schedule(id: string, delayMs: number): void {
    this.ctx.scheduler.at(Math.max(0, delayMs), () => void this.attempt(id));
  }

  /** After a restart, pending notifications continue on their schedule. */
  resumeAll(): void {
    const now = this.ctx.now();
    for (const n of this.ctx.state.notifications.values()) if (!n.delivered && !n.gave_up) this.schedule(n.id, (n.next_at ?? now) - now);
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
  }

  /** The form actually sent, faults applied at send time (so switching one off heals the next retry). */
  body(n: NotifyRecord): string {
    const { faults } = this.ctx;
    const p: Record<string, string> = { ...n.params, notify_time: chinaTime(this.ctx.now()) };
    if (faults.tamperNotifyAmount && p.total_amount) {
      p.total_amount = yuan((fromMajorString(p.total_amount, 'CNY') ?? 0) + 1);
    }
    if (faults.wrongNotifyAppId) p.app_id = p.auth_app_id = `2021${digits(12)}`;
    const app = this.ctx.state.apps.get(n.app_id);
    const content = signContent(p, NOTIFY_UNSIGNED);
    const sign = rsa2Sign(faults.badNotifySignature ? `${content}&forged=1` : content, signerFor(this.ctx, app).key);
    return new URLSearchParams({ ...p, sign_type: 'RSA2', sign }).toString();
  }

  private async attempt(id: string): Promise<void> {
    const { ctx } = this;
    const n = ctx.state.notifications.get(id);
    if (!n || n.delivered || n.gave_up || this.closed) return;
    const result = await this.post(n);
    if (this.closed) return;
    n.attempts += 1;
    n.last_status = result.status;
    if (result.body !== undefined) n.last_body = result.body.slice(0, 200);
    if (result.error !== undefined) n.last_error = result.error;
    ctx.log.debug({ notifyId: n.id, attempt: n.attempts, status: result.status }, 'notification attempt');
    if (result.body === 'success') {
      n.delivered = true;
      n.next_at = null;
      ctx.state.notificationFinished(n);
      if (n.duplicate) void this.post(n);
      return;
    }
    const delayS = RETRY_SCHEDULE_S[n.attempts - 1];
    if (delayS === undefined) {
      n.gave_up = true;
      n.next_at = null;
      ctx.state.notificationFinished(n);
      ctx.log.warn({ notifyId: n.id, attempts: n.attempts }, 'notification given up');
      return;
    }
    const delayMs = (delayS * 1000) / ctx.timeScale;
    n.next_at = ctx.now() + delayMs;
    ctx.state.changed();
    this.schedule(n.id, delayMs);
  }

  private async post(n: NotifyRecord): Promise<PostResult> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.ctx.callbackTimeoutMs);
    this.inflight.add(ac);
    try {
      const res = await request(n.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', 'User-Agent': 'Mozilla/4.0 (Polypay Alipay sandbox)' },
        body: this.body(n),
        signal: ac.signal,
      });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: null, error: ac.signal.aborted ? 'timeout' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }
}
