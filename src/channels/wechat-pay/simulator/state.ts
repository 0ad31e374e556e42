import type { KeyObject } from 'node:crypto';
import { loadPublicKey } from '../v3-crypto.ts';
import { rfc3339 } from './ids.ts';
import type { PlatformKeyMaterial } from './keys.ts';
import type { CallbackRecord, Ledger, MerchantRecord, OrderRecord, RefundRecord, SubMerchantRecord } from './types.ts';

/**
 * In-memory books of the simulated WeChat Pay: merchants, orders, refunds and callbacks, with
 * the secondary indexes the API needs (transaction_id, prepay_id, code_url). Every operation
 * runs synchronously on the event loop, so there is no interleaving inside one state change.
 */

/** Finished callbacks kept for the ledger; pending ones are never dropped. */
const FINISHED_CALLBACKS_KEPT = 10_000;

export interface Snapshot {
  version: 1;
  savedAt: string;
  platform: PlatformKeyMaterial;
  merchants: MerchantRecord[];
  orders: OrderRecord[];
  refunds: RefundRecord[];
  callbacks: CallbackRecord[];
  /** Absent in files written before service providers existed. */
  subMerchants?: SubMerchantRecord[];
}

const key = (mchid: string, no: string): string => `${mchid}\u0000${no}`;

export class SimState {
  readonly merchants = new Map<string, MerchantRecord>();
  /** 特约商户 by sub_mchid. */
  readonly subMerchants = new Map<string, SubMerchantRecord>();
  private readonly merchantKeys = new Map<string, KeyObject>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly byTransactionId = new Map<string, OrderRecord>();
  private readonly byPrepayId = new Map<string, OrderRecord>();
  private readonly byCodeUrl = new Map<string, OrderRecord>();
  private readonly refunds = new Map<string, RefundRecord>();
  readonly callbacks = new Map<string, CallbackRecord>();
  private finishedCallbacks: string[] = [];

  constructor(private readonly onChange: () => void) {}

  changed(): void {
    this.onChange();
  }

  putMerchant(m: MerchantRecord): void {
    this.merchants.set(m.mchid, m);
    this.merchantKeys.delete(m.mchid);
    this.onChange();
  }

  putSubMerchant(s: SubMerchantRecord): void {
    this.subMerchants.set(s.sub_mchid, s);
    this.onChange();
  }

  /** The account that signs for a book: the merchant itself, or the provider of a sub-merchant. */
  accountOf(mchid: string): MerchantRecord | undefined {
    const sub = this.subMerchants.get(mchid);
    return this.merchants.get(sub ? sub.sp_mchid : mchid);
  }

  /** The merchant's API public key, parsed once (verification runs on every request). */
  merchantKey(m: MerchantRecord): KeyObject {
    let k = this.merchantKeys.get(m.mchid);
    if (!k) {
      k = loadPublicKey(m.merchantPublicKeyPem);
      this.merchantKeys.set(m.mchid, k);
    }
    return k;
  }

  order(mchid: string, outTradeNo: string): OrderRecord | undefined {
    return this.orders.get(key(mchid, outTradeNo));
  }

  orderByTransactionId(id: string): OrderRecord | undefined {
    return this.byTransactionId.get(id);
  }

  orderByPrepayId(id: string): OrderRecord | undefined {
    return this.byPrepayId.get(id);
  }

  orderByCodeUrl(codeUrl: string): OrderRecord | undefined {
    return this.byCodeUrl.get(codeUrl);
  }

  hasTransactionId(id: string): boolean {
    return this.byTransactionId.has(id);
  }

  hasPrepayOrCode(value: string): boolean {
    return this.byPrepayId.has(value) || this.byCodeUrl.has(value);
  }

  addOrder(o: OrderRecord): void {
    this.orders.set(key(o.mchid, o.out_trade_no), o);
    this.byPrepayId.set(o.prepay_id, o);
    if (o.code_url) this.byCodeUrl.set(o.code_url, o);
    if (o.transaction_id) this.byTransactionId.set(o.transaction_id, o);
    this.onChange();
  }

  /** Call after assigning transaction_id to an order. */
  indexTransaction(o: OrderRecord): void {
    if (o.transaction_id) this.byTransactionId.set(o.transaction_id, o);
  }

  refund(mchid: string, outRefundNo: string): RefundRecord | undefined {
    return this.refunds.get(key(mchid, outRefundNo));
  }

  addRefund(r: RefundRecord): void {
    this.refunds.set(key(r.mchid, r.out_refund_no), r);
    this.onChange();
  }

  allRefunds(): IterableIterator<RefundRecord> {
    return this.refunds.values();
  }

  addCallback(c: CallbackRecord): void {
    this.callbacks.set(c.id, c);
    this.onChange();
  }

  /** Bounds memory: finished callbacks beyond the newest FINISHED_CALLBACKS_KEPT are forgotten. */
  callbackFinished(c: CallbackRecord): void {
    this.finishedCallbacks.push(c.id);
    if (this.finishedCallbacks.length > FINISHED_CALLBACKS_KEPT * 1.2) {
      const drop = this.finishedCallbacks.splice(0, this.finishedCallbacks.length - FINISHED_CALLBACKS_KEPT);
      for (const id of drop) this.callbacks.delete(id);
    }
    this.onChange();
  }

  recentOrders(limit: number): OrderRecord[] {
    return [...this.orders.values()].sort((a, b) => b.create_time - a.create_time).slice(0, limit);
  }

  snapshot(platform: PlatformKeyMaterial, withLedger = true): Snapshot {
    return {
      version: 1,
      savedAt: new Date().toISOString(),
      platform,
      merchants: [...this.merchants.values()],
      orders: withLedger ? [...this.orders.values()] : [],
      refunds: withLedger ? [...this.refunds.values()] : [],
      callbacks: withLedger ? [...this.callbacks.values()] : [],
      subMerchants: [...this.subMerchants.values()],
    };
  }

  restore(s: Snapshot, newApiKey: () => string): void {
    for (const m of s.merchants) this.merchants.set(m.mchid, { ...m, apiKey: m.apiKey ?? newApiKey() });
    for (const sub of s.subMerchants ?? []) this.subMerchants.set(sub.sub_mchid, sub);
    for (const o of s.orders) {
      this.orders.set(key(o.mchid, o.out_trade_no), o);
      this.byPrepayId.set(o.prepay_id, o);
      if (o.code_url) this.byCodeUrl.set(o.code_url, o);
      if (o.transaction_id) this.byTransactionId.set(o.transaction_id, o);
    }
    for (const r of s.refunds) this.refunds.set(key(r.mchid, r.out_refund_no), r);
    for (const c of s.callbacks) {
      this.callbacks.set(c.id, c);
      if (c.delivered || c.gave_up) this.finishedCallbacks.push(c.id);
    }
  }

  ledger(mchid: string | undefined, baseUrl: string): Ledger {
    const mine = <T extends { mchid: string }>(x: T): boolean => mchid === undefined || x.mchid === mchid;
    return {
      orders: [...this.orders.values()].filter(mine).map((o) => ({
        mchid: o.mchid,
        ...(o.partner ? { partner: { ...o.partner, openid_field: o.jsapi_openid === undefined ? null : o.jsapi_openid_kind === 'sub' ? ('sub_openid' as const) : ('sp_openid' as const), openid: o.jsapi_openid ?? null } } : {}),
        appid: o.appid,
        out_trade_no: o.out_trade_no,
        transaction_id: o.transaction_id ?? null,
        trade_type: o.trade_type,
        trade_state: o.trade_state,
        description: o.description,
        amount_total: o.amount_total,
        refunded_total: o.refunded_total,
        prepay_id: o.prepay_id,
        code_url: o.code_url ?? null,
        h5_url: o.h5_path === undefined ? null : `${baseUrl}${o.h5_path}`,
        notify_url: o.notify_url,
        create_time: rfc3339(o.create_time),
        time_expire: rfc3339(o.time_expire),
        success_time: o.success_time === undefined ? null : rfc3339(o.success_time),
      })),
      refunds: [...this.refunds.values()].filter(mine).map((r) => ({
        mchid: r.mchid,
        out_refund_no: r.out_refund_no,
        refund_id: r.refund_id,
        out_trade_no: r.out_trade_no,
        transaction_id: r.transaction_id,
        status: r.status,
        amount_refund: r.amount_refund,
        amount_total: r.amount_total,
        create_time: rfc3339(r.create_time),
        success_time: r.success_time === undefined ? null : rfc3339(r.success_time),
      })),
      callbacks: [...this.callbacks.values()].filter(mine).map((c) => ({
        id: c.id,
        mchid: c.mchid,
        url: c.url,
        event_type: c.event_type,
        out_trade_no: c.out_trade_no,
        out_refund_no: c.out_refund_no ?? null,
        attempts: c.attempts,
        delivered: c.delivered,
        gave_up: c.gave_up,
        last_status: c.last_status,
        last_error: c.last_error ?? null,
        next_attempt_at: c.next_at === null ? null : new Date(c.next_at).toISOString(),
        probe_accepted: c.probe_accepted ?? null,
      })),
    };
  }
}
