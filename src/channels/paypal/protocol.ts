import type { WayCode } from '../../domain/pay-way.ts';

/**
 * PayPal REST (Orders v2, Payments v2, webhooks): every wire fact the client and the simulator
 * share. The numbers (P1 …) refer to the assumption list in docs/channels/paypal.md, which names
 * the sources (protocols.md §E).
 */

/** P1: REST hosts. The sandbox simulator replaces either with `baseUrl`. */
export const PAYPAL_HOSTS = { live: 'https://api-m.paypal.com', sandbox: 'https://api-m.sandbox.paypal.com' } as const;

/** P1: hosts PayPal serves webhook-signing certificates from (PAYPAL-CERT-URL, https only). */
export const PAYPAL_CERT_HOSTS = ['api.paypal.com', 'api-m.paypal.com', 'api.sandbox.paypal.com', 'api-m.sandbox.paypal.com'] as const;

export const PAYPAL_PATHS = {
  token: '/v1/oauth2/token',
  orders: '/v2/checkout/orders',
  order: (id: string) => `/v2/checkout/orders/${encodeURIComponent(id)}`,
  capture: (id: string) => `/v2/checkout/orders/${encodeURIComponent(id)}/capture`,
  getCapture: (id: string) => `/v2/payments/captures/${encodeURIComponent(id)}`,
  refund: (captureId: string) => `/v2/payments/captures/${encodeURIComponent(captureId)}/refund`,
  getRefund: (id: string) => `/v2/payments/refunds/${encodeURIComponent(id)}`,
  certs: '/v1/notifications/certs/',
} as const;

export const PAYPAL_WAYS = ['PP_PC'] as const satisfies readonly WayCode[];
export type PaypalWay = (typeof PAYPAL_WAYS)[number];

/** P4: currencies we send to PayPal (each has an exponent in CURRENCY_EXPONENT; PayPal's JPY has no decimals). */
export const PAYPAL_CURRENCIES = ['USD', 'EUR', 'GBP', 'HKD', 'JPY', 'CNY'] as const;

export const ORDER_STATUS = ['CREATED', 'SAVED', 'APPROVED', 'VOIDED', 'COMPLETED', 'PAYER_ACTION_REQUIRED'] as const;
export type OrderStatus = (typeof ORDER_STATUS)[number];
export const CAPTURE_STATUS = ['COMPLETED', 'PENDING', 'DECLINED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED'] as const;
export type CaptureStatus = (typeof CAPTURE_STATUS)[number];
export const REFUND_STATUS = ['COMPLETED', 'PENDING', 'FAILED', 'CANCELLED'] as const;
export type RefundStatusName = (typeof REFUND_STATUS)[number];

/** P7: the error `details[].issue` values the channel acts on. */
export const ISSUES = {
  notApproved: 'ORDER_NOT_APPROVED',
  alreadyCaptured: 'ORDER_ALREADY_CAPTURED',
  declined: 'INSTRUMENT_DECLINED',
  invalidToken: 'invalid_token',
} as const;

/** P8: webhook events this channel handles; any other type is acknowledged and ignored. */
export const EVENTS = {
  approved: 'CHECKOUT.ORDER.APPROVED',
  captureCompleted: 'PAYMENT.CAPTURE.COMPLETED',
  capturePending: 'PAYMENT.CAPTURE.PENDING',
  captureDenied: 'PAYMENT.CAPTURE.DENIED',
  refunded: 'PAYMENT.CAPTURE.REFUNDED',
} as const;
export const PAY_EVENTS: ReadonlySet<string> = new Set([EVENTS.approved, EVENTS.captureCompleted, EVENTS.capturePending, EVENTS.captureDenied]);
export const REFUND_EVENTS: ReadonlySet<string> = new Set([EVENTS.refunded]);

/** P9: webhook headers (lower-case as the gateway keeps them). */
export const WEBHOOK_HEADERS = {
  id: 'paypal-transmission-id',
  time: 'paypal-transmission-time',
  sig: 'paypal-transmission-sig',
  certUrl: 'paypal-cert-url',
  algo: 'paypal-auth-algo',
} as const;
export const WEBHOOK_ALGO = 'SHA256withRSA';

/** P9: a transmission older (or further in the future) than this is refused as a replay. */
export const WEBHOOK_TOLERANCE_MS = 10 * 60_000;

/** P10: PayPal retries a webhook until a 2xx, up to 25 times over about 3 days (seconds after each failed attempt). */
export const WEBHOOK_RETRY_S = [
  60, 120, 300, 600, 900, 1800, 1800, 3600, 3600, 3600, 7200, 7200, 7200, 10800, 10800, 14400, 14400, 14400, 21600, 21600, 21600, 21600, 21600, 21600,
] as const;

/** P5: the buyer's returns land on this gateway route, which captures and sends the buyer on to the merchant. */
export const RETURN_PATH = '/api/channel/paypal/return/';
/** P8: one webhook URL per gateway (PayPal has no per-order notification URL); the event names the order. */
export const WEBHOOK_PATH = '/api/pay/notify/paypal';
