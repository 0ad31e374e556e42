import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { ICBC_PATHS } from '../protocol.ts';
import { icbcNotifyReply, icbcTimestamp, openIcbcAnswer, signIcbcParams, verifyIcbcParams } from '../sign.ts';
import { startIcbcSimulator, type IcbcMerchantCredentials, type IcbcSimulator } from './index.ts';

/** The simulator as ICBC's strict counterpart: request checks, signed answers, notification replies, registration, the state file. */

let sim: IcbcSimulator;
let m: IcbcMerchantCredentials;
let rcv: CaptureReceiver;

before(async () => {
  sim = await startIcbcSimulator({ timeScale: 1000 });
  const res = await request(`${sim.baseUrl}/sandbox/v1/merchants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ merchantId: '020000000001' }) });
  m = (await res.body.json()) as IcbcMerchantCredentials;
  rcv = await startCaptureReceiver('');
});
after(async () => {
  await rcv.close();
  await sim.close();
});

let n = 0;
const no = () => `I${Date.now()}${++n}`;

/** Sends a form built by hand; `alter` may change it after signing. */
async function call(path: string, biz: Record<string, unknown>, o: { params?: Record<string, string>; alter?: (p: Record<string, string>) => void } = {}) {
  const params: Record<string, string> = { app_id: m.appId, msg_id: `M${no()}`, format: 'json', charset: 'UTF-8', sign_type: 'RSA2', timestamp: icbcTimestamp(Date.now()), biz_content: JSON.stringify(biz), ...o.params };
  params.sign = signIcbcParams(path, params, 'sha256', createPrivateKey(m.privateKeyPem as string));
  o.alter?.(params);
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  const opened = openIcbcAnswer(await res.body.text(), createPublicKey(m.icbcPublicKeyPem));
  assert.ok(opened.verified, 'every answer is signed by the gateway');
  assert.equal(opened.biz.msg_id, params.msg_id);
  return { biz: opened.biz, params };
}

const order = (over: Record<string, unknown> = {}) => ({ mer_id: m.merId, out_trade_no: no(), pay_mode: '11', access_type: '7', orig_date_time: icbcTimestamp(Date.now()), order_amt: '100', cur_type: '001', goods_body: '商品', notify_url: `${rcv.url}/api/pay/notify/icbc/x`, ...over });

describe('request checks', () => {
  test('registration issues app_id, mer_id, the gateway key and a merchant key once', () => {
    assert.match(m.appId, /^\d{20}$/);
    assert.equal(m.merId, '020000000001');
    assert.match(m.icbcPublicKeyPem, /BEGIN PUBLIC KEY/);
    assert.match(m.privateKeyPem as string, /BEGIN PRIVATE KEY/);
  });

  test('refused before anything is done: app_id, signature, path, msg_id reuse, timestamp window, format, biz fields', async () => {
    const cases: Array<[string, Parameters<typeof call>[2], Record<string, unknown>, number]> = [
      ['unknown app_id', { params: { app_id: '10000000000000000001' } }, order(), 400019],
      ['changed after signing', { alter: (p) => (p.biz_content = (p.biz_content as string).replace('"100"', '"1"')) }, order(), 400017],
      ['no signature', { alter: (p) => delete p.sign }, order(), 400017],
      ['stale timestamp', { params: { timestamp: icbcTimestamp(Date.now() - 11 * 60_000) } }, order(), 400021],
      ['format', { params: { format: 'xml' } }, order(), 400011],
      ['biz not JSON', { params: { biz_content: '{' } }, order(), 400011],
      ['another mer_id', {}, order({ mer_id: '020000000002' }), 400011],
      ['pay_mode', {}, order({ pay_mode: '9' }), 400011],
      ['amount in yuan', {}, order({ order_amt: '1.00' }), 400011],
      ['notify_url', {}, order({ notify_url: 'x' }), 400011],
    ];
    for (const [what, o, biz, code] of cases) assert.equal((await call(ICBC_PATHS.pay, biz, o)).biz.return_code, code, what);
    const signedForQuery = await call(ICBC_PATHS.pay, order(), { alter: (p) => (p.sign = signIcbcParams(ICBC_PATHS.query, p, 'sha256', createPrivateKey(m.privateKeyPem as string))) });
    assert.equal(signedForQuery.biz.return_code, 400017, 'the path is part of the signed text');
    const first = await call(ICBC_PATHS.query, { mer_id: m.merId, out_trade_no: 'nope' });
    assert.equal(first.biz.return_code, 93001);
    assert.equal((await call(ICBC_PATHS.query, { mer_id: m.merId, out_trade_no: 'nope' }, { params: { msg_id: first.params.msg_id as string } })).biz.return_code, 400020, 'msg_id reused');
  });

  test('out_trade_no is the idempotency key; busy answers 500001 and creates nothing', async () => {
    const o = order();
    const a = await call(ICBC_PATHS.pay, o);
    assert.equal(a.biz.return_code, 0);
    assert.match(a.biz.pay_url as string, /\/sandbox\/pay\//);
    const b = await call(ICBC_PATHS.pay, { ...o, orig_date_time: icbcTimestamp(Date.now() + 1000) });
    assert.equal(b.biz.order_id, a.biz.order_id, 'a repeat is the same order');
    assert.equal((await call(ICBC_PATHS.pay, { ...o, order_amt: '101' })).biz.return_code, 93004);
    sim.faults.busyNextRequests = 1;
    const busy = order();
    assert.equal((await call(ICBC_PATHS.pay, busy)).biz.return_code, 500001);
    assert.equal((await call(ICBC_PATHS.query, { mer_id: m.merId, out_trade_no: busy.out_trade_no })).biz.return_code, 93001);
  });
});

describe('notifications', () => {
  test('a signed form to the notify path, re-sent until a reply signed with the merchant key, return_code 0 and this msg_id', async () => {
    const key = createPrivateKey(m.privateKeyPem as string);
    const replies = [
      () => 'success',
      (msgId: string) => icbcNotifyReply({ return_code: 0, return_msg: 'success', msg_id: `${msgId}x` }, key),
      (msgId: string) => icbcNotifyReply({ return_code: 1, return_msg: 'later', msg_id: msgId }, key),
      (msgId: string) => icbcNotifyReply({ return_code: 0, return_msg: 'success', msg_id: msgId }, key),
    ];
    rcv.respond = (c, i) => replies[Math.min(i, 3)]!(JSON.parse(new URLSearchParams(c.raw.toString()).get('biz_content') as string).msg_id as string);
    const o = order();
    const a = await call(ICBC_PATHS.pay, o);
    sim.payer.pay(a.biz.pay_url as string);
    const notes = await rcv.waitFor(4);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(rcv.received.length, 4);
    const form = Object.fromEntries(new URLSearchParams(notes[3]!.raw.toString()));
    assert.ok(verifyIcbcParams('/notify/api/pay/notify/icbc/x', form, 'sha1', createPublicKey(m.icbcPublicKeyPem)));
    const biz = JSON.parse(form.biz_content as string);
    assert.deepEqual([form.app_id, form.sign_type, biz.mer_id, biz.out_trade_no, biz.order_amt, biz.pay_status], [m.appId, 'RSA', m.merId, o.out_trade_no, '100', '0']);
    assert.equal(new Set(notes.map((x) => JSON.parse(new URLSearchParams(x.raw.toString()).get('biz_content') as string).msg_id)).size, 1, 'the same msg_id on every attempt');
    const refund = await call(ICBC_PATHS.refund, { mer_id: m.merId, out_trade_no: o.out_trade_no, outtrx_serial_no: no(), ret_total_amt: '40', cur_type: '001' });
    assert.deepEqual([refund.biz.return_code, refund.biz.refund_status], [0, '0'], 'refunds settle in the answer');
    assert.equal((await call(ICBC_PATHS.close, { mer_id: m.merId, out_trade_no: o.out_trade_no })).biz.return_code, 93002);
  });

  test('the state file keeps the app_id and the gateway key', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'icbc-sim-')), 'state.json');
    const first = await startIcbcSimulator({ stateFile: file });
    const c1 = await first.registerMerchant({ merchantId: '020000000009' });
    await first.close();
    const second = await startIcbcSimulator({ stateFile: file });
    try {
      const c2 = await second.registerMerchant({ merchantId: '020000000009' });
      assert.deepEqual([c2.appId, c2.icbcPublicKeyPem, c2.privateKeyPem], [c1.appId, c1.icbcPublicKeyPem, undefined]);
    } finally {
      await second.close();
    }
  });
});
