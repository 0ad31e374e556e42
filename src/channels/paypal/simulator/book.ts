import { createHash, randomBytes } from 'node:crypto';
import type { Deliverable } from '../../sandbox/notifier.ts';

/**
 * The PayPal simulator's records: REST apps (client id/secret, webhook id and URL), orders,
 * captures, refunds, PayPal-Request-Id answers, and webhook deliveries. Plain data, so the state
 * file is this object as JSON.
 */

export type Json = Record<string, unknown>;

export interface SimApp {
  clientId: string;
  clientSecret: string;
  webhookId: string;
  webhookUrl: string | null;
  name: string;
}

export interface SimAmount {
  currency_code: string;
  value: string;
}

export interface SimOrder {
  id: string;
  clientId: string;
  status: 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';
  unit: { reference_id: string; custom_id?: string; invoice_id?: string; description?: string; amount: SimAmount };
  returnUrl: string;
  cancelUrl: string;
  payerId: string | null;
  captureId: string | null;
  /** POST …/capture calls received, replays included (tests check "captured exactly once" against it). */
  captureCalls: number;
  createTime: string;
  updateTime: string;
}

export interface SimCapture {
  id: string;
  orderId: string;
  clientId: string;
  status: 'COMPLETED' | 'PENDING' | 'DECLINED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
  amount: SimAmount;
  minor: number;
  refundedMinor: number;
  custom_id?: string;
  invoice_id?: string;
  createTime: string;
  updateTime: string;
}

export interface SimRefund {
  id: string;
  captureId: string;
  clientId: string;
  status: 'COMPLETED' | 'PENDING';
  amount: SimAmount;
  invoice_id?: string;
  custom_id?: string;
  note_to_payer?: string;
  createTime: string;
}

export interface WebhookRecord extends Deliverable {
  clientId: string;
  eventType: string;
  /** The event exactly as sent: PayPal resends the same bytes, with fresh transmission headers. */
  body: string;
  createdAt: number;
}

export interface PaypalFaults {
  /** Scenario: captures come back PENDING (e-check, review) until settled by the sandbox API. */
  pendingCaptures: boolean;
  /** The next captures fail with 422 INSTRUMENT_DECLINED (the buyer must approve again). */
  declineNextCaptures: number;
  /** The next REST calls answer 500 INTERNAL_SERVER_ERROR without doing anything. */
  failNextRequests: number;
  /** Every REST answer is held back this long (the call is processed: outcome unknown to the client). */
  responseDelayMs: number;
  /** Webhooks are queued, not sent, until released. */
  holdWebhooks: boolean;
}

export const defaultPaypalFaults = (): PaypalFaults => ({ pendingCaptures: false, declineNextCaptures: 0, failNextRequests: 0, responseDelayMs: 0, holdWebhooks: false });

export interface PaypalKeys {
  /** Signs webhooks; its certificate is served at the cert URL. */
  signingKeyPem: string;
  signingCertPem: string;
  /** The https cert server's own key and certificate (the sandbox CA the gateway is told to trust). */
  tlsKeyPem: string;
  tlsCertPem: string;
  certId: string;
}

export interface PaypalSnapshot {
  version: 1;
  kind: 'paypal-simulator';
  keys: PaypalKeys;
  apps: SimApp[];
  orders: SimOrder[];
  captures: SimCapture[];
  refunds: SimRefund[];
  webhooks: WebhookRecord[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** PayPal-looking ids: 17 upper-case letters and digits. */
export function paypalId(len = 17): string {
  return Array.from(randomBytes(len), (b) => ALNUM[b % ALNUM.length]).join('');
}

export class PaypalBook {
  readonly apps = new Map<string, SimApp>();
  readonly orders = new Map<string, SimOrder>();
  readonly captures = new Map<string, SimCapture>();
  readonly refunds = new Map<string, SimRefund>();
  readonly webhooks = new Map<string, WebhookRecord>();
  /** `clientId|METHOD path|PayPal-Request-Id` → the body hash and the answer given. */
  readonly idempotency = new Map<string, { hash: string; status: number; body: string }>();
  /** Access tokens → client id and expiry (ms). Not persisted: a restarted PayPal forgets them, clients re-authenticate. */
  readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(readonly changed: () => void) {}

  restore(s: PaypalSnapshot): void {
    for (const a of s.apps) this.apps.set(a.clientId, a);
    for (const o of s.orders) this.orders.set(o.id, o);
    for (const c of s.captures) this.captures.set(c.id, c);
    for (const r of s.refunds) this.refunds.set(r.id, r);
    for (const w of s.webhooks) this.webhooks.set(w.id, w);
  }

  snapshot(keys: PaypalKeys): PaypalSnapshot {
    return { version: 1, kind: 'paypal-simulator', keys, apps: [...this.apps.values()], orders: [...this.orders.values()], captures: [...this.captures.values()], refunds: [...this.refunds.values()], webhooks: [...this.webhooks.values()] };
  }

  refundsOf(captureId: string): SimRefund[] {
    return [...this.refunds.values()].filter((r) => r.captureId === captureId);
  }
}

export const bodyHash = (raw: string): string => createHash('sha256').update(raw).digest('base64url');
