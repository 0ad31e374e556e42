import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { DEMO_PAYPAL_CLIENT_ID, ensureAcquirerDemo } from '../../src/demo-acquirers.ts';
import { startPaypalSimulator, type PaypalSimulator } from '../../src/channels/paypal/simulator/index.ts';
import { defaultPaypalFaults } from '../../src/channels/paypal/simulator/book.ts';

/**
 * PP_PC through the gateway (the demo-paypal app) against the PayPal simulator, in USD and JPY:
 * the buyer approves on the sandbox page and comes back through our return route, which captures;
 * the webhook arriving before or after the return captures nothing more; PENDING then COMPLETED;
 * refunds in two parts (state 5); a cancel on the approve page leaves the order open and closable;
 * forged webhooks change nothing.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`PayPal end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: PaypalSimulator;
    let client: MerchantClient;
    before(async () => {
      sim = await startPaypalSimulator({ timeScale: 1000 });
      const apps = await ensureAcquirerDemo(env.s.gw, { paypal: sim }, env.s.demo);
      assert.deepEqual(apps.map((a) => a.appId), ['demo-paypal']);
      // The main demo app serves PP_PC through PayPal (no other channel does): the receiver checks its signatures.
      client = new MerchantClient({ baseUrl: env.s.url, ...env.s.demo });
    });
    after(() => sim?.close());
    beforeEach(() => Object.assign(sim.faults, defaultPaypalFaults()));

    const create = async (amount: number, currency: string): Promise<Data> => {
      const res = await client.unifiedOrder({ mchOrderNo: orderNo('pp'), wayCode: 'PP_PC', amount, currency, subject: 'PayPal 测试', body: 'b', clientIp: '10.1.2.3', notifyUrl: env.receiver.url, returnUrl: 'https://shop.example.com/done' });
      assert.equal(res.code, 0, res.msg);
      return res.data as Data;
    };
    const query = async (id: string): Promise<Data> => (await client.query({ payOrderId: id })).data as Data;
    const state = (id: string, s: number) => waitFor(`${id} in state ${s}`, async () => (await query(id)).state === s);
    const ppOrder = (token: string) => sim.ledger(DEMO_PAYPAL_CLIENT_ID).orders.find((o) => o.id === token)!;
    const tokenOf = (payData: string) => new URL(payData).searchParams.get('token')!;
    const notices = (id: string) => env.receiver.received.filter((r) => r.fields.payOrderId === id && r.fields.state === '2' && !r.fields.refundOrderId);
    /** The buyer on the sandbox page: opens it, presses a button; answers where PayPal sends them. */
    async function press(payData: string, action: 'approve' | 'cancel'): Promise<string> {
      const pageRes = await request(payData);
      assert.equal(pageRes.statusCode, 200);
      assert.match(await pageRes.body.text(), /Pay Now/);
      const res = await request(`${sim.baseUrl}/checkoutnow/${tokenOf(payData)}/${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      await res.body.dump();
      assert.equal(res.statusCode, 303);
      return String(res.headers.location);
    }
    /** The buyer's browser at our return route: answers the merchant URL we redirect to. */
    async function follow(location: string): Promise<URL> {
      assert.ok(location.startsWith(`${env.s.url}/api/channel/paypal/return/`), location);
      const res = await request(location);
      await res.body.dump();
      assert.equal(res.statusCode, 302);
      return new URL(String(res.headers.location));
    }

    for (const [currency, amount, value] of [['usd', 1999, '19.99'], ['jpy', 1500, '1500']] as const) {
      test(`${currency.toUpperCase()}: approve on the page, the return captures once, the merchant is notified; later webhooks capture nothing more`, async () => {
        sim.faults.holdWebhooks = true;
        const d = await create(amount, currency);
        assert.deepEqual([d.orderState, d.payDataType], [1, 'payurl']);
        assert.deepEqual([ppOrder(tokenOf(d.payData)).amount, ppOrder(tokenOf(d.payData)).currency], [value, currency.toUpperCase()]);
        const merchant = await follow(await press(d.payData, 'approve'));
        assert.equal(merchant.origin + merchant.pathname, 'https://shop.example.com/done');
        assert.deepEqual([merchant.searchParams.get('state'), merchant.searchParams.get('amount'), merchant.searchParams.get('currency')], ['2', String(amount), currency]);
        const q = await query(d.payOrderId);
        assert.deepEqual([q.state, q.amount, q.currency, q.channelOrderNo], [2, amount, currency, tokenOf(d.payData)]);
        await waitFor('merchant notified', () => notices(d.payOrderId).find((n) => n.signatureValid));
        assert.equal(sim.releaseWebhooks(), 2, 'APPROVED and CAPTURE.COMPLETED were held');
        await waitFor('webhooks acknowledged', () => sim.ledger(DEMO_PAYPAL_CLIENT_ID).webhooks.filter((w) => w.delivered).length >= 2 && sim.ledger(DEMO_PAYPAL_CLIENT_ID).webhooks.every((w) => w.delivered || w.held));
        const pp = ppOrder(tokenOf(d.payData));
        assert.deepEqual([pp.capture_calls, pp.capture?.status], [1, 'COMPLETED'], 'captured exactly once');
        assert.equal(notices(d.payOrderId).length, 1);
      });
    }

    test('the webhook first: CHECKOUT.ORDER.APPROVED captures, then the buyer\'s return finds the order paid', async () => {
      const d = await create(500, 'usd');
      const back = await press(d.payData, 'approve');
      await state(d.payOrderId, 2);
      const merchant = await follow(back);
      assert.equal(merchant.searchParams.get('state'), '2');
      await waitFor('capture webhook acknowledged', () => sim.ledger(DEMO_PAYPAL_CLIENT_ID).webhooks.some((w) => w.event_type === 'PAYMENT.CAPTURE.COMPLETED' && w.delivered && w.url.includes('/api/pay/notify/paypal')));
      assert.equal(ppOrder(tokenOf(d.payData)).capture_calls, 1);
    });

    test('PENDING capture: the order waits; PAYMENT.CAPTURE.COMPLETED later pays it', async () => {
      sim.faults.pendingCaptures = true;
      const d = await create(700, 'usd');
      const merchant = await follow(await press(d.payData, 'approve'));
      assert.equal(merchant.searchParams.get('state'), '1');
      const capture = await waitFor('pending capture', () => ppOrder(tokenOf(d.payData)).capture);
      assert.equal(capture.status, 'PENDING');
      await waitFor('PENDING webhook acknowledged', () => sim.ledger(DEMO_PAYPAL_CLIENT_ID).webhooks.some((w) => w.event_type === 'PAYMENT.CAPTURE.PENDING' && w.delivered && ppOrder(tokenOf(d.payData)).capture?.id === capture.id));
      assert.equal((await query(d.payOrderId)).state, 1);
      sim.settleCapture(capture.id, 'complete');
      await state(d.payOrderId, 2);
      assert.equal(ppOrder(tokenOf(d.payData)).capture_calls, 1);
    });

    test('refund in two parts (JPY): the capture refunded, the order ends in state 5', async () => {
      const d = await create(900, 'jpy');
      await follow(await press(d.payData, 'approve'));
      await state(d.payOrderId, 2);
      for (const [amt, s] of [[300, 2], [600, 5]] as const) {
        const res = await client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('r'), refundAmount: amt, currency: 'jpy', refundReason: 'r', notifyUrl: env.receiver.url });
        assert.equal(res.code, 0, res.msg);
        const refundId = (res.data as Data).refundOrderId;
        await waitFor(`refund ${refundId} settled`, async () => ((await client.refundQuery({ refundOrderId: refundId })).data as Data).state === 2);
        await state(d.payOrderId, s);
      }
      assert.deepEqual([ppOrder(tokenOf(d.payData)).capture?.status, ppOrder(tokenOf(d.payData)).capture?.refunded], ['REFUNDED', 900]);
      await waitFor('refund notifications', () => env.receiver.received.filter((x) => x.fields.payOrderId === d.payOrderId && x.fields.refundOrderId && x.signatureValid).length === 2);
    });

    test('cancel on the approve page: back at the merchant with the order open; it can be closed', async () => {
      const d = await create(300, 'usd');
      const merchant = await follow(await press(d.payData, 'cancel'));
      assert.equal(merchant.searchParams.get('state'), '1');
      assert.equal(ppOrder(tokenOf(d.payData)).capture_calls, 0);
      assert.equal((await client.close({ payOrderId: d.payOrderId })).code, 0);
      assert.equal((await query(d.payOrderId)).state, 6);
    });

    test('forged webhooks change nothing: bad signature, cert URL on a foreign host, another webhook id, an amount that is not the order\'s', async () => {
      // Not yet approved: each refusal makes the gateway ask PayPal, which would rightly capture an approved order.
      const d = await create(1000, 'usd');
      const token = tokenOf(d.payData);
      const webhookId = (await env.s.gw.tenancy.getChannelConfig(env.s.demo.appId, 'paypal'))!.params.webhookId!;
      const captureEvent = (value: string) => JSON.stringify({ id: `WH-FORGED-${value}`, event_version: '1.0', create_time: new Date().toISOString(), resource_type: 'capture', resource_version: '2.0', event_type: 'PAYMENT.CAPTURE.COMPLETED', summary: 'forged', resource: { id: 'FORGEDCAPTURE0001', status: 'COMPLETED', amount: { currency_code: 'USD', value }, custom_id: d.payOrderId, invoice_id: d.payOrderId, final_capture: true, supplementary_data: { related_ids: { order_id: token } }, create_time: new Date().toISOString() } });
      const good = captureEvent('10.00');
      const real = sim.signedHeaders(good, { webhookId });
      const cases: Array<[string, string, Record<string, string>]> = [
        ['bad signature', good, { ...real, 'PAYPAL-TRANSMISSION-SIG': sim.signedHeaders(captureEvent('0.01'), { webhookId })['PAYPAL-TRANSMISSION-SIG']! }],
        ['foreign cert host', good, sim.signedHeaders(good, { webhookId, certUrl: 'https://evil.example.com/v1/notifications/certs/CERT-1' })],
        ['another webhook id', good, sim.signedHeaders(good, { webhookId: 'WH0THERWEBHOOK99' })],
        ['amount mismatch', captureEvent('0.01'), sim.signedHeaders(captureEvent('0.01'), { webhookId })],
      ];
      for (const [what, body, headers] of cases) {
        const res = await request(`${env.s.url}/api/pay/notify/paypal`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
        await res.body.dump();
        assert.equal(res.statusCode, 400, what);
        assert.equal((await query(d.payOrderId)).state, 1, what);
      }
      const refusals = (await env.s.gw.db.query<{ detail: Data }>(`SELECT detail FROM order_events WHERE order_id = $1 AND kind = 'refused'`, [d.payOrderId])).rows;
      assert.ok(refusals.length >= 4, `every forgery recorded (${refusals.length})`);
      assert.equal(ppOrder(token).capture_calls, 0, 'nothing captured');
      await follow(await press(d.payData, 'approve'));
      await state(d.payOrderId, 2);
      assert.equal((await query(d.payOrderId)).amount, 1000);
    });
  });
}
