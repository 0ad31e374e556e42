import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlipaySimulator, type AlipaySimulator, type AppCredentials } from './simulator/index.ts';
import { AlipayChannel } from './channel.ts';
import { ChannelError, type ChannelConfig, type ChannelContext, type Logger, type PayOrderInput } from '../types.ts';
import { buyerOf, gatewayReturnUrl, resolveWay, toPaymentStatus, toRefundStatus } from './mapping.ts';

/** The channel against the simulator in certificate mode (the e2e suite runs public-key mode), plus bills and the OAuth lookup. */

const log: Logger = { info() {}, warn() {}, error() {}, debug() {} };
let sim: AlipaySimulator;
let creds: AppCredentials;
let ctx: ChannelContext;
const channel = new AlipayChannel();

function configOf(c: AppCredentials): ChannelConfig {
  return {
    params: { appId: c.appId, useCert: 'true', appPublicCert: c.appCertPem as string, alipayPublicCert: c.alipayPublicCertPem as string, alipayRootCert: c.alipayRootCertPem as string, sellerId: c.pid, gatewayUrl: c.gatewayUrl },
    secrets: { privateKey: c.appPrivateKeyPem as string },
  };
}

let n = 0;
function order(over: Partial<PayOrderInput> = {}): PayOrderInput {
  const id = `P${Date.now()}${++n}`;
  return { payOrderId: id, wayCode: 'ALI_QR', amount: 1234, currency: 'CNY', subject: 'cert mode', body: 'b', clientIp: null, expiredAt: new Date(Date.now() + 3600e3), extra: {}, notifyUrl: `http://127.0.0.1:1/api/pay/notify/alipay/${id}`, returnUrl: null, channelOrderNo: null, ...over };
}

before(async () => {
  sim = await startAlipaySimulator({ timeScale: 1000 });
  creds = await sim.registerApp({ mode: 'cert', openId: false });
  ctx = { config: configOf(creds), log };
});
after(() => sim.close());

describe('AlipayChannel in certificate mode', () => {
  test('QR: create, NOT_FOUND before the scan, paid, refunded, refund queried, bill lists it', async () => {
    const o = order();
    const created = await channel.createPayment(ctx, o);
    assert.equal(created.payDataType, 'codeUrl');
    assert.equal((await channel.queryPayment(ctx, o)).status, 'NOT_FOUND');
    sim.payer.payByQr(created.payData);
    const s = await channel.queryPayment(ctx, o);
    assert.deepEqual([s.status, s.amount, s.outTradeNo, s.channelUser], ['SUCCESS', 1234, o.payOrderId, '2088102177846880']);
    const refund = { refundOrderId: `R${o.payOrderId}`, refundAmount: 234, payAmount: 1234, currency: 'CNY' as const, reason: 'r', notifyUrl: '', channelRefundNo: null };
    assert.deepEqual(await channel.refund(ctx, o, refund), { status: 'SUCCESS', outRefundNo: refund.refundOrderId, outTradeNo: o.payOrderId, refundAmount: 234 });
    const again = await channel.refund(ctx, o, refund);
    assert.equal(again.status, 'SUCCESS', 'a repeat (fund_change N) is confirmed by a refund query');
    assert.equal((await channel.queryRefund(ctx, o, refund)).refundAmount, 234);
    assert.equal((await channel.closePayment(ctx, o)).status, 'ALREADY_PAID', 'TRADE_STATUS_ERROR resolved by a query');
    const rows = await channel.downloadBillRows(ctx, new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10));
    assert.ok(rows.some((r) => r.outTradeNo === o.payOrderId && r.amount === 1234));
  });

  test('bar code SUCCESS checks the echoed amount; 20000 is a system fault; reverse of a paid trade refunds it', async () => {
    const paid = order({ wayCode: 'ALI_BAR', extra: { authCode: '286000000000000009' } });
    assert.equal((await channel.createPayment(ctx, paid)).status, 'SUCCESS');
    assert.deepEqual(await channel.reversePayment(ctx, paid), { status: 'REVERSED' });
    const unknown = order({ wayCode: 'ALI_BAR', extra: { authCode: '288000000000000009' } });
    await assert.rejects(channel.createPayment(ctx, unknown), (e: unknown) => e instanceof ChannelError && e.kind === 'system');
    assert.equal((await channel.queryPayment(ctx, unknown)).status, 'SUCCESS');
  });

  test('a wrong Alipay certificate fails verification; a certificate for another key is a config error', async () => {
    const other = await sim.registerApp({ mode: 'cert' });
    const wrong = { ...ctx, config: { ...ctx.config, params: { ...ctx.config.params, alipayPublicCert: other.appCertPem as string } } };
    await assert.rejects(channel.queryPayment(wrong, order()), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
    const mism = { ...ctx, config: { ...ctx.config, params: { ...ctx.config.params, appPublicCert: other.appCertPem as string } } };
    await assert.rejects(channel.queryPayment(mism, order()), (e: unknown) => e instanceof ChannelError && e.kind === 'misconfigured');
  });

  test('OAuth lookup: user_id for an old app, open_id for a new one', async () => {
    assert.deepEqual(await channel.lookupBuyer(ctx, sim.identity.authCode(creds.appId)), { buyerUserId: '2088102177846880', alipayAppId: creds.appId });
    const fresh = await sim.registerApp({ mode: 'cert' });
    const code = sim.identity.authCode(fresh.appId);
    const r = await channel.lookupBuyer({ config: configOf(fresh), log }, code);
    assert.ok('buyerOpenId' in r && r.buyerOpenId.startsWith('0'));
    await assert.rejects(channel.lookupBuyer({ config: configOf(fresh), log }, code), (e: unknown) => e instanceof ChannelError && e.kind === 'rejected' && e.channelCode === 'isv.code-invalid', 'a reused code');
  });
});

describe('mapping', () => {
  test('ALI picks a way deterministically', () => {
    const base = { wayCode: 'ALI' as const, returnUrl: null };
    assert.equal(resolveWay({ ...base, extra: { authCode: '286000000000000001' } }), 'ALI_BAR');
    assert.equal(resolveWay({ ...base, extra: { buyerOpenId: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5' } }), 'ALI_JSAPI');
    assert.equal(resolveWay({ ...base, extra: {}, returnUrl: 'https://m.shop/x' }), 'ALI_WAP');
    assert.equal(resolveWay({ ...base, extra: {} }), 'ALI_QR');
  });

  test('buyers: user_id, open_id, an open_id passed as buyerUserId, and "undefined" refused', () => {
    assert.deepEqual(buyerOf({ buyerUserId: '2088102177846880' }), { buyer_id: '2088102177846880' });
    assert.deepEqual(buyerOf({ buyerUserId: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5' }), { buyer_open_id: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5' });
    assert.equal(buyerOf({ buyerUserId: 'undefined' }), undefined);
    assert.throws(() => buyerOf({ buyerOpenId: 'a b' }), ChannelError);
  });

  test('statuses: TRADE_CLOSED after a payment reads as paid; refund query data; return URL', () => {
    assert.equal(toPaymentStatus({ trade_status: 'TRADE_CLOSED', total_amount: '1.00', refund_fee: '1.00' }).status, 'SUCCESS');
    assert.equal(toPaymentStatus({ trade_status: 'TRADE_CLOSED', total_amount: '1.00' }).status, 'CLOSED');
    assert.equal(toPaymentStatus({ trade_status: 'TRADE_FINISHED', total_amount: '0.10' }).amount, 10);
    assert.throws(() => toPaymentStatus({ trade_status: 'WHATEVER' }), ChannelError);
    assert.throws(() => toPaymentStatus({ trade_status: 'TRADE_SUCCESS', total_amount: '1.5e2' }), ChannelError);
    assert.deepEqual(toRefundStatus({ code: '10000' }, 'R1'), { status: 'NOT_FOUND' });
    assert.equal(toRefundStatus({ refund_amount: '1.00', out_request_no: 'R1' }, 'R1').status, 'SUCCESS');
    assert.equal(gatewayReturnUrl('https://pay.example.com/base/api/pay/notify/alipay/P1'), 'https://pay.example.com/base/api/pay/return/alipay/P1');
    assert.equal(gatewayReturnUrl('https://pay.example.com/other'), undefined);
  });
});
