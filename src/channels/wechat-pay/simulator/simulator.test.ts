import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { aesGcmDecrypt, buildAuthorization, certificateSerial, loadPrivateKey, requestMessage, rsaSign } from '../v3-crypto.ts';
import { rfc3339 } from './ids.ts';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { nativeOrder, verifySigned, wxCall } from './test-support.ts';

/** WeChat API surface: request verification, signed answers, validation and order rules. */

const NOTIFY = 'http://127.0.0.1:9/notify';
let sim: WechatPaySimulator;
let pk: SandboxCredentials; // public-key mode
let pc: SandboxCredentials; // platform-certificate mode

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: 1000 });
  pk = sim.registerMerchant({ appids: ['wxd678efh567hg6787', 'wxapp0000000001'] });
  pc = sim.registerMerchant({ verifyMode: 'platformCert' });
});
after(() => sim.close());

const post = (c: SandboxCredentials, path: string, body: unknown, o = {}) => wxCall(sim.baseUrl, c, 'POST', path, body, o);
const get = (c: SandboxCredentials, path: string, o = {}) => wxCall(sim.baseUrl, c, 'GET', path, undefined, o);
const queryPath = (c: SandboxCredentials, no: unknown) => `/v3/pay/transactions/out-trade-no/${String(no)}?mchid=${c.mchid}`;

describe('request signature (protocols.md §A.3)', () => {
  test('a correctly signed request passes', async () => {
    const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY));
    assert.equal(res.status, 200);
  });

  test('wrong scheme or missing field → 401 SIGN_ERROR with the format message', async () => {
    const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY), { scheme: 'WECHATPAY2-SHA256-RSA4096' });
    assert.equal(res.status, 401);
    assert.equal(res.json.code, 'SIGN_ERROR');
    assert.match(res.json.message, /Http头Authorization值格式错误/);
    const raw = await fetch(`${sim.baseUrl}/v3/certificates`, { headers: { authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${pk.mchid}",serial_no="x"` } });
    assert.equal(raw.status, 401);
    assert.equal(((await raw.json()) as { code: string }).code, 'SIGN_ERROR');
  });

  const rejects: Array<[string, () => Record<string, string>]> = [
    ['signature by another key', () => ({ signature: rsaSign('x', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey) })],
    ['timestamp 301 s old', () => ({ timestamp: String(Math.floor(Date.now() / 1000) - 301) })],
    ['timestamp 400 s ahead', () => ({ timestamp: String(Math.floor(Date.now() / 1000) + 400) })],
    ['unknown serial_no', () => ({ serial: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' })],
    ['unregistered mchid', () => ({ mchid: '1234567890' })],
  ];
  for (const [name, override] of rejects) {
    test(`${name} → 401 SIGN_ERROR`, async () => {
      const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY), override());
      assert.equal(res.status, 401);
      assert.equal(res.json.code, 'SIGN_ERROR');
    });
  }

  test('body changed after signing → 401', async () => {
    const body = JSON.stringify(nativeOrder(pk, NOTIFY));
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const sig = rsaSign(requestMessage('POST', '/v3/pay/transactions/native', ts, nonce, body), loadPrivateKey(pk.merchantPrivateKeyPem as string));
    const res = await fetch(`${sim.baseUrl}/v3/pay/transactions/native`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: buildAuthorization({ mchid: pk.mchid, nonce_str: nonce, signature: sig, timestamp: ts, serial_no: pk.merchantSerialNo }),
      },
      body: body.replace('"total":1000', '"total":1'),
    });
    assert.equal(res.status, 401);
  });

  test('the query string is part of the signed URL', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const sig = rsaSign(requestMessage('GET', '/v3/pay/transactions/out-trade-no/ABCDEF1', ts, nonce, ''), loadPrivateKey(pk.merchantPrivateKeyPem as string));
    const res = await fetch(`${sim.baseUrl}${queryPath(pk, 'ABCDEF1')}`, {
      headers: { authorization: buildAuthorization({ mchid: pk.mchid, nonce_str: nonce, signature: sig, timestamp: ts, serial_no: pk.merchantSerialNo }) },
    });
    assert.equal(res.status, 401);
  });

  test('a replayed nonce → 401, a fresh one passes', async () => {
    const o = { nonce: randomBytes(16).toString('hex'), timestamp: String(Math.floor(Date.now() / 1000)) };
    assert.equal((await get(pk, '/v3/certificates', o)).status, 200);
    const replay = await get(pk, '/v3/certificates', o);
    assert.equal(replay.status, 401);
    assert.equal(replay.json.code, 'SIGN_ERROR');
    assert.equal((await get(pk, '/v3/certificates')).status, 200);
  });
});

describe('answer signatures (protocols.md §A.4)', () => {
  test('public-key mode: Wechatpay-Serial is the PUB_KEY_ID and verifies with the public key only', async () => {
    const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY));
    assert.match(res.headers['wechatpay-serial'] ?? '', /^PUB_KEY_ID_\d{30,}$/);
    assert.equal(res.headers['wechatpay-serial'], pk.wxpayPublicKeyId);
    assert.ok(res.headers['request-id']);
    assert.ok(verifySigned(res.headers, res.text, pk));
    // Two distinct keys: claiming the certificate serial must not verify.
    assert.equal(verifySigned({ ...res.headers, 'wechatpay-serial': pk.platformCertificateSerial }, res.text, pk), false);
    assert.equal(verifySigned(res.headers, `${res.text} `, pk), false);
  });

  test('platform-certificate mode: serial is the certificate serial; errors and 204 are signed too', async () => {
    const body = nativeOrder(pc, NOTIFY);
    const ok = await post(pc, '/v3/pay/transactions/native', body);
    assert.equal(ok.headers['wechatpay-serial'], pc.platformCertificateSerial);
    assert.equal(certificateSerial(pc.platformCertificatePem), pc.platformCertificateSerial);
    assert.ok(verifySigned(ok.headers, ok.text, pc));
    const closed = await post(pc, `/v3/pay/transactions/out-trade-no/${String(body.out_trade_no)}/close`, { mchid: pc.mchid });
    assert.equal(closed.status, 204);
    assert.equal(closed.text, '');
    assert.ok(verifySigned(closed.headers, '', pc));
    const missing = await get(pc, queryPath(pc, 'NOSUCHORDER1'));
    assert.equal(missing.status, 404);
    assert.ok(verifySigned(missing.headers, missing.text, pc));
  });

  test('/v3/certificates decrypts to the platform certificate', async () => {
    const res = await get(pc, '/v3/certificates');
    const item = res.json.data[0];
    assert.equal(item.serial_no, pc.platformCertificateSerial);
    assert.equal(item.encrypt_certificate.associated_data, 'certificate');
    assert.equal(item.encrypt_certificate.nonce.length, 12);
    const pem = aesGcmDecrypt(pc.apiV3Key, item.encrypt_certificate.nonce, 'certificate', item.encrypt_certificate.ciphertext);
    assert.equal(pem, pc.platformCertificatePem);
    assert.match(item.effective_time, /\+08:00$/);
  });
});

describe('parameter validation (PARAM_ERROR with detail)', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['missing description', { description: undefined }, '/description'],
    ['description of 128 chars', { description: '字'.repeat(128) }, '/description'],
    ['out_trade_no too short', { out_trade_no: 'A1234' }, '/out_trade_no'],
    ['out_trade_no with a space', { out_trade_no: 'ABC 12345' }, '/out_trade_no'],
    ['amount.total zero', { amount: { total: 0, currency: 'CNY' } }, '/amount/total'],
    ['amount.total fractional', { amount: { total: 1.5, currency: 'CNY' } }, '/amount/total'],
    ['amount.total as string', { amount: { total: '100' } }, '/amount/total'],
    ['currency USD', { amount: { total: 100, currency: 'USD' } }, '/amount/currency'],
    ['notify_url with query string', { notify_url: 'https://m.example.com/notify?x=1' }, '/notify_url'],
    ['notify_url missing', { notify_url: undefined }, '/notify_url'],
    ['time_expire not RFC 3339', { time_expire: '2030-01-01 10:00:00' }, '/time_expire'],
  ];
  for (const [name, over, field] of cases) {
    test(name, async () => {
      const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY, over));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 'PARAM_ERROR');
      assert.equal(res.json.detail.field, field);
      assert.equal(res.json.detail.location, 'body');
      assert.ok(res.json.detail.issue);
    });
  }

  test('http:// notify_url is accepted in the sandbox', async () => {
    assert.equal((await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, 'http://localhost:1/n'))).status, 200);
  });

  test('appid not bound to the mchid → APPID_MCHID_NOT_MATCH', async () => {
    const res = await post(pk, '/v3/pay/transactions/native', nativeOrder(pk, NOTIFY, { appid: 'wxnotmine' }));
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'APPID_MCHID_NOT_MATCH');
  });

  test('jsapi needs payer.openid; h5 needs payer_client_ip and h5_info.type', async () => {
    const j = await post(pk, '/v3/pay/transactions/jsapi', nativeOrder(pk, NOTIFY));
    assert.equal(j.json.detail.field, '/payer');
    const h = await post(pk, '/v3/pay/transactions/h5', nativeOrder(pk, NOTIFY, { scene_info: { payer_client_ip: '1.2.3.4', h5_info: { type: 'PC' } } }));
    assert.equal(h.json.detail.field, '/scene_info/h5_info/type');
    const ip = await post(pk, '/v3/pay/transactions/h5', nativeOrder(pk, NOTIFY, { scene_info: { payer_client_ip: 'nope', h5_info: { type: 'Wap' } } }));
    assert.equal(ip.json.detail.field, '/scene_info/payer_client_ip');
  });

  test('invalid JSON body and a query without mchid', async () => {
    const junk = await post(pk, '/v3/pay/transactions/native', undefined, { rawBody: '{"appid":' });
    assert.equal(junk.status, 400);
    assert.equal(junk.json.code, 'PARAM_ERROR');
    const bad = await wxCall(sim.baseUrl, pk, 'GET', queryPath(pk, 'ABCDEF1').replace(/\?.*/, ''));
    assert.equal(bad.json.code, 'PARAM_ERROR');
    assert.equal(bad.json.detail.location, 'query');
  });
});

describe('orders', () => {
  test('prepay answers per endpoint and the jsapi payment carries the openid', async () => {
    const h5 = await post(pk, '/v3/pay/transactions/h5', nativeOrder(pk, NOTIFY, { scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } } }));
    assert.ok(h5.json.h5_url.startsWith(`${sim.baseUrl}/sandbox/h5?prepay_id=wx`));
    const app = await post(pk, '/v3/pay/transactions/app', nativeOrder(pk, NOTIFY, { appid: 'wxapp0000000001' }));
    assert.match(app.json.prepay_id, /^wx\d{14}[0-9a-f]{20}$/);
    const body = nativeOrder(pk, NOTIFY, { payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }, attach: '自定义数据' });
    const jsapi = await post(pk, '/v3/pay/transactions/jsapi', body);
    assert.ok(jsapi.json.prepay_id);
    const paid = await sim.payer.pay(pk.mchid, String(body.out_trade_no));
    assert.equal(paid.trade_type, 'JSAPI');
    assert.equal(paid.payer?.openid, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
    assert.match(paid.transaction_id ?? '', /^42000\d{23}$/);
    assert.match(paid.success_time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    const byId = await get(pk, `/v3/pay/transactions/id/${paid.transaction_id}?mchid=${pk.mchid}`);
    assert.deepEqual(byId.json, paid);
    assert.equal(byId.json.attach, '自定义数据');
    assert.deepEqual(byId.json.amount, { total: 1000, payer_total: 1000, currency: 'CNY', payer_currency: 'CNY' });
  });

  test('prepay is idempotent; changed params, another endpoint, paid and closed are refused', async () => {
    const body = nativeOrder(pk, NOTIFY);
    const first = await post(pk, '/v3/pay/transactions/native', body);
    assert.match(first.json.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/);
    assert.deepEqual((await post(pk, '/v3/pay/transactions/native', body)).json, first.json);
    const changed = await post(pk, '/v3/pay/transactions/native', { ...body, amount: { total: 999, currency: 'CNY' } });
    assert.equal(changed.status, 400);
    assert.equal(changed.json.code, 'INVALID_REQUEST');
    const other = await post(pk, '/v3/pay/transactions/app', body);
    assert.equal(other.status, 403);
    assert.equal(other.json.code, 'OUT_TRADE_NO_USED');
    await sim.payer.payByCodeUrl(first.json.code_url);
    const again = await post(pk, '/v3/pay/transactions/native', body);
    assert.equal(again.json.code, 'ORDERPAID');
    const close = await post(pk, `/v3/pay/transactions/out-trade-no/${String(body.out_trade_no)}/close`, { mchid: pk.mchid });
    assert.equal(close.status, 400);
    assert.equal(close.json.code, 'ORDERPAID');

    const other2 = nativeOrder(pk, NOTIFY);
    await post(pk, '/v3/pay/transactions/native', other2);
    const closePath = `/v3/pay/transactions/out-trade-no/${String(other2.out_trade_no)}/close`;
    assert.equal((await post(pk, closePath, { mchid: pk.mchid })).status, 204);
    assert.equal((await post(pk, closePath, { mchid: pk.mchid })).status, 204);
    assert.equal((await get(pk, queryPath(pk, other2.out_trade_no))).json.trade_state, 'CLOSED');
    const reopen = await post(pk, '/v3/pay/transactions/native', other2);
    assert.equal(reopen.status, 400);
    assert.equal(reopen.json.code, 'ORDER_CLOSED');
    await assert.rejects(sim.payer.pay(pk.mchid, String(other2.out_trade_no)), { code: 'ORDER_CLOSED' });
  });

  test('unknown order → 404 ORDER_NOT_EXIST', async () => {
    const res = await get(pk, queryPath(pk, 'NOSUCHORDER1'));
    assert.equal(res.status, 404);
    assert.equal(res.json.code, 'ORDER_NOT_EXIST');
    assert.equal((await get(pk, `/v3/pay/transactions/id/4200000000000000000000000000?mchid=${pk.mchid}`)).json.code, 'ORDER_NOT_EXIST');
  });

  test('time_expire: paying after expiry is refused and the order stays NOTPAY until closed', async () => {
    const body = nativeOrder(pk, NOTIFY, { time_expire: rfc3339(Date.now() + 1500) });
    await post(pk, '/v3/pay/transactions/native', body);
    await new Promise((r) => setTimeout(r, 1600));
    await assert.rejects(sim.payer.pay(pk.mchid, String(body.out_trade_no)), { code: 'ORDER_EXPIRED' });
    assert.equal((await get(pk, queryPath(pk, body.out_trade_no))).json.trade_state, 'NOTPAY');
    assert.equal((await post(pk, `/v3/pay/transactions/out-trade-no/${String(body.out_trade_no)}/close`, { mchid: pk.mchid })).status, 204);
  });

  test('fail → PAYERROR (no callback); the payer may retry; cancel leaves NOTPAY', async () => {
    const body = nativeOrder(pk, NOTIFY);
    await post(pk, '/v3/pay/transactions/native', body);
    const no = String(body.out_trade_no);
    assert.equal((await sim.payer.cancel(pk.mchid, no)).trade_state, 'NOTPAY');
    const failed = await sim.payer.fail(pk.mchid, no, '余额不足');
    assert.equal(failed.trade_state, 'PAYERROR');
    assert.equal(failed.trade_state_desc, '余额不足');
    assert.equal((await sim.payer.pay(pk.mchid, no)).trade_state, 'SUCCESS');
  });

  test('failNextRequests answers signed 500 SYSTEM_ERROR, then recovers', async () => {
    sim.faults.failNextRequests = 2;
    for (let i = 0; i < 2; i++) {
      const res = await get(pk, '/v3/certificates');
      assert.equal(res.status, 500);
      assert.equal(res.json.code, 'SYSTEM_ERROR');
      assert.ok(verifySigned(res.headers, res.text, pk));
    }
    assert.equal((await get(pk, '/v3/certificates')).status, 200);
    assert.equal(sim.faults.failNextRequests, 0);
  });
});

test('legacyErrorCodes emits ORDERNOTEXIST', async () => {
  const legacy = await startWechatPaySimulator({ legacyErrorCodes: true });
  try {
    const c = legacy.registerMerchant({});
    const res = await wxCall(legacy.baseUrl, c, 'GET', `/v3/pay/transactions/out-trade-no/NOSUCH123?mchid=${c.mchid}`);
    assert.equal(res.json.code, 'ORDERNOTEXIST');
  } finally {
    await legacy.close();
  }
});
