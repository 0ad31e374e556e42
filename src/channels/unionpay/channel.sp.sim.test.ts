import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { newOrderId } from '../../domain/ids.ts';
import { ChannelError, type ChannelContext, type PayOrderInput, type RefundInput } from '../types.ts';
import { UnionPayChannel } from './channel.ts';
import { startUnionPaySimulator, type ProviderCredentials, type UnionPaySimulator } from './simulator/index.ts';
import { orderInput, quietLog as log, spConfigOf, startNotifyReceiver, until } from './simulator/test-support.ts';

/** The channel in sp mode (a 云闪付 service provider's sub-merchant) against the simulator's JSON gateway. */

let sim: UnionPaySimulator;
let sp: ProviderCredentials;
let ctx: ChannelContext;
let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
const channel = new UnionPayChannel();

before(async () => {
  sim = await startUnionPaySimulator({ timeScale: 1000 });
  sp = await sim.registerProvider();
  ctx = { config: spConfigOf(sp), log };
  receiver = await startNotifyReceiver();
});
after(async () => {
  await receiver?.close();
  await sim?.close();
});

const order = (over: Partial<PayOrderInput> = {}) => orderInput({ notifyUrl: receiver.url, ...over });
const refundOf = (o: PayOrderInput, amount: number): RefundInput => ({ refundOrderId: newOrderId('R'), refundAmount: amount, payAmount: o.amount, currency: 'CNY', reason: 'r', notifyUrl: receiver.url, channelRefundNo: null });
const isErr = (kind: string) => (e: unknown) => e instanceof ChannelError && e.kind === kind;

test('YSF_BAR and UP_BAR by micropay: paid, paying, declined; refund is synchronous; refund query', async () => {
  const ok = order({ wayCode: 'YSF_BAR', amount: 640, extra: { authCode: '6200000000000000005' } });
  const paid = await channel.createPayment(ctx, ok);
  assert.equal(paid.status, 'SUCCESS');
  assert.deepEqual([(await channel.queryPayment(ctx, ok)).status, (await channel.queryPayment(ctx, ok)).amount], ['SUCCESS', 640]);
  const r = refundOf(ok, 40);
  assert.deepEqual(await channel.refund(ctx, ok, r), { status: 'SUCCESS', outRefundNo: r.refundOrderId, refundAmount: 40 });
  assert.equal((await channel.queryRefund(ctx, ok, r)).status, 'SUCCESS');
  assert.equal((await channel.queryRefund(ctx, ok, refundOf(ok, 1))).status, 'NOT_FOUND');
  await assert.rejects(channel.refund(ctx, ok, refundOf(ok, 601)), isErr('rejected'));
  assert.equal((await channel.createPayment(ctx, order({ wayCode: 'UP_BAR', extra: { authCode: '6210000000000000005' } }))).status, 'WAITING');
  const poor = await channel.createPayment(ctx, order({ wayCode: 'UP_BAR', extra: { authCode: '6290000000000000005' } }));
  assert.deepEqual([poor.status, poor.errCode], ['FAIL', '65']);
  const lost = order({ wayCode: 'YSF_BAR', extra: { authCode: '6280000000000000005' } });
  assert.equal((await channel.createPayment(ctx, lost)).status, 'WAITING', '99 means query');
  assert.equal((await channel.queryPayment(ctx, lost)).status, 'SUCCESS');
});

test('reverse of a code still paying revokes it; of a paid one reports ALREADY_PAID; close of an unpaid JSAPI order', async () => {
  const stuck = order({ wayCode: 'YSF_BAR', extra: { authCode: '6220000000000000005' } });
  assert.equal((await channel.createPayment(ctx, stuck)).status, 'WAITING');
  assert.deepEqual(await channel.reversePayment(ctx, stuck), { status: 'REVERSED' });
  assert.equal((await channel.queryPayment(ctx, stuck)).status, 'REVOKED');
  const paid = order({ wayCode: 'YSF_BAR', extra: { authCode: '6200000000000000006' } });
  await channel.createPayment(ctx, paid);
  assert.deepEqual(await channel.reversePayment(ctx, paid), { status: 'ALREADY_PAID' });
  const auth = new URL(sim.payer.authorize('https://m.shop.example/pay').location).searchParams.get('userAuthCode') as string;
  const { userId } = await channel.lookupYsfUser(ctx, { userAuthCode: auth });
  const open = order({ wayCode: 'YSF_JSAPI', extra: { userId } });
  await channel.createPayment(ctx, open);
  assert.deepEqual(await channel.closePayment(ctx, open), { status: 'CLOSED' });
  assert.equal((await channel.queryPayment(ctx, open)).status, 'CLOSED');
});

test('YSF_JSAPI: ysfapp redirectUrl; paid; the JSON notification verified, names this merchant; forged ones refused', async () => {
  const auth = new URL(sim.payer.authorize('https://m.shop.example/pay').location).searchParams.get('userAuthCode') as string;
  const { userId } = await channel.lookupYsfUser(ctx, { userAuthCode: auth, appUpIdentifier: 'UnionPay/1.0 CloudPay' });
  const o = order({ wayCode: 'YSF_JSAPI', amount: 321, extra: { userId } });
  const c = await channel.createPayment(ctx, o);
  assert.equal(c.payDataType, 'ysfapp');
  sim.payer.pay({ redirectUrl: (JSON.parse(c.payData) as { redirectUrl: string }).redirectUrl });
  const n = await until('notification', () => receiver.received.find((r) => r.fields.orderNo === o.payOrderId));
  const parsed = await channel.parseCallback(ctx, 'pay', { headers: {}, rawBody: Buffer.from(n.body), query: {} });
  assert.ok(parsed.kind === 'pay' && parsed.payment.status === 'SUCCESS' && parsed.payment.amount === 321 && parsed.payment.outTradeNo === o.payOrderId);
  await assert.rejects(channel.parseCallback(ctx, 'pay', { headers: {}, rawBody: Buffer.from(n.body.replace('"txnAmt":"321"', '"txnAmt":"1"')), query: {} }), isErr('bad_signature'));
  const other = await sim.registerProvider();
  await assert.rejects(channel.parseCallback({ ...ctx, config: spConfigOf(other) }, 'pay', { headers: {}, rawBody: Buffer.from(n.body), query: {} }), isErr('mismatch'));
  await assert.rejects(channel.parseCallback(ctx, 'refund', { headers: {}, rawBody: Buffer.from(n.body), query: {} }), isErr('protocol'));
});

test('sp mode refuses what the provider gateway does not carry, before sending anything', async () => {
  await assert.rejects(channel.createPayment(ctx, order({ wayCode: 'UP_QR' })), isErr('misconfigured'));
  await assert.rejects(channel.downloadBill(ctx, '2026-01-01'), isErr('misconfigured'));
  await assert.rejects(channel.createPayment(ctx, order({ wayCode: 'YSF_JSAPI', extra: { userId: 'undefined' } })), (e: unknown) => e instanceof ChannelError && e.channelCode === 'PARAM_ERROR');
  await assert.rejects(channel.queryPayment({ ...ctx, config: spConfigOf(sp, { ysfPublicKey: 'bm90IGEga2V5' }) }, order()), isErr('misconfigured'));
});
