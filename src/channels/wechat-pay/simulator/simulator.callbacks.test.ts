import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { PROBE_SIGNATURE_PREFIX, aesGcmDecrypt } from '../v3-crypto.ts';
import { RETRY_SCHEDULE_S, defaultFaults, startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { nativeOrder, startReceiver, verifySigned, wxCall, type Receiver, type Received } from './test-support.ts';

/** Payment callbacks (protocols.md §A.5): encryption, signatures, retry schedule and fault switches. */

const TIME_SCALE = 1000;
let sim: WechatPaySimulator;
let creds: SandboxCredentials;
let rcv: Receiver;

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: TIME_SCALE });
  creds = sim.registerMerchant({});
});
after(() => sim.close());
beforeEach(async () => {
  Object.assign(sim.faults, defaultFaults());
  rcv = await startReceiver();
});
afterEach(() => rcv.close());

async function payNewOrder(total = 1000): Promise<{ outTradeNo: string; transactionId: string }> {
  const body = nativeOrder(creds, rcv.url, { amount: { total, currency: 'CNY' } });
  const res = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
  assert.equal(res.status, 200, res.text);
  const txn = await sim.payer.payByCodeUrl(res.json.code_url);
  return { outTradeNo: String(body.out_trade_no), transactionId: txn.transaction_id as string };
}

function decrypt(r: Received): any {
  const n = JSON.parse(r.body);
  return JSON.parse(aesGcmDecrypt(creds.apiV3Key, n.resource.nonce, n.resource.associated_data, n.resource.ciphertext));
}

const verified = (r: Received): boolean => verifySigned(r.headers as Record<string, string>, r.body, creds);

const callbackOf = (outTradeNo: string) => sim.ledger(creds.mchid).callbacks.find((c) => c.out_trade_no === outTradeNo);

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('TRANSACTION.SUCCESS', () => {
  test('is encrypted with the APIv3 key, signed, and carries the transaction', async () => {
    const { outTradeNo, transactionId } = await payNewOrder(1234);
    const [r] = await rcv.waitFor(1);
    assert.ok(r && verified(r));
    assert.equal(r.headers['wechatpay-signature-type'], 'WECHATPAY2-SHA256-RSA2048');
    assert.equal(r.headers['content-type'], 'application/json');
    const n = JSON.parse(r.body);
    assert.match(n.id, /^EV-\d+$/);
    assert.equal(n.event_type, 'TRANSACTION.SUCCESS');
    assert.equal(n.resource_type, 'encrypt-resource');
    assert.equal(n.summary, '支付成功');
    assert.match(n.create_time, /\+08:00$/);
    assert.deepEqual(
      { ...n.resource, ciphertext: undefined, nonce: undefined },
      { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction', ciphertext: undefined, nonce: undefined },
    );
    assert.equal(n.resource.nonce.length, 12);
    const t = decrypt(r);
    assert.equal(t.out_trade_no, outTradeNo);
    assert.equal(t.transaction_id, transactionId);
    assert.equal(t.trade_state, 'SUCCESS');
    assert.equal(t.trade_type, 'NATIVE');
    assert.equal(t.bank_type, 'OTHERS');
    assert.deepEqual(t.amount, { total: 1234, payer_total: 1234, currency: 'CNY', payer_currency: 'CNY' });
    await until(() => callbackOf(outTradeNo)?.delivered === true);
    assert.equal(callbackOf(outTradeNo)?.attempts, 1);
  });

  test('is retried on the compressed WeChat schedule while the receiver answers 500, with fresh signatures', async () => {
    rcv.respond = (_r, i) => (i < 3 ? 500 : 204);
    const { outTradeNo } = await payNewOrder();
    const got = await rcv.waitFor(4);
    for (let i = 1; i < 4; i++) {
      const gap = (got[i] as Received).at - (got[i - 1] as Received).at;
      const expected = ((RETRY_SCHEDULE_S[i - 1] as number) * 1000) / TIME_SCALE;
      assert.ok(gap >= expected - 2, `retry ${i} after ${gap} ms, expected ≥ ${expected} ms`);
    }
    assert.equal(new Set(got.map((r) => r.body)).size, 1, 'same body every time');
    assert.equal(new Set(got.map((r) => r.headers['wechatpay-nonce'])).size, 4, 'fresh nonce every time');
    assert.ok(got.every(verified));
    await until(() => callbackOf(outTradeNo)?.delivered === true);
    const c = callbackOf(outTradeNo);
    assert.equal(c?.attempts, 4);
    assert.equal(c?.last_status, 204);
  });

  test('the schedule is WeChat’s 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h', () => {
    assert.deepEqual([...RETRY_SCHEDULE_S], [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600]);
    const total = RETRY_SCHEDULE_S.reduce((a, b) => a + b, 0);
    assert.equal(total, 24 * 3600 + 4 * 60); // "about 24 h 4 min"
  });

  test('gives up after the last retry (16 attempts)', async () => {
    const fast = await startWechatPaySimulator({ timeScale: 1_000_000 });
    try {
      const c = fast.registerMerchant({});
      rcv.respond = () => 500;
      const body = nativeOrder(c, rcv.url);
      const res = await wxCall(fast.baseUrl, c, 'POST', '/v3/pay/transactions/native', body);
      await fast.payer.payByCodeUrl(res.json.code_url);
      const cb = () => fast.ledger(c.mchid).callbacks[0];
      await until(() => cb()?.gave_up === true, 5000);
      assert.equal(cb()?.attempts, RETRY_SCHEDULE_S.length + 1);
      assert.equal(cb()?.delivered, false);
      assert.equal(rcv.received.length, RETRY_SCHEDULE_S.length + 1);
    } finally {
      await fast.close();
    }
  });

  test('an unreachable notify_url counts as a failed attempt', async () => {
    const body = nativeOrder(creds, 'http://127.0.0.1:9/unreachable');
    const res = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
    await sim.payer.payByCodeUrl(res.json.code_url);
    await until(() => (callbackOf(String(body.out_trade_no))?.attempts ?? 0) >= 2);
    const c = callbackOf(String(body.out_trade_no));
    assert.equal(c?.delivered, false);
    assert.equal(c?.last_status, null);
    assert.ok(c?.last_error);
  });
});

describe('callback fault switches', () => {
  test('duplicateCallbacks delivers each notification twice, both validly signed', async () => {
    sim.faults.duplicateCallbacks = true;
    await payNewOrder();
    const [a, b] = await rcv.waitFor(2);
    assert.equal(a?.body, b?.body);
    assert.notEqual(a?.headers['wechatpay-nonce'], b?.headers['wechatpay-nonce']);
    assert.ok(a && b && verified(a) && verified(b));
  });

  test('probeSignatureFirst: a WECHATPAY/SIGNTEST/ probe, then the real notification on retry', async () => {
    sim.faults.probeSignatureFirst = true;
    rcv.respond = (r) => (verified(r) ? 200 : 401);
    const { outTradeNo } = await payNewOrder();
    const [probe, real] = await rcv.waitFor(2);
    assert.ok(String(probe?.headers['wechatpay-signature']).startsWith(PROBE_SIGNATURE_PREFIX));
    assert.ok(probe && !verified(probe));
    assert.ok(real && verified(real));
    await until(() => callbackOf(outTradeNo)?.delivered === true);
    assert.equal(callbackOf(outTradeNo)?.probe_accepted, false);
  });

  test('badCallbackSignature fails verification; turning it off lets a retry succeed', async () => {
    sim.faults.badCallbackSignature = true;
    rcv.respond = (r) => (verified(r) ? 200 : 401);
    const { outTradeNo } = await payNewOrder();
    const [bad] = await rcv.waitFor(1);
    assert.ok(bad && !verified(bad));
    sim.faults.badCallbackSignature = false;
    await until(() => callbackOf(outTradeNo)?.delivered === true);
    assert.ok(verified(rcv.received.at(-1) as Received));
  });

  test('staleCallbackTimestamp signs correctly over a timestamp 10 minutes old', async () => {
    sim.faults.staleCallbackTimestamp = true;
    await payNewOrder();
    const [r] = await rcv.waitFor(1);
    assert.ok(r && verified(r), 'signature itself is valid');
    const age = Math.floor(Date.now() / 1000) - Number(r.headers['wechatpay-timestamp']);
    assert.ok(age >= 590 && age <= 610, `age ${age}`);
  });

  test('tamperCallbackAmount encrypts another amount under a valid signature', async () => {
    sim.faults.tamperCallbackAmount = true;
    await payNewOrder(500);
    const [r] = await rcv.waitFor(1);
    assert.ok(r && verified(r));
    assert.notEqual(decrypt(r).amount.total, 500);
  });
});
