import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { AlipaySdk } from 'alipay-sdk';
import { certSn, rootCertSn } from '../sign.ts';
import { readBillArchive } from '../bill.ts';
import { startAlipaySimulator, type AlipaySimulator, type AppCredentials, type KeyMode } from './index.ts';
import { startReceiver, type Receiver } from './test-support.ts';

/**
 * Oracle: the official alipay-sdk (npm alipay-sdk 4.x, not our sign.ts) drives the simulator
 * unmodified, with answer verification on (`exec(…, { validateSign: true })`) and its own
 * notification check (`checkNotifySignV2`). A symmetric bug shared by our channel and our
 * simulator cannot hide here.
 */

let sim: AlipaySimulator;
let rcv: Receiver;

before(async () => {
  sim = await startAlipaySimulator({ timeScale: 1000, passwordDelayMs: 50 });
  rcv = await startReceiver();
});
after(async () => {
  await rcv.close();
  await sim.close();
});

function sdkFor(c: AppCredentials): AlipaySdk {
  const keys = c.mode === 'cert'
    ? { appCertContent: c.appCertPem as string, alipayPublicCertContent: c.alipayPublicCertPem as string, alipayRootCertContent: c.alipayRootCertPem as string }
    : { alipayPublicKey: c.alipayPublicKeyPem };
  return new AlipaySdk({ appId: c.appId, privateKey: c.appPrivateKeyPem as string, keyType: 'PKCS8', gateway: c.gatewayUrl, camelcase: false, ...keys });
}

const no = () => `T${randomBytes(8).toString('hex')}`;

for (const mode of ['publicKey', 'cert'] as KeyMode[]) {
  describe(`alipay-sdk in ${mode} mode`, () => {
    let creds: AppCredentials;
    let sdk: AlipaySdk;
    before(async () => {
      creds = await sim.registerApp({ mode });
      sdk = sdkFor(creds);
    });

    if (mode === 'cert') {
      test('the SDK derives the same certificate SNs the simulator issued (root bundle with a non-RSA root)', () => {
        assert.equal(sdk.config.appCertSn, creds.appCertSn);
        assert.equal(sdk.config.alipayCertSn, creds.alipayCertSn);
        assert.equal(sdk.config.alipayRootCertSn, creds.alipayRootCertSn);
        assert.equal(certSn(creds.appCertPem as string), sdk.config.appCertSn, 'our certSn matches antcertutil');
        assert.equal(rootCertSn(creds.alipayRootCertPem as string), sdk.config.alipayRootCertSn);
        assert.ok(!(creds.alipayRootCertSn as string).includes('_'), 'the ECDSA root is skipped');
      });
    }

    test('precreate → query (TRADE_NOT_EXIST until scanned) → scan → query → close, every answer verified', async () => {
      const out = no();
      const pre = await sdk.exec('alipay.trade.precreate', { notify_url: rcv.url, bizContent: { out_trade_no: out, total_amount: '88.88', subject: 'Iphone6 16G' } }, { validateSign: true });
      assert.equal(pre.code, '10000');
      assert.match(pre.qr_code, /\/sandbox\/qr\/bax/);
      const missing = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.deepEqual([missing.code, missing.sub_code], ['40004', 'ACQ.TRADE_NOT_EXIST'], 'error answers are signed and verify too');
      sim.payer.scan(pre.qr_code);
      const waiting = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.equal(waiting.trade_status, 'WAIT_BUYER_PAY');
      const closed = await sdk.exec('alipay.trade.close', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.equal(closed.code, '10000');
      const after = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.equal(after.trade_status, 'TRADE_CLOSED');
    });

    test('pay → notification accepted by checkNotifySignV2 → refund twice → refund query → cancel', async () => {
      const out = no();
      rcv.received.length = 0;
      await sdk.exec('alipay.trade.precreate', { notify_url: rcv.url, bizContent: { out_trade_no: out, total_amount: '10.00', subject: '测试 / test & <b>' } }, { validateSign: true });
      sim.payer.pay(creds.appId, out);
      // Wait for this trade's notification: the previous test's close is notified too, maybe late.
      let note: (typeof rcv.received)[number] | undefined;
      for (let n = 1; !note; n++) note = (await rcv.waitFor(n)).find((r) => r.fields.out_trade_no === out);
      assert.ok(sdk.checkNotifySignV2(note!.fields), 'the SDK verifies the notification');
      assert.equal(note!.fields.trade_status, 'TRADE_SUCCESS');
      assert.equal(note!.fields.subject, '测试 / test & <b>');
      assert.ok(!sdk.checkNotifySignV2({ ...note!.fields, total_amount: '100.00' }), 'a tampered copy is refused');
      const paid = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.deepEqual([paid.trade_status, paid.total_amount], ['TRADE_SUCCESS', '10.00']);
      const r1 = await sdk.exec('alipay.trade.refund', { bizContent: { out_trade_no: out, refund_amount: '4.00', out_request_no: 'R1' } }, { validateSign: true });
      assert.deepEqual([r1.code, r1.fund_change, r1.refund_fee], ['10000', 'Y', '4.00']);
      const again = await sdk.exec('alipay.trade.refund', { bizContent: { out_trade_no: out, refund_amount: '4.00', out_request_no: 'R1' } }, { validateSign: true });
      assert.deepEqual([again.fund_change, again.refund_fee], ['N', '4.00'], 'a repeat moves no money');
      const over = await sdk.exec('alipay.trade.refund', { bizContent: { out_trade_no: out, refund_amount: '6.01', out_request_no: 'R2' } }, { validateSign: true });
      assert.equal(over.sub_code, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
      const rq = await sdk.exec('alipay.trade.fastpay.refund.query', { bizContent: { out_trade_no: out, out_request_no: 'R1' } }, { validateSign: true });
      assert.deepEqual([rq.refund_status, rq.refund_amount], ['REFUND_SUCCESS', '4.00']);
      const cancel = await sdk.exec('alipay.trade.cancel', { bizContent: { out_trade_no: out } }, { validateSign: true });
      assert.deepEqual([cancel.action, cancel.retry_flag], ['refund', 'N']);
    });

    test('trade.create with buyer_open_id, bar-code pay (10000 and 10003), bill download URL', async () => {
      const created = await sdk.exec('alipay.trade.create', { bizContent: { out_trade_no: no(), total_amount: '1.00', subject: 's', buyer_open_id: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5', product_code: 'JSAPI_PAY' } }, { validateSign: true });
      assert.match(created.trade_no, /^\d{28}$/);
      const bar = await sdk.exec('alipay.trade.pay', { bizContent: { out_trade_no: no(), total_amount: '2.00', subject: 's', scene: 'bar_code', auth_code: '286000000000000001' } }, { validateSign: true });
      assert.deepEqual([bar.code, bar.total_amount], ['10000', '2.00']);
      const waiting = await sdk.exec('alipay.trade.pay', { bizContent: { out_trade_no: no(), total_amount: '2.00', subject: 's', scene: 'bar_code', auth_code: '281000000000000001' } }, { validateSign: true });
      assert.equal(waiting.code, '10003');
      const bill = await sdk.exec('alipay.data.dataservice.bill.downloadurl.query', { bizContent: { bill_type: 'trade', bill_date: new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10) } }, { validateSign: true });
      const file = await request(bill.bill_download_url);
      assert.equal(file.statusCode, 200);
      assert.match(readBillArchive(Buffer.from(await file.body.arrayBuffer())).detail, /支付宝交易号/);
    });

    test('pageExecute (GET link and POST form) opens the cashier; sdkExecute order string is payable by the app', async () => {
      const link = sdk.pageExecute('alipay.trade.page.pay', 'GET', { bizContent: { out_trade_no: no(), total_amount: '3.00', subject: 'pc', product_code: 'FAST_INSTANT_TRADE_PAY' }, returnUrl: 'https://shop.example/return' });
      const opened = await request(link);
      assert.equal(opened.statusCode, 303);
      assert.match(String(opened.headers.location), /^\/sandbox\/cashier\/\d{28}$/);
      await opened.body.dump();
      const form = sdk.pageExecute('alipay.trade.wap.pay', 'POST', { bizContent: { out_trade_no: no(), total_amount: '3.00', subject: 'wap', product_code: 'QUICK_WAP_WAY' } });
      const action = /action="([^"]+)"/.exec(form)![1]!;
      const fields = [...form.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&quot;/g, '"')]);
      const posted = await request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      assert.equal(posted.statusCode, 303);
      await posted.body.dump();
      const out = no();
      const orderString = sdk.sdkExecute('alipay.trade.app.pay', { bizContent: { out_trade_no: out, total_amount: '5.00', subject: 'app', product_code: 'QUICK_MSECURITY_PAY' } });
      assert.equal(sim.payer.payOrderString(orderString).trade_status, 'TRADE_SUCCESS');
      assert.throws(() => sim.payer.payOrderString(orderString.replace('5.00', '0.01')), /isv.invalid-signature/);
    });

    test('a wrong key or an unknown app is refused by the gateway', async () => {
      const other = await sim.registerApp({ mode });
      const wrong = new AlipaySdk({ ...sdk.config, privateKey: other.appPrivateKeyPem as string, keyType: 'PKCS8' } as never);
      const res = await wrong.exec('alipay.trade.query', { bizContent: { out_trade_no: 'x' } }, { validateSign: true });
      assert.equal(res.sub_code, 'isv.invalid-signature');
    });
  });
}

describe('alipay-sdk as a service provider (app_auth_token)', () => {
  test('authorisation code → token pair → precreate and refund for the merchant → query → refresh retires the old token', async () => {
    const isv = await sim.registerApp({ isv: true });
    const merchant = await sim.registerApp();
    const sdk = sdkFor(isv);
    const { appAuthCode, redirect } = sim.appAuth.authorize({ isvAppId: isv.appId, merchantAppId: merchant.appId, redirectUri: 'https://isv.example/cb?x=1', state: 'c3RhdGU=' });
    assert.deepEqual(Object.fromEntries(new URL(redirect).searchParams), { x: '1', app_id: isv.appId, source: 'alipay_app_auth', app_auth_code: appAuthCode, state: 'c3RhdGU=' });
    const t = await sdk.exec('alipay.open.auth.token.app', { bizContent: { grant_type: 'authorization_code', code: appAuthCode } }, { validateSign: true });
    assert.deepEqual([t.code, t.auth_app_id, t.user_id, t.tokens[0].app_auth_token], ['10000', merchant.appId, merchant.pid, t.app_auth_token]);
    assert.ok(t.expires_in > 364 * 24 * 3600 && t.re_expires_in > t.expires_in);
    const again = await sdk.exec('alipay.open.auth.token.app', { bizContent: { grant_type: 'authorization_code', code: appAuthCode } });
    assert.deepEqual([again.code, again.sub_code], ['40002', 'isv.code-invalid'], 'a code works once (answered as error_response)');

    const out = no();
    const pre = await sdk.exec('alipay.trade.precreate', { appAuthToken: t.app_auth_token, notify_url: rcv.url, bizContent: { out_trade_no: out, total_amount: '9.00', subject: 'isv', extend_params: { sys_service_provider_id: isv.pid } } }, { validateSign: true });
    assert.equal(pre.code, '10000');
    sim.payer.payByQr(pre.qr_code);
    let note: (typeof rcv.received)[number] | undefined;
    for (let n = 1; !note; n++) note = (await rcv.waitFor(n)).find((r) => r.fields.out_trade_no === out);
    assert.ok(sdk.checkNotifySignV2(note.fields));
    assert.deepEqual([note.fields.app_id, note.fields.auth_app_id, note.fields.seller_id], [isv.appId, merchant.appId, merchant.pid]);
    const refund = await sdk.exec('alipay.trade.refund', { appAuthToken: t.app_auth_token, bizContent: { out_trade_no: out, refund_amount: '9.00', out_request_no: 'R1' } }, { validateSign: true });
    assert.equal(refund.fund_change, 'Y');
    const own = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: out } }, { validateSign: true });
    assert.deepEqual([own.code, own.sub_code], ['40006', 'isv.insufficient-isv-permissions'], 'without the token a third-party app has no trades');
    const wrongSpid = await sdk.exec('alipay.trade.precreate', { appAuthToken: t.app_auth_token, bizContent: { out_trade_no: no(), total_amount: '1.00', subject: 's', extend_params: { sys_service_provider_id: merchant.pid } } }, { validateSign: true });
    assert.equal(wrongSpid.sub_code, 'ACQ.INVALID_PARAMETER');

    const q = await sdk.exec('alipay.open.auth.token.app.query', { bizContent: { app_auth_token: t.app_auth_token } }, { validateSign: true });
    assert.deepEqual([q.status, q.auth_app_id, q.user_id], ['valid', merchant.appId, merchant.pid]);
    assert.ok(q.auth_methods.includes('alipay.trade.precreate'));
    const r = await sdk.exec('alipay.open.auth.token.app', { bizContent: { grant_type: 'refresh_token', refresh_token: t.app_refresh_token } }, { validateSign: true });
    assert.notEqual(r.app_auth_token, t.app_auth_token);
    const old = await sdk.exec('alipay.trade.query', { appAuthToken: t.app_auth_token, bizContent: { out_trade_no: out } }, { validateSign: true });
    assert.deepEqual([old.code, old.sub_code], ['20001', 'aop.invalid-app-auth-token']);
    const fresh = await sdk.exec('alipay.trade.query', { appAuthToken: r.app_auth_token, bizContent: { out_trade_no: out } }, { validateSign: true });
    assert.equal(fresh.trade_status, 'TRADE_CLOSED');
    sim.appAuth.expire(merchant.appId);
    const expired = await sdk.exec('alipay.trade.query', { appAuthToken: r.app_auth_token, bizContent: { out_trade_no: out } }, { validateSign: true });
    assert.equal(expired.sub_code, 'aop.app-auth-token-time-out');
    const other = await sim.registerApp({ isv: true });
    const foreign = await sdkFor(other).exec('alipay.trade.query', { appAuthToken: r.app_auth_token, bizContent: { out_trade_no: out } }, { validateSign: true });
    assert.equal(foreign.sub_code, 'aop.invalid-app-auth-token', "a token works only for the provider it was issued to");
  });
});

describe('alipay-sdk: buyer identity (alipay.system.oauth.token)', () => {
  test('open_id app and user_id app; a code works once; the web authorisation redirects with auth_code', async () => {
    const fresh = await sim.registerApp();
    const old = await sim.registerApp({ openId: false });
    const a = await sdkFor(fresh).exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: sim.identity.authCode(fresh.appId) }, { validateSign: true });
    assert.match(a.open_id, /^0[\w-]{43}$/);
    assert.equal(a.user_id, undefined);
    const code = sim.identity.authCode(old.appId, '2088102177849999');
    const b = await sdkFor(old).exec('alipay.system.oauth.token', { grantType: 'authorization_code', code }, { validateSign: true });
    assert.equal(b.user_id, '2088102177849999');
    const refreshed = await sdkFor(old).exec('alipay.system.oauth.token', { grantType: 'refresh_token', refreshToken: b.refresh_token }, { validateSign: true });
    assert.equal(refreshed.user_id, '2088102177849999');
    const reused = await sdkFor(old).exec('alipay.system.oauth.token', { grantType: 'authorization_code', code });
    assert.equal(reused.sub_code, 'isv.code-invalid');
    const page = await request(`${sim.baseUrl}/oauth2/publicAppAuthorize.htm?app_id=${old.appId}&scope=auth_base&redirect_uri=${encodeURIComponent('https://m.shop.example/cb')}&state=s1`);
    assert.equal(page.statusCode, 302);
    await page.body.dump();
    const back = new URL(String(page.headers.location));
    assert.deepEqual([back.searchParams.get('app_id'), back.searchParams.get('scope'), back.searchParams.get('state')], [old.appId, 'auth_base', 's1']);
    const c = await sdkFor(old).exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: back.searchParams.get('auth_code') }, { validateSign: true });
    assert.equal(c.user_id, '2088102177846880');
  });
});
