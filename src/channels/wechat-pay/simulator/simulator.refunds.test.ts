import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { aesGcmDecrypt } from '../v3-crypto.ts';
import { defaultFaults, startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { nativeOrder, startReceiver, verifySigned, wxCall, type Receiver } from './test-support.ts';

/** Domestic refunds (protocols.md §A.7) and REFUND.* notifications (§A.5). */

let sim: WechatPaySimulator;
let creds: SandboxCredentials;
let rcv: Receiver;

before(async () => {
  sim = await startWechatPaySimulator({ refundDelayMs: 30 });
  creds = sim.registerMerchant({});
});
after(() => sim.close());
// A receiver per test: late callbacks of an earlier test must not land in this one's list.
beforeEach(async () => {
  Object.assign(sim.faults, defaultFaults());
  rcv = await startReceiver('/notify/refund');
});
afterEach(() => rcv.close());

const call = (method: 'GET' | 'POST', path: string, body?: unknown) => wxCall(sim.baseUrl, creds, method, path, body);

async function paidOrder(total = 1000): Promise<{ outTradeNo: string; transactionId: string }> {
  const body = nativeOrder(creds, 'http://127.0.0.1:9/pay-notify', { amount: { total, currency: 'CNY' } });
  const res = await call('POST', '/v3/pay/transactions/native', body);
  const txn = await sim.payer.payByCodeUrl(res.json.code_url);
  return { outTradeNo: String(body.out_trade_no), transactionId: txn.transaction_id as string };
}

let seq = 0;
function refundBody(outTradeNo: string, refund: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    out_trade_no: outTradeNo,
    out_refund_no: `R${Date.now()}${++seq}`,
    reason: '商品已售完',
    notify_url: rcv.url,
    amount: { refund, total: 1000, currency: 'CNY' },
    ...over,
  };
}

async function refundStatus(outRefundNo: unknown): Promise<string> {
  return (await call('GET', `/v3/refund/domestic/refunds/${String(outRefundNo)}`)).json.status;
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('partial refunds: PROCESSING then SUCCESS, REFUND.SUCCESS notification, trade_state REFUND, over-refund refused', async () => {
  const { outTradeNo, transactionId } = await paidOrder();
  const first = refundBody(outTradeNo, 300);
  const res = await call('POST', '/v3/refund/domestic/refunds', first);
  assert.equal(res.status, 200, res.text);
  assert.ok(verifySigned(res.headers, res.text, creds));
  assert.equal(res.json.status, 'PROCESSING');
  assert.match(res.json.refund_id, /^50\d{27}$/);
  assert.equal(res.json.transaction_id, transactionId);
  assert.equal(res.json.amount.refund, 300);
  assert.equal(res.json.amount.total, 1000);
  await until(async () => (await refundStatus(first.out_refund_no)) === 'SUCCESS');

  const [cb] = await rcv.waitFor(1);
  assert.ok(cb && verifySigned(cb.headers as Record<string, string>, cb.body, creds));
  const n = JSON.parse(cb.body);
  assert.equal(n.event_type, 'REFUND.SUCCESS');
  assert.equal(n.resource.original_type, 'refund');
  const plain = JSON.parse(aesGcmDecrypt(creds.apiV3Key, n.resource.nonce, 'refund', n.resource.ciphertext));
  assert.equal(plain.refund_status, 'SUCCESS');
  assert.equal(plain.out_refund_no, first.out_refund_no);
  assert.equal(plain.refund_id, res.json.refund_id);
  assert.deepEqual(plain.amount, { total: 1000, refund: 300, payer_total: 1000, payer_refund: 300 });
  assert.match(plain.success_time, /\+08:00$/);

  const order = await call('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${creds.mchid}`);
  assert.equal(order.json.trade_state, 'REFUND');
  const over = await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 701));
  assert.equal(over.status, 400);
  assert.equal(over.json.code, 'INVALID_REQUEST');
  const rest = await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 700, { out_trade_no: undefined, transaction_id: transactionId }));
  assert.equal(rest.status, 200, rest.text);
  await until(async () => (await refundStatus(rest.json.out_refund_no)) === 'SUCCESS');
  const ledger = sim.ledger(creds.mchid).orders.find((o) => o.out_trade_no === outTradeNo);
  assert.equal(ledger?.refunded_total, 1000);
  assert.equal((await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 1))).json.code, 'INVALID_REQUEST');
});

test('out_refund_no is idempotent: same params → same refund, different → INVALID_REQUEST', async () => {
  const { outTradeNo } = await paidOrder();
  const body = refundBody(outTradeNo, 100);
  const a = await call('POST', '/v3/refund/domestic/refunds', body);
  const b = await call('POST', '/v3/refund/domestic/refunds', body);
  assert.equal(b.status, 200);
  assert.equal(b.json.refund_id, a.json.refund_id);
  const c = await call('POST', '/v3/refund/domestic/refunds', { ...body, amount: { refund: 200, total: 1000, currency: 'CNY' } });
  assert.equal(c.status, 400);
  assert.equal(c.json.code, 'INVALID_REQUEST');
  assert.equal(sim.ledger(creds.mchid).refunds.filter((r) => r.out_trade_no === outTradeNo).length, 1);
});

test('refund rules: total must match, order must be paid, unknown order or refund → 404', async () => {
  const { outTradeNo } = await paidOrder();
  const wrongTotal = await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 100, { amount: { refund: 100, total: 999, currency: 'CNY' } }));
  assert.equal(wrongTotal.json.code, 'INVALID_REQUEST');
  const unpaid = nativeOrder(creds, 'http://127.0.0.1:9/n');
  await call('POST', '/v3/pay/transactions/native', unpaid);
  assert.equal((await call('POST', '/v3/refund/domestic/refunds', refundBody(String(unpaid.out_trade_no), 100))).json.code, 'INVALID_REQUEST');
  const unknown = await call('POST', '/v3/refund/domestic/refunds', refundBody('NOSUCHORDER1', 100));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.code, 'RESOURCE_NOT_EXISTS');
  assert.equal((await call('GET', '/v3/refund/domestic/refunds/NOSUCHREFUND')).status, 404);
  const noCurrency = await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 100, { amount: { refund: 100, total: 1000 } }));
  assert.equal(noCurrency.json.code, 'PARAM_ERROR');
  assert.equal(noCurrency.json.detail.field, '/amount/currency');
});

test('notEnoughBalanceForRefunds → 403 NOT_ENOUGH and no refund is recorded', async () => {
  const { outTradeNo } = await paidOrder();
  sim.faults.notEnoughBalanceForRefunds = true;
  const body = refundBody(outTradeNo, 100);
  const res = await call('POST', '/v3/refund/domestic/refunds', body);
  assert.equal(res.status, 403);
  assert.equal(res.json.code, 'NOT_ENOUGH');
  assert.equal((await call('GET', `/v3/refund/domestic/refunds/${String(body.out_refund_no)}`)).status, 404);
  sim.faults.notEnoughBalanceForRefunds = false;
  assert.equal((await call('POST', '/v3/refund/domestic/refunds', body)).status, 200);
});

test('holdRefunds keeps PROCESSING until refunds.complete; ABNORMAL then SUCCESS; CLOSED releases the amount', async () => {
  sim.faults.holdRefunds = true;
  const { outTradeNo } = await paidOrder();
  const held = refundBody(outTradeNo, 600);
  await call('POST', '/v3/refund/domestic/refunds', held);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(await refundStatus(held.out_refund_no), 'PROCESSING');
  const abnormal = await sim.refunds.complete(creds.mchid, String(held.out_refund_no), 'ABNORMAL');
  assert.equal(abnormal.status, 'ABNORMAL');
  const done = await sim.refunds.complete(creds.mchid, String(held.out_refund_no), 'SUCCESS');
  assert.equal(done.status, 'SUCCESS');
  await assert.rejects(sim.refunds.complete(creds.mchid, String(held.out_refund_no), 'CLOSED'), { code: 'REFUND_FINAL' });
  // Two notifications in flight at once: WeChat does not promise their order, nor do we.
  const events = (await rcv.waitFor(2)).map((r) => JSON.parse(r.body).event_type);
  assert.deepEqual(events.sort(), ['REFUND.ABNORMAL', 'REFUND.SUCCESS']);

  const closing = refundBody(outTradeNo, 400);
  await call('POST', '/v3/refund/domestic/refunds', closing);
  assert.equal((await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 400))).json.code, 'INVALID_REQUEST');
  await sim.refunds.complete(creds.mchid, String(closing.out_refund_no), 'CLOSED');
  assert.equal((await rcv.waitFor(3)).map((r) => JSON.parse(r.body).event_type)[2], 'REFUND.CLOSED');
  const again = await call('POST', '/v3/refund/domestic/refunds', refundBody(outTradeNo, 400));
  assert.equal(again.status, 200, 'a CLOSED refund no longer holds its amount');
});

test('a refund without notify_url completes silently', async () => {
  const { outTradeNo } = await paidOrder();
  const body = refundBody(outTradeNo, 100, { notify_url: undefined });
  await call('POST', '/v3/refund/domestic/refunds', body);
  await until(async () => (await refundStatus(body.out_refund_no)) === 'SUCCESS');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(rcv.received.length, 0);
});
