import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { defaultAcquirerFaults } from '../../sandbox/acquirer/types.ts';
import { compactChinaTime } from '../../china-time.ts';
import { buildJdXml, decryptJdXml, encryptJdXml, jdDesKey, parseJdXml, signJdXml, verifyJdXml, type XmlFields } from '../envelope.ts';
import { NOTIFY_RETRY_S } from '../protocol.ts';
import { startJdpaySimulator, type JdpayMerchantCredentials, type JdpaySimulator } from './index.ts';

/** The simulator as JD Pay's strict counterpart: envelope checks, idempotency, notifications and retries, the state file. */

const SCALE = 1000;
let sim: JdpaySimulator;
let m: JdpayMerchantCredentials;
let rcv: CaptureReceiver;

before(async () => {
  sim = await startJdpaySimulator({ timeScale: SCALE, refundDelayMs: 50 });
  m = await sim.registerMerchant({ merchantId: '110025845001' });
  rcv = await startCaptureReceiver('success');
});
after(async () => {
  await rcv.close();
  await sim.close();
});
beforeEach(() => {
  Object.assign(sim.faults, defaultAcquirerFaults());
  rcv.received.length = 0;
  rcv.respond = () => 'success';
});

let n = 0;
const no = () => `J${Date.now()}${++n}`;
const jdKey = () => createPublicKey(m.jdPublicKeyPem);

/** Sends a message built by hand; `alter` may change the inner XML after signing or the outer document. */
async function call(path: string, fields: XmlFields, o: { inner?: (xml: string) => string; outer?: (xml: string) => string; merchant?: string; desKey?: string } = {}): Promise<{ outer: XmlFields; inner?: XmlFields; raw: string }> {
  const merchant = o.merchant ?? m.merchantId;
  let inner = signJdXml(buildJdXml({ version: 'V2.0', merchant, ...fields }), createPrivateKey(m.privateKeyPem as string));
  if (o.inner) inner = o.inner(inner);
  let outer = buildJdXml({ version: 'V2.0', merchant, encrypt: encryptJdXml(jdDesKey(o.desKey ?? m.desKey), inner) });
  if (o.outer) outer = o.outer(outer);
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: outer });
  const raw = await res.body.text();
  const parsed = parseJdXml(raw);
  if (typeof parsed.encrypt !== 'string') return { outer: parsed, raw };
  const xml = decryptJdXml(jdDesKey(m.desKey), parsed.encrypt);
  assert.ok(verifyJdXml(xml, jdKey()), 'answers are signed by JD');
  return { outer: parsed, inner: parseJdXml(xml), raw };
}

const code = (a: { outer: XmlFields }) => (a.outer.result as XmlFields).code;
const order = (over: XmlFields = {}): XmlFields => ({ tradeNum: no(), tradeName: '商品', tradeTime: compactChinaTime(Date.now()), amount: '100', orderType: '1', currency: 'CNY', notifyUrl: rcv.url, ip: '10.0.0.1', tradeType: 'QR', expireTime: '600', ...over });

describe('envelope checks', () => {
  test('refusals are a bare result code: XML, merchant, version, 3DES key, signature, inner/outer merchant', async () => {
    const cases: Array<[string, Parameters<typeof call>[2], string]> = [
      ['not XML', { outer: () => 'hello' }, '000001'],
      ['unknown merchant', { outer: (x) => x.replace(`<merchant>${m.merchantId}</merchant>`, '<merchant>123</merchant>') }, '000003'],
      ['version', { outer: (x) => x.replace('<version>V2.0</version>', '<version>V1.0</version>') }, '000001'],
      ['another 3DES key', { desKey: Buffer.alloc(24, 3).toString('base64') }, '000004'],
      ['changed after signing', { inner: (x) => x.replace('<amount>100</amount>', '<amount>1</amount>') }, '000002'],
      ['no signature', { inner: (x) => x.replace(/<sign>.*<\/sign>/, '') }, '000002'],
      ['inner merchant differs', { inner: (x) => x }, '000001'],
    ];
    for (const [what, o, expected] of cases) {
      const fields = what === 'inner merchant differs' ? { ...order(), merchant: 'x' } : order();
      const a = await call('/service/uniorder', fields, o);
      assert.deepEqual([code(a), a.outer.encrypt], [expected, undefined], what);
    }
  });

  test('uniorder: tradeNum is the idempotency key; QR answers a code, GEN an order for the app; business refusals', async () => {
    const o = order();
    const a = await call('/service/uniorder', o);
    assert.equal(code(a), '000000');
    assert.match(a.inner?.qrCode as string, /\/sandbox\/pay\//);
    const b = await call('/service/uniorder', { ...o, tradeTime: compactChinaTime(Date.now() + 1000) });
    assert.equal(b.inner?.orderId, a.inner?.orderId, 'a repeat (another tradeTime) is the same order');
    assert.equal(code(await call('/service/uniorder', { ...o, amount: '101' })), '000008');
    const gen = await call('/service/uniorder', order({ tradeType: 'GEN' }));
    assert.equal(gen.inner?.qrCode, undefined);
    for (const [over, expected] of [[{ amount: '1.00' }, '000001'], [{ currency: 'USD' }, '000001'], [{ tradeType: 'X' }, '000001'], [{ tradeType: 'GEN', payTool: 'WX' }, '000001'], [{ notifyUrl: 'x' }, '000001']] as const) {
      assert.equal(code(await call('/service/uniorder', order(over))), expected, JSON.stringify(over));
    }
    assert.equal(code(await call('/service/query', { tradeNum: 'nope', tradeType: '0' })), '000005');
    sim.faults.busyNextRequests = 1;
    assert.equal(code(await call('/service/query', { tradeNum: 'nope', tradeType: '0' })), '999999');
  });
});

describe('notifications and refunds', () => {
  test('sealed notifications retried until "success" on the schedule divided by timeScale; refunds notified with tradeType 1', async () => {
    rcv.respond = (_c, i) => (i === 0 ? 'SUCCESS' : 'success');
    const o = order();
    const a = await call('/service/uniorder', o);
    sim.payer.pay(a.inner?.qrCode as string);
    const [first, second] = await rcv.waitFor(2);
    assert.ok((second!.at - first!.at) >= (NOTIFY_RETRY_S[0] * 1000) / SCALE - 2, '"SUCCESS" is not "success"');
    const outer = parseJdXml(second!.raw.toString('utf8'));
    const inner = parseJdXml(decryptJdXml(jdDesKey(m.desKey), outer.encrypt as string));
    assert.deepEqual([inner.tradeType, inner.status, inner.tradeNum, inner.amount], ['0', '2', o.tradeNum, '100']);
    rcv.received.length = 0;
    const r = await call('/service/refund', { tradeNum: no(), oTradeNum: o.tradeNum as string, amount: '30', currency: 'CNY', tradeTime: compactChinaTime(Date.now()), notifyUrl: rcv.url });
    assert.equal(r.inner?.status, '0');
    const [note] = await rcv.waitFor(1);
    const refundNote = parseJdXml(decryptJdXml(jdDesKey(m.desKey), parseJdXml(note!.raw.toString('utf8')).encrypt as string));
    assert.deepEqual([refundNote.tradeType, refundNote.status, refundNote.oTradeNum], ['1', '1', o.tradeNum]);
    const q = await call('/service/query', { tradeNum: r.inner?.tradeNum as string, oTradeNum: o.tradeNum as string, tradeType: '1' });
    assert.equal(q.inner?.status, '1');
    assert.equal(code(await call('/service/refund', { tradeNum: no(), oTradeNum: o.tradeNum as string, amount: '71', currency: 'CNY', tradeTime: compactChinaTime(Date.now()) })), '000009');
    assert.equal(code(await call('/service/revoke', { tradeNum: no(), oTradeNum: o.tradeNum as string, amount: '1', currency: 'CNY', tradeTime: compactChinaTime(Date.now()) })), '000001', 'revoke names the order amount');
  });

  test('cashier forms: a value changed in transit is refused; the state file keeps the 3DES key', async () => {
    const tampered = await request(`${sim.baseUrl}/wepay/jdpay/saveOrder`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ version: 'V2.0', merchant: m.merchantId, sign: 'AAAA', tradeNum: 'abcd' }).toString() });
    assert.equal(tampered.statusCode, 400);
    assert.match(await tampered.body.text(), /000004|000002/);
    const file = join(mkdtempSync(join(tmpdir(), 'jdpay-sim-')), 'state.json');
    const first = await startJdpaySimulator({ stateFile: file });
    const c1 = await first.registerMerchant({ merchantId: '110025845002' });
    await first.close();
    const second = await startJdpaySimulator({ stateFile: file });
    try {
      const c2 = await second.registerMerchant({ merchantId: '110025845002' });
      assert.deepEqual([c2.desKey, c2.jdPublicKeyPem, c2.privateKeyPem], [c1.desKey, c1.jdPublicKeyPem, undefined]);
    } finally {
      await second.close();
    }
  });
});
