import { RetryingNotifier } from '../../sandbox/notifier.ts';
import { signAsGateway, signAsUnionPay } from './acp-protocol.ts';
import { digits, type SimContext } from './context.ts';
import type { NotifyRecord } from './types.ts';

/**
 * Back notifications (后台通知, protocols.md §D.5). ACP: a signed form POST to backUrl; any HTTP
 * 200 ends the retries (the body is ignored). Service-provider gateway: signed JSON, also ended by
 * HTTP 200 (ASSUMPTION A11). Otherwise retried 1, 2, 4, 8 and 16 minutes later (the commonly
 * cited schedule, secondary: ASSUMPTION A4), each delay divided by timeScale.
 */

export const RETRY_SCHEDULE_S = [60, 120, 240, 480, 960] as const;

/** The body actually sent, faults applied at send time (so switching one off heals the next retry). */
export function notificationBody(ctx: SimContext, n: NotifyRecord): { contentType: string; body: string } {
  const { faults } = ctx;
  const f: Record<string, string> = { ...n.fields };
  if (faults.tamperNotifyAmount && f.txnAmt) f.txnAmt = String(Number(f.txnAmt) + 1);
  if (faults.wrongNotifyMerId) f.merId = `777${digits(12)}`;
  if (n.format === 'sp') return { contentType: 'application/json;charset=UTF-8', body: JSON.stringify(signAsGateway(ctx, f, { tamper: faults.badNotifySignature })) };
  return { contentType: 'application/x-www-form-urlencoded;charset=UTF-8', body: new URLSearchParams(signAsUnionPay(ctx, f, { tamper: faults.badNotifySignature })).toString() };
}

export function createNotifier(ctx: SimContext): RetryingNotifier<NotifyRecord> {
  return new RetryingNotifier<NotifyRecord>({
    scheduler: ctx.scheduler,
    now: ctx.now,
    timeScale: ctx.timeScale,
    callbackTimeoutMs: ctx.callbackTimeoutMs,
    log: ctx.log,
    retryScheduleS: RETRY_SCHEDULE_S,
    userAgent: 'Polypay UnionPay sandbox',
    records: ctx.state.notifications,
    changed: () => ctx.state.changed(),
    finished: (id) => ctx.state.notificationFinished(id),
    render: (n) => notificationBody(ctx, n),
    accepted: (_n, r) => r.status === 200,
  });
}
