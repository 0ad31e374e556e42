import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import type { ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { XinlianChannel } from './channel.ts';
import { startXinlianSimulator, type XinlianMerchantCredentials, type XinlianSimulator } from './simulator/index.ts';

/** The 信联 channel against its simulator: XLALILITE / ALI_LITE created (aliapp tradeNO), paid, notified, refunded, closed; refusals, error classification. */

const BUYER = '2088102177846881';
let sim: XinlianSimulator;
let creds: XinlianMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new XinlianChannel();

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}): ChannelConfig {
  return { params: { mchNo: creds.mchNo, appId: creds.appId, xinlianPublicKey: creds.xinlianPublicKeyPem, baseUrl: sim.baseUrl, ...over }, secrets: { privateKey: creds.privateKeyPem as string, ...secrets } };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const order = (wayCode: 'XLALILITE' | 'ALI_LITE' = 'XLALILITE', notifyUrl?: string) => orderInput('xinlian', { wayCode, extra: { buyerUserId: BUYER }, ...(notifyUrl ? { notifyUrl } : {}) });
const tradeOf = (id: string) => sim.ledger(creds.mchNo).trades.find((t) => t.out_trade_no === id);

useAcquirerSimulator(
  () => startXinlianSimulator({ timeScale: 1000, refundDelayMs: 100 }),
  () => 'SUCCESS',
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
  },
);

describe('Xinlian channel against the simulator', () => {
  test('both ways: aliapp {"alipayTradeNo"} like Alipay ALI_LITE, paid by that buyer, notified, refunded in part and in full', async () => {
    for (const way of ['XLALILITE', 'ALI_LITE'] as const) {
      const c = ctx();
      const o = order(way, rcv.url);
      const created = await channel.createPayment(c, o);
      assert.equal(created.payDataType, 'aliapp');
      const { alipayTradeNo } = JSON.parse(created.payData) as { alipayTradeNo: string };
      assert.match(alipayTradeNo, /^\d{28}$/);
      assert.deepEqual([created.channelUser, tradeOf(o.payOrderId)?.trade_no], [BUYER, alipayTradeNo]);
      assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
      const paid = sim.payer.pay(created.payData);
      assert.deepEqual([paid.paid_with, paid.payer], ['ALIPAY', BUYER]);
      const [note] = await rcv.waitFor(1);
      const parsed = await channel.parseCallback(c, 'pay', inbound(note!));
      assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount, parsed.payment.channelUser, parsed.payment.channelOrderNo], ['SUCCESS', o.payOrderId, 1234, BUYER, created.channelOrderNo]);
      await assert.rejects(channel.parseCallback(c, 'refund', inbound(note!)), isChannelError('protocol'));
      rcv.received.length = 0;
      const r1 = refundInput(o, 1000, rcv.url);
      assert.equal((await channel.refund(c, o, r1)).status, 'PROCESSING');
      await channel.refund(c, o, refundInput(o, 234, rcv.url));
      for (const n of await rcv.waitFor(2)) {
        const r = await channel.parseCallback(c, 'refund', inbound(n));
        assert.equal(r.kind === 'refund' && r.refund.status, 'SUCCESS');
      }
      const rq = await channel.queryRefund(c, o, r1);
      assert.deepEqual([rq.status, rq.refundAmount, rq.outRefundNo, rq.outTradeNo], ['SUCCESS', 1000, r1.refundOrderId, o.payOrderId]);
      await assert.rejects(channel.refund(c, o, refundInput(o, 1, rcv.url)), isChannelError('rejected', '2005'));
      assert.equal((await channel.queryRefund(c, o, refundInput(o, 1, rcv.url))).status, 'NOT_FOUND');
      rcv.received.length = 0;
    }
  });

  test('close: unpaid closes; paid is ALREADY_PAID; unknown counts as closed. A missing or malformed buyer id fails before sending', async () => {
    const c = ctx();
    const open = order();
    await channel.createPayment(c, open);
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = order();
    sim.payer.pay((await channel.createPayment(c, paid)).payData);
    assert.deepEqual(await channel.closePayment(c, paid), { status: 'ALREADY_PAID' });
    assert.deepEqual(await channel.closePayment(c, order()), { status: 'CLOSED' });
    await assert.rejects(channel.createPayment(c, { ...order(), extra: {} }), isChannelError('rejected', 'PARAM_ERROR'));
    await assert.rejects(channel.createPayment(c, { ...order(), extra: { buyerUserId: 'abc' } }), isChannelError('rejected', 'PARAM_ERROR'));
  });

  test('forged, tampered and foreign notifications', async () => {
    const c = ctx();
    const o = order('XLALILITE', rcv.url);
    const created = await channel.createPayment(c, o);
    Object.assign(sim.faults, { badNotifySignature: true });
    rcv.respond = (_c, i) => (i < 3 ? 'FAIL' : 'SUCCESS');
    sim.payer.pay(created.payData);
    const [forged] = await rcv.waitFor(1);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(forged!)), isChannelError('bad_signature'));
    Object.assign(sim.faults, { badNotifySignature: false, wrongNotifyMerchant: true });
    const [, foreign] = await rcv.waitFor(2);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(foreign!)), isChannelError('mismatch'));
    Object.assign(sim.faults, { wrongNotifyMerchant: false, tamperNotifyAmount: true });
    const [, , tampered] = await rcv.waitFor(3);
    const t = await channel.parseCallback(c, 'pay', inbound(tampered!));
    assert.equal(t.kind === 'pay' && t.payment.amount, 1235, 'signed, so the core compares the amount');
    await assert.rejects(channel.parseCallback(ctx({ appId: 'other' }), 'pay', inbound(tampered!)), isChannelError('mismatch'));
  });

  test('error classification: down → unavailable, busy → system, slow → timeout (processed: a query finds it)', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: (wayCode) => orderInput('xinlian', { wayCode, extra: { buyerUserId: BUYER } }), ways: ['XLALILITE', 'ALI_LITE', 'XLALILITE'], busyCode: '9999' }));

  test('refusals: another merchant key, unknown merchant or app; a forged platform key; configuration', async () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await assert.rejects(channel.createPayment(ctx({}, { privateKey: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), order()), isChannelError('rejected', '1002'));
    await assert.rejects(channel.createPayment(ctx({ appId: 'XLA0' }), order()), isChannelError('rejected', '1003'));
    await assert.rejects(channel.createPayment(ctx({ xinlianPublicKey: k.publicKey.export({ type: 'spki', format: 'pem' }) as string }), order()), isChannelError('bad_signature'));
    await assert.rejects(channel.createPayment(ctx({ baseUrl: '' }), order()), isChannelError('misconfigured'));
  });
});
