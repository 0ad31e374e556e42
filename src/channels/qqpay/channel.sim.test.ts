import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHmac } from 'node:crypto';
import { sendChannelRequest } from '../http.ts';
import type { ChannelConfig } from '../types.ts';
import { assertErrorClassification, contextOf, inbound, isChannelError, orderInput, refundInput, type CaptureReceiver, useAcquirerSimulator } from '../sandbox/acquirer/test-support.ts';
import { QqpayChannel } from './channel.ts';
import { NOTIFY_ACK_XML } from './protocol.ts';
import { QQPAY_SANDBOX_CODES as CODES } from './simulator/cli.ts';
import { startQqpaySimulator, type QqpayMerchantCredentials, type QqpaySimulator } from './simulator/index.ts';

/** The QQ 钱包 channel against its simulator: every trade type, MICROPAY outcomes, refunds over mutual TLS, notifications, faults. */

let sim: QqpaySimulator;
let creds: QqpayMerchantCredentials;
let other: QqpayMerchantCredentials;
let rcv: CaptureReceiver;
const channel = new QqpayChannel();

function config(over: Record<string, string> = {}, secrets: Record<string, string> = {}, c = creds): ChannelConfig {
  return {
    params: { mchId: c.mchId, appId: c.appId, opUserId: c.opUserId, apiClientCert: c.apiClientCertPem, tlsCaCert: c.tlsCaCertPem, baseUrl: sim.baseUrl, apiBaseUrl: sim.apiBaseUrl, ...over },
    secrets: { apiKey: c.apiKey, apiClientKey: c.apiClientKeyPem as string, opUserPassword: c.opUserPassword, appKey: c.appKey, ...secrets },
  };
}
const ctx = (over: Record<string, string> = {}, secrets: Record<string, string> = {}) => contextOf(config(over, secrets));
const tradeOf = (id: string) => sim.ledger(creds.mchId).trades.find((t) => t.out_trade_no === id);
const qq = (over: Parameters<typeof orderInput>[1] extends infer T ? Partial<T> : never = {}) => orderInput('qqpay', { wayCode: 'QQ_PAY', notifyUrl: rcv.url, ...over });

useAcquirerSimulator(
  () => startQqpaySimulator({ timeScale: 1000, refundDelayMs: 50, passwordDelayMs: 200_000 }),
  () => NOTIFY_ACK_XML,
  async (s, r) => {
    sim = s;
    rcv = r;
    creds = await sim.registerMerchant();
    other = await sim.registerMerchant();
  },
);

describe('QQ 钱包 channel against the simulator', () => {
  test('NATIVE: code_url, paid by the sandbox payer, notified (verified), refunded in two parts over mutual TLS, refund queried', async () => {
    const c = ctx();
    const o = qq();
    const created = await channel.createPayment(c, o);
    assert.deepEqual([created.status, created.payDataType], ['WAITING', 'codeUrl']);
    assert.equal((await channel.queryPayment(c, o)).status, 'WAITING');
    assert.equal(sim.payer.pay(created.payData).paid_with, 'QQ');
    const [note] = await rcv.waitFor(1);
    const parsed = await channel.parseCallback(c, 'pay', inbound(note!));
    assert.equal(parsed.kind, 'pay');
    assert.deepEqual(parsed.kind === 'pay' && [parsed.payment.status, parsed.payment.outTradeNo, parsed.payment.amount], ['SUCCESS', o.payOrderId, o.amount]);
    const paid = await channel.queryPayment(c, o);
    assert.equal(paid.channelOrderNo, tradeOf(o.payOrderId)?.trade_no);
    const order = { ...o, channelOrderNo: paid.channelOrderNo ?? null };
    const first = refundInput(order, 400, rcv.url);
    assert.equal((await channel.refund(c, order, first)).status, 'PROCESSING');
    assert.equal((await channel.refund(c, order, first)).status, 'PROCESSING', 'a repeat is the same refund');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(await channel.queryRefund(c, order, first).then((r) => [r.status, r.refundAmount]), ['SUCCESS', 400]);
    const rest = refundInput(order, o.amount - 400, rcv.url);
    await channel.refund(c, order, rest);
    await assert.rejects(channel.refund(c, order, refundInput(order, 1, rcv.url)), isChannelError('rejected', 'REFUND_FEE_INVALID'));
    assert.equal(tradeOf(o.payOrderId)?.refunded, o.amount);
    assert.equal((await channel.queryPayment(c, o)).status, 'SUCCESS', 'REFUND (转入退款) was paid');
    assert.equal((await channel.queryRefund(c, order, refundInput(order, 1, rcv.url))).status, 'NOT_FOUND');
  });

  test('JSAPI and APP: the QQ JS API tokenId/appInfo, and the app SDK parameters with an HMAC-SHA1 sig checked independently', async () => {
    const c = ctx();
    const js = await channel.createPayment(c, qq({ extra: { tradeType: 'JSAPI' } }));
    const jsParams = JSON.parse(js.payData) as Record<string, string>;
    assert.equal(js.payDataType, 'wxapp');
    assert.equal(jsParams.appInfo, `appid#${creds.appId}|bargainor_id#${creds.mchId}|channel#wallet`);
    assert.equal(sim.payer.pay(jsParams.tokenId!).status, 'SUCCESS');
    const app = JSON.parse((await channel.createPayment(c, qq({ extra: { tradeType: 'APP' } }))).payData) as Record<string, string>;
    const text = `appId=${creds.appId}&bargainorId=${creds.mchId}&nonce=${app.nonce}&pubAcc=&tokenId=${app.tokenId}`;
    assert.equal(app.sig, createHmac('sha1', `${creds.appKey}&`).update(text).digest('base64'));
    assert.equal(app.sigType, 'HMAC-SHA1');
    await assert.rejects(channel.createPayment(ctx({ appId: '' }), qq({ extra: { tradeType: 'JSAPI' } })), isChannelError('misconfigured'));
    await assert.rejects(channel.createPayment(c, qq({ extra: { tradeType: 'H5' } })), isChannelError('rejected', 'PARAM_ERROR'));
  });

  test('MICROPAY: paid at once; password pending then paid; declined; a system error settled by a query; reversed', async () => {
    const c = ctx();
    const paid = await channel.createPayment(c, qq({ extra: { authCode: CODES.paid } }));
    assert.equal(paid.status, 'SUCCESS');
    const pending = qq({ extra: { tradeType: 'MICROPAY', authCode: CODES.passwordThenPaid } });
    assert.equal((await channel.createPayment(c, pending)).status, 'WAITING');
    assert.equal((await channel.queryPayment(c, pending)).status, 'WAITING');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await channel.queryPayment(c, pending)).status, 'SUCCESS');
    const declined = await channel.createPayment(c, qq({ extra: { authCode: CODES.declined } }));
    assert.deepEqual([declined.status, declined.errCode], ['FAIL', 'NOTENOUGH']);
    assert.equal((await channel.createPayment(c, qq({ extra: { authCode: CODES.paidButSystemError } }))).status, 'SUCCESS');
    const forever = qq({ extra: { authCode: CODES.passwordNeverConfirmed } });
    assert.equal((await channel.createPayment(c, forever)).status, 'WAITING');
    assert.equal((await channel.reversePayment(c, forever)).status, 'REVERSED');
    assert.equal((await channel.queryPayment(c, forever)).status, 'REVOKED');
    await assert.rejects(channel.createPayment(c, qq({ extra: { authCode: '134567890123456789' } })), isChannelError('rejected', 'AUTH_CODE_INVALID'));
  });

  test('close: an open order closes; a paid one answers ALREADY_PAID; an unknown one is ORDERNOTEXIST', async () => {
    const c = ctx();
    const open = qq();
    await channel.createPayment(c, open);
    assert.equal((await channel.closePayment(c, open)).status, 'CLOSED');
    assert.equal((await channel.queryPayment(c, open)).status, 'CLOSED');
    const paid = qq();
    sim.payer.pay((await channel.createPayment(c, paid)).payData);
    assert.equal((await channel.closePayment(c, paid)).status, 'ALREADY_PAID');
    assert.equal((await channel.queryPayment(c, qq())).status, 'NOT_FOUND');
  });

  test('strict simulator: a wrong API key, another merchant\'s certificate, no certificate and a repeat with other fields are refused', async () => {
    const o = qq();
    await assert.rejects(channel.createPayment(ctx({}, { apiKey: 'x'.repeat(32) }), o), (e) => isChannelError('rejected', 'FAIL')(e) && /签名错误/.test((e as Error).message));
    await channel.createPayment(ctx(), o);
    await assert.rejects(channel.createPayment(ctx(), { ...o, amount: o.amount + 1 }), isChannelError('rejected', 'OUT_TRADE_NO_USED'));
    sim.payer.pay(tradeOf(o.payOrderId)!.pay_url);
    const foreignCert = { apiClientCert: other.apiClientCertPem };
    await assert.rejects(channel.refund(ctx(foreignCert, { apiClientKey: other.apiClientKeyPem as string }), o, refundInput(o, 1, rcv.url)), (e) => isChannelError('rejected', 'FAIL')(e) && /证书/.test((e as Error).message));
    await assert.rejects(channel.refund(ctx({ apiClientCert: '' }, { apiClientKey: '' }), o, refundInput(o, 1, rcv.url)), isChannelError('misconfigured'));
    await assert.rejects(channel.refund(ctx({}, { opUserPassword: 'wrong' }), o, refundInput(o, 1, rcv.url)), isChannelError('rejected', 'OPUSER_INVALID'));
    assert.equal(tradeOf(o.payOrderId)?.refunded, 0);
  });

  test('answers and notifications that are forged, tampered or for another merchant are refused', async () => {
    const tampering = new QqpayChannel({ send: async (req) => ({ ...(await sendChannelRequest(req)), body: (await sendChannelRequest(req)).body.replace(/<total_fee><!\[CDATA\[(\d+)\]\]>/, '<total_fee><![CDATA[9$1]]>') }) });
    const c = ctx();
    const o = qq();
    sim.payer.pay((await channel.createPayment(c, o)).payData);
    await assert.rejects(tampering.queryPayment(c, o), isChannelError('bad_signature'));
    for (const [fault, kind] of [['badNotifySignature', 'bad_signature'], ['wrongNotifyMerchant', 'mismatch']] as const) {
      rcv.received.length = 0;
      sim.faults[fault] = true;
      const n = qq();
      sim.payer.pay((await channel.createPayment(c, n)).payData);
      const [note] = await rcv.waitFor(1);
      await assert.rejects(channel.parseCallback(c, 'pay', inbound(note!)), isChannelError(kind));
      sim.faults[fault] = false;
    }
    await assert.rejects(channel.parseCallback(c, 'refund', inbound(rcv.received[0]!)), isChannelError('protocol'));
  });

  test('notifications are retried until the XML SUCCESS acknowledgement', async () => {
    rcv.respond = (_c, i) => (i < 2 ? 'success' : NOTIFY_ACK_XML);
    const o = qq();
    sim.payer.pay((await channel.createPayment(ctx(), o)).payData);
    await rcv.waitFor(3, 10_000);
    const n = sim.ledger(creds.mchId).notifications.find((x) => x.out_trade_no === o.payOrderId);
    assert.deepEqual([n?.attempts, n?.delivered], [3, true]);
  });

  test('error classification: down → unavailable; SYSTEMERROR → system, nothing created; slow → timeout, processed', () =>
    assertErrorClassification({ channel, sim, c: ctx({ timeoutMs: '300' }), order: () => qq(), ways: ['QQ_PAY', 'QQ_PAY', 'QQ_PAY'], busyCode: 'SYSTEMERROR' }));
});
