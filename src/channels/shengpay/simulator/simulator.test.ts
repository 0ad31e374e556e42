import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { defaultAcquirerFaults } from '../../sandbox/acquirer/types.ts';
import { compactChinaTime } from '../../china-time.ts';
import { NOTIFY_RETRY_S } from '../protocol.ts';
import { signShengpay, verifyShengpay } from '../sign.ts';
import { startShengpaySimulator, type ShengpayMerchantCredentials, type ShengpaySimulator } from './index.ts';

/** The simulator as Shengpay's strict counterpart: request checks, idempotency, notifications and retries, refunds, pages, admin API, state file. */

const SCALE = 1000;
const ADMIN = 'sim-admin-token';
let sim: ShengpaySimulator;
let m: ShengpayMerchantCredentials;
let rcv: CaptureReceiver;

before(async () => {
  sim = await startShengpaySimulator({ timeScale: SCALE, refundDelayMs: 50, adminToken: ADMIN });
  m = await sim.registerMerchant({ merchantId: '11800001' });
  rcv = await startCaptureReceiver('SUCCESS');
});
after(async () => {
  await rcv.close();
  await sim.close();
});
beforeEach(() => {
  Object.assign(sim.faults, defaultAcquirerFaults());
  rcv.received.length = 0;
  rcv.respond = () => 'SUCCESS';
});

let n = 0;
const no = () => `T${Date.now()}${++n}`;
const platform = () => createPublicKey(m.shengpayPublicKeyPem);

async function call(path: string, fields: Record<string, unknown>, o: { raw?: string; tamper?: (f: Record<string, unknown>) => void } = {}): Promise<Record<string, any>> {
  const signed: Record<string, unknown> = signShengpay({ mchId: m.merchantId, nonceStr: randomBytes(8).toString('hex'), ...fields }, 'RSA2', createPrivateKey(m.privateKeyPem as string));
  o.tamper?.(signed);
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: o.raw ?? JSON.stringify(signed) });
  return (await res.body.json()) as Record<string, any>;
}

const order = (over: Record<string, unknown> = {}) => ({ outTradeNo: no(), totalFee: 100, currency: 'CNY', tradeType: 'wx_native', body: '商品', notifyUrl: rcv.url, ...over });

describe('request checks', () => {
  test('unsigned returnCode FAIL for malformed, unknown-merchant, nonce-less, wrongly typed or wrongly signed requests', async () => {
    const cases: Array<[string, Parameters<typeof call>[2], string]> = [
      ['not JSON', { raw: 'mchId=1' }, 'PARAMS_ERROR'],
      ['unknown merchant', { tamper: (f) => (f.mchId = '11899999') }, 'MCH_NOT_FOUND'],
      ['no nonceStr', { tamper: (f) => delete f.nonceStr }, 'LACK_PARAMS'],
      ['signType MD5', { tamper: (f) => (f.signType = 'MD5') }, 'PARAMS_ERROR'],
      ['a field changed after signing', { tamper: (f) => (f.totalFee = 1) }, 'SIGN_ERROR'],
      ['a field added after signing', { tamper: (f) => (f.attach = 'x') }, 'SIGN_ERROR'],
    ];
    for (const [what, o, code] of cases) {
      const a = await call('/pay/unifiedorderOffline', order(), o);
      assert.deepEqual([a.returnCode, a.errorCode, a.sign], ['FAIL', code, undefined], what);
    }
  });

  test('answers are signed under the caller\'s signType; business refusals are signed resultCode FAIL', async () => {
    const ok = await call('/pay/unifiedorderOffline', order());
    assert.deepEqual([ok.returnCode, ok.resultCode, ok.signType], ['SUCCESS', 'SUCCESS', 'RSA2']);
    assert.ok(verifyShengpay(ok, platform()));
    assert.match(ok.payInfo, /\/sandbox\/pay\//);
    const bad = await call('/pay/unifiedorderOffline', order({ totalFee: '100' }));
    assert.deepEqual([bad.resultCode, bad.errorCode], ['FAIL', 'PARAMS_ERROR'], 'amounts are JSON integers');
    assert.ok(verifyShengpay(bad, platform()));
    for (const [over, code] of [[{ tradeType: 'wx_jsapi' }, 'LACK_PARAMS'], [{ tradeType: 'wx_jsapi', extra: '{"openId":"o"}' }, 'LACK_PARAMS'], [{ tradeType: 'bitcoin' }, 'PARAMS_ERROR'], [{ currency: 'USD' }, 'PARAMS_ERROR'], [{ notifyUrl: 'ftp://x' }, 'PARAMS_ERROR'], [{ timeExpire: '2026-01-01' }, 'PARAMS_ERROR']] as const) {
      assert.equal((await call('/pay/unifiedorderOffline', order(over))).errorCode, code, JSON.stringify(over));
    }
    sim.faults.busyNextRequests = 1;
    const busy = await call('/pay/queryOrder', { outTradeNo: 'x' });
    assert.deepEqual([busy.resultCode, busy.errorCode], ['FAIL', 'BIZERR_NEED_RETRY']);
    assert.equal((await call('/pay/queryOrder', { outTradeNo: 'x' })).errorCode, 'ORDER_NOT_EXIST', 'busy counts down');
  });

  test('outTradeNo is the idempotency key; expired orders close', async () => {
    const o = order();
    const a = await call('/pay/unifiedorderOffline', o);
    const b = await call('/pay/unifiedorderOffline', o);
    assert.equal(b.transactionId, a.transactionId);
    assert.equal((await call('/pay/unifiedorderOffline', { ...o, totalFee: 101 })).errorCode, 'OUT_TRADE_NO_USED');
    const past = order({ timeExpire: compactChinaTime(Date.now() - 1000) });
    await call('/pay/unifiedorderOffline', past);
    assert.equal((await call('/pay/queryOrder', { outTradeNo: past.outTradeNo })).status, 'CLOSED');
    assert.equal((await call('/pay/unifiedorderOffline', past)).errorCode, 'ORDER_CLOSED');
  });
});

describe('notifications and refunds', () => {
  test('retried until the body is exactly SUCCESS, on the schedule divided by timeScale; fresh nonce and signature', async () => {
    const answers = ['FAIL', 'success', 'SUCCESS '];
    rcv.respond = (_c, i) => answers[i] ?? 'SUCCESS';
    const o = order();
    const a = await call('/pay/unifiedorderOffline', o);
    sim.payer.pay(a.payInfo);
    const got = await rcv.waitFor(3);
    await new Promise((r) => setTimeout(r, (NOTIFY_RETRY_S[2] * 1000) / SCALE + 100));
    assert.equal(rcv.received.length, 3, 'SUCCESS with trailing whitespace is acknowledged');
    const bodies = got.map((c) => JSON.parse(c.raw.toString('utf8')));
    assert.ok(bodies.every((b) => verifyShengpay(b, platform()) && b.status === 'PAY_SUCCESS' && b.outTradeNo === o.outTradeNo && b.totalFee === 100));
    assert.notEqual(bodies[0].nonceStr, bodies[1].nonceStr);
    assert.ok((got[1]!.at - got[0]!.at) >= (NOTIFY_RETRY_S[0] * 1000) / SCALE - 2);
    assert.equal(sim.ledger(m.merchantId).notifications.find((x) => x.out_trade_no === o.outTradeNo)?.delivered, true);
  });

  test('duplicate notifications; held, released and failing refunds', async () => {
    sim.faults.duplicateNotifications = true;
    const o = order();
    sim.payer.pay((await call('/pay/unifiedorderOffline', o)).payInfo, { wallet: 'WECHAT' });
    await rcv.waitFor(2);
    Object.assign(sim.faults, { duplicateNotifications: false, holdRefunds: true });
    rcv.received.length = 0;
    const r = await call('/refund/orderRefund', { outTradeNo: o.outTradeNo, outRefundNo: no(), refundFee: 40, notifyUrl: rcv.url });
    assert.deepEqual([r.resultCode, r.refundStatus, r.refundFee], ['SUCCESS', 'REFUND_ING', 40]);
    assert.equal((await call('/refund/orderRefund', { outTradeNo: o.outTradeNo, outRefundNo: no(), refundFee: 61, notifyUrl: rcv.url })).errorCode, 'REFUND_AMOUNT_ERROR', 'held refunds count');
    const released = await request(`${sim.baseUrl}/sandbox/v1/refunds/release`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.deepEqual(await released.body.json(), { released: 1 });
    const [note] = await rcv.waitFor(1);
    const body = JSON.parse(note!.raw.toString('utf8'));
    assert.deepEqual([body.refundStatus, body.outRefundNo, verifyShengpay(body, platform())], ['REFUND_SUCCESS', r.outRefundNo, true]);
    Object.assign(sim.faults, { holdRefunds: false, failRefunds: true });
    const f = await call('/refund/orderRefund', { outTradeNo: o.outTradeNo, outRefundNo: no(), refundFee: 60, notifyUrl: rcv.url });
    await rcv.waitFor(2);
    assert.equal((await call('/refund/queryRefundOrder', { outRefundNo: f.outRefundNo })).refundStatus, 'REFUND_FAIL');
    assert.equal((await call('/pay/queryOrder', { outTradeNo: o.outTradeNo })).status, 'PAY_SUCCESS', 'a failed refund gives the amount back');
    assert.equal((await call('/refund/queryRefundOrder', { outRefundNo: 'none' })).errorCode, 'REFUND_NOT_EXIST');
  });
});

describe('sandbox API, pages and state', () => {
  test('admin routes need the token; fault switches are validated; the payer routes are open', async () => {
    assert.equal((await request(`${sim.baseUrl}/sandbox/v1/ledger`)).statusCode, 401);
    const put = (body: unknown) => request(`${sim.baseUrl}/sandbox/v1/faults`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await put({ nope: true })).statusCode, 400);
    assert.equal((await put({ busyNextRequests: -1 })).statusCode, 400);
    const ok = await put({ responseDelayMs: 5 });
    assert.equal(((await ok.body.json()) as Record<string, unknown>).responseDelayMs, 5);
    const a = await call('/pay/unifiedorderOffline', order({ tradeType: 'alipay_qr' }));
    const wrong = await request(`${sim.baseUrl}/sandbox/v1/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: a.payInfo, wallet: 'WECHAT' }) });
    assert.deepEqual([wrong.statusCode, ((await wrong.body.json()) as Record<string, unknown>).code], [409, 'WALLET_NOT_ACCEPTED']);
    const paid = await request(`${sim.baseUrl}/sandbox/v1/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ merchant_id: m.merchantId, out_trade_no: a.outTradeNo }) });
    assert.equal(((await paid.body.json()) as Record<string, unknown>).paid_with, 'ALIPAY');
  });

  test('pages: index, payer page with one button per wallet, cancel closes, QR image', async () => {
    const a = await call('/pay/unifiedorderOffline', order({ body: '<b>杯子</b>' }));
    const page = await (await request(a.payInfo)).body.text();
    assert.match(page, /&lt;b&gt;杯子/);
    assert.doesNotMatch(page, /<b>杯子/);
    const token = new URL(a.payInfo).pathname.split('/').pop();
    const cancel = await request(`${sim.baseUrl}/sandbox/v1/page/${token}/cancel/-`, { method: 'POST' });
    await cancel.body.dump();
    assert.equal(cancel.statusCode, 303);
    assert.equal((await call('/pay/queryOrder', { outTradeNo: a.outTradeNo })).status, 'CLOSED');
    assert.match(await (await request(`${sim.baseUrl}/sandbox/`)).body.text(), new RegExp(a.outTradeNo));
    const png = await request(`${sim.baseUrl}/sandbox/qr.png?text=${encodeURIComponent(a.payInfo)}`);
    assert.equal(png.headers['content-type'], 'image/png');
    await png.body.dump();
  });

  test('the state file keeps keys, merchants, trades and pending notifications across a restart; down refuses connections', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'shengpay-sim-')), 'state.json');
    const first = await startShengpaySimulator({ stateFile: file, timeScale: SCALE });
    const creds = await first.registerMerchant({ merchantId: '11800002' });
    rcv.respond = () => 'FAIL';
    const signed = signShengpay({ mchId: '11800002', nonceStr: 'abc', ...order() }, 'RSA', createPrivateKey(creds.privateKeyPem as string));
    const a = (await (await request(`${first.baseUrl}/pay/unifiedorderOffline`, { method: 'POST', body: JSON.stringify(signed) })).body.json()) as Record<string, any>;
    first.payer.pay(a.payInfo);
    await rcv.waitFor(1);
    await first.close();
    const second = await startShengpaySimulator({ stateFile: file, timeScale: SCALE });
    try {
      const again = await second.registerMerchant({ merchantId: '11800002' });
      assert.equal(again.shengpayPublicKeyPem, creds.shengpayPublicKeyPem, 'same platform key');
      assert.equal(again.privateKeyPem, undefined, 'the merchant keeps its key');
      assert.equal(second.ledger('11800002').trades[0]?.status, 'SUCCESS');
      rcv.respond = () => 'SUCCESS';
      await rcv.waitFor(2, 8000);
      await second.down();
      await assert.rejects(request(`${second.baseUrl}/sandbox/`), /ECONNREFUSED/);
      await second.up();
      assert.equal((await request(`${second.baseUrl}/sandbox/`)).statusCode, 200);
    } finally {
      await second.close();
    }
  });
});
