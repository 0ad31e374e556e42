import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'undici';
import { ChannelError, type ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { type Wallet } from '../sandbox/acquirer/types.ts';
import { AbcpayChannel } from './channel.ts';
import { startAbcSimulator, type AbcMerchantCredentials, type AbcSimulator } from './simulator/index.ts';
import type { AbcpayWay } from './protocol.ts';

/** The ABC channel against its simulator: 一码多扫 paid by every wallet, 掌银 page payment, synchronous refunds, close, notifications, error classification. */

let sim: AbcSimulator;
let creds: AbcMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new AbcpayChannel();

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}): ChannelConfig {
  return { params: { merchantId: creds.merchantId, trustpayCert: creds.trustpayCertPem, baseUrl: sim.baseUrl, ...over }, secrets: { privateKey: creds.privateKeyPem as string, ...secrets } };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const isKind = isChannelError;

useAcquirerSimulator(
  () => startAbcSimulator({ timeScale: 1000 }),
  () => 'success',
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
  },
);

describe('ABC channel against the simulator', () => {
  test('一码多扫: one code per order, payable by WeChat, Alipay, UnionPay and 掌银; notified; refunded synchronously', async () => {
    const cases: Array<[AbcpayWay, Wallet]> = [['QR_CASHIER', 'ABC'], ['WX_NATIVE', 'WECHAT'], ['ALI_QR', 'ALIPAY'], ['UP_QR', 'UNIONPAY']];
    for (const [way, wallet] of cases) {
      const c = ctx();
      const o = orderInput('abcpay', { wayCode: way, notifyUrl: rcv.url, subject: '测试商品-扫码支付' });
      const created = await channel.createPayment(c, o);
      assert.equal(created.payDataType, 'codeUrl');
      assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
      assert.equal(sim.payer.pay(created.payData, { wallet }).paid_with, wallet);
      const [note] = await rcv.waitFor(1);
      const parsed = await channel.parseCallback(c, 'pay', inbound(note!));
      assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount], ['SUCCESS', o.payOrderId, 1234]);
      const q = await channel.queryPayment(c, o);
      assert.deepEqual([q.status, q.amount, q.channelOrderNo], ['SUCCESS', 1234, created.channelOrderNo]);
      const r1 = refundInput(o, 234, rcv.url);
      assert.deepEqual(await channel.refund(c, o, r1), { status: 'SUCCESS', outRefundNo: r1.refundOrderId, outTradeNo: o.payOrderId, refundAmount: 234, channelRefundNo: (await channel.queryRefund(c, o, r1)).channelRefundNo });
      assert.equal((await channel.refund(c, o, r1)).status, 'SUCCESS', 'a repeat is the same refund');
      await channel.refund(c, o, refundInput(o, 1000, rcv.url));
      assert.equal((await channel.queryPayment(c, o)).status, 'SUCCESS', 'fully refunded (05) still reads as paid');
      await assert.rejects(channel.refund(c, o, refundInput(o, 1, rcv.url)), isKind('rejected', 'E005'));
      assert.equal((await channel.queryRefund(c, o, refundInput(o, 1, rcv.url))).status, 'NOT_FOUND');
      await assert.rejects(channel.parseCallback(c, 'refund', inbound(note!)), isKind('protocol'));
      rcv.received.length = 0;
    }
  });

  test('ABC_APP: the 掌银 payment page, back to the return URL after paying; without a return URL it is refused before sending', async () => {
    const c = ctx();
    const o = orderInput('abcpay', { wayCode: 'ABC_APP', returnUrl: 'https://shop.example.com/done' });
    const created = await channel.createPayment(c, o);
    assert.equal(created.payDataType, 'payurl');
    const token = new URL(created.payData).pathname.split('/').pop() as string;
    const paid = await request(`${sim.baseUrl}/sandbox/v1/page/${token}/pay/ABC`, { method: 'POST' });
    await paid.body.dump();
    assert.deepEqual([paid.statusCode, paid.headers.location], [303, 'https://shop.example.com/done']);
    assert.equal((await channel.queryPayment(c, o)).status, 'SUCCESS');
    assert.throws(() => sim.payer.pay((sim.ledger(creds.merchantId).trades.find((t) => t.out_trade_no === o.payOrderId) as { pay_url: string }).pay_url, { wallet: 'WECHAT' }), /already paid/);
    await assert.rejects(channel.createPayment(c, orderInput('abcpay', { wayCode: 'ABC_APP' })), isKind('rejected', 'PARAM_ERROR'));
  });

  test('close: unpaid closes, paid answers ALREADY_PAID, unknown counts as closed; unknown orders query NOT_FOUND', async () => {
    const c = ctx();
    const open = orderInput('abcpay', { wayCode: 'QR_CASHIER' });
    await channel.createPayment(c, open);
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = orderInput('abcpay', { wayCode: 'WX_NATIVE' });
    sim.payer.pay((await channel.createPayment(c, paid)).payData);
    assert.deepEqual(await channel.closePayment(c, paid), { status: 'ALREADY_PAID' });
    const never = orderInput('abcpay', { wayCode: 'UP_QR' });
    assert.deepEqual(await channel.closePayment(c, never), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, never)).status, 'NOT_FOUND');
  });

  test('forged, tampered and foreign notifications; a refused one is retried (any HTTP 200 acknowledges)', async () => {
    const c = ctx();
    const o = orderInput('abcpay', { wayCode: 'QR_CASHIER', notifyUrl: rcv.url });
    const created = await channel.createPayment(c, o);
    Object.assign(sim.faults, { badNotifySignature: true });
    rcv.status = (_c, i) => (i < 3 ? 500 : 200);
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
    Object.assign(sim.faults, { tamperNotifyAmount: false });
    await rcv.waitFor(4);
    assert.equal(channel.nackReply('refused').status, 500, 'a refusal must not be a 200');
  });

  test('error classification: down → unavailable, busy (EUNKWN) → system, slow → timeout (processed: a query finds it)', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: (wayCode) => orderInput('abcpay', { wayCode }), ways: ['QR_CASHIER', 'WX_NATIVE', 'ALI_QR'], busyCode: 'EUNKWN' }));

  test('refusals: another merchant key (APE400), unknown merchant (APE002); a forged answer key', async () => {
    const o = () => orderInput('abcpay', { wayCode: 'QR_CASHIER' });
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await assert.rejects(channel.createPayment(ctx({}, { privateKey: otherKey }), o()), isKind('rejected', 'APE400'));
    await assert.rejects(channel.createPayment(ctx({ merchantId: '103881600000000' }), o()), isKind('rejected', 'APE002'));
    const wrongTrustpay = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await assert.rejects(channel.createPayment(ctx({ trustpayCert: wrongTrustpay }), o()), isKind('bad_signature'));
  });
});
