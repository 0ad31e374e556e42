import { RetryingNotifier } from '../notifier.ts';
import type { AcquirerContext } from './engine.ts';
import type { NoticeRecord } from './types.ts';

/**
 * Notifications of an acquirer sandbox on the shared RetryingNotifier: the channel renders each
 * attempt (fresh nonce and signature, fault switches applied at send time) and says which answers
 * acknowledge it and when to retry.
 */

export interface NoticeCodec {
  /** The request actually sent for this attempt. */
  render(n: NoticeRecord): { contentType: string; body: string };
  /** Whether the merchant's answer stops the retries. */
  acknowledged(status: number, body: string, n: NoticeRecord): boolean;
  /** Seconds before each retry after the first attempt. */
  retryScheduleS: readonly number[];
}

export function acquirerNotifier(ctx: AcquirerContext, codec: NoticeCodec, userAgent: string): RetryingNotifier<NoticeRecord> {
  const { book } = ctx;
  return new RetryingNotifier<NoticeRecord>({
    scheduler: ctx.scheduler,
    now: ctx.now,
    timeScale: ctx.timeScale,
    callbackTimeoutMs: ctx.callbackTimeoutMs,
    log: ctx.log,
    retryScheduleS: codec.retryScheduleS,
    userAgent,
    records: book.notices,
    changed: () => book.changed(),
    finished: (id) => {
      const n = book.notices.get(id);
      if (n) book.noticeFinished(n);
    },
    render: (n) => codec.render(n),
    accepted: (n, r) => r.status !== null && codec.acknowledged(r.status, r.body ?? '', n),
  });
}
