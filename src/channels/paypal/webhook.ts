import { X509Certificate, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { rsaSign, rsaVerify } from '../rsa.ts';
import { ChannelError, type InboundCallback } from '../types.ts';
import { WEBHOOK_ALGO, WEBHOOK_HEADERS, WEBHOOK_TOLERANCE_MS } from './protocol.ts';

/**
 * P9: local verification of a PayPal webhook (no call to verify-webhook-signature). The signed
 * message is `transmission_id|transmission_time|webhook_id|crc32(raw body)` with the CRC32 as an
 * unsigned decimal, signed SHA256withRSA by the key in the certificate at PAYPAL-CERT-URL.
 * Vector: /work/shared/reference/vectors/paypal-webhook.json — crc32 582721391, message
 * "69cd13f0-d67a-11e5-baa3-778b53f4ae55|2024-01-01T12:00:01Z|1JE4291016473214C|582721391".
 * The simulator signs with the same functions, parameterised by its own key.
 */

/** node:zlib's crc32 (Node ≥ 20.15) is unsigned already; `>>> 0` keeps that true whatever the runtime. */
export function webhookMessage(transmissionId: string, transmissionTime: string, webhookId: string, rawBody: Buffer | string): string {
  return `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody) >>> 0}`;
}

export function signWebhook(message: string, key: KeyObject): string {
  return rsaSign('sha256', message, key);
}

const bad = (message: string): ChannelError => new ChannelError('bad_signature', `paypal webhook: ${message}`);

/** PAYPAL-CERT-URL must be https on one of the allowed hosts, on the default port, without credentials. */
export function checkCertUrl(raw: string | undefined, allowedHosts: ReadonlySet<string>): URL {
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    throw bad('PAYPAL-CERT-URL is missing or not a URL');
  }
  if (url.protocol !== 'https:') throw bad(`PAYPAL-CERT-URL must be https, got ${url.protocol}`);
  if (url.username || url.password) throw bad('PAYPAL-CERT-URL carries credentials');
  if (!allowedHosts.has(url.hostname.toLowerCase())) throw bad(`PAYPAL-CERT-URL host ${url.hostname} is not a PayPal host`);
  return url;
}

export interface WebhookHeaders {
  transmissionId: string;
  transmissionTime: string;
  signature: string;
  certUrl: URL;
}

/** The signature headers, checked for presence, algorithm, cert host and freshness (before any download). */
export function webhookHeaders(request: InboundCallback, allowedHosts: ReadonlySet<string>, now: number): WebhookHeaders {
  const h = request.headers;
  const transmissionId = h[WEBHOOK_HEADERS.id];
  const transmissionTime = h[WEBHOOK_HEADERS.time];
  const signature = h[WEBHOOK_HEADERS.sig];
  if (!transmissionId || !transmissionTime || !signature) throw bad('PAYPAL-TRANSMISSION-ID/-TIME/-SIG missing');
  const algo = h[WEBHOOK_HEADERS.algo];
  if (algo !== undefined && algo !== WEBHOOK_ALGO) throw bad(`PAYPAL-AUTH-ALGO ${algo} is not ${WEBHOOK_ALGO}`);
  const at = Date.parse(transmissionTime);
  if (!Number.isFinite(at)) throw bad(`PAYPAL-TRANSMISSION-TIME ${JSON.stringify(transmissionTime)} is not a time`);
  if (Math.abs(now - at) > WEBHOOK_TOLERANCE_MS) throw bad(`PAYPAL-TRANSMISSION-TIME ${transmissionTime} is outside ±${WEBHOOK_TOLERANCE_MS / 60_000} min`);
  return { transmissionId, transmissionTime, signature, certUrl: checkCertUrl(h[WEBHOOK_HEADERS.certUrl], allowedHosts) };
}

/** The certificate's key, if the certificate is valid at `now`. */
export function certKey(pem: string, now: number): KeyObject {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw bad('PAYPAL-CERT-URL did not serve a PEM certificate');
  }
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw bad(`the signing certificate is not valid now (${cert.validFrom} – ${cert.validTo})`);
  return cert.publicKey;
}

export function verifyWebhookSignature(h: WebhookHeaders, webhookId: string, rawBody: Buffer, key: KeyObject): void {
  if (!rsaVerify('sha256', webhookMessage(h.transmissionId, h.transmissionTime, webhookId, rawBody), h.signature, key)) {
    throw bad('signature does not verify (message, webhook id or key differ)');
  }
}
