import { createPublicKey, type KeyObject } from 'node:crypto';
import { chinaTime } from '../sign.ts';
import { yuan } from '../mapping.ts';
import type { KeyMaterial } from './keys.ts';
import type { AppAuthRecord, AppRecord, Ledger, NotifyRecord, RefundRecord, TradeRecord, TradeView } from './types.ts';

/**
 * The simulated Alipay's books: apps, trades, refunds and notifications, with the indexes the
 * gateway needs (trade_no, qr token). Every operation runs synchronously on the event loop, so
 * one state change never interleaves with another.
 */

const FINISHED_NOTIFICATIONS_KEPT = 10_000;

export interface Snapshot {
  version: 1;
  kind: 'alipay-simulator';
  savedAt: string;
  keys: KeyMaterial;
  billSecret: string;
  apps: AppRecord[];
  trades: TradeRecord[];
  refunds: RefundRecord[];
  notifications: NotifyRecord[];
  /** Absent in files written before app-to-app authorisation existed. */
  appAuths?: AppAuthRecord[];
}

const k = (a: string, b: string): string => `${a}\u0000${b}`;

export class SimState {
  readonly apps = new Map<string, AppRecord>();
  private readonly appKeys = new Map<string, KeyObject>();
  private readonly trades = new Map<string, TradeRecord>();
  private readonly byTradeNo = new Map<string, TradeRecord>();
  private readonly byQrToken = new Map<string, TradeRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  readonly notifications = new Map<string, NotifyRecord>();
  private finished: string[] = [];

  constructor(private readonly onChange: () => void) {}

  changed(): void {
    this.onChange();
  }

  putApp(app: AppRecord): void {
    this.apps.set(app.appId, app);
    this.appKeys.delete(app.appId);
    this.onChange();
  }

  /** The app's public key, parsed once: every request is verified with it. */
  appKey(app: AppRecord): KeyObject {
    let key = this.appKeys.get(app.appId);
    if (!key) {
      key = createPublicKey(app.appPublicKeyPem);
      this.appKeys.set(app.appId, key);
    }
    return key;
  }

  trade(appId: string, outTradeNo: string): TradeRecord | undefined {
    return this.trades.get(k(appId, outTradeNo));
  }

  tradeByNo(tradeNo: string): TradeRecord | undefined {
    return this.byTradeNo.get(tradeNo);
  }

  tradeByQrToken(token: string): TradeRecord | undefined {
    return this.byQrToken.get(token);
  }

  hasTradeNo(tradeNo: string): boolean {
    return this.byTradeNo.has(tradeNo);
  }

  addTrade(t: TradeRecord): void {
    this.trades.set(k(t.app_id, t.out_trade_no), t);
    this.index(t);
    this.onChange();
  }

  /** Call after giving a trade its trade_no or qr token. */
  index(t: TradeRecord): void {
    if (t.trade_no) this.byTradeNo.set(t.trade_no, t);
    if (t.qr_token) this.byQrToken.set(t.qr_token, t);
  }

  refund(appId: string, outTradeNo: string, outRequestNo: string): RefundRecord | undefined {
    return this.refunds.get(k(k(appId, outTradeNo), outRequestNo));
  }

  addRefund(r: RefundRecord): void {
    this.refunds.set(k(k(r.app_id, r.out_trade_no), r.out_request_no), r);
    this.onChange();
  }

  allTrades(): IterableIterator<TradeRecord> {
    return this.trades.values();
  }

  allRefunds(): IterableIterator<RefundRecord> {
    return this.refunds.values();
  }

  addNotification(n: NotifyRecord): void {
    this.notifications.set(n.id, n);
    this.onChange();
  }

  /** Bounds memory: only the newest finished notifications are kept for the ledger. */
  notificationFinished(n: NotifyRecord): void {
    this.finished.push(n.id);
    if (this.finished.length > FINISHED_NOTIFICATIONS_KEPT * 1.2) {
      for (const id of this.finished.splice(0, this.finished.length - FINISHED_NOTIFICATIONS_KEPT)) this.notifications.delete(id);
    }
    this.onChange();
  }

  recentTrades(limit: number): TradeRecord[] {
    return [...this.trades.values()].sort((a, b) => b.gmt_create - a.gmt_create).slice(0, limit);
  }

  snapshot(keys: KeyMaterial, billSecret: string, appAuths: AppAuthRecord[] = []): Snapshot {
    return {
      version: 1,
      kind: 'alipay-simulator',
      savedAt: new Date().toISOString(),
      keys,
      billSecret,
      apps: [...this.apps.values()],
      trades: [...this.trades.values()],
      refunds: [...this.refunds.values()],
      notifications: [...this.notifications.values()],
      appAuths,
    };
  }

  restore(s: Snapshot): void {
    for (const a of s.apps) this.apps.set(a.appId, a);
    for (const t of s.trades) {
      this.trades.set(k(t.app_id, t.out_trade_no), t);
      this.index(t);
    }
    for (const r of s.refunds) this.refunds.set(k(k(r.app_id, r.out_trade_no), r.out_request_no), r);
    for (const n of s.notifications) {
      this.notifications.set(n.id, n);
      if (n.delivered || n.gave_up) this.finished.push(n.id);
    }
  }

  ledger(appId: string | undefined): Ledger {
    const mine = <T extends { app_id: string }>(x: T): boolean => appId === undefined || x.app_id === appId;
    return {
      trades: [...this.trades.values()].filter(mine).map(tradeView),
      refunds: [...this.refunds.values()].filter(mine).map((r) => ({
        app_id: r.app_id,
        out_trade_no: r.out_trade_no,
        out_request_no: r.out_request_no,
        trade_no: r.trade_no,
        refund_amount: yuan(r.refund_amount),
        gmt_refund_pay: chinaTime(r.gmt_refund_pay),
      })),
      notifications: [...this.notifications.values()].filter(mine).map((n) => ({
        notify_id: n.id,
        app_id: n.app_id,
        url: n.url,
        out_trade_no: n.out_trade_no,
        trade_status: n.trade_status,
        attempts: n.attempts,
        delivered: n.delivered,
        gave_up: n.gave_up,
        last_status: n.last_status,
        last_body: n.last_body ?? null,
        next_attempt_at: n.next_at === null ? null : new Date(n.next_at).toISOString(),
      })),
    };
  }
}

export function tradeView(t: TradeRecord): TradeView {
  return {
    app_id: t.app_id,
    out_trade_no: t.out_trade_no,
    trade_no: t.trade_no ?? null,
    kind: t.kind,
    trade_status: t.status ?? 'NOT_EXIST',
    subject: t.subject,
    total_amount: yuan(t.total_amount),
    refunded: yuan(t.refunded),
    buyer: t.buyer_open_id ?? t.buyer_id ?? null,
    qr_code: t.qr_code ?? null,
    notify_url: t.notify_url ?? null,
    gmt_create: chinaTime(t.gmt_create),
    gmt_payment: t.gmt_payment === undefined ? null : chinaTime(t.gmt_payment),
    isv_app_id: t.isv_app_id ?? null,
    sys_service_provider_id: t.sys_service_provider_id ?? null,
  };
}
