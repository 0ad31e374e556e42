import { X509Certificate, type KeyObject } from 'node:crypto';
import type { KeyMaterial } from './keys.ts';
import type { AfterRecord, ConsumeRecord, ConsumeView, Ledger, MerchantRecord, NotifyRecord, ProviderRecord } from './types.ts';

/**
 * The simulated UnionPay's books: merchants and service providers (their certificates), consumes,
 * undos/refunds/reversals, notifications and 云闪付 user-authorisation codes, with the indexes
 * the gateways need (QR token, tn, queryId). Every change runs synchronously on the event loop.
 */

const FINISHED_NOTIFICATIONS_KEPT = 10_000;
const AUTH_CODE_TTL_MS = 5 * 60 * 1000;

export interface Snapshot {
  version: 1;
  kind: 'unionpay-simulator';
  savedAt: string;
  keys: KeyMaterial;
  merchants: MerchantRecord[];
  providers: ProviderRecord[];
  consumes: ConsumeRecord[];
  after: AfterRecord[];
  notifications: NotifyRecord[];
}

export class SimState {
  readonly merchants = new Map<string, MerchantRecord>();
  readonly providers = new Map<string, ProviderRecord>();
  private readonly certKeys = new Map<string, KeyObject>();
  private readonly consumes = new Map<string, ConsumeRecord>();
  private readonly byQrToken = new Map<string, ConsumeRecord>();
  private readonly byTn = new Map<string, ConsumeRecord>();
  private readonly byQueryId = new Map<string, ConsumeRecord>();
  private readonly after = new Map<string, AfterRecord>();
  readonly notifications = new Map<string, NotifyRecord>();
  private readonly authCodes = new Map<string, { userId: string; expires: number }>();
  private finished: string[] = [];

  constructor(private readonly onChange: () => void) {}

  changed(): void {
    this.onChange();
  }

  putMerchant(m: MerchantRecord): void {
    this.merchants.set(m.merId, m);
    this.certKeys.delete(`m:${m.merId}`);
    this.onChange();
  }

  putProvider(p: ProviderRecord): void {
    this.providers.set(p.serProvId, p);
    this.certKeys.delete(`p:${p.serProvId}`);
    this.onChange();
  }

  /** The public key of a registered signing certificate, parsed once. */
  publicKey(kind: 'm' | 'p', id: string, pem: string): KeyObject {
    let key = this.certKeys.get(`${kind}:${id}`);
    if (!key) {
      key = new X509Certificate(pem).publicKey;
      this.certKeys.set(`${kind}:${id}`, key);
    }
    return key;
  }

  consume(key: string): ConsumeRecord | undefined {
    return this.consumes.get(key);
  }

  consumeByQrToken(token: string): ConsumeRecord | undefined {
    return this.byQrToken.get(token);
  }

  consumeByTn(tn: string): ConsumeRecord | undefined {
    return this.byTn.get(tn);
  }

  consumeByQueryId(queryId: string): ConsumeRecord | undefined {
    return this.byQueryId.get(queryId);
  }

  addConsume(c: ConsumeRecord): void {
    this.consumes.set(c.key, c);
    this.index(c);
    this.onChange();
  }

  /** Call after giving a consume its queryId, QR token or tn. */
  index(c: ConsumeRecord): void {
    if (c.qrToken) this.byQrToken.set(c.qrToken, c);
    if (c.tn) this.byTn.set(c.tn, c);
    if (c.queryId) this.byQueryId.set(c.queryId, c);
  }

  afterRecord(key: string): AfterRecord | undefined {
    return this.after.get(key);
  }

  addAfter(a: AfterRecord): void {
    this.after.set(a.key, a);
    this.onChange();
  }

  allConsumes(): IterableIterator<ConsumeRecord> {
    return this.consumes.values();
  }

  allAfter(): IterableIterator<AfterRecord> {
    return this.after.values();
  }

  recentConsumes(limit: number): ConsumeRecord[] {
    return [...this.consumes.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  addAuthCode(code: string, userId: string, now: number): void {
    this.authCodes.set(code, { userId, expires: now + AUTH_CODE_TTL_MS });
    for (const [c, v] of this.authCodes) if (v.expires < now) this.authCodes.delete(c);
  }

  /** userAuthCode → userId; a code works once and for five minutes. */
  redeemAuthCode(code: string, now: number): string | undefined {
    const hit = this.authCodes.get(code);
    this.authCodes.delete(code);
    return hit && hit.expires >= now ? hit.userId : undefined;
  }

  addNotification(n: NotifyRecord): void {
    this.notifications.set(n.id, n);
    this.onChange();
  }

  /** Bounds memory: only the newest finished notifications are kept for the ledger. */
  notificationFinished(id: string): void {
    this.finished.push(id);
    if (this.finished.length > FINISHED_NOTIFICATIONS_KEPT * 1.2) {
      for (const id of this.finished.splice(0, this.finished.length - FINISHED_NOTIFICATIONS_KEPT)) this.notifications.delete(id);
    }
    this.onChange();
  }

  snapshot(keys: KeyMaterial): Snapshot {
    return {
      version: 1,
      kind: 'unionpay-simulator',
      savedAt: new Date().toISOString(),
      keys,
      merchants: [...this.merchants.values()],
      providers: [...this.providers.values()],
      consumes: [...this.consumes.values()],
      after: [...this.after.values()],
      notifications: [...this.notifications.values()],
    };
  }

  restore(s: Snapshot): void {
    for (const m of s.merchants) this.merchants.set(m.merId, m);
    for (const p of s.providers) this.providers.set(p.serProvId, p);
    for (const c of s.consumes) {
      this.consumes.set(c.key, c);
      this.index(c);
    }
    for (const a of s.after) this.after.set(a.key, a);
    for (const n of s.notifications) {
      this.notifications.set(n.id, n);
      if (n.delivered || n.gave_up) this.finished.push(n.id);
    }
  }

  ledger(merId: string | undefined): Ledger {
    const mine = <T extends { merId: string }>(x: T): boolean => merId === undefined || x.merId === merId;
    return {
      consumes: [...this.consumes.values()].filter(mine).map(consumeView),
      after: [...this.after.values()].filter(mine).map((a) => ({
        merId: a.merId,
        kind: a.kind,
        orderId: a.orderId,
        txnTime: a.txnTime,
        origOrderId: this.consumes.get(a.origKey)?.orderId ?? '',
        txnAmt: a.txnAmt,
        status: a.status,
        queryId: a.queryId,
      })),
      notifications: [...this.notifications.values()].filter(mine).map((n) => ({
        id: n.id,
        merId: n.merId,
        url: n.url,
        orderId: n.orderId,
        txnType: n.txnType,
        attempts: n.attempts,
        delivered: n.delivered,
        gave_up: n.gave_up,
        last_status: n.last_status,
        next_attempt_at: n.next_at === null ? null : new Date(n.next_at).toISOString(),
      })),
    };
  }
}

export function consumeView(c: ConsumeRecord): ConsumeView {
  return {
    merId: c.merId,
    serProvId: c.serProvId ?? null,
    orderId: c.orderId,
    txnTime: c.txnTime,
    kind: c.kind,
    status: c.status,
    txnAmt: c.txnAmt,
    refunded: c.refunded,
    queryId: c.queryId ?? null,
    qrCode: c.qrCode ?? null,
    tn: c.tn ?? null,
    userId: c.userId ?? null,
    payer: c.payerUserId ?? c.payerCode ?? null,
    settleDate: c.settleDate ?? null,
  };
}
