import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newOrderId } from '../../domain/ids.ts';
import { ChannelError, type ChannelContext, type InboundCallback, type PayOrderInput, type RefundInput } from '../types.ts';
import { UnionPayChannel } from './channel.ts';
import { txnTimeMs } from './mapping.ts';
import { clearingDay } from './sign.ts';
import { startUnionPaySimulator, type MerchantCredentials, type UnionPaySimulator } from './simulator/index.ts';
import { acpConfigOf, orderInput, quietLog as log, startNotifyReceiver, until } from './simulator/test-support.ts';
import { appUpIdentifier, isYsfUserAgent, readUserAuthReturn } from './ysf-user.ts';

/** The channel (acp mode) against the simulator: every way, close, reverse, undo vs refund, callbacks, the bill. */

let sim: UnionPaySimulator;
let creds: MerchantCredentials;
let ctx: ChannelContext;
let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
const channel = new UnionPayChannel();

before(async () => {
  sim = await startUnionPaySimulator({ timeScale: 1000, refundDelayMs: 50_000 });
  creds = await sim.registerMerchant();
  ctx = { config: acpConfigOf(creds), log };
  receiver = await startNotifyReceiver();
});
after(async () => {
  await receiver?.close();
  await sim?.close();
});

const order = (over: Partial<PayOrderInput> = {}) => orderInput({ notifyUrl: receiver.url, ...over });
const refundOf = (o: PayOrderInput, amount: number): RefundInput => ({ refundOrderId: newOrderId('R'), refundAmount: amount, payAmount: o.amount, currency: 'CNY', reason: 'r', notifyUrl: receiver.url, channelRefundNo: null });
const settled = (o: PayOrderInput, r: RefundInput) => until(`${r.refundOrderId} settled`, () => sim.ledger(creds.merId).after.find((a) => a.orderId === r.refundOrderId && a.status === 'SUCCESS'));
const inbound = (body: string): InboundCallback => ({ headers: {}, rawBody: Buffer.from(body), query: {} });

describe('ways', () => {
  test('UP_QR: codeUrl; NOT_FOUND before the scan, WAITING while paying, SUCCESS; full refund the same day is an undo', async () => {
    const o = order({ amount: 1500 });
    const c = await channel.createPayment(ctx, o);
    assert.equal(c.payDataType, 'codeUrl');
    assert.equal((await channel.queryPayment(ctx, o)).status, 'NOT_FOUND');
    sim.payer.scan(c.payData);
    assert.equal((await channel.queryPayment(ctx, o)).status, 'WAITING');
    sim.payer.pay({ qrCode: c.payData });
    const s = await channel.queryPayment(ctx, o);
    assert.deepEqual([s.status, s.amount, s.outTradeNo, s.currency], ['SUCCESS', 1500, o.payOrderId, 'CNY']);
    const r = refundOf({ ...o, channelOrderNo: s.channelOrderNo as string }, 1500);
    const undo = await channel.refund(ctx, { ...o, channelOrderNo: s.channelOrderNo as string }, r);
    assert.deepEqual([undo.status, undo.outRefundNo], ['PROCESSING', r.refundOrderId]);
    const sameDay = clearingDay(Date.now()) === clearingDay(txnTimeMs(o.payOrderId)); // false only across 23:00 Beijing time
    assert.equal(sim.ledger(creds.merId).after.find((a) => a.orderId === r.refundOrderId)?.kind, sameDay ? 'undo' : 'refund');
    await settled(o, r);
    const q = await channel.queryRefund(ctx, o, r);
    assert.deepEqual([q.status, q.refundAmount], ['SUCCESS', 1500]);
  });

  test('UP_APP and YSF_LITE: ysfapp {tn}; paid in the app; partial refunds are refunds (04), queried by our refund id', async () => {
    for (const wayCode of ['UP_APP', 'YSF_LITE'] as const) {
      const o = order({ wayCode, amount: 900 });
      const c = await channel.createPayment(ctx, o);
      assert.equal(c.payDataType, 'ysfapp');
      const { tn } = JSON.parse(c.payData) as { tn: string };
      sim.payer.pay({ tn });
      const s = await channel.queryPayment(ctx, o);
      assert.equal(s.status, 'SUCCESS');
      const r = refundOf(o, 300);
      assert.equal((await channel.refund(ctx, o, r)).status, 'PROCESSING', 'no queryId given: the channel asks for it');
      assert.equal(sim.ledger(creds.merId).after.find((a) => a.orderId === r.refundOrderId)?.kind, 'refund');
      await settled(o, r);
      assert.equal((await channel.queryRefund(ctx, o, r)).status, 'SUCCESS');
      assert.equal((await channel.queryRefund(ctx, o, refundOf(o, 1))).status, 'NOT_FOUND');
    }
  });

  test('YSF_JSAPI: user authorisation → userId → ysfapp {redirectUrl} payable only by that user', async () => {
    const ua = 'Mozilla/5.0 (iPhone) AppleWebKit (KHTML, like Gecko) Mobile/15E148 UnionPay/1.0 CloudPay';
    assert.ok(isYsfUserAgent(ua));
    assert.equal(appUpIdentifier(ua), 'UnionPay/1.0 CloudPay');
    assert.equal(isYsfUserAgent('Mozilla/5.0 MicroMessenger/8.0'), false);
    const authUrl = new URL(channel.ysfUserAuthUrl(ctx, 'https://cashier.example.com/ysf?o=1'));
    assert.equal(authUrl.searchParams.get('version'), '1.0.0');
    const back = new URL(sim.payer.authorize(authUrl.searchParams.get('redirectUrl') as string, 'alice').location);
    const ret = readUserAuthReturn(Object.fromEntries(back.searchParams));
    assert.ok('userAuthCode' in ret);
    const { userId } = await channel.lookupYsfUser(ctx, { userAuthCode: ret.userAuthCode, appUpIdentifier: 'UnionPay/1.0 CloudPay' });
    await assert.rejects(channel.lookupYsfUser(ctx, { userAuthCode: ret.userAuthCode }), (e: unknown) => e instanceof ChannelError && e.kind === 'rejected', 'codes work once');
    await assert.rejects(channel.createPayment(ctx, order({ wayCode: 'YSF_JSAPI' })), (e: unknown) => e instanceof ChannelError && e.channelCode === 'PARAM_ERROR');
    const o = order({ wayCode: 'YSF_JSAPI', extra: { userId } });
    const c = await channel.createPayment(ctx, o);
    assert.deepEqual([c.payDataType, c.channelUser], ['ysfapp', userId]);
    const { redirectUrl } = JSON.parse(c.payData) as { redirectUrl: string };
    assert.throws(() => sim.payer.pay({ redirectUrl }, { user: 'bob' }), /另一位/);
    sim.payer.pay({ redirectUrl }, { user: 'alice' });
    assert.equal((await channel.queryPayment(ctx, o)).status, 'SUCCESS');
    assert.deepEqual(readUserAuthReturn({ respCode: '01' }), { refused: '01' });
  });

  test('UP_BAR / YSF_BAR: success with queryId, password wait, insufficient funds, lost answer (03) → WAITING, reversal', async () => {
    const bar = (wayCode: 'UP_BAR' | 'YSF_BAR', code: string) => order({ wayCode, extra: { authCode: code } });
    const ok = bar('YSF_BAR', '6200000000000000001');
    const paid = await channel.createPayment(ctx, ok);
    assert.equal(paid.status, 'SUCCESS');
    assert.match(paid.channelOrderNo as string, /^\d{21}$/);
    assert.equal((await channel.createPayment(ctx, bar('UP_BAR', '6210000000000000001'))).status, 'WAITING');
    const poor = await channel.createPayment(ctx, bar('UP_BAR', '6290000000000000001'));
    assert.deepEqual([poor.status, poor.errCode], ['FAIL', '65']);
    const lost = bar('YSF_BAR', '6280000000000000001');
    assert.equal((await channel.createPayment(ctx, lost)).status, 'WAITING', '03 never fails an order');
    assert.equal((await channel.queryPayment(ctx, lost)).status, 'SUCCESS');
    const stuck = bar('YSF_BAR', '6220000000000000001');
    assert.equal((await channel.createPayment(ctx, stuck)).status, 'WAITING');
    assert.deepEqual(await channel.reversePayment(ctx, stuck), { status: 'REVERSED' });
    assert.equal((await channel.queryPayment(ctx, stuck)).status, 'FAIL');
    assert.deepEqual(await channel.reversePayment(ctx, order({ wayCode: 'YSF_BAR' })), { status: 'REVERSED' }, 'nothing reached UnionPay');
  });
});

describe('close, callbacks, bill, configuration', () => {
  test('close: unscanned code → CLOSED; payer authorising → refused; paid → ALREADY_PAID', async () => {
    const unscanned = order();
    await channel.createPayment(ctx, unscanned);
    assert.deepEqual(await channel.closePayment(ctx, unscanned), { status: 'CLOSED' });
    const scanning = order();
    sim.payer.scan((await channel.createPayment(ctx, scanning)).payData);
    await assert.rejects(channel.closePayment(ctx, scanning), (e: unknown) => e instanceof ChannelError && e.channelCode === 'ORDER_PAYING');
    sim.payer.pay({ qrCode: (await channel.createPayment(ctx, scanning)).payData });
    assert.deepEqual(await channel.closePayment(ctx, scanning), { status: 'ALREADY_PAID' });
  });

  test('back notifications: verified pay and refund; forged, tampered, foreign-chained and other-merchant ones refused', async () => {
    const o = order({ amount: 700 });
    sim.payer.pay({ qrCode: (await channel.createPayment(ctx, o)).payData });
    const n = await until('notification', () => receiver.received.find((r) => r.fields.orderId === o.payOrderId));
    const parsed = await channel.parseCallback(ctx, 'pay', inbound(n.body));
    assert.equal(parsed.kind, 'pay');
    if (parsed.kind === 'pay') assert.deepEqual([parsed.payment.status, parsed.payment.amount, parsed.payment.outTradeNo], ['SUCCESS', 700, o.payOrderId]);
    await assert.rejects(channel.parseCallback(ctx, 'refund', inbound(n.body)), (e: unknown) => e instanceof ChannelError && e.kind === 'protocol', 'a consume at the refund URL');
    const forged = n.body.replace(/txnAmt=700/, 'txnAmt=1');
    await assert.rejects(channel.parseCallback(ctx, 'pay', inbound(forged)), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
    for (const fault of ['tamperNotifyAmount', 'badNotifySignature', 'foreignSignCert', 'wrongNotifyMerId'] as const) {
      const f = order({ amount: 701 });
      const code = (await channel.createPayment(ctx, f)).payData;
      sim.faults[fault] = true;
      sim.payer.pay({ qrCode: code });
      const bad = await until(`${fault} notification`, () => receiver.received.find((r) => r.fields.orderId === f.payOrderId));
      sim.faults[fault] = false;
      const result = channel.parseCallback(ctx, 'pay', inbound(bad.body));
      if (fault === 'tamperNotifyAmount') {
        const p = await result; // correctly signed: the amount check is the core's (OrderSync)
        assert.ok(p.kind === 'pay' && p.payment.amount === 702);
      } else await assert.rejects(result, (e: unknown) => e instanceof ChannelError && e.kind === (fault === 'wrongNotifyMerId' ? 'mismatch' : 'bad_signature'), fault);
    }
    const r = refundOf(o, 100);
    await channel.refund(ctx, o, r);
    const rn = await until('refund notification', () => receiver.received.find((x) => x.fields.orderId === r.refundOrderId));
    const pr = await channel.parseCallback(ctx, 'refund', inbound(rn.body));
    assert.ok(pr.kind === 'refund' && pr.refund.status === 'SUCCESS' && pr.refund.outRefundNo === r.refundOrderId && pr.refund.refundAmount === 100);
  });

  test('downloadBill: the clearing day file as the bill contract', async () => {
    const o = order({ amount: 2000 });
    sim.payer.pay({ qrCode: (await channel.createPayment(ctx, o)).payData });
    const day = clearingDay(Date.now());
    const bill = await channel.downloadBill(ctx, `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`);
    const row = bill.rows.find((x) => x.outTradeNo === o.payOrderId);
    assert.deepEqual([row?.kind, row?.amount, row?.fee], ['pay', 2000, '12']);
    assert.ok(Number(bill.summary.rows) >= 1);
    assert.deepEqual((await channel.downloadBill(ctx, '2020-02-29')).rows, []);
  });

  test('configuration: wrong PFX password and missing certificates are config errors; a wrong root fails every answer', async () => {
    const bad = (params: Record<string, string>, secrets: Record<string, string> = {}) => ({ ...ctx, config: { params: { ...ctx.config.params, ...params }, secrets: { ...ctx.config.secrets, ...secrets } } });
    await assert.rejects(channel.queryPayment(bad({}, { signCertPassword: 'nope' }), order()), (e: unknown) => e instanceof ChannelError && e.kind === 'misconfigured' && /signCertPfx/.test(e.message));
    await assert.rejects(channel.queryPayment(bad({ middleCert: '' }), order()), (e: unknown) => e instanceof ChannelError && e.kind === 'misconfigured');
    const other = await startUnionPaySimulator();
    try {
      const foreign = (await other.registerMerchant()).rootCertPem;
      await assert.rejects(channel.queryPayment(bad({ rootCert: foreign }), order()), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature' && /root/.test(e.message));
    } finally {
      await other.close();
    }
  });
});
