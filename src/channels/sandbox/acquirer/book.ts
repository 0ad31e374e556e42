import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Ledger, MerchantRecord, NoticeRecord, RefundRecord, TradeRecord, TradeView } from './types.ts';

/**
 * The acquirer's books: merchants, trades, refunds and notifications with the indexes the wire
 * routes and the payer pages need. Everything runs synchronously on the event loop, so one state
 * change never interleaves with another. `onChange` schedules the state file write.
 */

const FINISHED_NOTICES_KEPT = 10_000;

export interface AcquirerSnapshot<K> {
  version: 1;
  kind: string;
  savedAt: string;
  keys: K;
  merchants: MerchantRecord[];
  trades: TradeRecord[];
  refunds: RefundRecord[];
  notices: NoticeRecord[];
}

const k = (a: string, b: string): string => `${a}\u0000${b}`;

export class AcquirerBook {
  readonly merchants = new Map<string, MerchantRecord>();
  private readonly merchantKeys = new Map<string, KeyObject>();
  private readonly trades = new Map<string, TradeRecord>();
  private readonly byToken = new Map<string, TradeRecord>();
  private readonly byTradeNo = new Map<string, TradeRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  readonly notices = new Map<string, NoticeRecord>();
  private finished: string[] = [];

  constructor(private readonly onChange: () => void) {}

  changed(): void {
    this.onChange();
  }

  putMerchant(m: MerchantRecord): void {
    this.merchants.set(m.id, m);
    this.merchantKeys.delete(m.id);
    this.onChange();
  }

  /** The merchant's public key, parsed once: every request is verified with it. */
  merchantKey(m: MerchantRecord): KeyObject {
    let key = this.merchantKeys.get(m.id);
    if (!key) {
      key = createPublicKey(m.publicKeyPem);
      this.merchantKeys.set(m.id, key);
    }
    return key;
  }

  trade(merchantId: string, outTradeNo: string): TradeRecord | undefined {
    return this.trades.get(k(merchantId, outTradeNo));
  }

  tradeByToken(token: string): TradeRecord | undefined {
    return this.byToken.get(token);
  }

  tradeByNo(tradeNo: string): TradeRecord | undefined {
    return this.byTradeNo.get(tradeNo);
  }

  addTrade(t: TradeRecord): void {
    this.trades.set(k(t.merchantId, t.outTradeNo), t);
    this.byToken.set(t.token, t);
    this.byTradeNo.set(t.tradeNo, t);
    this.onChange();
  }

  allTrades(): IterableIterator<TradeRecord> {
    return this.trades.values();
  }

  /** The merchant, trade and (for a refund notice) refund a notification renders; an unknown one is a bug in the simulator. */
  noticeSubjects(n: NoticeRecord): { m: MerchantRecord; t: TradeRecord; r: RefundRecord | undefined } {
    const m = this.merchants.get(n.merchantId);
    const t = this.trade(n.merchantId, n.outTradeNo);
    if (!m || !t) throw new Error(`notification ${n.id} for an unknown merchant or trade`);
    return { m, t, r: n.outRefundNo !== undefined ? this.refund(n.merchantId, n.outRefundNo) : undefined };
  }

  refund(merchantId: string, outRefundNo: string): RefundRecord | undefined {
    return this.refunds.get(k(merchantId, outRefundNo));
  }

  addRefund(r: RefundRecord): void {
    this.refunds.set(k(r.merchantId, r.outRefundNo), r);
    this.onChange();
  }

  allRefunds(): IterableIterator<RefundRecord> {
    return this.refunds.values();
  }

  addNotice(n: NoticeRecord): void {
    this.notices.set(n.id, n);
    this.onChange();
  }

  /** Bounds memory: only the newest finished notifications are kept for the ledger. */
  noticeFinished(n: NoticeRecord): void {
    this.finished.push(n.id);
    if (this.finished.length > FINISHED_NOTICES_KEPT * 1.2) {
      for (const id of this.finished.splice(0, this.finished.length - FINISHED_NOTICES_KEPT)) this.notices.delete(id);
    }
    this.onChange();
  }

  recentTrades(limit: number): TradeRecord[] {
    return [...this.trades.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  snapshot<K>(kind: string, keys: K): AcquirerSnapshot<K> {
    return {
      version: 1,
      kind,
      savedAt: new Date().toISOString(),
      keys,
      merchants: [...this.merchants.values()],
      trades: [...this.trades.values()],
      refunds: [...this.refunds.values()],
      notices: [...this.notices.values()],
    };
  }

  restore<K>(s: AcquirerSnapshot<K>): void {
    for (const m of s.merchants) this.merchants.set(m.id, m);
    for (const t of s.trades) {
      this.trades.set(k(t.merchantId, t.outTradeNo), t);
      this.byToken.set(t.token, t);
      this.byTradeNo.set(t.tradeNo, t);
    }
    for (const r of s.refunds) this.refunds.set(k(r.merchantId, r.outRefundNo), r);
    for (const n of s.notices) {
      this.notices.set(n.id, n);
      if (n.delivered || n.gave_up) this.finished.push(n.id);
    }
  }

  ledger(merchantId: string | undefined, payUrl: (t: TradeRecord) => string): Ledger {
    const mine = <T extends { merchantId: string }>(x: T): boolean => merchantId === undefined || x.merchantId === merchantId;
    return {
      trades: [...this.trades.values()].filter(mine).map((t) => tradeView(t, payUrl(t))),
      refunds: [...this.refunds.values()].filter(mine).map((r) => ({ merchant_id: r.merchantId, out_trade_no: r.outTradeNo, out_refund_no: r.outRefundNo, refund_no: r.refundNo, amount: r.amount, status: r.status })),
      notifications: [...this.notices.values()].filter(mine).map((n) => ({
        id: n.id,
        kind: n.kind,
        out_trade_no: n.outTradeNo,
        out_refund_no: n.outRefundNo ?? null,
        url: n.url,
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

export function tradeView(t: TradeRecord, payUrl: string): TradeView {
  return {
    merchant_id: t.merchantId,
    out_trade_no: t.outTradeNo,
    trade_no: t.tradeNo,
    product: t.product,
    status: t.status,
    amount: t.amount,
    refunded: t.refunded,
    subject: t.subject,
    wallets: t.wallets,
    paid_with: t.paidWith ?? null,
    payer: t.payer ?? null,
    pay_url: payUrl,
    created_at: new Date(t.createdAt).toISOString(),
    paid_at: t.paidAt === undefined ? null : new Date(t.paidAt).toISOString(),
  };
}
