import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { appAuthServiceFor } from '../../src/channels/alipay/app-auth-service.ts';
import { startAlipaySimulator, type AlipaySimulator, type AppCredentials } from '../../src/channels/alipay/simulator/index.ts';

/**
 * ISV (服务商) mode end to end: a service provider's third-party app, a sub-merchant onboarded
 * through Alipay's app-to-app authorisation (link → authorise page → callback → stored token),
 * ALI_QR paid and refunded through the provider, its bill (zip of GBK CSVs) fetched and stored,
 * the token refreshed, an expired and a revoked token refused by Alipay and surfaced on the order.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`Alipay ISV mode on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: AlipaySimulator;
    let isvApp: AppCredentials;
    let merchantApp: AppCredentials;
    let sub: { mchNo: string; appId: string; appSecret: string };
    let client: MerchantClient;
    const isvNo = 'ISV_ALI_01';

    const admin = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Data> => {
      const res = await request(`${env.s.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return (await res.body.json()) as Data;
    };
    const ownSecrets = async () => (await env.s.gw.tenancy.getOwnChannelConfig(sub.appId, 'alipay'))?.secrets ?? {};
    const createQr = async (amount: number): Promise<Data> => {
      const r = await client.unifiedOrder({ mchOrderNo: orderNo('isv'), wayCode: 'ALI_QR', amount, currency: 'cny', subject: '服务商代收', body: 'b', notifyUrl: env.receiver.url });
      assert.equal(r.code, 0, r.msg);
      return r.data as Data;
    };

    before(async () => {
      sim = await startAlipaySimulator({ timeScale: 1000 });
      isvApp = await sim.registerApp({ isv: true });
      merchantApp = await sim.registerApp({ openId: false });
      const cfg = await admin('PUT', `/isvs/${isvNo}/channels/alipay`, {
        name: 'Sandbox provider',
        params: { appId: isvApp.appId, useCert: 'false', alipayPublicKey: isvApp.alipayPublicKeyPem, gatewayUrl: isvApp.gatewayUrl, isvPid: isvApp.pid, openAuthUrl: sim.baseUrl },
        secrets: { privateKey: isvApp.appPrivateKeyPem as string },
      });
      assert.equal(cfg.isvs?.[0]?.secrets?.privateKey?.includes('PRIVATE'), false, 'secrets come back masked');
      const m = await admin('POST', `/isvs/${isvNo}/merchants`, { name: '子商户 A' });
      const a = await admin('POST', `/merchants/${m.mchNo}/apps`, {});
      sub = { mchNo: m.mchNo, appId: a.appId, appSecret: a.appSecret };
      client = new MerchantClient({ baseUrl: env.s.url, ...sub });
    });
    after(async () => sim?.close());

    test('the authorisation flow: link, authorise page, callback; the token is stored sealed', async () => {
      const early = await env.s.gw.tenancy.getChannelConfig(sub.appId, 'alipay');
      assert.equal(early, null, 'not authorised yet: no usable configuration');

      const link = await admin('POST', `/apps/${sub.appId}/alipay/app-auth`);
      const url = new URL(link.url);
      assert.equal(`${url.origin}${url.pathname}`, `${sim.baseUrl}/oauth2/appToAppAuth.htm`);
      assert.equal(url.searchParams.get('app_id'), isvApp.appId);
      assert.equal(url.searchParams.get('redirect_uri'), `${env.s.url}/api/alipay/app-auth/callback`);
      const state = url.searchParams.get('state') as string;
      assert.ok(state.length <= 100);

      const pageRes = await request(link.url);
      assert.equal(pageRes.statusCode, 200);
      assert.match(await pageRes.body.text(), new RegExp(merchantApp.appId));
      // The sandbox merchant picks its app and presses "authorise" (the page's form).
      const granted = await request(`${sim.baseUrl}/oauth2/appToAppAuth.htm`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ app_id: isvApp.appId, redirect_uri: url.searchParams.get('redirect_uri') as string, state, merchant_app_id: merchantApp.appId }).toString() });
      assert.equal(granted.statusCode, 303);
      await granted.body.dump();
      const callback = String(granted.headers.location);
      assert.equal(new URL(callback).searchParams.get('source'), 'alipay_app_auth');
      const done = await request(callback);
      assert.equal(done.statusCode, 200, await done.body.text());

      const own = await env.s.gw.tenancy.getOwnChannelConfig(sub.appId, 'alipay');
      assert.equal(own?.params.authAppId, merchantApp.appId);
      assert.equal(own?.params.sellerId, merchantApp.pid, 'the merchant partner id checks its notifications');
      assert.ok(Date.parse(own?.params.appAuthExpiresAt ?? '') > Date.now() + 300 * 24 * 3600e3);
      const row = await env.s.gw.db.query<{ secrets_enc: string }>(`SELECT secrets_enc FROM channel_configs WHERE app_id = $1`, [sub.appId]);
      assert.ok(!row.rows[0]?.secrets_enc.includes(own?.secrets.appAuthToken as string), 'the token is sealed at rest');

      const replay = await request(callback);
      assert.equal(replay.statusCode, 400, 'an app_auth_code works once');
      await replay.body.dump();
      const forged = await request(callback.replace(/state=[^&]+/, `state=${encodeURIComponent(`${sub.appId}.zzzzzz.AAAAAAAAAAAAAAAAAAAAAA`)}`));
      assert.equal(forged.statusCode, 400, 'a forged state is refused');
      await forged.body.dump();
      const status = await admin('GET', `/apps/${sub.appId}/alipay/app-auth`);
      assert.deepEqual([status.valid, status.authAppId, status.userId], [true, merchantApp.appId, merchantApp.pid]);
      await admin('PUT', `/apps/${sub.appId}/ways`, { ifCode: 'alipay', ways: ['ALI_QR', 'ALI_BAR'] });
    });

    test('ALI_QR paid and refunded through the provider: app_auth_token and sys_service_provider_id on the wire', async () => {
      const d = await createQr(600);
      sim.payer.payByQr(d.payData);
      await waitFor('paid by notification', async () => ((await client.query({ payOrderId: d.payOrderId })).data as Data).state === 2);
      const trade = sim.ledger(merchantApp.appId).trades.find((t) => t.out_trade_no === d.payOrderId);
      assert.deepEqual([trade?.isv_app_id, trade?.sys_service_provider_id], [isvApp.appId, isvApp.pid], "the merchant's trade, credited to the provider");
      const note = sim.ledger(isvApp.appId).notifications.find((n) => n.out_trade_no === d.payOrderId);
      assert.equal(note?.delivered, true, 'the notification (app_id = provider, auth_app_id = merchant) was accepted');
      const r1 = await client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('r'), refundAmount: 200, currency: 'cny', refundReason: 'part' });
      assert.equal((r1.data as Data).state, 2, r1.msg);
      const r2 = await client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('r'), refundAmount: 400, currency: 'cny', refundReason: 'rest' });
      assert.equal((r2.data as Data).state, 2, r2.msg);
      assert.equal(((await client.query({ payOrderId: d.payOrderId })).data as Data).state, 5);
      const bar = await client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'ALI_BAR', amount: 30, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ authCode: '286000000000000001' }) });
      assert.equal((bar.data as Data).orderState, 2, bar.msg);

      // The sub-merchant's bill, fetched through the provider: a zip of GBK detail + summary CSVs.
      const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
      const bill = await admin('POST', `/apps/${sub.appId}/bills/alipay`, { date: today });
      assert.equal(bill.rows, 4, JSON.stringify(bill));
      assert.deepEqual([bill.summary['交易订单总笔数'], bill.summary['退款订单总笔数'], bill.summary['商家实收（元）']], ['2', '2', '0.30']);
      const stored = await env.s.gw.db.query<{ kind: string; amount: number; out_refund_no: string | null }>(`SELECT r.kind, r.amount, r.out_refund_no FROM channel_bill_rows r JOIN channel_bills b ON b.id = r.bill_id WHERE b.app_id = $1 AND r.out_trade_no = $2 ORDER BY r.line_no`, [sub.appId, d.payOrderId]);
      assert.deepEqual(stored.rows.map((r) => [r.kind, r.amount]), [['pay', 600], ['refund', 200], ['refund', 400]]);
    });

    test('refresh: a new token pair replaces the old one, which Alipay no longer accepts', async () => {
      const before = await ownSecrets();
      const refreshed = await admin('POST', `/apps/${sub.appId}/alipay/app-auth/refresh`);
      assert.equal(refreshed.authAppId, merchantApp.appId, JSON.stringify(refreshed));
      const now = await ownSecrets();
      assert.notEqual(now.appAuthToken, before.appAuthToken);
      assert.notEqual(now.appAuthRefreshToken, before.appAuthRefreshToken);
      const d = await createQr(10);
      assert.equal(d.orderState, 1, 'the new token works');
      const spent = await appAuthServiceFor(env.s.gw)!.status(sub.appId);
      assert.equal(spent.valid, true);
    });

    test('an expired token is refused (aop.app-auth-token-time-out); the upkeep refreshes it; a revoked one is refused', async () => {
      assert.equal(sim.appAuth.expire(merchantApp.appId), 1);
      const expired = await createQr(20);
      assert.deepEqual([expired.orderState, expired.errCode], [3, 'aop.app-auth-token-time-out']);
      const upkeep = await appAuthServiceFor(env.s.gw)!.refreshDue(400 * 24 * 3600e3);
      assert.deepEqual(upkeep, { refreshed: [sub.appId], failed: [] });
      assert.equal((await createQr(21)).orderState, 1, 'paying again after the refresh');

      assert.equal(sim.appAuth.revoke(merchantApp.appId), 1);
      const revoked = await createQr(22);
      assert.deepEqual([revoked.orderState, revoked.errCode], [3, 'aop.invalid-app-auth-token']);
      assert.equal((await admin('GET', `/apps/${sub.appId}/alipay/app-auth`)).valid, false);
      const failed = await admin('POST', `/apps/${sub.appId}/alipay/app-auth/refresh`);
      assert.equal(failed.errorKey, 'CHANNEL_REJECTED', 'a revoked authorisation cannot be refreshed: the merchant must authorise again');
    });
  });
}
