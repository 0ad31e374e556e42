import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { PayOrderInput, RefundInput } from '../types.ts';
import { parseWechatPayConfig, type WechatPayConfig } from './config.ts';
import {
  buildPrepayRequest,
  buildRefundBody,
  formatTimeExpire,
  h5PayUrl,
  mapRefundStatus,
  mapTradeState,
  parseWechatTime,
  sameCode,
  toPaymentStatus,
  toRefundStatus,
  truncateDescription,
} from './mapping.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const PARAMS: Record<string, string> = {
  mchId: '1900009191',
  appId: 'wx_mp_default',
  merchantSerialNo: '408b07e79b8269fec3d5d3e6ab8ed163a6a380db',
  wxpayPublicKeyId: 'PUB_KEY_ID_0119000091912025010100000000000001',
  wxpayPublicKey: PUBLIC_PEM,
};
const SECRETS: Record<string, string> = { apiClientKey: PRIVATE_PEM, apiV3Key: 'SimulatorApiV3Key0123456789ABCDE' };

function config(params: Record<string, string | undefined> = {}, secrets: Record<string, string | undefined> = {}): WechatPayConfig {
  const strip = (r: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => e[1] !== undefined));
  return parseWechatPayConfig({ params: strip({ ...PARAMS, ...params }), secrets: strip({ ...SECRETS, ...secrets }) });
}

function order(over: Partial<PayOrderInput> = {}): PayOrderInput {
  return {
    payOrderId: 'P2026112210300012345678',
    wayCode: 'WX_NATIVE',
    amount: 1999,
    currency: 'CNY',
    subject: '测试商品',
    body: 'body',
    clientIp: '203.0.113.7',
    expiredAt: new Date('2026-11-22T02:00:00Z'),
    extra: {},
    notifyUrl: 'https://gw.example.com/api/notify/wxpay/7',
    returnUrl: null,
    channelOrderNo: null,
    ...over,
  };
}

test('trade_state table (protocols.md §A.5): REFUND counts as paid, unknown states are protocol faults', () => {
  const expected = { SUCCESS: 'SUCCESS', REFUND: 'SUCCESS', NOTPAY: 'WAITING', USERPAYING: 'WAITING', ACCEPT: 'WAITING', CLOSED: 'CLOSED', REVOKED: 'REVOKED', PAYERROR: 'FAIL' };
  for (const [state, status] of Object.entries(expected)) assert.equal(mapTradeState(state), status, state);
  for (const bad of ['success', 'PAID', '', undefined, 1, 'toString', '__proto__']) assert.throws(() => mapTradeState(bad), { kind: 'protocol' }, String(bad));
});

test('refund status table: ABNORMAL is a failure with errCode ABNORMAL', () => {
  assert.deepEqual(mapRefundStatus('SUCCESS'), { status: 'SUCCESS' });
  assert.deepEqual(mapRefundStatus('PROCESSING'), { status: 'PROCESSING' });
  assert.deepEqual(mapRefundStatus('ABNORMAL'), { status: 'FAIL', errCode: 'ABNORMAL' });
  assert.deepEqual(mapRefundStatus('CLOSED'), { status: 'CLOSED' });
  assert.throws(() => mapRefundStatus('REFUNDING'), { kind: 'protocol' });
});

test('time_expire is RFC 3339 in China time without DST', () => {
  assert.equal(formatTimeExpire(new Date('2026-11-22T02:00:00Z')), '2026-11-22T10:00:00+08:00');
  assert.equal(formatTimeExpire(new Date('2026-12-31T16:30:05.999Z')), '2027-01-01T00:30:05+08:00');
  assert.equal(formatTimeExpire(new Date('2026-07-01T00:00:00Z')), '2026-07-01T08:00:00+08:00', 'summer is also +08:00');
  assert.throws(() => formatTimeExpire(new Date('nope')), RangeError);
});

test('success_time parsing requires an explicit offset', () => {
  assert.deepEqual(parseWechatTime('2018-06-08T10:34:56+08:00'), new Date('2018-06-08T02:34:56Z'));
  assert.deepEqual(parseWechatTime(formatTimeExpire(new Date('2026-11-22T02:00:00Z'))), new Date('2026-11-22T02:00:00Z'));
  assert.equal(parseWechatTime('2018-06-08 10:34:56'), undefined);
  assert.equal(parseWechatTime('2018-06-08T10:34:56'), undefined, 'no offset: ambiguous');
  assert.equal(parseWechatTime('2018-13-45T10:34:56+08:00'), undefined);
  assert.equal(parseWechatTime(1528425296), undefined);
});

test('error codes compare without underscores but only against real codes', () => {
  assert.ok(sameCode('ORDERNOTEXIST', 'ORDER_NOT_EXIST'));
  assert.ok(sameCode('ORDER_PAID', 'ORDERPAID'));
  assert.ok(!sameCode('ORDER_CLOSED', 'ORDER_PAID'));
  assert.ok(!sameCode(undefined, 'ORDER_NOT_EXIST'));
  assert.ok(!sameCode('', ''));
});

test('toPaymentStatus reads a query answer; amounts must be integer fen', () => {
  const paid = { mchid: '1900009191', appid: 'wx1', out_trade_no: 'P1', transaction_id: '4200', trade_state: 'SUCCESS', success_time: '2026-11-22T10:01:02+08:00', payer: { openid: 'o-1' }, amount: { total: 1999, payer_total: 1999, currency: 'CNY' } };
  assert.deepEqual(toPaymentStatus(paid), { status: 'SUCCESS', outTradeNo: 'P1', amount: 1999, currency: 'CNY', channelOrderNo: '4200', channelUser: 'o-1', successAt: new Date('2026-11-22T02:01:02Z') });
  assert.deepEqual(toPaymentStatus({ out_trade_no: 'P1', trade_state: 'NOTPAY', amount: { payer_currency: 'CNY' } }), { status: 'WAITING', outTradeNo: 'P1' });
  assert.deepEqual(toPaymentStatus({ trade_state: 'PAYERROR', trade_state_desc: '银行卡余额不足' }), { status: 'FAIL', errCode: 'PAYERROR', errMsg: '银行卡余额不足' });
  assert.throws(() => toPaymentStatus({ ...paid, amount: { total: 19.99 } }), { kind: 'protocol' });
  assert.throws(() => toPaymentStatus({ ...paid, amount: { total: '1999' } }), { kind: 'protocol' });
  assert.throws(() => toPaymentStatus({ ...paid, success_time: 'yesterday' }), { kind: 'protocol' });
  assert.throws(() => toPaymentStatus([]), { kind: 'protocol' });
});

test('toRefundStatus reads answers (status) and notifications (refund_status)', () => {
  const answer = { refund_id: '5000', out_refund_no: 'R1', out_trade_no: 'P1', status: 'PROCESSING', amount: { total: 1999, refund: 500, currency: 'CNY' } };
  assert.deepEqual(toRefundStatus(answer), { status: 'PROCESSING', outRefundNo: 'R1', outTradeNo: 'P1', refundAmount: 500, channelRefundNo: '5000' });
  const abnormal = toRefundStatus({ ...answer, status: undefined, refund_status: 'ABNORMAL' });
  assert.equal(abnormal.status, 'FAIL');
  assert.equal(abnormal.errCode, 'ABNORMAL');
  assert.ok(abnormal.errMsg);
  assert.throws(() => toRefundStatus({ ...answer, amount: { refund: -1 } }), { kind: 'protocol' });
  assert.throws(() => toRefundStatus({ out_refund_no: 'R1' }), { kind: 'protocol' });
});

test('prepay bodies per way: endpoint, appid, payer, scene_info', () => {
  const cfg = config({ liteAppId: 'wx_lite', appAppId: 'wx_app' });
  const native = buildPrepayRequest('WX_NATIVE', cfg, order());
  assert.equal(native.path, '/v3/pay/transactions/native');
  assert.deepEqual(native.body, {
    appid: 'wx_mp_default',
    mchid: '1900009191',
    description: '测试商品',
    out_trade_no: 'P2026112210300012345678',
    time_expire: '2026-11-22T10:00:00+08:00',
    notify_url: 'https://gw.example.com/api/notify/wxpay/7',
    amount: { total: 1999, currency: 'CNY' },
  });
  const jsapi = buildPrepayRequest('WX_JSAPI', cfg, order({ extra: { openid: 'oUpF8u' } }));
  assert.equal(jsapi.path, '/v3/pay/transactions/jsapi');
  assert.equal(jsapi.appId, 'wx_mp_default');
  assert.deepEqual(jsapi.body.payer, { openid: 'oUpF8u' });
  const lite = buildPrepayRequest('WX_LITE', cfg, order({ extra: { openid: 'oLite' } }));
  assert.equal(lite.path, '/v3/pay/transactions/jsapi');
  assert.equal(lite.body.appid, 'wx_lite');
  const app = buildPrepayRequest('WX_APP', cfg, order());
  assert.equal(app.path, '/v3/pay/transactions/app');
  assert.equal(app.body.appid, 'wx_app');
  assert.equal(app.body.payer, undefined);
  const h5 = buildPrepayRequest('WX_H5', cfg, order());
  assert.equal(h5.path, '/v3/pay/transactions/h5');
  assert.deepEqual(h5.body.scene_info, { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } });
  assert.deepEqual(buildPrepayRequest('WX_H5', cfg, order({ clientIp: null })).body.scene_info, { payer_client_ip: '127.0.0.1', h5_info: { type: 'Wap' } });
  // Without per-product appids every way uses the default appid (one appid per config, as Jeepay).
  assert.equal(buildPrepayRequest('WX_LITE', config(), order({ extra: { openid: 'o' } })).body.appid, 'wx_mp_default');
});

test('prepay refusals happen before any request: openid, currency, description', () => {
  const cfg = config();
  for (const extra of [{}, { openid: '' }, { openid: 42 }]) {
    assert.throws(() => buildPrepayRequest('WX_JSAPI', cfg, order({ extra })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
    assert.throws(() => buildPrepayRequest('WX_LITE', cfg, order({ extra })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
  }
  assert.throws(() => buildPrepayRequest('WX_NATIVE', cfg, order({ currency: 'USD' })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
  assert.throws(() => buildPrepayRequest('WX_NATIVE', cfg, order({ subject: '   ' })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
});

test('description is cut at 127 code points, never inside a surrogate pair', () => {
  const long = `${'商'.repeat(126)}😀尾巴`;
  const cut = truncateDescription(long);
  assert.equal(Array.from(cut).length, 127);
  assert.ok(cut.endsWith('😀'));
  assert.equal(truncateDescription('短'), '短');
  assert.equal(buildPrepayRequest('WX_NATIVE', config(), order({ subject: 'x'.repeat(200) })).body.description, 'x'.repeat(127));
});

test('refund body and H5 redirect', () => {
  const refund: RefundInput = { refundOrderId: 'R1', refundAmount: 500, payAmount: 1999, currency: 'CNY', reason: '', notifyUrl: 'https://gw/notify/r', channelRefundNo: null };
  assert.deepEqual(buildRefundBody(order(), refund), { out_trade_no: 'P2026112210300012345678', out_refund_no: 'R1', notify_url: 'https://gw/notify/r', amount: { refund: 500, total: 1999, currency: 'CNY' } });
  assert.equal(buildRefundBody(order(), { ...refund, reason: ' 退货 ' }).reason, '退货');
  assert.throws(() => buildRefundBody(order(), { ...refund, currency: 'HKD' }), { kind: 'rejected' });
  assert.equal(h5PayUrl('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2', null), 'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2');
  assert.equal(h5PayUrl('https://h5.test/pay?p=1', 'https://shop.test/done?o=1&x=y'), 'https://h5.test/pay?p=1&redirect_url=https%3A%2F%2Fshop.test%2Fdone%3Fo%3D1%26x%3Dy');
});

test('config parsing: defaults, normalisation and misconfigured fields named without echoing secrets', () => {
  const cfg = config();
  assert.equal(cfg.verifyMode, 'publicKey');
  assert.equal(cfg.baseUrl, 'https://api.mch.weixin.qq.com');
  assert.equal(cfg.merchantSerialNo, '408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB');
  assert.equal(cfg.merchantPrivateKey.type, 'private');
  assert.equal(config({ baseUrl: 'http://127.0.0.1:9999/sim/' }).baseUrl, 'http://127.0.0.1:9999/sim');
  const platform = config({ verifyMode: 'platformCert', wxpayPublicKeyId: undefined, wxpayPublicKey: undefined });
  assert.equal(platform.wxpayPublicKey, undefined);

  const cases: [Record<string, string | undefined>, Record<string, string | undefined>, RegExp][] = [
    [{ mchId: undefined }, {}, /mchId is required/],
    [{ mchId: '19000abc' }, {}, /mchId must be digits/],
    [{ appId: 'wx"x' }, {}, /appId/],
    [{ merchantSerialNo: 'not-hex' }, {}, /merchantSerialNo/],
    [{ verifyMode: 'cert' }, {}, /verifyMode/],
    [{ wxpayPublicKeyId: undefined }, {}, /wxpayPublicKeyId is required/],
    [{ wxpayPublicKeyId: 'KEY_1' }, {}, /PUB_KEY_ID_/],
    [{ wxpayPublicKey: undefined }, {}, /wxpayPublicKey is required/],
    [{ wxpayPublicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, {}, /wxpayPublicKey is not a valid PEM/],
    [{ verifyMode: 'platformCert', wxpayPublicKey: undefined }, {}, /together/],
    [{ baseUrl: 'ftp://x' }, {}, /baseUrl/],
    [{ baseUrl: 'https://u:p@x' }, {}, /baseUrl/],
    [{}, { apiClientKey: undefined }, /apiClientKey is required/],
    [{}, { apiClientKey: 'garbage' }, /apiClientKey is not a valid PEM/],
    [{}, { apiClientKey: ec }, /apiClientKey must be an RSA key/],
    [{}, { apiV3Key: 'testMchAPIv3Key0' }, /apiV3Key must be exactly 32/],
    [{}, { apiV3Key: undefined }, /apiV3Key is required/],
  ];
  for (const [params, secrets, message] of cases) {
    assert.throws(
      () => config(params, secrets),
      (err: unknown) => {
        assert.ok(err instanceof Error && 'kind' in err && err.kind === 'misconfigured', `${message}: ${String(err)}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(SECRETS.apiV3Key as string) && !err.message.includes('PRIVATE KEY') && !err.message.includes('garbage'));
        return true;
      },
    );
  }
});
