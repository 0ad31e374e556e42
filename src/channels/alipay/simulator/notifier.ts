import { RetryingNotifier } from '../../sandbox/notifier.ts';
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

/** The sandbox kit's delivery loop (sandbox/notifier.ts) with Alipay's body, schedule and acceptance rule. */
export class Notifier extends RetryingNotifier<NotifyRecord> {
  constructor(ctx: SimContext) {
    super({
      scheduler: ctx.scheduler,
      now: () => ctx.now(),
      timeScale: ctx.timeScale,
      callbackTimeoutMs: ctx.callbackTimeoutMs,
      log: ctx.log,
      retryScheduleS: RETRY_SCHEDULE_S,
      userAgent: 'Mozilla/4.0 (Polypay Alipay sandbox)',
      records: ctx.state.notifications,
      changed: () => ctx.state.changed(),
      finished: (id) => {
        const n = ctx.state.notifications.get(id);
        if (n) ctx.state.notificationFinished(n);
      },
      render: (n) => ({ contentType: 'application/x-www-form-urlencoded; charset=utf-8', body: notificationBody(ctx, n) }),
      accepted: (_n, r) => r.body === 'success',
    });
  }
}

/** The form actually sent, faults applied at send time (so switching one off heals the next retry). */
function notificationBody(ctx: SimContext, n: NotifyRecord): string {
  const { faults } = ctx;
  const p: Record<string, string> = { ...n.params, notify_time: chinaTime(ctx.now()) };
  if (faults.tamperNotifyAmount && p.total_amount) {
    p.total_amount = yuan((fromMajorString(p.total_amount, 'CNY') ?? 0) + 1);
  }
  if (faults.wrongNotifyAppId) p.app_id = p.auth_app_id = `2021${digits(12)}`;
  const app = ctx.state.apps.get(n.app_id);
  const content = signContent(p, NOTIFY_UNSIGNED);
  const sign = rsa2Sign(faults.badNotifySignature ? `${content}&forged=1` : content, signerFor(ctx, app).key);
  return new URLSearchParams({ ...p, sign_type: 'RSA2', sign }).toString();
}
