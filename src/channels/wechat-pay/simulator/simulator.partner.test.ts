import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signV2, v2SignMatches } from '../v2-sign.ts';
import { buildWechatXml, parseWechatXml } from '../v2-xml.ts';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { verifySigned, wxCall } from './test-support.ts';

/** Service-provider mode: partner endpoints, the 受理关系, appid bindings and openid ownership. */

const NOTIFY = 'http://127.0.0.1:9/notify';
const SP_APPID = 'wxspprovider00001';
const SUB_APPID = 'wxsubmerchant0001';
let sim: WechatPaySimulator;
let sp: SandboxCredentials;
let otherSp: SandboxCredentials;
let direct: SandboxCredentials;
let sub: string;
let foreignSub: string;

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: 1000, refundDelayMs: 20, logger: false });
  sp = sim.registerMerchant({ appids: [SP_APPID], providerType: 'normal' });
  otherSp = sim.registerMerchant({ appids: ['wxotherprovider01'], providerType: 'bank', channelId: '1234567' });
  direct = sim.registerMerchant({ appids: ['wxdirect000000001'] });
  sub = sim.registerSubMerchant({ spMchid: sp.mchid, appids: [SUB_APPID] }).sub_mchid;
  foreignSub = sim.registerSubMerchant({ spMchid: otherSp.mchid, appids: ['wxforeignsub0001'] }).sub_mchid;
  for (const appid of [SP_APPID, SUB_APPID]) sim.open.registerApp({ appid });
});
after(() => sim.close());

let seq = 0;
const outTradeNo = () => `SP${Date.now()}${++seq}`;
const jsapi = (over: Record<string, unknown> = {}, payer: Record<string, string> = { sp_openid: sim.open.openid(SP_APPID, 'alice') }) => ({
  sp_appid: SP_APPID,
  sp_mchid: sp.mchid,
  sub_mchid: sub,
  description: '服务商订单',
  out_trade_no: outTradeNo(),
  notify_url: NOTIFY,
  amount: { total: 100, currency: 'CNY' },
  payer,
  ...over,
});
const post = (c: SandboxCredentials, path: string, body: unknown) => wxCall(sim.baseUrl, c, 'POST', path, body);

describe('v3 partner endpoints (protocols.md §A.2)', () => {
  test('中心化: sp_openid under sp_appid; the paid order reports both openids and the partner identifiers', async () => {
    const body = jsapi();
    const res = await post(sp, '/v3/pay/partner/transactions/jsapi', body);
    assert.equal(res.status, 200, res.text);
    assert.match(res.json.prepay_id, /^wx/);
    assert.ok(verifySigned(res.headers, res.text, sp));
    await sim.payer.pay(sub, body.out_trade_no);
    const q = await wxCall(sim.baseUrl, sp, 'GET', `/v3/pay/partner/transactions/out-trade-no/${body.out_trade_no}?sp_mchid=${sp.mchid}&sub_mchid=${sub}`);
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.trade_state, 'SUCCESS');
    assert.equal(q.json.sp_mchid, sp.mchid);
    assert.equal(q.json.sub_mchid, sub);
    assert.equal(q.json.sp_appid, SP_APPID);
    assert.equal(q.json.mchid, undefined);
    assert.deepEqual(q.json.payer, { sp_openid: sim.open.openid(SP_APPID, 'alice') });
  });

  test('外包: sub_openid under sub_appid; both openids of the same payer come back', async () => {
    const body = jsapi({ sub_appid: SUB_APPID }, { sub_openid: sim.open.openid(SUB_APPID, 'bob') });
    assert.equal((await post(sp, '/v3/pay/partner/transactions/jsapi', body)).status, 200);
    const paid = await sim.payer.pay(sub, body.out_trade_no);
    assert.equal(paid.trade_state, 'SUCCESS');
    const q = await wxCall(sim.baseUrl, sp, 'GET', `/v3/pay/partner/transactions/out-trade-no/${body.out_trade_no}?sp_mchid=${sp.mchid}&sub_mchid=${sub}`);
    assert.deepEqual(q.json.payer, { sp_openid: sim.open.openid(SP_APPID, 'bob'), sub_openid: sim.open.openid(SUB_APPID, 'bob') });
    assert.equal(q.json.sub_appid, SUB_APPID);
  });

  const refusals: Array<[string, () => { who?: SandboxCredentials; body: Record<string, unknown> }, number, string]> = [
    ['a sub_mchid onboarded under another provider', () => ({ body: jsapi({ sub_mchid: foreignSub }) }), 400, 'INVALID_REQUEST'],
    ['a sub_mchid that does not exist', () => ({ body: jsapi({ sub_mchid: '1999999999' }) }), 400, 'INVALID_REQUEST'],
    ['an sp_appid not bound to the provider', () => ({ body: jsapi({ sp_appid: SUB_APPID }) }), 400, 'APPID_MCHID_NOT_MATCH'],
    ['a sub_appid not bound to the sub-merchant', () => ({ body: jsapi({ sub_appid: SP_APPID }) }), 400, 'APPID_MCHID_NOT_MATCH'],
    ['an sp_openid issued for the sub-merchant appid', () => ({ body: jsapi({ sub_appid: SUB_APPID }, { sp_openid: sim.open.openid(SUB_APPID, 'carol') }) }), 400, 'PARAM_ERROR'],
    ['a sub_openid issued for the provider appid', () => ({ body: jsapi({ sub_appid: SUB_APPID }, { sub_openid: sim.open.openid(SP_APPID, 'carol') }) }), 400, 'PARAM_ERROR'],
    ['a sub_openid without sub_appid', () => ({ body: jsapi({}, { sub_openid: sim.open.openid(SUB_APPID, 'carol') }) }), 400, 'PARAM_ERROR'],
    ['a direct merchant on the partner endpoint', () => ({ who: direct, body: jsapi({ sp_mchid: direct.mchid }) }), 403, 'NO_AUTH'],
  ];
  for (const [name, make, status, code] of refusals) {
    test(`refuses ${name}`, async () => {
      const { who, body } = make();
      const res = await post(who ?? sp, '/v3/pay/partner/transactions/jsapi', body);
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.code, code);
    });
  }

  test('native, close and a refund with sub_mchid; the refund is only found under its sub_mchid', async () => {
    const body = { ...jsapi(), payer: undefined };
    const native = await post(sp, '/v3/pay/partner/transactions/native', body);
    assert.match(native.json.code_url, /^weixin:\/\/wxpay\/bizpayurl/);
    await sim.payer.payByCodeUrl(native.json.code_url);
    const refund = await post(sp, '/v3/refund/domestic/refunds', { sub_mchid: sub, out_trade_no: body.out_trade_no, out_refund_no: `R${body.out_trade_no}`, amount: { refund: 40, total: 100, currency: 'CNY' } });
    assert.equal(refund.status, 200, refund.text);
    assert.equal((await wxCall(sim.baseUrl, sp, 'GET', `/v3/refund/domestic/refunds/R${body.out_trade_no}?sub_mchid=${sub}`)).json.out_refund_no, `R${body.out_trade_no}`);
    assert.equal((await wxCall(sim.baseUrl, sp, 'GET', `/v3/refund/domestic/refunds/R${body.out_trade_no}`)).status, 404);
    assert.equal((await wxCall(sim.baseUrl, otherSp, 'GET', `/v3/refund/domestic/refunds/R${body.out_trade_no}?sub_mchid=${sub}`)).json.code, 'INVALID_REQUEST');

    const open = { ...jsapi(), payer: undefined };
    await post(sp, '/v3/pay/partner/transactions/native', open);
    const closed = await post(sp, `/v3/pay/partner/transactions/out-trade-no/${open.out_trade_no}/close`, { sp_mchid: sp.mchid, sub_mchid: sub });
    assert.equal(closed.status, 204);
  });

  test('codepay for a sub-merchant answers the partner transaction', async () => {
    const res = await post(sp, '/v3/pay/partner/transactions/codepay', {
      sp_appid: SP_APPID,
      sp_mchid: sp.mchid,
      sub_mchid: sub,
      description: '付款码',
      out_trade_no: outTradeNo(),
      payer: { auth_code: '104567890123456789' },
      amount: { total: 88, currency: 'CNY' },
      scene_info: { device_ip: '127.0.0.1' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.trade_state, 'SUCCESS');
    assert.equal(res.json.sub_mchid, sub);
    assert.equal(res.json.trade_type, 'MICROPAY');
  });
});

describe('v2 service-provider fields (protocols.md §B.1)', () => {
  async function v2(c: SandboxCredentials, path: string, fields: Record<string, string | undefined>): Promise<Record<string, string>> {
    const body = buildWechatXml(signV2({ mch_id: c.mchid, nonce_str: 'n0nce0000000000000000000000000000'.slice(0, 32), ...fields }, c.apiKey, 'MD5'));
    const res = await fetch(`${sim.baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
    const answer = parseWechatXml(await res.text());
    if (answer.return_code === 'SUCCESS') assert.ok(v2SignMatches(answer, c.apiKey, 'MD5'));
    return answer;
  }
  const order = (over: Record<string, string | undefined>) => ({ appid: SP_APPID, sub_mch_id: sub, body: 'v2', out_trade_no: outTradeNo(), total_fee: '100', spbill_create_ip: '127.0.0.1', notify_url: NOTIFY, trade_type: 'JSAPI', ...over });

  test('unifiedorder with sub_appid + sub_openid echoes sub_mch_id / sub_appid; orderquery reports both openids', async () => {
    const fields = order({ sub_appid: SUB_APPID, sub_openid: sim.open.openid(SUB_APPID, 'dave') });
    const a = await v2(sp, '/pay/unifiedorder', fields);
    assert.equal(a.result_code, 'SUCCESS', a.err_code_des);
    assert.equal(a.sub_mch_id, sub);
    assert.equal(a.sub_appid, SUB_APPID);
    assert.equal(a.mch_id, sp.mchid);
    await sim.payer.pay(sub, fields.out_trade_no);
    const q = await v2(sp, '/pay/orderquery', { appid: SP_APPID, sub_mch_id: sub, sub_appid: SUB_APPID, out_trade_no: fields.out_trade_no });
    assert.equal(q.trade_state, 'SUCCESS');
    assert.equal(q.openid, sim.open.openid(SP_APPID, 'dave'));
    assert.equal(q.sub_openid, sim.open.openid(SUB_APPID, 'dave'));
  });

  test('refuses a foreign sub_mch_id, a sub_appid of another party and an openid of the wrong appid', async () => {
    assert.match((await v2(sp, '/pay/unifiedorder', order({ sub_mch_id: foreignSub, openid: sim.open.openid(SP_APPID, 'e') }))).err_code_des ?? '', /sub_mch_id与mch_id不匹配/);
    assert.match((await v2(sp, '/pay/unifiedorder', order({ sub_appid: SP_APPID, openid: sim.open.openid(SP_APPID, 'e') }))).err_code_des ?? '', /sub_appid和sub_mch_id不匹配/);
    assert.match((await v2(sp, '/pay/unifiedorder', order({ openid: sim.open.openid(SUB_APPID, 'e') }))).err_code_des ?? '', /appid和openid不匹配/);
    assert.equal((await v2(direct, '/pay/unifiedorder', order({ appid: 'wxdirect000000001', openid: 'o1' }))).err_code, 'NOAUTH');
  });

  test('a bank service provider must send its channel_id (assumption, see the sandbox page)', async () => {
    const bankOrder = { appid: 'wxotherprovider01', sub_mch_id: foreignSub, body: 'bank', out_trade_no: outTradeNo(), total_fee: '1', spbill_create_ip: '127.0.0.1', notify_url: NOTIFY, trade_type: 'NATIVE', product_id: 'p1' };
    assert.equal((await v2(otherSp, '/pay/unifiedorder', bankOrder)).err_code, 'LACK_PARAMS');
    assert.equal((await v2(otherSp, '/pay/unifiedorder', { ...bankOrder, channel_id: '1234567' })).result_code, 'SUCCESS');
  });
});
