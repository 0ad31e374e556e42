import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sendChannelRequest, type ChannelHttpRequest } from '../http.ts';
import type { ChannelConfig } from '../types.ts';
import { contextOf, inbound, isChannelError, orderInput, refundInput, startCaptureReceiver, type CaptureReceiver } from '../sandbox/acquirer/test-support.ts';
import { PaypalChannel } from './channel.ts';
import { defaultPaypalFaults } from './simulator/book.ts';
import { startPaypalSimulator, type PaypalAppCredentials, type PaypalSimulator } from './simulator/index.ts';

/** The PayPal channel against its simulator: token cache, create/approve/capture once, PENDING, declines, refunds, webhooks, errors. */

let sim: PaypalSimulator;
let creds: PaypalAppCredentials;
let rcv: CaptureReceiver;
const sent: ChannelHttpRequest[] = [];
const channel = new PaypalChannel({ send: (req) => (sent.push(req), sendChannelRequest(req)) });

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}): ChannelConfig {
  return { params: { clientId: creds.clientId, webhookId: creds.webhookId, baseUrl: sim.baseUrl, certHosts: creds.certHost, certCa: creds.certCa, ...over }, secrets: { clientSecret: creds.clientSecret, ...secrets } };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const simOrder = (ppId: string) => sim.ledger().orders.find((o) => o.id === ppId)!;
/** The webhook of this type naming this id (earlier tests' deliveries may still arrive). */
async function hook(type: string, id: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = rcv.received.find((r) => { const e = JSON.parse(r.raw.toString('utf8')) as { event_type: string }; return e.event_type === type && r.raw.includes(id); });
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} webhook for ${id}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const tokenCalls = () => sent.filter((r) => r.url.endsWith('/v1/oauth2/token')).length;

before(async () => {
  sim = await startPaypalSimulator({ timeScale: 1000 });
  rcv = await startCaptureReceiver('');
  creds = sim.registerApp({ webhookUrl: rcv.url });
});
after(async () => {
  await rcv.close();
  await sim.close();
});
beforeEach(() => {
  Object.assign(sim.faults, defaultPaypalFaults());
  rcv.received.length = 0;
});

describe('PayPal channel against the simulator', () => {
  test('USD and JPY: approve link, buyer returns with token and PayerID, the query captures once; amounts rendered per exponent', async () => {
    for (const [currency, amount, value] of [['USD', 1234, '12.34'], ['JPY', 1500, '1500']] as const) {
      const c = ctx();
      const o = orderInput('paypal', { wayCode: 'PP_PC', currency, amount });
      const created = await channel.createPayment(c, o);
      assert.equal(created.payDataType, 'payurl');
      assert.match(created.payData, /\/checkoutnow\?token=/);
      const pp = simOrder(created.channelOrderNo!);
      assert.deepEqual([pp.amount, pp.currency, pp.invoice_id, pp.status], [value, currency, o.payOrderId, 'PAYER_ACTION_REQUIRED']);
      const back = new URL(sim.buyer.approve(created.payData));
      assert.equal(back.pathname, `/api/channel/paypal/return/${o.payOrderId}`);
      assert.equal(back.searchParams.get('token'), created.channelOrderNo);
      assert.ok(back.searchParams.get('PayerID'));
      const input = { ...o, channelOrderNo: created.channelOrderNo! };
      const paid = await channel.queryPayment(c, input);
      assert.deepEqual([paid.status, paid.amount, paid.currency, paid.outTradeNo, paid.channelOrderNo], ['SUCCESS', amount, currency, o.payOrderId, created.channelOrderNo]);
      assert.equal((await channel.queryPayment(c, input)).status, 'SUCCESS');
      assert.equal(simOrder(created.channelOrderNo!).capture_calls, 1, 'a completed order is read, not captured again');
    }
  });

  test('capture once: concurrent captures share one call; a capture after another\'s answers from the order (ORDER_ALREADY_CAPTURED)', async () => {
    const c = ctx();
    const o = orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' });
    const created = await channel.createPayment(c, o);
    sim.buyer.approve(created.payData);
    const [a, b] = await Promise.all([channel.capture(c, o.payOrderId, created.channelOrderNo!), channel.capture(c, o.payOrderId, created.channelOrderNo!)]);
    assert.deepEqual([a.status, b.status], ['SUCCESS', 'SUCCESS']);
    assert.equal(simOrder(created.channelOrderNo!).capture_calls, 1);
    const other = new PaypalChannel();
    const again = await other.capture(c, `${o.payOrderId}X`, created.channelOrderNo!);
    assert.deepEqual([again.status, again.amount, again.outTradeNo], ['SUCCESS', 1234, o.payOrderId], 'another request id: ORDER_ALREADY_CAPTURED, read back');
    assert.equal(simOrder(created.channelOrderNo!).capture!.status, 'COMPLETED');
  });

  test('token: fetched once for concurrent calls, reused, and fetched again once after PayPal revokes it', async () => {
    const c = ctx({ timeoutMs: '9000' });
    const before = tokenCalls();
    const orders = [1, 2, 3].map(() => orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' }));
    await Promise.all(orders.map((o) => channel.createPayment(c, o)));
    assert.equal(tokenCalls() - before, 1);
    sim.revokeTokens();
    assert.equal((await channel.createPayment(c, orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' }))).status, 'WAITING');
    assert.equal(tokenCalls() - before, 2);
    const auth = sent.at(-1)!.headers.Authorization;
    assert.match(auth!, /^Bearer /);
  });

  test('the create is idempotent on our payOrderId: a lost answer is recovered by the query', async () => {
    const c = ctx();
    const o = orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' });
    const first = await channel.createPayment(c, o);
    const again = await channel.createPayment(c, o);
    assert.equal(again.channelOrderNo, first.channelOrderNo);
    const waiting = await channel.queryPayment(c, { ...o, channelOrderNo: null });
    assert.deepEqual([waiting.status, waiting.channelOrderNo], ['WAITING', first.channelOrderNo]);
  });

  test('PENDING capture waits; it completes later; a declined instrument sends the buyer back to approve again', async () => {
    const c = ctx();
    sim.faults.pendingCaptures = true;
    const o = orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' });
    const created = await channel.createPayment(c, o);
    sim.buyer.approve(created.payData);
    const input = { ...o, channelOrderNo: created.channelOrderNo! };
    const pending = await channel.queryPayment(c, input);
    assert.deepEqual([pending.status, pending.errCode], ['WAITING', 'PENDING']);
    sim.settleCapture(simOrder(created.channelOrderNo!).capture!.id, 'complete');
    assert.equal((await channel.queryPayment(c, input)).status, 'SUCCESS');

    sim.faults.pendingCaptures = false;
    sim.faults.declineNextCaptures = 1;
    const d = orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' });
    const dc = await channel.createPayment(c, d);
    sim.buyer.approve(dc.payData);
    const declined = await channel.queryPayment(c, { ...d, channelOrderNo: dc.channelOrderNo! });
    assert.deepEqual([declined.status, declined.errCode], ['WAITING', 'INSTRUMENT_DECLINED']);
    sim.buyer.approve(dc.payData);
    assert.equal((await channel.queryPayment(c, { ...d, channelOrderNo: dc.channelOrderNo! })).status, 'SUCCESS');
  });

  test('refund: partial then full on the capture, queried by PayPal id and by our invoice id; more than captured is refused', async () => {
    const c = ctx();
    const o = orderInput('paypal', { wayCode: 'PP_PC', currency: 'JPY', amount: 900 });
    const created = await channel.createPayment(c, o);
    sim.buyer.approve(created.payData);
    const input = { ...o, channelOrderNo: created.channelOrderNo! };
    await channel.queryPayment(c, input);
    const r1 = refundInput(input, 300, rcv.url);
    const first = await channel.refund(c, input, { ...r1, currency: 'JPY' });
    assert.deepEqual([first.status, first.refundAmount, first.outRefundNo], ['SUCCESS', 300, r1.refundOrderId]);
    assert.equal((await channel.queryRefund(c, input, { ...r1, currency: 'JPY', channelRefundNo: first.channelRefundNo! })).status, 'SUCCESS');
    assert.equal((await channel.queryRefund(c, input, { ...r1, currency: 'JPY' })).channelRefundNo, first.channelRefundNo);
    await assert.rejects(channel.refund(c, input, { ...refundInput(input, 700, rcv.url), currency: 'JPY' }), isChannelError('rejected', 'REFUND_AMOUNT_EXCEEDED'));
    const rest = await channel.refund(c, input, { ...refundInput(input, 600, rcv.url), currency: 'JPY' });
    assert.equal(rest.status, 'SUCCESS');
    assert.equal(simOrder(created.channelOrderNo!).capture!.status, 'REFUNDED');
    assert.equal((await channel.queryRefund(c, input, { ...refundInput(input, 1, rcv.url), currency: 'JPY' })).status, 'NOT_FOUND');
  });

  test('webhooks: APPROVED captures, CAPTURE.COMPLETED and CAPTURE.REFUNDED verify and parse; foreign webhook id, cert host or signature refused', async () => {
    const c = ctx();
    const o = orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD', amount: 500 });
    const created = await channel.createPayment(c, o);
    sim.buyer.approve(created.payData);
    const approved = await hook('CHECKOUT.ORDER.APPROVED', o.payOrderId);
    const parsed = await channel.parseCallback(c, 'pay', inbound(approved!));
    assert.equal(parsed.kind, 'pay');
    assert.match(parsed.eventId!, /^WH-/);
    assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.amount, parsed.payment.outTradeNo], ['SUCCESS', 500, o.payOrderId]);
    const completed = await hook('PAYMENT.CAPTURE.COMPLETED', o.payOrderId);
    const cap = await channel.parseCallback(c, 'pay', inbound(completed));
    assert.deepEqual(cap.kind === 'pay' && [cap.payment.status, cap.payment.channelOrderNo], ['SUCCESS', created.channelOrderNo]);
    assert.equal(simOrder(created.channelOrderNo!).capture_calls, 1, 'parsing the capture webhook captures nothing');
    await channel.refund(c, { ...o, channelOrderNo: created.channelOrderNo! }, { ...refundInput(o, 500, rcv.url), currency: 'USD' });
    const refunded = await hook('PAYMENT.CAPTURE.REFUNDED', o.payOrderId);
    const rf = await channel.parseCallback(c, 'refund', inbound(refunded));
    assert.deepEqual(rf.kind === 'refund' && [rf.refund.status, rf.refund.refundAmount], ['SUCCESS', 500]);

    const body = completed.raw.toString('utf8');
    const forged = (headers: Record<string, string>) => ({ headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), rawBody: Buffer.from(body), query: {} });
    const bad = isChannelError('bad_signature');
    await assert.rejects(channel.parseCallback(c, 'pay', forged(sim.signedHeaders(body, { webhookId: 'WH-SOMEONE-ELSE' }))), bad);
    await assert.rejects(channel.parseCallback(c, 'pay', forged(sim.signedHeaders(body, { webhookId: creds.webhookId, certUrl: 'https://evil.example.com/v1/notifications/certs/X' }))), bad);
    await assert.rejects(channel.parseCallback(ctx({ certHosts: '' }), 'pay', forged(sim.signedHeaders(body, { webhookId: creds.webhookId }))), bad, 'the sandbox host is allowed only when configured');
    await assert.rejects(channel.parseCallback(c, 'pay', { ...forged(sim.signedHeaders(body, { webhookId: creds.webhookId })), rawBody: Buffer.from(body.replace('"5.00"', '"0.05"')) }), bad);
    assert.equal((await channel.parseCallback(c, 'pay', forged(sim.signedHeaders(body, { webhookId: creds.webhookId })))).kind, 'pay');
    await assert.rejects(channel.parseCallback(c, 'refund', forged(sim.signedHeaders(body, { webhookId: creds.webhookId }))), isChannelError('protocol'));
  });

  test('errors: wrong secret → misconfigured; 5xx → system; a slow answer → timeout; unknown order → NOT_FOUND; capture before approval → WAITING', async () => {
    const o = () => orderInput('paypal', { wayCode: 'PP_PC', currency: 'USD' });
    await assert.rejects(channel.createPayment(ctx({}, { clientSecret: 'wrong' }), o()), isChannelError('misconfigured', 'invalid_client'));
    const c = ctx();
    await channel.createPayment(c, o());
    sim.faults.failNextRequests = 1;
    await assert.rejects(channel.createPayment(c, o()), isChannelError('system', 'INTERNAL_SERVICE_ERROR'));
    sim.faults.responseDelayMs = 800;
    const slow = o();
    await assert.rejects(channel.createPayment(ctx({ timeoutMs: '300' }), slow), isChannelError('timeout'));
    sim.faults.responseDelayMs = 0;
    assert.equal((await channel.queryPayment(c, { ...slow, channelOrderNo: null })).status, 'WAITING', 'the slow create was processed; the replay finds it');
    assert.equal((await channel.queryPayment(c, { ...o(), channelOrderNo: 'NOSUCHORDER00000' })).status, 'NOT_FOUND');
    const open = o();
    const created = await channel.createPayment(c, open);
    assert.equal((await channel.capture(c, open.payOrderId, created.channelOrderNo!)).status, 'WAITING');
    await assert.rejects(channel.createPayment(c, orderInput('paypal', { wayCode: 'PP_PC', currency: 'KRW' as never })), isChannelError('rejected', 'INVALID_REQUEST'));
  });
});
