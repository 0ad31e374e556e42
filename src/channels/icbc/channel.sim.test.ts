import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import type { ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { IcbcChannel } from './channel.ts';
import { startIcbcSimulator, type IcbcMerchantCredentials, type IcbcSimulator } from './simulator/index.ts';

/** The ICBC channel against its simulator: ICBC_APP created, paid, notified (signed replies), refunded, closed; refusals and error classification. */

let sim: IcbcSimulator;
let creds: IcbcMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new IcbcChannel();
const otherKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}): ChannelConfig {
  return { params: { appId: creds.appId, merId: creds.merId, icbcPublicKey: creds.icbcPublicKeyPem, baseUrl: sim.baseUrl, ...over }, secrets: { privateKey: creds.privateKeyPem as string, ...secrets } };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const tradeOf = (id: string) => sim.ledger(creds.merId).trades.find((t) => t.out_trade_no === id);
const noticeOf = (id: string) => sim.ledger(creds.merId).notifications.find((n) => n.out_trade_no === id);
/** What the core answers after accepting a notification. */
const signedAck = (c: Parameters<typeof inbound>[0]) => channel.signedAckReply(ctx(), inbound(c)).body;

useAcquirerSimulator(
  () => startIcbcSimulator({ timeScale: 1000 }),
  (c) => signedAck(c),
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
  },
);

describe('ICBC channel against the simulator', () => {
  test('ICBC_APP: a payurl, paid in 工行 e支付, notified until our signed reply verifies, refunded in part and in full', async () => {
    const c = ctx();
    const o = orderInput('icbc', { wayCode: 'ICBC_APP', notifyUrl: `${rcv.url}/api/pay/notify/icbc/x` });
    const created = await channel.createPayment(c, o);
    assert.equal(created.payDataType, 'payurl');
    assert.match(created.payData, /\/sandbox\/pay\//);
    assert.equal(created.channelOrderNo, tradeOf(o.payOrderId)?.trade_no);
    assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
    // Plain "success", then a reply signed with another key: both re-sent; our signed reply ends it.
    const stranger = otherKey().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    rcv.respond = (cap, i) => (i === 0 ? 'success' : i === 1 ? channel.signedAckReply(ctx({}, { privateKey: stranger }), inbound(cap)).body : signedAck(cap));
    assert.equal(sim.payer.pay(created.payData).paid_with, 'ICBC');
    const notes = await rcv.waitFor(3);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rcv.received.length, 3, 'no more after the signed reply');
    assert.deepEqual([noticeOf(o.payOrderId)?.delivered, noticeOf(o.payOrderId)?.attempts], [true, 3]);
    const parsed = await channel.parseCallback(c, 'pay', inbound(notes[2]!));
    assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount, parsed.payment.channelUser], ['SUCCESS', o.payOrderId, 1234, 'icbc_sandbox_payer_0001']);
    await assert.rejects(channel.parseCallback(c, 'refund', inbound(notes[2]!)), isChannelError('protocol'));
    const q = await channel.queryPayment(c, o);
    assert.deepEqual([q.status, q.amount, q.channelOrderNo], ['SUCCESS', 1234, created.channelOrderNo]);
    const r1 = refundInput(o, 1000, rcv.url);
    assert.deepEqual([(await channel.refund(c, o, r1)).status, (await channel.refund(c, o, r1)).status], ['SUCCESS', 'SUCCESS'], 'idempotent per outtrx_serial_no');
    assert.equal((await channel.refund(c, o, refundInput(o, 234, rcv.url))).status, 'SUCCESS');
    const rq = await channel.queryRefund(c, o, r1);
    assert.deepEqual([rq.status, rq.refundAmount, rq.outRefundNo, rq.outTradeNo], ['SUCCESS', 1000, r1.refundOrderId, o.payOrderId]);
    assert.equal(tradeOf(o.payOrderId)?.refunded, 1234);
    await assert.rejects(channel.refund(c, o, refundInput(o, 1, rcv.url)), isChannelError('rejected', '93005'));
    assert.equal((await channel.queryRefund(c, o, refundInput(o, 1, rcv.url))).status, 'NOT_FOUND');
  });

  test('close: an unpaid order closes; a paid one is ALREADY_PAID; an unknown or closed one counts as closed', async () => {
    const c = ctx();
    const open = orderInput('icbc', { wayCode: 'ICBC_APP', notifyUrl: rcv.url });
    await channel.createPayment(c, open);
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = orderInput('icbc', { wayCode: 'ICBC_APP', notifyUrl: rcv.url });
    sim.payer.pay((await channel.createPayment(c, paid)).payData);
    assert.deepEqual(await channel.closePayment(c, paid), { status: 'ALREADY_PAID' });
    const never = orderInput('icbc', { wayCode: 'ICBC_APP' });
    assert.deepEqual(await channel.closePayment(c, never), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, never)).status, 'NOT_FOUND');
  });

  test('forged, tampered, foreign and re-pathed notifications', async () => {
    const c = ctx();
    const o = orderInput('icbc', { wayCode: 'ICBC_APP', notifyUrl: rcv.url });
    const created = await channel.createPayment(c, o);
    Object.assign(sim.faults, { badNotifySignature: true });
    rcv.respond = (cap, i) => (i < 3 ? 'fail' : signedAck(cap));
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
    await assert.rejects(channel.parseCallback(c, 'pay', { ...inbound(tampered!), path: '/notify/elsewhere' }), isChannelError('bad_signature'), 'the path is signed');
    await assert.rejects(channel.parseCallback(c, 'pay', { ...inbound(tampered!), path: undefined }), isChannelError('protocol'));
    await assert.rejects(channel.parseCallback(ctx({ appId: '10000000000999999' }), 'pay', inbound(tampered!)), isChannelError('mismatch'), 'another app');
  });

  test('error classification: down → unavailable, busy → system, slow → timeout (processed: a query finds it)', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: (wayCode) => orderInput('icbc', { wayCode }), ways: ['ICBC_APP', 'ICBC_APP', 'ICBC_APP'], busyCode: '500001' }));

  test('refusals: another merchant key, unknown app_id; a forged gateway key; bad configuration', async () => {
    const o = () => orderInput('icbc', { wayCode: 'ICBC_APP' });
    const k = otherKey();
    await assert.rejects(channel.createPayment(ctx({}, { privateKey: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), o()), isChannelError('rejected', '400017'));
    await assert.rejects(channel.createPayment(ctx({ appId: '10000000000999999' }), o()), isChannelError('rejected', '400019'));
    await assert.rejects(channel.createPayment(ctx({ merId: '02009999' }), o()), isChannelError('rejected', '400011'));
    await assert.rejects(channel.createPayment(ctx({ icbcPublicKey: k.publicKey.export({ type: 'spki', format: 'pem' }) as string }), o()), isChannelError('bad_signature'));
    await assert.rejects(channel.createPayment(ctx({ icbcPublicKey: 'nope' }), o()), isChannelError('misconfigured'));
    await assert.rejects(channel.createPayment(ctx(), { ...o(), currency: 'USD' }), isChannelError('rejected', 'PARAM_ERROR'));
  });
});
