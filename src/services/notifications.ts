import { request } from 'undici';
import type { Db, Queryable } from '../db/db.ts';
import type { Logger } from '../channels/types.ts';
import { signParams } from '../merchant-api/sign.ts';
import { compact, payOrderView, refundOrderView } from '../merchant-api/views.ts';
import type { OutboxEntry, PayOrderRow, RefundOrderRow } from './order-store.ts';

export interface NotificationDeps {
  db: Db;
  log: Logger;
  /** Seconds before attempt n+1 (index n); its length is the number of attempts. */
  schedule: readonly number[];
  /** `q`: read through the caller's transaction (PGlite has one connection). */
  secretFor(appId: string, q: Queryable): Promise<string | null>;
  timeoutMs?: number;
}

const LEASE_SECONDS = 60;
/** Deliveries in flight at once per process (merchant endpoints are many, each answered within the timeout). */
const MAX_IN_FLIGHT = 64;

/**
 * Merchant notifications through a transactional outbox. `enqueue*` runs inside the
 * transaction that changes the order's state, so the change and its notification commit
 * together. The dispatcher claims due rows with FOR UPDATE SKIP LOCKED, leases them
 * (next_attempt_at pushed past the delivery timeout) and writes the attempt row in the same
 * claim statement — UNIQUE (notification_id, attempt_no) makes a second sender of the same
 * attempt impossible, whatever number of gateway processes share the database.
 */
export class NotificationService {
  readonly #deps: NotificationDeps;
  #wakeTimer: NodeJS.Timeout | null = null;
  /** The dispatch pass in progress, if any: one per process. */
  #pass: Promise<number> | null = null;
  #rerun = false;
  /** Wakes a pass that is waiting for deliveries to finish, so it claims what became due meanwhile. */
  #kick: (() => void) | null = null;
  onWake: (() => void) | null = null;

  constructor(deps: NotificationDeps) {
    this.#deps = deps;
  }

  /** The notification of a pay order's new state, for transitionPay's `notify` (same statement as the change). */
  payEntry = async (order: PayOrderRow, q: Queryable): Promise<OutboxEntry | null> => {
    if (!order.notify_url) return null;
    return this.#entry(q, 'pay', order.pay_order_id, `pay.${order.state}`, order.app_id, order.mch_no, order.mch_order_no, order.notify_url, payOrderView(order));
  };

  refundEntry = async (refund: RefundOrderRow, q: Queryable): Promise<OutboxEntry | null> => {
    if (!refund.notify_url) return null;
    return this.#entry(q, 'refund', refund.refund_order_id, `refund.${refund.state}`, refund.app_id, refund.mch_no, refund.mch_refund_no, refund.notify_url, refundOrderView(refund));
  };

  async #entry(q: Queryable, orderType: 'pay' | 'refund', orderId: string, event: string, appId: string, mchNo: string, mchOrderNo: string, url: string, view: Record<string, unknown>): Promise<OutboxEntry> {
    const secret = await this.#deps.secretFor(appId, q);
    if (secret === null) throw new Error(`app ${appId} vanished while notifying ${orderId}`);
    // Signed once at creation, like Jeepay: every retry re-sends identical reqTime and sign.
    const payload = compact({ ...view, reqTime: Date.now() });
    const body = new URLSearchParams({ ...Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])), sign: signParams(payload, secret, 'MD5') }).toString();
    // The schedule's first entry is the delay before the first attempt (docs/configuration.md);
    // it used to be ignored (always now()), found by test/faults/merchant-down.test.ts.
    return { orderType, orderId, event, mchNo, appId, mchOrderNo, url, body, delaySeconds: this.#deps.schedule[0] ?? 0 };
  }

  /** Asks the dispatcher to run right after the current transaction has had time to commit. */
  wakeSoon(): void {
    if (this.#wakeTimer) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = null;
      this.onWake?.();
    }, 5);
    this.#wakeTimer.unref();
  }

  /**
   * Delivers every due notification; resolves with the number of attempts once nothing is due and
   * nothing is in flight. A call during a pass wakes that pass (and shares its promise) instead of
   * starting another.
   */
  dispatchDue(batch = 50): Promise<number> {
    if (this.#pass) {
      this.#rerun = true;
      this.#kick?.();
      return this.#pass;
    }
    this.#pass = this.#run(batch).finally(() => {
      this.#pass = null;
    });
    return this.#pass;
  }

  /** Resolves when no pass is running (shutdown waits for it before closing the database). */
  async idle(): Promise<void> {
    while (this.#pass) await this.#pass.catch(() => 0);
  }

  /**
   * Up to MAX_IN_FLIGHT deliveries at once, claimed as room frees up: a merchant endpoint that
   * hangs until the timeout holds one slot, not the whole queue (a pass used to wait for every
   * delivery of a batch before claiming the next). Outcomes finished by the time the pass looks
   * again are recorded together, in one statement.
   */
  async #run(batch: number): Promise<number> {
    let total = 0;
    const inflight = new Set<Promise<void>>();
    const finished: Outcome[] = [];
    let recording: Promise<void> = Promise.resolve();
    const record = (): Promise<void> => {
      if (finished.length > 0) {
        const taken = finished.splice(0);
        // Chained: outcome statements never overlap. A failure (database gone) is logged; the lease then expires and the batch is sent again: at least once.
        recording = recording.then(() => this.#record(taken)).catch((err) => this.#deps.log.error({ err: (err as Error).message, notifications: taken.length }, 'recording notification outcomes failed'));
      }
      return recording;
    };
    // Outcomes and claims go in batches: one statement per finished delivery would be a commit per notification again.
    let timer: NodeJS.Timeout | null = null;
    const recordSoon = () => {
      if (finished.length >= batch / 2) void record();
      else timer ??= setTimeout(() => {
        timer = null;
        void record();
      }, 10);
    };
    // Nothing more was due at the last claim: wait for a wake-up (new notifications, the worker's tick) before asking again.
    let drained = false;
    try {
      for (;;) {
        if (this.#rerun) drained = false;
        this.#rerun = false;
        const room = MAX_IN_FLIGHT - inflight.size;
        const want = !drained && (inflight.size === 0 || room >= batch / 2) ? Math.min(batch, room) : 0;
        const claimed = want > 0 ? await this.#claim(want) : [];
        if (claimed.length < want) drained = true;
        total += claimed.length;
        for (const c of claimed) {
          const delivery: Promise<void> = this.#deliver(c)
            .then((o) => void finished.push(o))
            .finally(() => inflight.delete(delivery));
          inflight.add(delivery);
        }
        if (want > 0 && claimed.length === want) continue; // more may be due
        if (inflight.size === 0 && !this.#rerun) break;
        if (inflight.size > 0 && !this.#rerun) await Promise.race([...inflight, new Promise<void>((wake) => (this.#kick = wake))]);
        this.#kick = null;
        recordSoon();
      }
    } finally {
      this.#kick = null;
      if (timer) clearTimeout(timer);
      await Promise.allSettled(inflight);
      await record();
    }
    return total;
  }

  /**
   * Leases a batch of due notifications and writes their attempt rows in one statement (one
   * round trip, one commit): SKIP LOCKED lets several dispatchers (processes) share the table.
   */
  async #claim(batch: number): Promise<Claimed[]> {
    const r = await this.#deps.db.query<Claimed>(
      `WITH due AS (SELECT id FROM merchant_notifications WHERE state = 0 AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
            leased AS (UPDATE merchant_notifications n SET attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
                         FROM due WHERE n.id = due.id
                     RETURNING n.id, n.url, n.body, n.attempts AS "attemptNo", n.order_type, n.order_id),
            sending AS (INSERT INTO notification_attempts (notification_id, attempt_no, result, duration_ms) SELECT id, "attemptNo", 'sending', 0 FROM leased)
       SELECT * FROM leased`,
      [batch, LEASE_SECONDS],
    );
    return r.rows.map((row) => ({ ...row, id: Number(row.id) }));
  }

  async #deliver(c: Claimed): Promise<Outcome> {
    const started = Date.now();
    let status: number | null = null;
    let result: string;
    let delivered = false;
    try {
      const res = await request(c.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'user-agent': 'Polypay-Notify/1.0' },
        body: c.body,
        headersTimeout: this.#deps.timeoutMs ?? 10_000,
        bodyTimeout: this.#deps.timeoutMs ?? 10_000,
      });
      status = res.statusCode;
      const text = (await res.body.text()).slice(0, 500);
      // Jeepay's rule (jeepay.md §4): the body says SUCCESS, in any case.
      delivered = text.trim().toUpperCase() === 'SUCCESS';
      result = text;
    } catch (err) {
      result = `error: ${(err as Error).message}`.slice(0, 500);
    }
    const duration = Date.now() - started;
    const schedule = this.#deps.schedule;
    const gaveUp = !delivered && c.attemptNo >= schedule.length;
    if (!delivered) this.#deps.log.warn({ notificationId: c.id, orderId: c.order_id, attempt: c.attemptNo, status, gaveUp }, 'merchant notification not acknowledged');
    return { id: c.id, attemptNo: c.attemptNo, state: delivered ? 1 : gaveUp ? 2 : 0, result, status, duration, nextDelay: delivered || gaveUp ? null : (schedule[c.attemptNo] ?? 0) };
  }

  /**
   * The attempts' outcomes and the notifications' next steps, for a whole batch in one statement:
   * one commit instead of one per notification (commits are what the callback path competes
   * for, docs/benchmarks.md). A crash before it re-sends the batch after the lease: at least
   * once, as any crash between a delivery and its record.
   */
  async #record(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const col = <K extends keyof Outcome>(k: K) => outcomes.map((o) => o[k]);
    await this.#deps.db.query(
      `WITH r AS (SELECT * FROM unnest($1::int8[], $2::int4[], $3::int2[], $4::text[], $5::int4[], $6::int4[], $7::float8[])
                    AS r(id, attempt_no, state, result, http_status, duration_ms, next_delay)),
            a AS (UPDATE notification_attempts t SET http_status = r.http_status, result = r.result, duration_ms = r.duration_ms
                    FROM r WHERE t.notification_id = r.id AND t.attempt_no = r.attempt_no)
       UPDATE merchant_notifications n SET state = r.state, last_result = r.result, updated_at = now(),
              next_attempt_at = CASE WHEN r.next_delay IS NULL THEN NULL ELSE now() + make_interval(secs => r.next_delay) END
         FROM r WHERE n.id = r.id AND n.attempts = r.attempt_no`,
      [col('id'), col('attemptNo'), col('state'), col('result'), col('status'), col('duration'), col('nextDelay')],
    );
  }

  /** Manual resend: one more attempt now, whatever the state. */
  async resend(id: number): Promise<boolean> {
    const r = await this.#deps.db.query(`UPDATE merchant_notifications SET state = 0, next_attempt_at = now(), updated_at = now() WHERE id = $1`, [id]);
    if (r.rowCount === 1) this.wakeSoon();
    return r.rowCount === 1;
  }

  async list(filter: { orderId?: string; mchNo?: string; state?: number; limit?: number }): Promise<Array<Record<string, unknown>>> {
    const r = await this.#deps.db.query(
      `SELECT n.id, n.order_type AS "orderType", n.order_id AS "orderId", n.event, n.mch_no AS "mchNo", n.app_id AS "appId", n.mch_order_no AS "mchOrderNo",
              n.url, n.state, n.attempts, n.next_attempt_at AS "nextAttemptAt", n.last_result AS "lastResult", n.created_at AS "createdAt",
              COALESCE((SELECT json_agg(json_build_object('attemptNo', a.attempt_no, 'httpStatus', a.http_status, 'result', a.result, 'durationMs', a.duration_ms, 'at', a.created_at) ORDER BY a.attempt_no)
                          FROM notification_attempts a WHERE a.notification_id = n.id), '[]'::json) AS "attemptLog"
         FROM merchant_notifications n
        WHERE ($1::text IS NULL OR n.order_id = $1) AND ($2::text IS NULL OR n.mch_no = $2) AND ($3::int IS NULL OR n.state = $3)
        ORDER BY n.id DESC LIMIT $4`,
      [filter.orderId ?? null, filter.mchNo ?? null, filter.state ?? null, filter.limit ?? 100],
    );
    return r.rows;
  }
}

interface Claimed {
  id: number;
  url: string;
  body: string;
  attemptNo: number;
  order_type: 'pay' | 'refund';
  order_id: string;
}

/** One delivery attempt's result, recorded with its batch. */
interface Outcome {
  id: number;
  attemptNo: number;
  /** 0 delivering (retry at nextDelay), 1 delivered, 2 gave up. */
  state: 0 | 1 | 2;
  result: string;
  status: number | null;
  duration: number;
  nextDelay: number | null;
}
