import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { rsa2Verify } from '../sign.ts';
import { defaultFaults, startAlipaySimulator, type AlipaySimulator, type AppCredentials } from './index.ts';
import { gatewayCall, inner, type RawAnswer } from './test-support.ts';

/** Gateway strictness (§C.1–C.3, C.6), Alipay's error codes, idempotency and the answer layout. */

let sim: AlipaySimulator;
let app: AppCredentials;
let certApp: AppCredentials;
const Q = 'alipay.trade.query';

before(async () => {
  sim = await startAlipaySimulator({ timeScale: 1000 });
  [app, certApp] = await Promise.all([sim.registerApp(), sim.registerApp({ mode: 'cert' })]);
});
after(() => sim.close());
beforeEach(() => Object.assign(sim.faults, defaultFaults()));

let n = 0;
const no = () => `S${Date.now()}${++n}`;

/** The answer's signature over the exact `…_response` text, with the key of the app's mode. */
function verifies(a: RawAnswer, method: string, creds: AppCredentials): boolean {
  const key = a.json[`${method.replaceAll('.', '_')}_response`] ? `${method.replaceAll('.', '_')}_response` : 'error_response';
  const start = a.text.indexOf(`"${key}":`) + key.length + 3;
  const end = a.text.lastIndexOf(creds.mode === 'cert' ? ',"alipay_cert_sn"' : ',"sign"');
  const pem = creds.mode === 'cert' ? createPublicKey(creds.alipayPublicCertPem as string) : createPublicKey(creds.alipayPublicKeyPem);
  return rsa2Verify(a.text.slice(start, end), a.json.sign, pem);
}

describe('request verification', () => {
  const cases: Array<[string, Parameters<typeof gatewayCall>[3], string, string]> = [
    ['no sign', { drop: ['sign'] }, '40001', 'isv.missing-signature'],
    ['no sign_type', { drop: ['sign_type'] }, '40001', 'isv.missing-signature-type'],
    ['legacy RSA', { params: { sign_type: 'RSA' } }, '40002', 'isv.invalid-signature-type'],
    ['no timestamp', { drop: ['timestamp'] }, '40001', 'isv.missing-timestamp'],
    ['ISO timestamp', { params: { timestamp: '2026-01-01T00:00:00Z' } }, '40002', 'isv.invalid-timestamp'],
    ['GBK charset', { params: { charset: 'GBK' } }, '40002', 'isv.invalid-charset'],
    ['version 2.0', { params: { version: '2.0' } }, '40002', 'isv.invalid-version'],
    ['another key', { signWith: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, '40002', 'isv.invalid-signature'],
    ['a forged signature', { signature: 'Zm9yZ2Vk' }, '40002', 'isv.invalid-signature'],
    ['biz_content not JSON', { params: { biz_content: '{out_trade_no:1' } }, '40002', 'isv.invalid-parameter'],
  ];
  for (const [name, o, code, sub] of cases) {
    test(`${name} → ${code} ${sub}, signed`, async () => {
      const a = await gatewayCall(app, Q, { out_trade_no: 'x' }, o);
      assert.deepEqual([inner(a, Q).code, inner(a, Q).sub_code], [code, sub]);
      assert.ok(verifies(a, Q, app), 'refusals are signed too');
    });
  }

  test('isv.invalid-signature echoes the content the gateway verified; a parameter changed after signing fails', async () => {
    const a = await gatewayCall(app, Q, { out_trade_no: 'x' }, { signature: 'Zm9yZ2Vk' });
    assert.match(inner(a, Q).sub_msg, /网关生成的验签字符串为：app_id=\d+&biz_content=\{"out_trade_no":"x"\}&charset=utf-8&method=alipay\.trade\.query&sign_type=RSA2&timestamp=/);
  });

  test('an unknown app is refused unsigned; an unknown method under error_response', async () => {
    const a = await gatewayCall({ ...app, appId: '2021999999999999' }, Q, {});
    assert.equal(inner(a, Q).sub_code, 'isv.invalid-app-id');
    assert.equal(a.json.sign, undefined);
    const m = await gatewayCall(app, 'alipay.trade.nonexistent', {});
    assert.equal(m.json.error_response.sub_code, 'isv.invalid-method');
    assert.ok(verifies(m, 'alipay.trade.nonexistent', app));
  });

  test('certificate mode: SNs required and checked; answers carry alipay_cert_sn and verify with the certificate key', async () => {
    const ok = await gatewayCall(certApp, Q, { out_trade_no: 'none' });
    assert.equal(ok.json.alipay_cert_sn, certApp.alipayCertSn);
    assert.ok(verifies(ok, Q, certApp));
    assert.ok(!rsa2Verify('x', ok.json.sign, createPublicKey(certApp.alipayPublicKeyPem)), 'not the public-key-mode key');
    const wrong = await gatewayCall(certApp, Q, {}, { params: { app_cert_sn: '0'.repeat(32) } });
    assert.equal(inner(wrong, Q).sub_code, 'isv.invalid-app-cert-sn');
    const noRoot = await gatewayCall(certApp, Q, {}, { drop: ['alipay_root_cert_sn'] });
    assert.equal(inner(noRoot, Q).sub_code, 'isv.missing-alipay-root-cert-sn');
  });

  test('exact layout: {"<method>_response":{…},"sign":"…"} with slashes escaped as \\/', async () => {
    const a = await gatewayCall(app, 'alipay.trade.precreate', { out_trade_no: no(), total_amount: '1.00', subject: 'a/b' });
    assert.match(a.text, /^\{"alipay_trade_precreate_response":\{"code":"10000","msg":"Success","out_trade_no":"[^"]+","qr_code":"http:\\\/\\\/127\.0\.0\.1:\d+\\\/sandbox\\\/qr\\\/bax[0-9a-z]+"\},"sign":"[A-Za-z0-9+/=]+"\}$/);
    assert.ok(verifies(a, 'alipay.trade.precreate', app));
  });
});

describe('trade rules and errors', () => {
  const call = async (method: string, biz: object) => inner(await gatewayCall(app, method, biz), method);

  test('precreate is idempotent per out_trade_no; other fields → ACQ.CONTEXT_INCONSISTENT; paid → ACQ.TRADE_HAS_SUCCESS', async () => {
    const biz = { out_trade_no: no(), total_amount: '9.99', subject: 's' };
    const a = await call('alipay.trade.precreate', biz);
    assert.equal((await call('alipay.trade.precreate', biz)).qr_code, a.qr_code);
    assert.equal((await call('alipay.trade.precreate', { ...biz, total_amount: '9.98' })).sub_code, 'ACQ.CONTEXT_INCONSISTENT');
    sim.payer.payByQr(a.qr_code);
    assert.equal((await call('alipay.trade.precreate', biz)).sub_code, 'ACQ.TRADE_HAS_SUCCESS');
    assert.equal((await call('alipay.trade.close', biz)).sub_code, 'ACQ.TRADE_STATUS_ERROR');
  });

  test('amount and field validation: ACQ.INVALID_PARAMETER', async () => {
    for (const total of ['1.001', '0', '-1', 'abc', '100000000.01']) {
      assert.equal((await call('alipay.trade.precreate', { out_trade_no: no(), total_amount: total, subject: 's' })).sub_code, 'ACQ.INVALID_PARAMETER', total);
    }
    assert.equal((await call('alipay.trade.precreate', { out_trade_no: no(), total_amount: '1.00' })).sub_code, 'ACQ.INVALID_PARAMETER', 'subject missing');
    assert.equal((await call('alipay.trade.create', { out_trade_no: no(), total_amount: '1.00', subject: 's' })).sub_code, 'ACQ.INVALID_PARAMETER', 'no buyer');
  });

  test('query/close/refund of an unknown or unscanned trade → ACQ.TRADE_NOT_EXIST', async () => {
    const biz = { out_trade_no: no(), total_amount: '1.00', subject: 's' };
    await call('alipay.trade.precreate', biz);
    for (const m of [Q, 'alipay.trade.close', 'alipay.trade.cancel']) assert.equal((await call(m, { out_trade_no: biz.out_trade_no })).sub_code, 'ACQ.TRADE_NOT_EXIST', m);
    assert.equal((await call('alipay.trade.refund', { out_trade_no: 'nope', refund_amount: '1.00' })).sub_code, 'ACQ.TRADE_NOT_EXIST');
  });

  test('refunds: unpaid refused, over the amount refused, not-allowed fault, partial + full closes the trade', async () => {
    const out = no();
    const created = await call('alipay.trade.create', { out_trade_no: out, total_amount: '5.00', subject: 's', buyer_id: '2088102177846880' });
    assert.equal((await call('alipay.trade.refund', { out_trade_no: out, refund_amount: '1.00', out_request_no: 'a' })).sub_code, 'ACQ.TRADE_STATUS_ERROR');
    sim.payer.pay(app.appId, out);
    sim.faults.refundNotAllowed = true;
    assert.equal((await call('alipay.trade.refund', { out_trade_no: out, refund_amount: '1.00', out_request_no: 'a' })).sub_code, 'ACQ.TRADE_NOT_ALLOW_REFUND');
    sim.faults.refundNotAllowed = false;
    assert.equal((await call('alipay.trade.refund', { trade_no: created.trade_no, refund_amount: '2.00', out_request_no: 'a' })).fund_change, 'Y');
    assert.equal((await call('alipay.trade.refund', { out_trade_no: out, refund_amount: '3.01', out_request_no: 'b' })).sub_code, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
    assert.equal((await call('alipay.trade.refund', { out_trade_no: out, refund_amount: '3.00', out_request_no: 'a' })).sub_code, 'ACQ.CONTEXT_INCONSISTENT', 'same request number, other amount');
    assert.equal((await call('alipay.trade.refund', { out_trade_no: out, refund_amount: '3.00', out_request_no: 'b' })).refund_fee, '5.00');
    assert.equal((await call(Q, { out_trade_no: out })).trade_status, 'TRADE_CLOSED');
    assert.deepEqual(await call('alipay.trade.fastpay.refund.query', { out_trade_no: out, out_request_no: 'zzz' }), { code: '10000', msg: 'Success' }, 'unknown refund: no data');
  });

  test('bar code: invalid code, decline, 10003 repeated, 20000 that actually paid', async () => {
    const bar = (code: string, out = no()) => call('alipay.trade.pay', { out_trade_no: out, total_amount: '1.00', subject: 's', scene: 'bar_code', auth_code: code });
    assert.equal((await bar('123456')).sub_code, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
    assert.equal((await bar('289000000000000001')).sub_code, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    const out = no();
    assert.equal((await bar('282000000000000001', out)).code, '10003');
    assert.equal((await bar('282000000000000001', out)).code, '10003', 'a repeat while the payer types the password');
    assert.equal((await call(Q, { out_trade_no: out })).trade_status, 'WAIT_BUYER_PAY');
    const lost = no();
    assert.deepEqual([(await bar('288000000000000001', lost)).code, (await call(Q, { out_trade_no: lost })).trade_status], ['20000', 'TRADE_SUCCESS']);
  });

  test('failNextRequests → 20000 ACQ.SYSTEM_ERROR and nothing done; time_expire closes unpaid trades', async () => {
    sim.faults.failNextRequests = 1;
    const out = no();
    const a = await call('alipay.trade.create', { out_trade_no: out, total_amount: '1.00', subject: 's', buyer_id: '2088102177846880' });
    assert.deepEqual([a.code, a.sub_code], ['20000', 'ACQ.SYSTEM_ERROR']);
    assert.equal((await call(Q, { out_trade_no: out })).sub_code, 'ACQ.TRADE_NOT_EXIST');
    const soon = new Date(Date.now() + 8 * 3600e3 + 1000).toISOString().slice(0, 19).replace('T', ' ');
    await call('alipay.trade.create', { out_trade_no: out, total_amount: '1.00', subject: 's', buyer_id: '2088102177846880', time_expire: soon });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await call(Q, { out_trade_no: out })).trade_status, 'TRADE_CLOSED');
  });

  test('alipay.system.oauth.token: open_id for open_id apps, user_id for older ones', async () => {
    const old = await sim.registerApp({ openId: false });
    const token = async (c: AppCredentials, code: string) => inner(await gatewayCall(c, 'alipay.system.oauth.token', undefined, { params: { grant_type: 'authorization_code', code } }), 'alipay.system.oauth.token');
    const code = sim.identity.authCode(app.appId);
    assert.match((await token(app, code)).open_id, /^0[\w-]{43}$/);
    assert.equal((await token(old, sim.identity.authCode(old.appId, '2088102177846881'))).user_id, '2088102177846881');
    const reused = await gatewayCall(app, 'alipay.system.oauth.token', undefined, { params: { grant_type: 'authorization_code', code } });
    assert.equal(reused.json.error_response?.sub_code, 'isv.code-invalid', 'a code works once; refusals come as a signed error_response');
    assert.ok(verifies(reused, 'alipay.system.oauth.token', app));
    assert.equal((await token(app, 'invalid-code')).sub_code, 'isv.code-invalid');
    assert.equal((await token(old, sim.identity.authCode(app.appId))).sub_code, 'isv.code-invalid', "another app's code");
  });
});
