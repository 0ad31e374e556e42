import { createPrivateKey, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateRsaPair, issueCertificate } from '../../sandbox/certs.ts';
import { RetryingNotifier } from '../../sandbox/notifier.ts';
import type { Scheduler } from '../../sandbox/kit.ts';
import { PAYPAL_PATHS, WEBHOOK_ALGO, WEBHOOK_RETRY_S } from '../protocol.ts';
import { signWebhook, webhookMessage } from '../webhook.ts';
import { paypalId, type Json, type PaypalBook, type PaypalKeys, type SimApp, type WebhookRecord } from './book.ts';

/**
 * Webhooks of the simulated PayPal: the event JSON is fixed when it happens, each delivery gets
 * fresh transmission headers signed (SHA256withRSA over id|time|webhook_id|crc32) by the
 * simulator's key, whose certificate is served over https from the cert URL — on its own TLS
 * port with a sandbox certificate the gateway is configured to trust, because a real cert URL
 * is https and the gateway never relaxes that. Retries follow PayPal's schedule ÷ timeScale.
 */

export async function generatePaypalKeys(): Promise<PaypalKeys> {
  const signing = await generateRsaPair();
  const tls = await generateRsaPair();
  const signingCertPem = await issueCertificate({ subject: 'C=US, O=Polypay sandbox PayPal, CN=messageverificationcerts.sandbox.polypay', subjectPublicKeyPem: signing.publicKeyPem, issuerPrivateKeyPem: signing.privateKeyPem, ca: false });
  const tlsCertPem = await issueCertificate({ subject: 'C=US, O=Polypay sandbox PayPal, CN=localhost', subjectPublicKeyPem: tls.publicKeyPem, issuerPrivateKeyPem: tls.privateKeyPem, ca: false, altNames: ['127.0.0.1', '::1', 'localhost'] });
  return { signingKeyPem: signing.privateKeyPem, signingCertPem, tlsKeyPem: tls.privateKeyPem, tlsCertPem, certId: `CERT-360caa42-${paypalId(8).toLowerCase()}` };
}

/** The https server of PAYPAL-CERT-URL: only the signing certificate, at /v1/notifications/certs/{certId}. */
export async function startCertServer(keys: PaypalKeys, host: string, port = 0): Promise<{ certUrl: string; server: Server }> {
  const server = createServer({ key: keys.tlsKeyPem, cert: keys.tlsCertPem }, (req, res) => {
    if (req.method === 'GET' && req.url === `${PAYPAL_PATHS.certs}${keys.certId}`) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(keys.signingCertPem);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"name":"RESOURCE_NOT_FOUND"}');
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { certUrl: `https://${h}:${bound}${PAYPAL_PATHS.certs}${keys.certId}`, server };
}

/** Headers of one delivery (also used by tests to sign forged variants). */
export function transmissionHeaders(o: { keyPem: string; certUrl: string; webhookId: string; body: string; now: number }): Record<string, string> {
  const id = randomUUID();
  const time = new Date(o.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'PAYPAL-TRANSMISSION-ID': id,
    'PAYPAL-TRANSMISSION-TIME': time,
    'PAYPAL-TRANSMISSION-SIG': signWebhook(webhookMessage(id, time, o.webhookId, o.body), createPrivateKey(o.keyPem)),
    'PAYPAL-CERT-URL': o.certUrl,
    'PAYPAL-AUTH-ALGO': WEBHOOK_ALGO,
  };
}

export function eventBody(eventType: string, resourceType: string, resource: Json, summary: string, now: number): { id: string; body: string } {
  const id = `WH-${paypalId(17)}-${paypalId(17)}`;
  const body = { id, event_version: '1.0', create_time: new Date(now).toISOString(), resource_type: resourceType, resource_version: '2.0', event_type: eventType, summary, resource, links: [] };
  return { id, body: JSON.stringify(body) };
}

export interface WebhookHost {
  book: PaypalBook;
  keys: PaypalKeys;
  certUrl: () => string;
  scheduler: Scheduler;
  now(): number;
  timeScale: number;
  callbackTimeoutMs: number;
  log: { debug(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export function paypalNotifier(h: WebhookHost): RetryingNotifier<WebhookRecord> {
  return new RetryingNotifier<WebhookRecord>({
    scheduler: h.scheduler,
    now: h.now,
    timeScale: h.timeScale,
    callbackTimeoutMs: h.callbackTimeoutMs,
    log: h.log,
    retryScheduleS: WEBHOOK_RETRY_S,
    userAgent: 'PayPal/AUHD-214.0-58843477',
    records: h.book.webhooks,
    changed: () => h.book.changed(),
    finished: () => h.book.changed(),
    render: (n) => {
      const app: SimApp | undefined = h.book.apps.get(n.clientId);
      const headers = transmissionHeaders({ keyPem: h.keys.signingKeyPem, certUrl: h.certUrl(), webhookId: app?.webhookId ?? '', body: n.body, now: h.now() });
      return { contentType: 'application/json', body: n.body, headers };
    },
    accepted: (_n, r) => r.status !== null && r.status >= 200 && r.status < 300,
  });
}
