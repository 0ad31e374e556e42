import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { inbound, startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { PaypalClient } from '../client.ts';
import { parsePaypalConfig } from '../config.ts';
import { startPaypalSimulator, type PaypalAppCredentials, type PaypalSimulator } from './index.ts';

/** The PayPal simulator on the wire: OAuth, error bodies, PayPal-Request-Id, the approve page, webhook retries with fresh signatures. */

let sim: PaypalSimulator;
let app: PaypalAppCredentials;
let rcv: CaptureReceiver;

before(async () => {
  sim = await startPaypalSimulator({ timeScale: 1000 });
  rcv = await startCaptureReceiver('');
  app = sim.registerApp({ webhookUrl: rcv.url });
});
after(async () => {
  await rcv.close();
  await sim.close();
});

async function call(method: 'GET' | 'POST', path: string, o: { token?: string; body?: unknown; rid?: string; basic?: string; form?: string } = {}) {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.basic) headers.authorization = `Basic ${Buffer.from(o.basic).toString('base64')}`;
  if (o.rid) headers['paypal-request-id'] = o.rid;
  headers['content-type'] = o.form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
  const res = await request(`${sim.baseUrl}${path}`, { method, headers, ...(method === 'POST' ? { body: o.form ?? JSON.stringify(o.body ?? {}) } : {}) });
  return { status: res.statusCode, location: res.headers.location as string | undefined, body: (await res.body.json().catch(() => ({}))) as Record<string, any> };
}

const orderBody = (invoice: string, value = '10.00', currency = 'USD') => ({ intent: 'CAPTURE', purchase_units: [{ reference_id: invoice, custom_id: invoice, invoice_id: invoice, amount: { currency_code: currency, value } }], payment_source: { paypal: { experience_context: { return_url: 'http://127.0.0.1:1/back', cancel_url: 'http://127.0.0.1:1/cancel' } } } });

test('OAuth: a wrong secret is invalid_client; calls without a valid token are invalid_token', async () => {
  assert.deepEqual((await call('POST', '/v1/oauth2/token', { basic: `${app.clientId}:nope`, form: 'grant_type=client_credentials' })).body.error, 'invalid_client');
  const ok = await call('POST', '/v1/oauth2/token', { basic: `${app.clientId}:${app.clientSecret}`, form: 'grant_type=client_credentials' });
  assert.deepEqual([ok.status, ok.body.token_type, ok.body.expires_in], [200, 'Bearer', 32400]);
  const denied = await call('GET', '/v2/checkout/orders/X', { token: 'forged' });
  assert.deepEqual([denied.status, denied.body.error], [401, 'invalid_token']);
});

test('orders: PayPal error bodies, PayPal-Request-Id replays, capture before approval refused, the approve page redirects with token and PayerID', async () => {
  const token = (await call('POST', '/v1/oauth2/token', { basic: `${app.clientId}:${app.clientSecret}`, form: 'grant_type=client_credentials' })).body.access_token as string;
  const jpy = await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIMJPY1', '12.50', 'JPY') });
  assert.deepEqual([jpy.status, jpy.body.name, jpy.body.details[0].issue], [422, 'UNPROCESSABLE_ENTITY', 'DECIMAL_PRECISION']);
  assert.ok(jpy.body.debug_id);
  const a = await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIM1'), rid: 'rid-1' });
  const b = await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIM1'), rid: 'rid-1' });
  assert.deepEqual([a.status, b.body.id, a.body.status], [201, a.body.id, 'PAYER_ACTION_REQUIRED']);
  assert.equal((await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIM1', '11.00'), rid: 'rid-1' })).body.details[0].issue, 'DUPLICATE_REQUEST_ID');
  assert.equal((await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIM1') })).body.details[0].issue, 'DUPLICATE_INVOICE_ID');
  const early = await call('POST', `/v2/checkout/orders/${a.body.id}/capture`, { token });
  assert.deepEqual([early.status, early.body.details[0].issue], [422, 'ORDER_NOT_APPROVED']);
  const link = (a.body.links as Array<{ rel: string; href: string }>).find((l) => l.rel === 'payer-action')!.href;
  const pageRes = await request(link);
  assert.match(await pageRes.body.text(), /10\.00 USD/);
  const approved = await call('POST', `/checkoutnow/${a.body.id}/approve`, { form: '' });
  const back = new URL(approved.location!);
  assert.deepEqual([approved.status, back.pathname, back.searchParams.get('token')], [303, '/back', a.body.id]);
  assert.ok(back.searchParams.get('PayerID'));
  const cap = await call('POST', `/v2/checkout/orders/${a.body.id}/capture`, { token, rid: 'cap-1' });
  const capAgain = await call('POST', `/v2/checkout/orders/${a.body.id}/capture`, { token, rid: 'cap-1' });
  assert.deepEqual([cap.status, capAgain.body.purchase_units[0].payments.captures[0].id], [201, cap.body.purchase_units[0].payments.captures[0].id]);
  assert.equal((await call('POST', `/v2/checkout/orders/${a.body.id}/capture`, { token, rid: 'cap-2' })).body.details[0].issue, 'ORDER_ALREADY_CAPTURED');
});

test('webhooks: retried until a 2xx with PayPal\'s schedule (scaled), the same body each time, fresh headers that verify', async () => {
  rcv.received.length = 0;
  rcv.status = (_c, i) => (i < 2 ? 503 : 200);
  const token = (await call('POST', '/v1/oauth2/token', { basic: `${app.clientId}:${app.clientSecret}`, form: 'grant_type=client_credentials' })).body.access_token as string;
  const o = await call('POST', '/v2/checkout/orders', { token, body: orderBody('SIMWH1') });
  sim.buyer.approve(o.body.id as string);
  const got = await rcv.waitFor(3, 8000);
  assert.deepEqual(new Set(got.map((g) => g.raw.toString())).size, 1, 'the same event bytes');
  assert.equal(new Set(got.map((g) => g.headers['paypal-transmission-id'])).size, 3, 'a fresh transmission each time');
  const client = new PaypalClient(parsePaypalConfig({ params: { clientId: app.clientId, webhookId: app.webhookId, baseUrl: app.baseUrl, certHosts: app.certHost, certCa: app.certCa }, secrets: { clientSecret: app.clientSecret } }));
  for (const g of got) assert.equal((await client.verifyWebhook(inbound(g))).event_type, 'CHECKOUT.ORDER.APPROVED');
  const eventId = (JSON.parse(got[0]!.raw.toString()) as { id: string }).id;
  const w = await (async () => { for (;;) { const x = sim.ledger(app.clientId).webhooks.find((h) => h.id === eventId && h.delivered); if (x) return x; await new Promise((r) => setTimeout(r, 10)); } })();
  assert.deepEqual([w.attempts, w.last_status], [3, 200]);
  rcv.status = () => 200;
});
