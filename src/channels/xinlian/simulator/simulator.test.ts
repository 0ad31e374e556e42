import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startCaptureReceiver, type CaptureReceiver } from '../../sandbox/acquirer/test-support.ts';
import { XL_PATHS } from '../protocol.ts';
import { signXinlian, verifyXinlian } from '../sign.ts';
import { startXinlianSimulator, type XinlianMerchantCredentials, type XinlianSimulator } from './index.ts';

/** The simulator as 信联's strict counterpart: signature, timestamp, nonce and field checks; signed answers; registration over HTTP; the payer page. */

let sim: XinlianSimulator;
let m: XinlianMerchantCredentials;
let rcv: CaptureReceiver;
before(async () => {
  sim = await startXinlianSimulator({ timeScale: 1000 });
  const res = await request(`${sim.baseUrl}/sandbox/v1/merchants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ merchantId: 'M880000000099' }) });
  m = (await res.body.json()) as XinlianMerchantCredentials;
  rcv = await startCaptureReceiver('SUCCESS');
});
after(async () => {
  await rcv.close();
  await sim.close();
});

let n = 0;
const no = () => `X${Date.now()}${++n}`;

async function call(path: string, fields: Record<string, string | number>, alter?: (f: Record<string, unknown>) => void) {
  const body: Record<string, unknown> = signXinlian({ mchNo: m.mchNo, appId: m.appId, timestamp: Date.now(), nonce: randomBytes(16).toString('hex'), ...fields }, createPrivateKey(m.privateKeyPem as string));
  alter?.(body);
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const a = (await res.body.json()) as Record<string, unknown>;
  assert.ok(verifyXinlian(a, createPublicKey(m.xinlianPublicKeyPem)), 'every answer is signed by Xinlian');
  return { a, body };
}
const order = (over: Record<string, string | number> = {}) => ({ outTradeNo: no(), payType: 'ALIPAY_LITE', amount: 100, currency: 'CNY', subject: '商品', buyerId: '2088102177846880', notifyUrl: rcv.url, ...over });

test('registration over HTTP issues mchNo, appId, the platform key and a merchant key once', () => {
  assert.equal(m.mchNo, 'M880000000099');
  assert.match(m.appId, /^XLA\d{12}$/);
  assert.match(m.xinlianPublicKeyPem, /BEGIN PUBLIC KEY/);
  assert.match(m.privateKeyPem as string, /BEGIN PRIVATE KEY/);
});

test('refused before anything is done: signature, app, timestamp, nonce reuse, business fields; idempotent per outTradeNo', async () => {
  const cases: Array<[string, Record<string, string | number>, ((f: Record<string, unknown>) => void) | undefined, string]> = [
    ['changed after signing', order(), (f) => (f.amount = 1), '1002'],
    ['another app', order(), (f) => (f.appId = 'XLA1'), '1003'],
    ['stale timestamp', order(), (f) => Object.assign(f, signXinlian({ ...(f as Record<string, string | number>), timestamp: Date.now() - 6 * 60_000 }, createPrivateKey(m.privateKeyPem as string))), '1004'],
    ['amount in yuan', order({ amount: '1.00' }), undefined, '1001'],
    ['payType', order({ payType: 'WX_LITE' }), undefined, '1001'],
    ['buyerId', order({ buyerId: 'someone' }), undefined, '1001'],
  ];
  for (const [what, fields, alter, code] of cases) assert.equal((await call(XL_PATHS.unifiedOrder, fields, alter)).a.code, code, what);
  const o = order();
  const first = await call(XL_PATHS.unifiedOrder, o);
  assert.equal(first.a.code, '0000');
  const again = await call(XL_PATHS.unifiedOrder, o, (f) => Object.assign(f, { nonce: first.body.nonce }));
  assert.equal(again.a.code, '1002', 'a changed nonce breaks the signature');
  const replay = await request(`${sim.baseUrl}${XL_PATHS.unifiedOrder}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(first.body) });
  assert.equal(((await replay.body.json()) as { code: string }).code, '1005', 'a replayed request (same nonce)');
  const repeat = await call(XL_PATHS.unifiedOrder, o);
  assert.equal(repeat.a.tradeNO, first.a.tradeNO, 'a repeat is the same trade');
  assert.equal((await call(XL_PATHS.unifiedOrder, { ...o, amount: 101 })).a.code, '2004');
});

test('the payer page offers Alipay for the tradeNO; paying notifies a signed PAY', async () => {
  const { a } = await call(XL_PATHS.unifiedOrder, order());
  const t = sim.ledger(m.mchNo).trades.find((x) => x.trade_no === a.tradeNO);
  const page = await request(t!.pay_url);
  assert.match(await page.body.text(), /支付宝 Alipay 付款/);
  sim.payer.pay(String(a.tradeNO));
  const [note] = await rcv.waitFor(1);
  const f = JSON.parse(note!.raw.toString()) as Record<string, unknown>;
  assert.ok(verifyXinlian(f, createPublicKey(m.xinlianPublicKeyPem)));
  assert.deepEqual([f.notifyType, f.tradeState, f.tradeNO, f.buyerId], ['PAY', 'SUCCESS', a.tradeNO, '2088102177846880']);
});
