import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { DEMO_ALIPAY_APPID, ensureDemoMerchant } from '../../src/demo.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';

/**
 * Alipay payer identity (issue 5 item 5): a mini program's auth code and a 生活号 page's silent
 * web authorisation become payer sessions that pay ALI_LITE / ALI_JSAPI — for an app that
 * receives open_id (created after 2023, the demo's) and one that receives user_id.
 */

type Data = Record<string, any>;

async function postJson(url: string, body: unknown): Promise<Data> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.body.json()) as Data;
}

for (const leg of dbLegs()) {
  describe(`Alipay payer identity on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: AlipaySimulator;
    const kinds: Array<{ idType: 'open_id' | 'user_id'; alipayAppId: string; client: MerchantClient; mchNo: string; appId: string }> = [];

    before(async () => {
      sim = await startAlipaySimulator({ timeScale: 1000 });
      const demo = await ensureDemoMerchant(env.s.gw, env.s.sim, sim);
      kinds.push({ idType: 'open_id', alipayAppId: DEMO_ALIPAY_APPID, client: env.s.client, ...demo });
      // A second app of the demo merchant, on an Alipay app from before 2023 (buyers are user_ids).
      const old = await sim.registerApp({ openId: false });
      const app = await env.s.gw.tenancy.createApp({ mchNo: demo.mchNo, name: 'old alipay app' });
      await env.s.gw.tenancy.setChannelConfig(app.appId, 'alipay', { appId: old.appId, alipayPublicKey: old.alipayPublicKeyPem, gatewayUrl: old.gatewayUrl, openAuthUrl: sim.baseUrl, oauthReturnHosts: '127.0.0.1' }, { privateKey: old.appPrivateKeyPem as string });
      await env.s.gw.passages.enableWays(app.appId, 'alipay', ['ALI_JSAPI', 'ALI_LITE', 'ALI']);
      kinds.push({ idType: 'user_id', alipayAppId: old.appId, client: new MerchantClient({ baseUrl: env.s.url, mchNo: demo.mchNo, appId: app.appId, appSecret: app.appSecret }), mchNo: demo.mchNo, appId: app.appId });
    });
    after(async () => sim?.close());

    const payWithSession = async (k: (typeof kinds)[number], way: string, sessionToken: string): Promise<Data> => {
      const r = await k.client.unifiedOrder({ mchOrderNo: orderNo('id'), wayCode: way, amount: 88, currency: 'cny', subject: '身份', body: 'b', notifyUrl: env.receiver.url, channelExtra: JSON.stringify({ sessionToken }) });
      assert.equal(r.code, 0, r.msg);
      return r.data as Data;
    };

    test('mini program: my.getAuthCode code → session → ALI_LITE with the buyer id of its kind; codes work once', async () => {
      for (const k of kinds) {
        const code = sim.identity.authCode(k.alipayAppId, '2088102177840001');
        const login = await postJson(`${env.s.url}/api/alipay/lite/login`, { mchNo: k.mchNo, appId: k.appId, code });
        assert.equal(login.code, 0, login.msg);
        assert.equal(login.data.idType, k.idType);
        const d = await payWithSession(k, 'ALI_LITE', login.data.sessionToken);
        assert.equal(d.orderState, 1, d.errMsg);
        const trade = sim.ledger(k.alipayAppId).trades.find((t) => t.out_trade_no === d.payOrderId);
        if (k.idType === 'user_id') assert.equal(trade?.buyer, '2088102177840001', 'buyer_id sent');
        else assert.match(String(trade?.buyer), /^0[\w-]{43}$/, 'buyer_open_id sent');
        sim.payer.pay(k.alipayAppId, d.payOrderId, k.idType === 'user_id' ? { buyerId: '2088102177840001' } : { buyerOpenId: trade?.buyer as string });
        await waitFor('paid', async () => ((await k.client.query({ payOrderId: d.payOrderId })).data as Data).state === 2);

        const reused = await postJson(`${env.s.url}/api/alipay/lite/login`, { mchNo: k.mchNo, appId: k.appId, code });
        assert.equal(reused.errorKey, 'CHANNEL_REJECTED');
        assert.match(reused.msg, /isv\.code-invalid/);
      }
      const foreign = await postJson(`${env.s.url}/api/alipay/lite/login`, { mchNo: kinds[1]!.mchNo, appId: kinds[1]!.appId, code: sim.identity.authCode(kinds[0]!.alipayAppId) });
      assert.match(foreign.msg, /isv\.code-invalid/, "another Alipay app's code");
    });

    test('生活号 H5: silent auth_base round trip → session → ALI_JSAPI (and the generic ALI); tokens stay with their Alipay app', async () => {
      const tokens: string[] = [];
      for (const k of kinds) {
        const start = await request(`${env.s.url}/api/alipay/oauth/authorize?mchNo=${k.mchNo}&appId=${k.appId}&returnUrl=${encodeURIComponent('http://127.0.0.1:9/shop/pay?o=1')}`);
        assert.equal(start.statusCode, 302);
        await start.body.dump();
        const alipay = new URL(String(start.headers.location));
        assert.equal(`${alipay.origin}${alipay.pathname}`, `${sim.baseUrl}/oauth2/publicAppAuthorize.htm`);
        assert.deepEqual([alipay.searchParams.get('app_id'), alipay.searchParams.get('scope')], [k.alipayAppId, 'auth_base']);
        const authorised = await request(alipay.toString());
        assert.equal(authorised.statusCode, 302);
        await authorised.body.dump();
        const callback = new URL(String(authorised.headers.location));
        assert.equal(callback.searchParams.get('source'), 'alipay_wallet');
        const done = await request(callback.toString());
        assert.equal(done.statusCode, 302);
        await done.body.dump();
        const back = new URL(String(done.headers.location));
        assert.equal(`${back.host}${back.pathname}${back.searchParams.get('o')}`, '127.0.0.1:9/shop/pay1');
        const token = back.searchParams.get('sessionToken') as string;
        tokens.push(token);
        const d = await payWithSession(k, 'ALI_JSAPI', token);
        assert.deepEqual([d.orderState, d.payDataType], [1, 'aliapp'], d.errMsg);
        const g = await payWithSession(k, 'ALI', token);
        assert.equal(g.payDataType, 'aliapp', 'a session token makes the generic ALI a JSAPI payment');
        const replay = await request(callback.toString());
        assert.equal(replay.statusCode, 400, 'the auth_code was spent');
        await replay.body.dump();
      }
      const crossed = await payWithSession(kinds[1]!, 'ALI_JSAPI', tokens[0]!);
      assert.deepEqual([crossed.orderState, crossed.errCode], [3, 'PARAM_ERROR'], "an open_id of another Alipay app is refused, not sent");
      const evil = await request(`${env.s.url}/api/alipay/oauth/authorize?mchNo=${kinds[0]!.mchNo}&appId=${kinds[0]!.appId}&returnUrl=${encodeURIComponent('https://evil.example.com/x')}`);
      assert.equal(((await evil.body.json()) as Data).errorKey, 'PARAM_INVALID', 'no open redirect');
    });
  });
}
