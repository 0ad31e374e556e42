import { request } from 'undici';
import { signBody, type SignatureFault, type SimContext } from './context.ts';
import { requestId } from './ids.ts';
import { parseWechatXml } from '../v2-xml.ts';
import type { CallbackRecord } from './types.ts';

/**
 * Callback delivery with WeChat's retry schedule (protocols.md §A.5): the first attempt right
 * away, then 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (about 24 h 4 min), each delay
 * divided by timeScale, then give up. Success is HTTP 200 or 204 within the timeout (5 s).
 */

export const RETRY_SCHEDULE_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600] as const;

interface PostResult {
  status: number | null;
  error?: string;
  /** v2: the merchant's XML answer said return_code SUCCESS. */
  acknowledged?: boolean;
}

/** v2 success is an XML answer with return_code SUCCESS (protocols.md §B.4): `success` or JSON count as failures. */
function v2Acknowledged(body: string): boolean {
  try {
    return parseWechatXml(body).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}

/** A wrong sign inside a v2 document (the badCallbackSignature fault): one hex digit changed. */
function corruptV2Sign(body: string): string {
  return body.replace(/<sign><!\[CDATA\[([0-9A-F])/, (_m, c: string) => `<sign><![CDATA[${c === '0' ? '1' : '0'}`);
}

export class Notifier {
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly ctx: SimContext) {}

  schedule(id: string, delayMs: number): void {
    this.ctx.scheduler.at(Math.max(0, delayMs), () => void this.attempt(id));
  }

  /** After a restart: pending callbacks continue where their schedule left off. */
  resumeAll(): void {
    const now = this.ctx.now();
    for (const c of this.ctx.state.callbacks.values()) {
      if (!c.delivered && !c.gave_up) this.schedule(c.id, (c.next_at ?? now) - now);
    }
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
  }

  private faultFor(c: CallbackRecord): SignatureFault {
    // The probe is WeChat checking that the merchant verifies (protocols.md §A.4); the real,
    // correctly signed notification follows on the next scheduled attempt.
    if (c.format === 'v2') return this.ctx.faults.badCallbackSignature ? 'bad' : 'none';
    if (c.probe_first && c.attempts === 0) return 'probe';
    if (this.ctx.faults.badCallbackSignature) return 'bad';
    if (this.ctx.faults.staleCallbackTimestamp) return 'stale';
    return 'none';
  }

  private async attempt(id: string): Promise<void> {
    const { ctx } = this;
    const c = ctx.state.callbacks.get(id);
    if (!c || c.delivered || c.gave_up || this.closed) return;
    const fault = this.faultFor(c);
    const result = await this.post(c, fault);
    if (this.closed) return;
    c.attempts += 1;
    c.last_status = result.status;
    c.last_error = result.error;
    const ok = c.format === 'v2' ? result.status === 200 && result.acknowledged === true : result.status === 200 || result.status === 204;
    ctx.log.debug({ callback: c.id, event_type: c.event_type, attempt: c.attempts, status: result.status, fault }, 'callback attempt');
    if (fault === 'probe') {
      c.probe_accepted = ok;
    } else if (ok) {
      c.delivered = true;
      c.next_at = null;
      ctx.state.callbackFinished(c);
      if (c.duplicate) void this.post(c, 'none');
      return;
    }
    const delayS = RETRY_SCHEDULE_S[c.attempts - 1];
    if (delayS === undefined) {
      c.gave_up = true;
      c.next_at = null;
      ctx.state.callbackFinished(c);
      ctx.log.warn({ callback: c.id, attempts: c.attempts }, 'callback given up');
      return;
    }
    const delayMs = (delayS * 1000) / ctx.timeScale;
    c.next_at = ctx.now() + delayMs;
    ctx.state.changed();
    this.schedule(c.id, delayMs);
  }

  private async post(c: CallbackRecord, fault: SignatureFault): Promise<PostResult> {
    const merchant = this.ctx.state.merchants.get(c.mchid);
    const v2 = c.format === 'v2';
    const headers: Record<string, string> = v2
      ? { 'Content-Type': 'text/xml', 'User-Agent': 'Mozilla/4.0 (Polypay WeChat Pay sandbox)' }
      : {
          ...signBody(this.ctx, merchant, c.body, fault),
          'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
          'Content-Type': 'application/json',
          'User-Agent': 'Mozilla/4.0 (Polypay WeChat Pay sandbox)',
          'Request-ID': requestId(),
        };
    const body = v2 && fault === 'bad' ? corruptV2Sign(c.body) : c.body;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.ctx.callbackTimeoutMs);
    this.inflight.add(ac);
    try {
      const res = await request(c.url, { method: 'POST', headers, body, signal: ac.signal });
      if (!v2) {
        await res.body.dump();
        return { status: res.statusCode };
      }
      return { status: res.statusCode, acknowledged: v2Acknowledged(await res.body.text()) };
    } catch (err) {
      return { status: null, error: ac.signal.aborted ? 'timeout' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }
}
