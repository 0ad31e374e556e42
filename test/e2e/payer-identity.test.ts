import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { DEMO_WECHAT_APPIDS } from '../../src/demo.ts';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';

async function postJson(url: string, body: unknown) {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.body.json()) as { code: number; msg: string; errorKey?: string; data?: Record<string, unknown> };
}

/** Seed 001 §2: wx.login code → jscode2session → payer session → WX_LITE order; 公众号 snsapi_base OAuth → WX_JSAPI. */
for (const leg of dbLegs()) {
  describe(`payer identity on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg);
    });
    after(() => s.close());

    async function wxLogin(appid: string, user = 'alice'): Promise<string> {
      const r = await postJson(`${s.sim.baseUrl}/sandbox/v1/wx-login`, { appid, user });
      return r.data === undefined ? ((r as unknown as { code: string }).code) : '';
    }

    test('mini-program login: the session pays WX_LITE with the mini-program openid; the code cannot be reused', async () => {
      const code = await wxLogin(DEMO_WECHAT_APPIDS.lite);
      const login = await postJson(`${s.url}/api/wx/lite/login`, { mchNo: s.demo.mchNo, appId: s.demo.appId, code });
      assert.equal(login.code, 0, login.msg);
      const token = login.data?.sessionToken as string;
      assert.ok(token && !JSON.stringify(login).includes('session_key') && !JSON.stringify(login.data).includes('sessionKey'), 'session_key never leaves the gateway');
      const reused = await postJson(`${s.url}/api/wx/lite/login`, { mchNo: s.demo.mchNo, appId: s.demo.appId, code });
      assert.equal(reused.errorKey, 'CHANNEL_REJECTED');
      assert.match(reused.msg, /40163/);
      const bogus = await postJson(`${s.url}/api/wx/lite/login`, { mchNo: s.demo.mchNo, appId: s.demo.appId, code: 'nope' });
      assert.match(bogus.msg, /40029/);

      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_LITE', amount: 12, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ sessionToken: token }) });
      assert.equal(res.code, 0, res.msg);
      const payData = JSON.parse((res.data as { payData: string }).payData) as { appId: string };
      assert.equal(payData.appId, DEMO_WECHAT_APPIDS.lite, 'the front end calls wx.requestPayment with the mini-program appid');
      const id = (res.data as { payOrderId: string }).payOrderId;
      const paid = await s.sim.payer.pay('1900000001', id);
      const aliceLite = s.sim.open.openid(DEMO_WECHAT_APPIDS.lite, 'alice');
      assert.equal(paid.payer?.openid, aliceLite, 'WeChat received the openid of the mini-program appid');
      const users = await s.gw.db.query<{ user_id: string }>(`SELECT user_id FROM channel_users WHERE app_id = $1 AND channel_app_id = $2`, [s.demo.appId, DEMO_WECHAT_APPIDS.lite]);
      assert.ok(users.rows.some((u) => u.user_id === aliceLite), 'the openid is stored per app');

      const wrongKind = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_JSAPI', amount: 12, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ sessionToken: token }) });
      assert.equal(wrongKind.errorKey, 'PARAM_INVALID', 'a mini-program openid cannot pay a 公众号 JSAPI order (invalid openid)');
      const forged = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_LITE', amount: 12, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ sessionToken: `${token.slice(0, -3)}abc` }) });
      assert.equal(forged.errorKey, 'PARAM_INVALID');
    });

    test('公众号 OAuth: silent snsapi_base round trip returns a session for WX_JSAPI; foreign return hosts refused', async () => {
      const start = await request(`${s.url}/api/wx/oauth/authorize?mchNo=${s.demo.mchNo}&appId=${s.demo.appId}&returnUrl=${encodeURIComponent('http://127.0.0.1:9/shop/pay')}`);
      assert.equal(start.statusCode, 302);
      await start.body.dump();
      const wechat = new URL(String(start.headers.location));
      assert.equal(wechat.searchParams.get('appid'), DEMO_WECHAT_APPIDS.jsapi);
      assert.equal(wechat.searchParams.get('scope'), 'snsapi_base');
      const authorize = await request(String(start.headers.location).replace('#wechat_redirect', ''));
      assert.equal(authorize.statusCode, 302);
      await authorize.body.dump();
      const callback = await request(String(authorize.headers.location));
      assert.equal(callback.statusCode, 302);
      await callback.body.dump();
      const back = new URL(String(callback.headers.location));
      assert.equal(`${back.host}${back.pathname}`, '127.0.0.1:9/shop/pay');
      const token = back.searchParams.get('sessionToken') as string;
      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_JSAPI', amount: 13, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ sessionToken: token }) });
      assert.equal(res.code, 0, res.msg);
      const id = (res.data as { payOrderId: string }).payOrderId;
      await s.sim.payer.pay('1900000001', id);
      await waitFor('paid', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
      const evil = await request(`${s.url}/api/wx/oauth/authorize?mchNo=${s.demo.mchNo}&appId=${s.demo.appId}&returnUrl=${encodeURIComponent('https://evil.example.com/x')}`);
      assert.notEqual(evil.statusCode, 302, 'no open redirect');
      assert.equal(((await evil.body.json()) as { errorKey: string }).errorKey, 'PARAM_INVALID');
    });
  });
}
