import { fromMajorString, money, parseCurrency, toMajorString, type Currency } from '../../domain/money.ts';
import { ChannelError, type PaymentStatus, type PayOrderInput, type RefundInput, type RefundStatus } from '../types.ts';
import { CAPTURE_STATUS, ORDER_STATUS, PAY_EVENTS, PAYPAL_CURRENCIES, REFUND_STATUS, RETURN_PATH, type CaptureStatus, type OrderStatus } from './protocol.ts';
import type { Json } from './client.ts';

/** Pure translations between our orders and PayPal's JSON (docs/channels/paypal.md P4–P8). No I/O. */

const protocol = (message: string): ChannelError => new ChannelError('protocol', `paypal: ${message}`);

export function paramError(message: string): ChannelError {
  return new ChannelError('rejected', `paypal: ${message}`, { channelCode: 'INVALID_REQUEST', channelMessage: message });
}

export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
export const str = (o: Json, key: string): string | undefined => (typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : undefined);

function cut(s: string, max: number): string {
  return Array.from(s.trim()).slice(0, max).join('');
}

/** P4: PayPal's `{currency_code, value}` for an amount in minor units. */
export function paypalAmount(minor: number, currency: Currency): { currency_code: string; value: string } {
  if (!(PAYPAL_CURRENCIES as readonly string[]).includes(currency)) throw paramError(`currency ${currency} is not supported`);
  return { currency_code: currency, value: toMajorString(money(minor, currency)) };
}

/** P4: minor units of a PayPal amount; anything malformed or over-precise is a protocol fault, never rounded. */
export function minorOf(amount: Json): { amount: number; currency: string } | undefined {
  const code = str(amount, 'currency_code');
  const value = str(amount, 'value');
  if (code === undefined || value === undefined) return undefined;
  const currency = parseCurrency(code);
  if (!currency) throw protocol(`unknown currency_code ${JSON.stringify(code)}`);
  const minor = fromMajorString(value, currency);
  if (minor === undefined) throw protocol(`amount ${JSON.stringify(value)} ${code} is not a valid amount`);
  return { amount: minor, currency };
}

/** P5: the gateway's base URL, read off the order's notify URL (`{base}/api/pay/notify/paypal/{id}`). */
export function gatewayBase(notifyUrl: string): string {
  const i = notifyUrl.indexOf('/api/pay/notify/');
  if (i < 0) throw new ChannelError('misconfigured', `paypal: cannot derive the gateway URL from ${notifyUrl}`);
  return notifyUrl.slice(0, i);
}

/** P5: create-order body; our payOrderId names the purchase unit three ways so every later object carries it. */
export function createOrderBody(order: PayOrderInput): Json {
  const subject = cut(order.subject, 127);
  if (subject === '') throw paramError('subject is required');
  const back = `${gatewayBase(order.notifyUrl)}${RETURN_PATH}${encodeURIComponent(order.payOrderId)}`;
  return {
    intent: 'CAPTURE',
    purchase_units: [{ reference_id: order.payOrderId, custom_id: order.payOrderId, invoice_id: order.payOrderId, description: subject, amount: paypalAmount(order.amount, order.currency) }],
    payment_source: { paypal: { experience_context: { return_url: back, cancel_url: `${back}?cancel=1`, user_action: 'PAY_NOW', shipping_preference: 'NO_SHIPPING' } } },
  };
}

/** P6: the buyer's approval link of a created order (rel approve, or payer-action with payment_source). */
export function approveLink(answer: Json): string {
  const link = list(answer.links).find((l) => l.rel === 'approve' || l.rel === 'payer-action');
  const href = link ? str(link, 'href') : undefined;
  if (!href) throw protocol('created order has no approve / payer-action link');
  return href;
}

export function orderStatus(answer: Json): OrderStatus {
  const s = str(answer, 'status');
  if (!s || !(ORDER_STATUS as readonly string[]).includes(s)) throw protocol(`unknown order status ${JSON.stringify(s)}`);
  return s as OrderStatus;
}

function firstUnit(order: Json): Json {
  return list(order.purchase_units)[0] ?? {};
}

/** The capture of an order (intent CAPTURE makes at most one). */
export function captureOf(order: Json): Json | undefined {
  return list(obj(firstUnit(order).payments).captures)[0];
}

/** P6: a capture (from a capture answer, an order, or a PAYMENT.CAPTURE.* webhook) as our payment status. */
export function captureToStatus(capture: Json, fallback: { outTradeNo?: string; channelOrderNo?: string; payer?: string } = {}): PaymentStatus {
  const raw = str(capture, 'status');
  if (!raw || !(CAPTURE_STATUS as readonly string[]).includes(raw)) throw protocol(`unknown capture status ${JSON.stringify(raw)}`);
  const s = raw as CaptureStatus;
  const status: PaymentStatus['status'] = s === 'COMPLETED' || s === 'REFUNDED' || s === 'PARTIALLY_REFUNDED' ? 'SUCCESS' : s === 'PENDING' ? 'WAITING' : 'FAIL';
  const result: PaymentStatus = { status };
  const outTradeNo = str(capture, 'custom_id') ?? fallback.outTradeNo;
  if (outTradeNo !== undefined) result.outTradeNo = outTradeNo;
  const amount = minorOf(obj(capture.amount));
  if (amount) Object.assign(result, amount);
  const orderId = str(obj(obj(capture.supplementary_data).related_ids), 'order_id') ?? fallback.channelOrderNo;
  if (orderId !== undefined) result.channelOrderNo = orderId;
  if (fallback.payer !== undefined) result.channelUser = fallback.payer;
  const at = str(capture, 'create_time') ?? str(capture, 'update_time');
  if (status === 'SUCCESS' && at !== undefined && Number.isFinite(Date.parse(at))) result.successAt = new Date(at);
  if (s === 'PENDING') Object.assign(result, { errCode: 'PENDING', errMsg: `capture pending: ${str(obj(capture.status_details), 'reason') ?? 'unknown reason'}` });
  if (status === 'FAIL') Object.assign(result, { errCode: `CAPTURE_${s}`, errMsg: `PayPal capture ${s.toLowerCase()}` });
  return result;
}

/**
 * P6: an order as our payment status. APPROVED is WAITING here: the channel captures it before
 * asking this (channel.ts), so an APPROVED order reaching this is one whose capture is in doubt.
 */
export function orderToStatus(order: Json): PaymentStatus {
  const s = orderStatus(order);
  const unit = firstUnit(order);
  const ids = { outTradeNo: str(unit, 'custom_id') ?? str(unit, 'reference_id'), channelOrderNo: str(order, 'id'), payer: str(obj(order.payer), 'payer_id') };
  const defined = Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)) as typeof ids;
  if (s === 'COMPLETED') {
    const capture = captureOf(order);
    if (!capture) throw protocol('a COMPLETED order without a capture');
    return captureToStatus(capture, defined);
  }
  const base: PaymentStatus = { status: s === 'VOIDED' ? 'CLOSED' : 'WAITING' };
  if (defined.outTradeNo !== undefined) base.outTradeNo = defined.outTradeNo;
  if (defined.channelOrderNo !== undefined) base.channelOrderNo = defined.channelOrderNo;
  return base;
}

/** P7: refund request body; our refund id is PayPal's invoice_id of the refund (and its PayPal-Request-Id). */
export function refundBody(order: PayOrderInput, refund: RefundInput): Json {
  const note = cut(refund.reason, 255);
  return { amount: paypalAmount(refund.refundAmount, refund.currency), invoice_id: refund.refundOrderId, custom_id: order.payOrderId, ...(note ? { note_to_payer: note } : {}) };
}

export function refundToStatus(refund: Json): RefundStatus {
  const raw = str(refund, 'status');
  if (!raw || !(REFUND_STATUS as readonly string[]).includes(raw)) throw protocol(`unknown refund status ${JSON.stringify(raw)}`);
  const status: RefundStatus['status'] = raw === 'COMPLETED' ? 'SUCCESS' : raw === 'PENDING' ? 'PROCESSING' : raw === 'FAILED' ? 'FAIL' : 'CLOSED';
  const result: RefundStatus = { status };
  const invoice = str(refund, 'invoice_id');
  if (invoice !== undefined) result.outRefundNo = invoice;
  const custom = str(refund, 'custom_id');
  if (custom !== undefined) result.outTradeNo = custom;
  const amount = minorOf(obj(refund.amount));
  if (amount) result.refundAmount = amount.amount;
  const id = str(refund, 'id');
  if (id !== undefined) result.channelRefundNo = id;
  const at = str(refund, 'update_time') ?? str(refund, 'create_time');
  if (status === 'SUCCESS' && at !== undefined && Number.isFinite(Date.parse(at))) result.successAt = new Date(at);
  if (status === 'FAIL' || status === 'CLOSED') Object.assign(result, { errCode: `REFUND_${raw}`, errMsg: `PayPal refund ${raw.toLowerCase()}` });
  return result;
}

/** The refunds PayPal lists on an order, for a refund query without PayPal's refund id. */
export function refundsOf(order: Json): Json[] {
  return list(obj(firstUnit(order).payments).refunds);
}

/** The order id a webhook resource names (routing only — nothing is trusted before verification). */
export function webhookOrderRef(event: Json): { kind: 'pay' | 'refund'; id: string } | undefined {
  const resource = obj(event.resource);
  const type = str(event, 'event_type') ?? '';
  if (type === 'CHECKOUT.ORDER.APPROVED') {
    const unit = firstUnit(resource);
    const id = str(unit, 'custom_id') ?? str(unit, 'reference_id');
    return id ? { kind: 'pay', id } : undefined;
  }
  if (type === 'PAYMENT.CAPTURE.REFUNDED') {
    const id = str(resource, 'invoice_id');
    return id ? { kind: 'refund', id } : undefined;
  }
  if (PAY_EVENTS.has(type)) {
    const id = str(resource, 'custom_id');
    return id ? { kind: 'pay', id } : undefined;
  }
  return undefined;
}
