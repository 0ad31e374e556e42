import { request } from 'undici';
import { signAsGateway, signAsUnionPay } from './acp-protocol.ts';
import { digits, type SimContext } from './context.ts';
import type { NotifyRecord } from './types.ts';

/**
 * Back notifications (后台通知, protocols.md §D.5). ACP: a signed form POST to backUrl; any HTTP
 * 200 ends the retries (the body is ignored). Service-provider gateway: signed JSON, ended by the
 * body `success` (Jeepay's reply). Otherwise retried 1, 2, 4, 8 and 16 minutes later (the
 * commonly cited schedule, secondary: ASSUMPTION A4), each delay divided by timeScale.
 */

export const RETRY_SCHEDULE_S = [60, 120, 240, 480, 960] as const;

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

  /** The body actually sent, faults applied at send time (so switching one off heals the next retry). */
  body(n: NotifyRecord): { contentType: string; text: string } {
    const { faults } = this.ctx;
    const f: Record<string, string> = { ...n.fields };
    if (faults.tamperNotifyAmount && f.txnAmt) f.txnAmt = String(Number(f.txnAmt) + 1);
    if (faults.wrongNotifyMerId) f.merId = `777${digits(12)}`;
    if (n.format === 'sp') return { contentType: 'application/json;charset=UTF-8', text: JSON.stringify(signAsGateway(this.ctx, f, { tamper: faults.badNotifySignature })) };
    const signed = signAsUnionPay(this.ctx, f, { tamper: faults.badNotifySignature });
    return { contentType: 'application/x-www-form-urlencoded;charset=UTF-8', text: new URLSearchParams(signed).toString() };
  }

  private delivered(n: NotifyRecord, r: PostResult): boolean {
    return n.format === 'sp' ? r.status === 200 && r.body?.trim() === 'success' : r.status === 200;
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
    if (this.delivered(n, result)) {
      n.delivered = true;
      n.next_at = null;
      ctx.state.notificationFinished(n.id);
      if (n.duplicate) void this.post(n);
      return;
    }
    const delayS = RETRY_SCHEDULE_S[n.attempts - 1];
    if (delayS === undefined) {
      n.gave_up = true;
      n.next_at = null;
      ctx.state.notificationFinished(n.id);
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
      const { contentType, text } = this.body(n);
      const res = await request(n.url, { method: 'POST', headers: { 'Content-Type': contentType, 'User-Agent': 'Polypay UnionPay sandbox' }, body: text, signal: ac.signal });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: null, error: ac.signal.aborted ? 'timeout' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }
}
