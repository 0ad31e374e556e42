import { randomBytes } from 'node:crypto';
import { fromMajorString, money, parseCurrency, toMajorString } from '../../../domain/money.ts';
import type { Scheduler } from '../../sandbox/kit.ts';
import { EVENTS, PAYPAL_CURRENCIES, PAYPAL_PATHS } from '../protocol.ts';
import { paypalId, type Json, type PaypalBook, type PaypalFaults, type SimApp, type SimCapture, type SimOrder, type SimRefund } from './book.ts';

/**
 * What the simulated PayPal does, apart from HTTP: orders approved or cancelled by the sandbox
 * buyer, captures (COMPLETED, or PENDING under the scenario switch, or refused as
 * INSTRUMENT_DECLINED), refunds against the capture, and the webhook each change emits. Errors
 * carry PayPal's body shape.
 */

export interface SimContext {
  book: PaypalBook;
  faults: PaypalFaults;
  baseUrl: string;
  scheduler: Scheduler;
  now(): number;
  /** Queues a webhook of this app (nothing when it registered no URL). */
  emit(app: SimApp, eventType: string, resourceType: string, resource: Json, summary: string): void;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
    readonly issue?: string,
    readonly description?: string,
  ) {
    super(message);
  }

  body(): Json {
    const debug_id = randomBytes(7).toString('hex');
    if (this.status === 401) return { error: this.errorName, error_description: this.message };
    return { name: this.errorName, message: this.message, debug_id, ...(this.issue ? { details: [{ issue: this.issue, description: this.description ?? this.message }] } : {}), links: [] };
  }
}

export const unprocessable = (issue: string, description: string): SimError => new SimError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed, semantically incorrect, or failed business validation.', issue, description);
export const invalidRequest = (issue: string, description: string): SimError => new SimError(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', issue, description);
export const notFound = (): SimError => new SimError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', 'INVALID_RESOURCE_ID', 'Specified resource ID does not exist. Please check the resource ID and try again.');

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Minor units of a request amount, or the PayPal refusal for it. */
export function amountMinor(amount: unknown): { minor: number; amount: { currency_code: string; value: string } } {
  const a = (amount ?? {}) as Json;
  const code = typeof a.currency_code === 'string' ? a.currency_code : '';
  const value = typeof a.value === 'string' ? a.value : '';
  const currency = parseCurrency(code);
  if (!currency || code !== currency || !(PAYPAL_CURRENCIES as readonly string[]).includes(currency)) throw unprocessable('CURRENCY_NOT_SUPPORTED', `Currency code ${code} is not supported.`);
  const minor = fromMajorString(value, currency);
  if (minor === undefined) throw unprocessable('DECIMAL_PRECISION', `If the currency supports decimals, only two decimal place precision is supported (${currency}: ${value}).`);
  if (minor <= 0) throw unprocessable('AMOUNT_NOT_POSITIVE', 'Amount must be greater than zero.');
  // The canonical rendering: "10.5" is not how PayPal echoes an amount.
  return { minor, amount: { currency_code: currency, value: toMajorString(money(minor, currency)) } };
}

export function captureView(ctx: SimContext, c: SimCapture): Json {
  return {
    id: c.id,
    status: c.status,
    ...(c.status === 'PENDING' ? { status_details: { reason: 'PENDING_REVIEW' } } : {}),
    amount: c.amount,
    final_capture: true,
    seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
    ...(c.custom_id ? { custom_id: c.custom_id } : {}),
    ...(c.invoice_id ? { invoice_id: c.invoice_id } : {}),
    supplementary_data: { related_ids: { order_id: c.orderId } },
    create_time: c.createTime,
    update_time: c.updateTime,
    links: [
      { href: `${ctx.baseUrl}${PAYPAL_PATHS.getCapture(c.id)}`, rel: 'self', method: 'GET' },
      { href: `${ctx.baseUrl}${PAYPAL_PATHS.refund(c.id)}`, rel: 'refund', method: 'POST' },
      { href: `${ctx.baseUrl}${PAYPAL_PATHS.order(c.orderId)}`, rel: 'up', method: 'GET' },
    ],
  };
}

export function refundView(ctx: SimContext, r: SimRefund): Json {
  return {
    id: r.id,
    status: r.status,
    amount: r.amount,
    ...(r.invoice_id ? { invoice_id: r.invoice_id } : {}),
    ...(r.custom_id ? { custom_id: r.custom_id } : {}),
    ...(r.note_to_payer ? { note_to_payer: r.note_to_payer } : {}),
    create_time: r.createTime,
    update_time: r.createTime,
    links: [
      { href: `${ctx.baseUrl}${PAYPAL_PATHS.getRefund(r.id)}`, rel: 'self', method: 'GET' },
      { href: `${ctx.baseUrl}${PAYPAL_PATHS.getCapture(r.captureId)}`, rel: 'up', method: 'GET' },
    ],
  };
}

export const approveUrl = (ctx: SimContext, o: SimOrder): string => `${ctx.baseUrl}/checkoutnow?token=${o.id}`;

export function orderView(ctx: SimContext, o: SimOrder): Json {
  const capture = o.captureId ? ctx.book.captures.get(o.captureId) : undefined;
  const payments = capture ? { captures: [captureView(ctx, capture)], ...(ctx.book.refundsOf(capture.id).length ? { refunds: ctx.book.refundsOf(capture.id).map((r) => refundView(ctx, r)) } : {}) } : undefined;
  const links: Json[] = [{ href: `${ctx.baseUrl}${PAYPAL_PATHS.order(o.id)}`, rel: 'self', method: 'GET' }];
  if (o.status === 'PAYER_ACTION_REQUIRED' || o.status === 'CREATED') links.push({ href: approveUrl(ctx, o), rel: 'payer-action', method: 'GET' });
  if (o.status === 'APPROVED') links.push({ href: `${ctx.baseUrl}${PAYPAL_PATHS.capture(o.id)}`, rel: 'capture', method: 'POST' });
  return {
    id: o.id,
    intent: 'CAPTURE',
    status: o.status,
    payment_source: { paypal: o.payerId ? { email_address: `buyer-${o.payerId.toLowerCase()}@sandbox.example.com`, account_id: o.payerId, account_status: 'VERIFIED' } : {} },
    purchase_units: [{ ...o.unit, ...(payments ? { payments } : {}) }],
    ...(o.payerId ? { payer: { payer_id: o.payerId, email_address: `buyer-${o.payerId.toLowerCase()}@sandbox.example.com` } } : {}),
    create_time: o.createTime,
    update_time: o.updateTime,
    links,
  };
}

function appOf(ctx: SimContext, clientId: string): SimApp {
  const app = ctx.book.apps.get(clientId);
  if (!app) throw new Error(`unknown app ${clientId}`);
  return app;
}

/** The sandbox buyer approves: the order becomes APPROVED, the app hears CHECKOUT.ORDER.APPROVED, the buyer goes to return_url. */
export function approveOrder(ctx: SimContext, o: SimOrder): string {
  if (o.status !== 'PAYER_ACTION_REQUIRED' && o.status !== 'CREATED') throw unprocessable('ORDER_CANNOT_BE_APPROVED', `order is ${o.status}`);
  o.status = 'APPROVED';
  o.payerId ??= paypalId(13);
  o.updateTime = iso(ctx.now());
  ctx.book.changed();
  ctx.emit(appOf(ctx, o.clientId), EVENTS.approved, 'checkout-order', orderView(ctx, o), 'An order has been approved by buyer');
  const back = new URL(o.returnUrl);
  back.searchParams.set('token', o.id);
  back.searchParams.set('PayerID', o.payerId);
  return back.toString();
}

/** The buyer cancels on PayPal: nothing changes at PayPal; the buyer goes to cancel_url. */
export function cancelUrlOf(o: SimOrder): string {
  const back = new URL(o.cancelUrl);
  back.searchParams.set('token', o.id);
  return back.toString();
}

export function captureOrder(ctx: SimContext, o: SimOrder): SimOrder {
  if (o.status === 'COMPLETED') throw unprocessable('ORDER_ALREADY_CAPTURED', 'Order already captured.If \'intent=CAPTURE\' only one capture per order is allowed.');
  if (o.status !== 'APPROVED') throw unprocessable('ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment. Please redirect the payer to the \'rel\':\'approve\' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.');
  if (ctx.faults.declineNextCaptures > 0) {
    ctx.faults.declineNextCaptures -= 1;
    // The funding source failed: the buyer has to choose another on the approve page.
    o.status = 'PAYER_ACTION_REQUIRED';
    ctx.book.changed();
    throw unprocessable('INSTRUMENT_DECLINED', 'The instrument presented was either declined by the processor or bank, or it can\'t be used for this payment.');
  }
  const now = iso(ctx.now());
  const { minor, amount } = amountMinor(o.unit.amount);
  const c: SimCapture = { id: paypalId(), orderId: o.id, clientId: o.clientId, status: ctx.faults.pendingCaptures ? 'PENDING' : 'COMPLETED', amount, minor, refundedMinor: 0, createTime: now, updateTime: now, ...(o.unit.custom_id ? { custom_id: o.unit.custom_id } : {}), ...(o.unit.invoice_id ? { invoice_id: o.unit.invoice_id } : {}) };
  ctx.book.captures.set(c.id, c);
  o.status = 'COMPLETED';
  o.captureId = c.id;
  o.updateTime = now;
  ctx.book.changed();
  emitCapture(ctx, c);
  return o;
}

function emitCapture(ctx: SimContext, c: SimCapture): void {
  const type = c.status === 'COMPLETED' ? EVENTS.captureCompleted : c.status === 'PENDING' ? EVENTS.capturePending : EVENTS.captureDenied;
  ctx.emit(appOf(ctx, c.clientId), type, 'capture', captureView(ctx, c), `Payment ${c.status.toLowerCase()} for ${c.amount.value} ${c.amount.currency_code}`);
}

/** A PENDING capture clears (COMPLETED) or is denied (DECLINED), with its webhook. */
export function settleCapture(ctx: SimContext, c: SimCapture, outcome: 'complete' | 'deny'): SimCapture {
  if (c.status !== 'PENDING') throw unprocessable('CAPTURE_NOT_PENDING', `capture is ${c.status}`);
  c.status = outcome === 'complete' ? 'COMPLETED' : 'DECLINED';
  c.updateTime = iso(ctx.now());
  ctx.book.changed();
  emitCapture(ctx, c);
  return c;
}

export function refundCapture(ctx: SimContext, c: SimCapture, body: Json): SimRefund {
  if (c.status === 'REFUNDED') throw unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded');
  if (c.status !== 'COMPLETED' && c.status !== 'PARTIALLY_REFUNDED') throw unprocessable('CANNOT_BE_REFUNDED', `capture is ${c.status}`);
  const remaining = c.minor - c.refundedMinor;
  const requested = body.amount === undefined ? { minor: remaining, amount: { currency_code: c.amount.currency_code, value: toMajorString(money(remaining, c.amount.currency_code as never)) } } : amountMinor(body.amount);
  if (requested.amount.currency_code !== c.amount.currency_code) throw unprocessable('REFUND_CURRENCY_MISMATCH', 'Refund must be in the same currency as the capture');
  if (requested.minor > remaining) throw unprocessable('REFUND_AMOUNT_EXCEEDED', 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.');
  const str = (k: string): string | undefined => (typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined);
  const r: SimRefund = { id: paypalId(), captureId: c.id, clientId: c.clientId, status: 'COMPLETED', amount: requested.amount, createTime: iso(ctx.now()) };
  for (const k of ['invoice_id', 'custom_id', 'note_to_payer'] as const) {
    const v = str(k);
    if (v !== undefined) r[k] = v;
  }
  ctx.book.refunds.set(r.id, r);
  c.refundedMinor += requested.minor;
  c.status = c.refundedMinor === c.minor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  c.updateTime = r.createTime;
  ctx.book.changed();
  ctx.emit(appOf(ctx, c.clientId), EVENTS.refunded, 'refund', refundView(ctx, r), `A ${r.amount.value} ${r.amount.currency_code} capture payment was refunded`);
  return r;
}

export { iso };
