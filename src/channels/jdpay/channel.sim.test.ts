import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { ChannelError, type ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { JdpayChannel } from './channel.ts';
import { startJdpaySimulator, type JdpayMerchantCredentials, type JdpaySimulator } from './simulator/index.ts';
import type { JdpayWay } from './protocol.ts';

/** The JD Pay channel against its simulator: every way, refunds, close (revoke), notifications, error classification. */

let sim: JdpaySimulator;
let creds: JdpayMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new JdpayChannel();

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}): ChannelConfig {
  return { params: { merchant: creds.merchantId, jdPublicKey: creds.jdPublicKeyPem, baseUrl: sim.baseUrl, ...over }, secrets: { privateKey: creds.privateKeyPem as string, desKey: creds.desKey, ...secrets } };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const isKind = isChannelError;
const tradeOf = (id: string) => sim.ledger(creds.merchantId).trades.find((t) => t.out_trade_no === id);

/** Submits a cashier form the way the payer's browser would; answers the payer page it leads to. */
async function submitForm(html: string): Promise<string> {
  const action = /action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  const inputs = [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')]);
  const res = await request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(inputs).toString() });
  const text = await res.body.text();
  assert.equal(res.statusCode, 303, text);
  return String(res.headers.location);
}

useAcquirerSimulator(
  () => startJdpaySimulator({ timeScale: 1000, refundDelayMs: 100 }),
  () => 'success',
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
  },
);

describe('JD Pay channel against the simulator', () => {
  test('every way: created (QR codes, the app link, the PC/H5 cashier forms), paid, notified, refunded and refund queried', async () => {
    const ways: Array<[JdpayWay, string, string]> = [['JD_QR', 'codeUrl', 'JD'], ['WX_NATIVE', 'codeUrl', 'WECHAT'], ['ALI_QR', 'codeUrl', 'ALIPAY'], ['JD_APP', 'payurl', 'JD'], ['JD_PC', 'form', 'JD'], ['JD_H5', 'form', 'JD']];
    for (const [way, type, wallet] of ways) {
      const c = ctx();
      const o = orderInput('jdpay', { wayCode: way, notifyUrl: rcv.url, returnUrl: 'https://shop.example.com/back' });
      const created = await channel.createPayment(c, o);
      assert.equal(created.payDataType, type, way);
      const link = type === 'form' ? await submitForm(created.payData) : created.payData;
      if (way === 'JD_APP') assert.match(link, /^jdpay:\/\/pay\?merchant=.+&orderId=.+&signData=/);
      assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
      const paid = sim.payer.pay(link);
      assert.equal(paid.paid_with, wallet, way);
      const [note] = await rcv.waitFor(1);
      const parsed = await channel.parseCallback(c, 'pay', inbound(note!));
      assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount], ['SUCCESS', o.payOrderId, 1234]);
      await assert.rejects(channel.parseCallback(c, 'refund', inbound(note!)), isKind('protocol'));
      const q = await channel.queryPayment(c, o);
      assert.deepEqual([q.status, q.amount, q.channelOrderNo], ['SUCCESS', 1234, tradeOf(o.payOrderId)?.trade_no]);
      rcv.received.length = 0;
      const r1 = refundInput(o, 1000, rcv.url);
      assert.equal((await channel.refund(c, o, r1)).status, 'PROCESSING');
      await channel.refund(c, o, refundInput(o, 234, rcv.url));
      const notes = await rcv.waitFor(2);
      for (const n of notes) {
        const r = await channel.parseCallback(c, 'refund', inbound(n));
        assert.equal(r.kind === 'refund' && r.refund.status, 'SUCCESS');
      }
      const rq = await channel.queryRefund(c, o, r1);
      assert.deepEqual([rq.status, rq.refundAmount, rq.outRefundNo, rq.outTradeNo], ['SUCCESS', 1000, r1.refundOrderId, o.payOrderId]);
      await assert.rejects(channel.refund(c, o, refundInput(o, 1, rcv.url)), isKind('rejected', '000009'));
      assert.equal((await channel.queryRefund(c, o, refundInput(o, 1, rcv.url))).status, 'NOT_FOUND');
      rcv.received.length = 0;
    }
  });

  test('close: an unpaid order is revoked; a paid one is ALREADY_PAID and never revoked; unknown counts as closed', async () => {
    const c = ctx();
    const open = orderInput('jdpay', { wayCode: 'JD_QR' });
    await channel.createPayment(c, open);
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = orderInput('jdpay', { wayCode: 'ALI_QR' });
    sim.payer.pay((await channel.createPayment(c, paid)).payData);
    assert.deepEqual(await channel.closePayment(c, paid), { status: 'ALREADY_PAID' });
    assert.equal(tradeOf(paid.payOrderId)?.refunded, 0);
    const never = orderInput('jdpay', { wayCode: 'JD_APP' });
    assert.deepEqual(await channel.closePayment(c, never), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, never)).status, 'NOT_FOUND');
  });

  test('forged, tampered and foreign notifications', async () => {
    const c = ctx();
    const o = orderInput('jdpay', { wayCode: 'JD_QR', notifyUrl: rcv.url });
    const created = await channel.createPayment(c, o);
    Object.assign(sim.faults, { badNotifySignature: true });
    rcv.respond = (_c, i) => (i < 3 ? 'fail' : 'success');
    sim.payer.pay(created.payData);
    const [forged] = await rcv.waitFor(1);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(forged!)), isKind('bad_signature'));
    Object.assign(sim.faults, { badNotifySignature: false, wrongNotifyMerchant: true });
    const [, foreign] = await rcv.waitFor(2);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(foreign!)), isKind('mismatch'));
    Object.assign(sim.faults, { wrongNotifyMerchant: false, tamperNotifyAmount: true });
    const [, , tampered] = await rcv.waitFor(3);
    const t = await channel.parseCallback(c, 'pay', inbound(tampered!));
    assert.equal(t.kind === 'pay' && t.payment.amount, 1235);
    const otherDes = ctx({}, { desKey: randomBytes(24).toString('base64') });
    await assert.rejects(channel.parseCallback(otherDes, 'pay', inbound(tampered!)), isKind('bad_signature'), 'not encrypted for us');
  });

  test('error classification: down → unavailable, busy → system, slow → timeout (processed: a query finds it)', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: (wayCode) => orderInput('jdpay', { wayCode }), ways: ['JD_QR', 'WX_NATIVE', 'JD_APP'], busyCode: '999999' }));

  test('refusals: another 3DES key, another merchant key, unknown merchant; a forged answer key', async () => {
    const o = () => orderInput('jdpay', { wayCode: 'JD_QR' });
    await assert.rejects(channel.createPayment(ctx({}, { desKey: randomBytes(24).toString('base64') }), o()), isKind('rejected', '000004'));
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await assert.rejects(channel.createPayment(ctx({}, { privateKey: otherKey }), o()), isKind('rejected', '000002'));
    await assert.rejects(channel.createPayment(ctx({ merchant: '99999999' }), o()), isKind('rejected', '000003'));
    const wrongJd = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await assert.rejects(channel.createPayment(ctx({ jdPublicKey: wrongJd }), o()), isKind('bad_signature'));
    await assert.rejects(channel.createPayment(ctx({}, { desKey: 'c2hvcnQ=' }), o()), isKind('misconfigured'));
  });
});
