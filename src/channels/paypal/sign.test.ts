import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { test } from 'node:test';
import { ChannelError, type InboundCallback } from '../types.ts';
import { PAYPAL_CERT_HOSTS } from './protocol.ts';
import { certKey, checkCertUrl, signWebhook, verifyWebhookSignature, webhookHeaders, webhookMessage } from './webhook.ts';

/** The webhook signature rule against the shared vector (/work/shared/reference/vectors/paypal-webhook.json), copied into fixtures/. */

const v = JSON.parse(readFileSync(new URL('./fixtures/paypal-webhook.json', import.meta.url), 'utf8')) as {
  webhook_id: string;
  signing_private_key_pem_SIMULATOR_ONLY: string;
  cert_pem: string;
  headers: Record<string, string>;
  body: string;
  expected_crc32_decimal: string;
  expected_message: string;
  expected_signature: string;
};
const hosts = new Set<string>(PAYPAL_CERT_HOSTS);
const at = Date.parse(v.headers['PAYPAL-TRANSMISSION-TIME']!) + 30_000;
// The vector's certificate was issued after its transmission time (it is a generated vector): its key is read at a time inside its validity.
const certAt = Date.parse('2030-01-01T00:00:00Z');
const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, val]) => [k.toLowerCase(), val]));
const inbound = (headers: Record<string, string>, body = v.body): InboundCallback => ({ headers: lower(headers), rawBody: Buffer.from(body), query: {} });
const isBad = (e: unknown): boolean => e instanceof ChannelError && e.kind === 'bad_signature';

test('message: transmission id | time | webhook id | crc32 of the raw body as an unsigned decimal', () => {
  const h = v.headers;
  assert.equal(webhookMessage(h['PAYPAL-TRANSMISSION-ID']!, h['PAYPAL-TRANSMISSION-TIME']!, v.webhook_id, Buffer.from(v.body)), v.expected_message);
  assert.ok(v.expected_message.endsWith(`|${v.expected_crc32_decimal}`));
});

test('signature: the simulator key signs the vector\'s signature; the vector verifies with the certificate key', () => {
  assert.equal(signWebhook(v.expected_message, createPrivateKey(v.signing_private_key_pem_SIMULATOR_ONLY)), v.expected_signature);
  const h = webhookHeaders(inbound(v.headers), hosts, at);
  assert.doesNotThrow(() => verifyWebhookSignature(h, v.webhook_id, Buffer.from(v.body), certKey(v.cert_pem, certAt)));
});

test('refused: a body changed by one byte, another webhook id, a stale or future transmission, a foreign or plain-http cert URL', () => {
  const h = webhookHeaders(inbound(v.headers), hosts, at);
  const key = certKey(v.cert_pem, certAt);
  assert.throws(() => verifyWebhookSignature(h, v.webhook_id, Buffer.from(v.body.replace('10.00', '10.01')), key), isBad);
  assert.throws(() => verifyWebhookSignature(h, 'WH-OTHER-1234', Buffer.from(v.body), key), isBad);
  assert.throws(() => webhookHeaders(inbound(v.headers), hosts, at + 3600_000), isBad);
  assert.throws(() => webhookHeaders(inbound(v.headers), hosts, at - 3600_000), isBad);
  for (const url of ['https://evil.example.com/v1/notifications/certs/X', 'http://api.sandbox.paypal.com/v1/notifications/certs/X', 'https://api.sandbox.paypal.com.evil.example/x', 'https://user:pw@api.paypal.com/x', 'not a url']) {
    assert.throws(() => webhookHeaders(inbound({ ...v.headers, 'PAYPAL-CERT-URL': url }), hosts, at), isBad, url);
  }
  assert.throws(() => webhookHeaders(inbound({ ...v.headers, 'PAYPAL-AUTH-ALGO': 'SHA1withRSA' }), hosts, at), isBad);
  const { ['PAYPAL-TRANSMISSION-SIG']: _sig, ...noSig } = v.headers;
  assert.throws(() => webhookHeaders(inbound(noSig), hosts, at), isBad);
});

test('cert URL: an extra host is allowed only when listed, and still only over https', () => {
  assert.throws(() => checkCertUrl('https://127.0.0.1:9443/v1/notifications/certs/C', hosts), isBad);
  const withSandbox = new Set([...hosts, '127.0.0.1']);
  assert.equal(checkCertUrl('https://127.0.0.1:9443/v1/notifications/certs/C', withSandbox).hostname, '127.0.0.1');
  assert.throws(() => checkCertUrl('http://127.0.0.1:9443/v1/notifications/certs/C', withSandbox), isBad);
});

test('a certificate outside its validity is refused', () => {
  assert.throws(() => certKey(v.cert_pem, Date.parse('2020-01-01T00:00:00Z')), isBad);
  assert.throws(() => certKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', certAt), isBad);
});
