import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'undici';
import { ChannelError, type ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { ShengpayChannel } from './channel.ts';
import { startShengpaySimulator, type ShengpayMerchantCredentials, type ShengpaySimulator } from './simulator/index.ts';
import type { ShengpayWay } from './protocol.ts';

/** The Shengpay channel against its simulator: every way, refunds, bar code, close/reverse, notifications, error classification. */

let sim: ShengpaySimulator;
let creds: ShengpayMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new ShengpayChannel();

function config(over: Record<string, string> = {}, signType = 'RSA'): ChannelConfig {
  return { params: { mchId: creds.merchantId, shengpayPublicKey: creds.shengpayPublicKeyPem, signType, wxAppId: 'wxd0000000000demo1', wxLiteAppId: 'wxd0000000000demo2', baseUrl: sim.baseUrl, ...over }, secrets: { privateKey: creds.privateKeyPem as string } };
}
const ctx = (over: Record<string, string> = {}, signType = 'RSA') => contextOf(config(over, signType));
const isKind = isChannelError;

useAcquirerSimulator(
  () => startShengpaySimulator({ timeScale: 1000, refundDelayMs: 100, passwordDelayMs: 200 }),
  () => 'SUCCESS',
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
  },
);

const EXTRA: Partial<Record<ShengpayWay, Record<string, unknown>>> = { WX_JSAPI: { openid: 'oUser0001' }, WX_LITE: { openid: 'oUser0002' }, ALI_JSAPI: { buyerUserId: '2088102177846880' } };
const PAY_DATA: Partial<Record<ShengpayWay, string>> = { WX_NATIVE: 'codeUrl', ALI_QR: 'codeUrl', UP_QR: 'codeUrl', WX_H5: 'payurl', ALI_WAP: 'payurl', ALI_PC: 'payurl', WX_JSAPI: 'wxapp', WX_LITE: 'wxapp', ALI_JSAPI: 'aliapp' };

describe('Shengpay channel against the simulator', () => {
  test('every scan/web/JSAPI way: created, paid, notified, refunded in two parts (notified), refund queried', async () => {
    for (const [i, way] of (Object.keys(PAY_DATA) as ShengpayWay[]).entries()) {
      const c = ctx({}, i % 2 ? 'RSA2' : 'RSA');
      const o = orderInput('shengpay', { wayCode: way, extra: EXTRA[way] ?? {}, notifyUrl: rcv.url, returnUrl: 'https://shop.example.com/back' });
      const created = await channel.createPayment(c, o);
      assert.equal(created.payDataType, PAY_DATA[way], way);
      assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
      const trade = sim.ledger(creds.merchantId).trades.find((t) => t.out_trade_no === o.payOrderId);
      assert.equal(trade?.trade_no, created.channelOrderNo);
      sim.payer.pay(trade?.pay_url as string);
      const [note] = await rcv.waitFor(1);
      const parsed = await channel.parseCallback(c, 'pay', inbound(note!));
      assert.equal(parsed.kind, 'pay');
      assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount], ['SUCCESS', o.payOrderId, 1234]);
      const q = await channel.queryPayment(c, o);
      assert.deepEqual([q.status, q.amount, q.channelOrderNo], ['SUCCESS', 1234, created.channelOrderNo]);
      assert.ok(q.channelUser && q.successAt instanceof Date);
      rcv.received.length = 0;
      const r1 = refundInput(o, 234, rcv.url);
      assert.equal((await channel.refund(c, o, r1)).status, 'PROCESSING');
      const r2 = refundInput(o, 1000, rcv.url);
      await channel.refund(c, o, r2);
      const notes = await rcv.waitFor(2);
      const refunds = await Promise.all(notes.map((n) => channel.parseCallback(c, 'refund', inbound(n))));
      assert.deepEqual(refunds.map((r) => r.kind === 'refund' && r.refund.status).sort(), ['SUCCESS', 'SUCCESS']);
      const rq = await channel.queryRefund(c, o, r1);
      assert.deepEqual([rq.status, rq.refundAmount, rq.outRefundNo], ['SUCCESS', 234, r1.refundOrderId]);
      await assert.rejects(channel.refund(c, o, refundInput(o, 1, rcv.url)), (e: unknown) => isKind('rejected')(e) && (e as ChannelError).channelCode === 'REFUND_AMOUNT_ERROR');
      rcv.received.length = 0;
    }
  });

  test('payData: JSAPI parameters, Alipay trade number, the H5 link returns to pageUrl', async () => {
    const c = ctx();
    const wx = await channel.createPayment(c, orderInput('shengpay', { wayCode: 'WX_JSAPI', extra: { openid: 'oX' } }));
    const p = JSON.parse(wx.payData);
    assert.equal(p.appId, 'wxd0000000000demo1');
    assert.match(p.package, /^prepay_id=/);
    const ali = await channel.createPayment(c, orderInput('shengpay', { wayCode: 'ALI_JSAPI', extra: { buyerUserId: '2088102177846880' } }));
    assert.equal(JSON.parse(ali.payData).alipayTradeNo, ali.channelOrderNo);
    await assert.rejects(channel.createPayment(c, orderInput('shengpay', { wayCode: 'ALI_JSAPI', extra: {} })), isKind('rejected'));
    await assert.rejects(channel.createPayment(ctx({ wxLiteAppId: '' }), orderInput('shengpay', { wayCode: 'WX_LITE', extra: { openid: 'o' } })), isKind('misconfigured'));
    const h5 = await channel.createPayment(c, orderInput('shengpay', { wayCode: 'WX_H5', returnUrl: 'https://shop.example.com/done' }));
    const page = await request(h5.payData);
    assert.equal(page.statusCode, 200);
    assert.match(await page.body.text(), /微信 WeChat/);
    const token = new URL(h5.payData).pathname.split('/').pop() as string;
    const paid = await request(`${sim.baseUrl}/sandbox/v1/page/${token}/pay/WECHAT`, { method: 'POST' });
    await paid.body.dump();
    assert.deepEqual([paid.statusCode, paid.headers.location], [303, 'https://shop.example.com/done'], 'after paying, the payer returns to pageUrl');
  });

  test('bar code: paid at once, password then paid, declined, paid behind a system error, reversed while waiting', async () => {
    const c = ctx();
    const bar = (wayCode: ShengpayWay, authCode: string) => orderInput('shengpay', { wayCode, extra: { authCode } });
    const paid = await channel.createPayment(c, bar('WX_BAR', '134567890123450001'));
    assert.equal(paid.status, 'SUCCESS');
    const waiting = bar('ALI_BAR', '2812345678909991');
    assert.equal((await channel.createPayment(c, waiting)).status, 'WAITING');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await channel.queryPayment(c, waiting)).status, 'SUCCESS', 'the password delay is 200 ms / 1000');
    const declined = await channel.createPayment(c, bar('UP_BAR', '6212345678901239993'));
    assert.deepEqual([declined.status, declined.errCode], ['FAIL', 'BALANCE_NOT_ENOUGH']);
    const unknown = bar('YSF_BAR', '6212345678901239994');
    await assert.rejects(channel.createPayment(c, unknown), isKind('system'));
    assert.equal((await channel.queryPayment(c, unknown)).status, 'SUCCESS');
    const stuck = bar('WX_BAR', '134567890123459992');
    assert.equal((await channel.createPayment(c, stuck)).status, 'WAITING');
    assert.deepEqual(await channel.reversePayment(c, stuck), { status: 'REVERSED' });
    assert.equal((await channel.queryPayment(c, stuck)).status, 'REVOKED');
    const wrongWallet = bar('WX_BAR', '2812345678900001');
    assert.equal((await channel.createPayment(c, wrongWallet)).status, 'FAIL', 'an Alipay code on WX_BAR is refused');
  });

  test('close: unpaid closes, paid answers ALREADY_PAID, unknown counts as closed; unknown orders query NOT_FOUND', async () => {
    const c = ctx();
    const open = orderInput('shengpay', { wayCode: 'WX_NATIVE' });
    await channel.createPayment(c, open);
    assert.deepEqual(await channel.closePayment(c, open), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = orderInput('shengpay', { wayCode: 'ALI_QR' });
    await channel.createPayment(c, paid);
    sim.payer.pay((await channel.queryPayment(c, paid)).channelOrderNo as string);
    assert.deepEqual(await channel.closePayment(c, paid), { status: 'ALREADY_PAID' });
    const never = orderInput('shengpay', { wayCode: 'UP_QR' });
    assert.deepEqual(await channel.closePayment(c, never), { status: 'CLOSED' });
    assert.equal((await channel.queryPayment(c, never)).status, 'NOT_FOUND');
  });

  test('forged, tampered and foreign notifications', async () => {
    const c = ctx();
    const o = orderInput('shengpay', { wayCode: 'WX_NATIVE', notifyUrl: rcv.url });
    await channel.createPayment(c, o);
    Object.assign(sim.faults, { badNotifySignature: true });
    rcv.respond = (_c, i) => (i < 3 ? 'FAIL' : 'SUCCESS');
    sim.payer.pay(sim.ledger(creds.merchantId).trades.find((t) => t.out_trade_no === o.payOrderId)?.pay_url as string);
    const [forged] = await rcv.waitFor(1);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(forged!)), isKind('bad_signature'));
    Object.assign(sim.faults, { badNotifySignature: false, wrongNotifyMerchant: true });
    const [, foreign] = await rcv.waitFor(2);
    await assert.rejects(channel.parseCallback(c, 'pay', inbound(foreign!)), isKind('mismatch'));
    Object.assign(sim.faults, { wrongNotifyMerchant: false, tamperNotifyAmount: true });
    const [, , tampered] = await rcv.waitFor(3);
    const t = await channel.parseCallback(c, 'pay', inbound(tampered!));
    assert.equal(t.kind === 'pay' && t.payment.amount, 1235, 'signed but claiming another amount: the core refuses it (e2e)');
    await assert.rejects(channel.parseCallback(c, 'refund', inbound(tampered!)), isKind('protocol'), 'a pay notification at the refund URL');
    await assert.rejects(channel.parseCallback(ctx({ subMchId: 'SUB001' }), 'pay', inbound(tampered!)), isKind('mismatch'));
  });

  test('error classification: down → unavailable, busy → system, slow → timeout (processed: a query finds it)', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: (wayCode) => orderInput('shengpay', { wayCode }), ways: ['WX_NATIVE', 'ALI_QR', 'UP_QR'], busyCode: 'BIZERR_NEED_RETRY' }));

  test('refusals: wrong merchant key (SIGN_ERROR), unknown merchant, a forged answer key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const o = () => orderInput('shengpay', { wayCode: 'WX_NATIVE' });
    await assert.rejects(channel.createPayment({ ...ctx(), config: { ...config(), secrets: { privateKey: other } } }, o()), (e: unknown) => isKind('rejected')(e) && (e as ChannelError).channelCode === 'SIGN_ERROR');
    await assert.rejects(channel.createPayment(ctx({ mchId: '99999999' }), o()), (e: unknown) => isKind('rejected')(e) && (e as ChannelError).channelCode === 'MCH_NOT_FOUND');
    const wrongPlatform = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await assert.rejects(channel.createPayment(ctx({ shengpayPublicKey: wrongPlatform }), o()), isKind('bad_signature'));
  });
});
