import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createVerify } from 'node:crypto';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import type { SandboxCredentials } from '../../src/channels/wechat-pay/simulator/index.ts';

/**
 * WeChat Pay service-provider (服务商) mode end to end, the three business scenarios of seed 003,
 * each configured through the admin API on the tenancy's provider model: the provider's
 * credentials once (isv_channel_configs), each sub-merchant app with its sub_mchid and scenario.
 * For each: the payer logs in to the mini program the scenario says, orders WX_LITE with the
 * session, and the test shows which appid the front end must call wx.requestPayment with (the
 * paySign covers it), which openid field WeChat received, and that the order gets paid.
 */

type Data = Record<string, any>;
const ISV = 'ISV_WX_01';
const SP_MP = 'wxe2espmp0000001';
const SP_LITE = 'wxe2esplite00001';
const OUT_LITE = 'wxe2eoutlite0001';
const COMP_LITE = 'wxe2ecomplite001';
const COMPONENT = 'wxe2ecomponent01';

for (const leg of dbLegs()) {
  describe(`WeChat Pay service provider on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sp: SandboxCredentials;
    const apps: Record<string, { client: MerchantClient; mchNo: string; appId: string; subMchId: string }> = {};

    const admin = async (method: 'POST' | 'PUT', path: string, body: unknown): Promise<Data> => {
      const res = await request(`${env.s.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.body.json()) as Data;
    };

    /** A sub-merchant onboarded at WeChat (the simulator) and in the gateway, with its own configuration. */
    async function onboard(name: string, subAppids: string[], params: Record<string, string>, secrets: Record<string, string> = {}) {
      const subMchId = env.s.sim.registerSubMerchant({ spMchid: sp.mchid, appids: subAppids, name }).sub_mchid;
      const m = await admin('POST', `/isvs/${ISV}/merchants`, { name });
      const a = await admin('POST', `/merchants/${m.mchNo}/apps`, {});
      const cfg = await admin('PUT', `/apps/${a.appId}/channels/wxpay`, { params: { subMchId, ...params }, secrets });
      assert.ok(cfg.configs, JSON.stringify(cfg));
      await admin('PUT', `/apps/${a.appId}/ways`, { ifCode: 'wxpay', ways: ['WX_LITE', 'WX_NATIVE'] });
      apps[name] = { client: new MerchantClient({ baseUrl: env.s.url, mchNo: m.mchNo, appId: a.appId, appSecret: a.appSecret }), mchNo: m.mchNo, appId: a.appId, subMchId };
    }

    before(async () => {
      const sim = env.s.sim;
      sp = sim.registerMerchant({ appids: [SP_MP, SP_LITE], providerType: 'normal' });
      sim.open.registerApp({ appid: SP_LITE, secret: 'sp-lite-secret-0001' });
      sim.open.registerApp({ appid: OUT_LITE, secret: 'out-lite-secret-001' });
      const component = sim.open.registerComponent({ componentAppid: COMPONENT, authorizedAppids: [COMP_LITE] });
      const provider = await admin('PUT', `/isvs/${ISV}/channels/wxpay`, {
        name: '服务商',
        params: { providerType: 'normal', mchId: sp.mchid, appId: SP_MP, liteAppId: SP_LITE, merchantSerialNo: sp.merchantSerialNo, wxpayPublicKeyId: sp.wxpayPublicKeyId, wxpayPublicKey: sp.wxpayPublicKeyPem, baseUrl: sim.baseUrl, oauthBaseUrl: sim.baseUrl },
        secrets: { apiClientKey: sp.merchantPrivateKeyPem as string, apiV3Key: sp.apiV3Key, liteAppSecret: 'sp-lite-secret-0001' },
      });
      assert.equal(JSON.stringify(provider).includes('PRIVATE KEY'), false, 'provider secrets come back masked');

      // A sub-merchant app without its sub_mchid is refused at configuration time.
      const m = await admin('POST', `/isvs/${ISV}/merchants`, { name: 'incomplete' });
      const a = await admin('POST', `/merchants/${m.mchNo}/apps`, {});
      const refused = await admin('PUT', `/apps/${a.appId}/channels/wxpay`, { params: { spScenario: 'central' } });
      assert.match(String(refused.msg), /subMchId/);

      await onboard('central', [], { spScenario: 'central' });
      await onboard('outsourced', [OUT_LITE], { spScenario: 'outsourced', subMchLiteAppId: OUT_LITE }, { liteAppSecret: 'out-lite-secret-001' });
      await onboard('component', [COMP_LITE], { spScenario: 'component', subMchLiteAppId: COMP_LITE, componentAppId: COMPONENT }, { componentAppSecret: component.component_appsecret, componentVerifyTicket: component.component_verify_ticket });
    });

    const scenarios: Array<[string, string, string, 'sp_openid' | 'sub_openid']> = [
      ['central', '中心化: the provider mini program (sp_appid), payer.sp_openid', SP_LITE, 'sp_openid'],
      ['outsourced', '外包: the sub-merchant mini program (sub_appid), payer.sub_openid', OUT_LITE, 'sub_openid'],
      ['component', '第三方: the sub-merchant mini program, login through the open-platform third party, payer.sub_openid', COMP_LITE, 'sub_openid'],
    ];
    for (const [name, title, frontAppid, openidField] of scenarios) {
      test(title, async () => {
        const app = apps[name] as (typeof apps)[string];
        const sim = env.s.sim;
        const code = sim.open.issueCode(frontAppid, `payer-${name}`, 'login') as string;
        const login = await request(`${env.s.url}/api/wx/lite/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mchNo: app.mchNo, appId: app.appId, code }) });
        const session = (await login.body.json()) as Data;
        assert.equal(session.code, 0, session.msg);

        const r = await app.client.unifiedOrder({ mchOrderNo: orderNo('sp'), wayCode: 'WX_LITE', amount: 321, currency: 'cny', subject: '服务商小程序', body: 'b', notifyUrl: env.receiver.url, channelExtra: JSON.stringify({ sessionToken: session.data.sessionToken }) });
        assert.equal(r.code, 0, r.msg);
        const pay = JSON.parse((r.data as Data).payData) as Record<string, string>;
        assert.equal(pay.appId, frontAppid, `the front end calls wx.requestPayment in ${frontAppid}`);
        const verify = createVerify('RSA-SHA256').update(`${pay.appId}\n${pay.timeStamp}\n${pay.nonceStr}\n${pay.package}\n`);
        assert.ok(verify.verify(createPublicKey(sp.merchantPrivateKeyPem as string), pay.paySign as string, 'base64'), "paySign is the provider's signature over that appid");

        const payOrderId = (r.data as Data).payOrderId as string;
        const ledger = sim.ledger(app.subMchId).orders.find((o) => o.out_trade_no === payOrderId);
        assert.equal(ledger?.partner?.sp_mchid, sp.mchid);
        assert.equal(ledger?.partner?.openid_field, openidField);
        assert.equal(ledger?.partner?.openid, sim.open.openid(frontAppid, `payer-${name}`), 'the openid of the payer in that app');
        assert.equal(ledger?.partner?.sub_appid, openidField === 'sub_openid' ? frontAppid : undefined);

        await sim.payer.pay(app.subMchId, payOrderId);
        await waitFor('paid', async () => ((await app.client.query({ payOrderId })).data as { state: number }).state === 2);
        const stored = await env.s.gw.db.query<{ channel_user: string }>(`SELECT channel_user FROM pay_orders WHERE pay_order_id = $1`, [payOrderId]);
        assert.equal(stored.rows[0]?.channel_user, sim.open.openid(frontAppid, `payer-${name}`));
      });
    }

    test('a refund goes through the provider with sub_mchid; another provider sub-merchant sees nothing', async () => {
      const app = apps.outsourced as (typeof apps)[string];
      const r = await app.client.unifiedOrder({ mchOrderNo: orderNo('spq'), wayCode: 'WX_NATIVE', amount: 500, currency: 'cny', subject: 'native', body: 'b', notifyUrl: env.receiver.url });
      assert.equal(r.code, 0, r.msg);
      const payOrderId = (r.data as Data).payOrderId as string;
      await env.s.sim.payer.payByCodeUrl((r.data as Data).payData as string);
      await waitFor('paid', async () => ((await app.client.query({ payOrderId })).data as { state: number }).state === 2);
      const refund = await app.client.refund({ payOrderId, mchRefundNo: orderNo('spr'), refundAmount: 200, currency: 'cny', refundReason: 'partial', notifyUrl: env.receiver.url });
      assert.equal(refund.code, 0, refund.msg);
      await waitFor('refunded', () => env.s.sim.ledger(app.subMchId).refunds.find((x) => x.out_trade_no === payOrderId && x.status === 'SUCCESS'));
      assert.equal(env.s.sim.ledger((apps.central as (typeof apps)[string]).subMchId).orders.some((o) => o.out_trade_no === payOrderId), false);
    });
  });
}
