import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { request } from 'undici';
import { startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { defaultAcquirerFaults } from '../../sandbox/acquirer/types.ts';
import { rsaSign } from '../../rsa.ts';
import { abcMessage, abcVerify, decodeAbc, encodeAbc, openAbcEnvelope, sealAbcMessage } from '../envelope.ts';
import { NOTIFY_RETRY_S } from '../protocol.ts';
import { startAbcSimulator, type AbcMerchantCredentials, type AbcSimulator } from './index.ts';

/** The simulator as ABC TrustPay's strict counterpart: envelope and charset checks, idempotency, signed business refusals, notifications. */

const SCALE = 1000;
let sim: AbcSimulator;
let m: AbcMerchantCredentials;
let rcv: CaptureReceiver;

before(async () => {
  sim = await startAbcSimulator({ timeScale: SCALE });
  m = await sim.registerMerchant({ merchantId: '103881636900016' });
  rcv = await startCaptureReceiver('');
});
after(async () => {
  await rcv.close();
  await sim.close();
});
beforeEach(() => {
  Object.assign(sim.faults, defaultAcquirerFaults());
  rcv.received.length = 0;
  rcv.status = () => 200;
});

let n = 0;
const no = () => `A${Date.now()}${++n}`;
const trustpay = () => createPublicKey(m.trustpayPublicKeyPem);

async function send(body: Buffer): Promise<{ response: Record<string, any>; signed: boolean }> {
  const res = await request(`${sim.baseUrl}/ebus/ReceiveMerchantTrxReqServlet`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=GB18030' }, body });
  const opened = openAbcEnvelope(decodeAbc(Buffer.from(await res.body.arrayBuffer())));
  const signed = opened.signature !== undefined;
  if (signed) assert.ok(abcVerify(opened.messageText, opened.signature as string, trustpay()), 'signed answers verify with TrustPay\'s key');
  return { response: opened.message.TrxResponse as Record<string, any>, signed };
}

const call = (trx: Record<string, unknown>, merchantId = m.merchantId) => send(encodeAbc(sealAbcMessage(abcMessage(merchantId, { TrxRequest: trx }), createPrivateKey(m.privateKeyPem as string))));

const scan = (over: Record<string, unknown> = {}) => ({
  TrxType: 'OLScanPayOrderReq',
  Order: { PayTypeID: 'ImmediatePay', OrderNo: no(), OrderAmount: '10.00', OrderDate: '2026/01/19', OrderTime: '09:50:30', OrderDesc: '测试商品-扫码支付', CurrencyCode: '156', CommodityType: '0201', InstallmentMark: '0', ExpiredDate: '1', ...over },
  PaymentType: 'A',
  PaymentLinkType: '1',
  NotifyType: '1',
  ResultNotifyURL: rcv.url,
  IsBreakAccount: '0',
});

describe('TrustPay servlet checks', () => {
  test('unsigned APE refusals: not JSON, unknown merchant, version, a signature over UTF-8 instead of GB18030, an unknown TrxType', async () => {
    const key = createPrivateKey(m.privateKeyPem as string);
    const msgText = JSON.stringify(abcMessage(m.merchantId, { TrxRequest: scan() }));
    const utf8Signed = `{"MSG":{"Message":${msgText},"Signature-Algorithm":"SHA1withRSA","Signature":"${rsaSign('sha1', Buffer.from(msgText, 'utf8'), key)}"}}`;
    const cases: Array<[string, Buffer, string]> = [
      ['not JSON', encodeAbc('MSG=1'), 'APE009'],
      ['unknown merchant', encodeAbc(sealAbcMessage(abcMessage('103881600000001', { TrxRequest: scan() }), key)), 'APE002'],
      ['version', encodeAbc(sealAbcMessage({ ...abcMessage(m.merchantId, { TrxRequest: scan() }), Version: 'V2.0.0' }, key)), 'APE009'],
      ['signed over UTF-8', encodeAbc(utf8Signed), 'APE400'],
      ['unsigned', encodeAbc(sealAbcMessage(abcMessage(m.merchantId, { TrxRequest: scan() }), undefined)), 'APE400'],
    ];
    for (const [what, body, code] of cases) {
      const a = await send(body);
      assert.deepEqual([a.response.ReturnCode, a.signed], [code, false], what);
    }
    const unknownType = await call({ TrxType: 'Teleport' });
    assert.deepEqual([unknownType.response.ReturnCode, unknownType.signed], ['APE001', false]);
  });

  test('OrderNo is the idempotency key; business refusals are signed E codes; busy answers EUNKWN, nothing done', async () => {
    const req = scan();
    const a = await call(req);
    assert.deepEqual([a.response.ReturnCode, a.signed], ['0000', true]);
    assert.match(a.response.QRCode, /\/sandbox\/pay\//);
    assert.equal((await call({ ...req, Order: { ...req.Order, OrderTime: '10:00:00' } })).response.TrxID, a.response.TrxID, 'another OrderTime: the same order');
    const other = await call({ ...req, Order: { ...req.Order, OrderAmount: '11.00' } });
    assert.deepEqual([other.response.ReturnCode, other.signed], ['E007', true]);
    assert.equal((await call(scan({ OrderAmount: '10.001' }))).response.ReturnCode, 'APE009');
    assert.equal((await call({ TrxType: 'Query', PayTypeID: 'ImmediatePay', OrderNo: 'none', QueryDetail: '1' })).response.ReturnCode, 'E001');
    assert.equal((await call({ TrxType: 'Refund', OrderNo: req.Order.OrderNo, NewOrderNo: no(), CurrencyCode: '156', TrxAmount: '1.00' })).response.ReturnCode, 'E006', 'unpaid');
    sim.faults.busyNextRequests = 1;
    const busy = await call(scan());
    assert.deepEqual([busy.response.ReturnCode, busy.signed], ['EUNKWN', false]);
  });
});

describe('result notifications', () => {
  test('form field MSG: base64 of the signed GB18030 envelope, retried until an HTTP 200', async () => {
    rcv.status = (_c, i) => (i === 0 ? 503 : 200);
    const a = await call(scan());
    sim.payer.pay(a.response.QRCode, { wallet: 'ALIPAY' });
    const [first, second] = await rcv.waitFor(2);
    assert.ok((second!.at - first!.at) >= (NOTIFY_RETRY_S[0] * 1000) / SCALE - 2);
    const msg = new URLSearchParams(second!.raw.toString('utf8')).get('MSG') as string;
    const opened = openAbcEnvelope(decodeAbc(Buffer.from(msg, 'base64')));
    assert.ok(abcVerify(opened.messageText, opened.signature as string, trustpay()));
    const r = opened.message.TrxResponse as Record<string, string>;
    assert.deepEqual([r.ReturnCode, r.Status, r.OrderAmount, r.PayChannel], ['0000', '04', '10.00', 'ALIPAY']);
    await new Promise((res) => setTimeout(res, (NOTIFY_RETRY_S[1] * 1000) / SCALE + 50));
    assert.equal(rcv.received.length, 2);
  });
});
