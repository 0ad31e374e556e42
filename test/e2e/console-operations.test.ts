import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Receiver, type Stack, startReceiver, startStack, waitFor } from '../helpers/stack.ts';
import { type ConsoleClient, userWithRole } from '../helpers/console.ts';
import { chinaDayStart } from '../../src/console/dashboard.ts';
import { registerSandboxKeyIssuers } from '../../src/console/sandbox-keys.ts';
import { generateKeyPairSync } from 'node:crypto';

/** The operator's day through the console API: onboard, configure, pay test, find, refund, resend, dashboard. */
for (const leg of dbLegs()) {
  describe(`console operations (${leg})`, () => {
    let s: Stack;
    let receiver: Receiver;
    let op: ConsoleClient;
    let appId = '';
    let payOrderId = '';
    before(async () => {
      s = await startStack(leg);
      op = await userWithRole(s.gw, 'operator', 'admin');
    });
    after(async () => {
      await receiver?.close();
      await s?.close();
    });

    test('onboarding: merchant, app (secret shown once), channel form with write-only secrets, ways', async () => {
      const m = await op.post('/merchants', { name: '测试商户 <b>', mchNo: 'MCONSOLE1' });
      assert.equal(m.status, 200);
      const app = await op.post('/merchants/MCONSOLE1/apps', { name: 'shop app' });
      appId = String(app.json.appId);
      const secret = String(app.json.appSecret);
      assert.equal(secret.length, 64);
      receiver = await startReceiver(secret);
      const listed = JSON.stringify((await op.get('/apps?mchNo=MCONSOLE1')).json);
      assert.ok(listed.includes(appId) && !listed.includes(secret), 'the secret is never listed');

      const wx = await s.gw.tenancy.getChannelConfig(s.demo.appId, 'wxpay');
      const missing = await op.put(`/apps/${appId}/channels/wxpay`, { params: { ...wx?.params, mchId: '' }, secrets: wx?.secrets, ways: ['WX_NATIVE'] });
      assert.equal(missing.status, 400);
      assert.match(String(missing.json.msg), /mchId/);
      const saved = await op.put(`/apps/${appId}/channels/wxpay`, { params: wx?.params, secrets: wx?.secrets, ways: ['WX_NATIVE', 'WX_H5'] });
      assert.equal(saved.status, 200);
      // Saving again with blank secrets keeps them; unchecking a way disables it.
      const again = await op.put(`/apps/${appId}/channels/wxpay`, { params: wx?.params, secrets: { apiClientKey: '', apiV3Key: '' }, ways: ['WX_NATIVE'] });
      assert.equal(again.status, 200);
      const view = await op.get(`/apps/${appId}/channels`);
      const text = JSON.stringify(view.json);
      for (const [name, value] of Object.entries(wx?.secrets ?? {})) assert.ok(!text.includes(value.length > 60 ? value.slice(40, 80) : value), `no material of ${name} is returned`);
      const cfg = (view.json.configs as Array<{ ifCode: string; secretsSet: Record<string, boolean>; ways: string[] }>).find((c) => c.ifCode === 'wxpay');
      assert.deepEqual(cfg?.ways, ['WX_NATIVE']);
      assert.equal(cfg?.secretsSet.apiClientKey, true);
      assert.equal((await s.gw.tenancy.getChannelConfig(appId, 'wxpay'))?.secrets.apiClientKey, wx?.secrets.apiClientKey);
    });

    test('pay test through the merchant API service; the sandbox payer pays; search finds it every way', async () => {
      const r = await op.post('/pay-test', { appId, wayCode: 'WX_NATIVE', amount: 1234, mchOrderNo: 'consoletest0001', subject: 'console test', notifyUrl: receiver.url });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      payOrderId = String(r.json.payOrderId);
      assert.equal(r.json.payDataType, 'codeUrl');
      assert.match(String(r.json.qrImageUrl), /^\/api\/scan\/imgs\/P\d+\..+\.png$/);
      assert.ok(String(r.json.sandboxPayerUrl).startsWith(`${s.sim.baseUrl}/sandbox/scan?code_url=`));
      assert.ok(r.json.clientToken);
      assert.equal((await s.gw.http.inject({ url: String(r.json.qrImageUrl) })).headers['content-type'], 'image/png');
      await s.sim.payer.pay('1900000001', payOrderId);
      await waitFor('paid and notified', () => receiver.received.length === 1);
      const detail = (await op.get(`/orders/${payOrderId}`)).json as { order: { state: number; channelOrderNo: string; mchOrderNo: string } };
      assert.equal(detail.order.state, 2);
      for (const q of [payOrderId, 'consoletest0001', detail.order.channelOrderNo]) {
        const found = (await op.get(`/orders?q=${encodeURIComponent(q)}`)).json as { total: number };
        assert.equal(found.total, 1, `search by ${q}`);
      }
      const today = chinaDayStart(Date.now()).toISOString();
      assert.equal(((await op.get(`/orders?state=2&wayCode=WX_NATIVE&mchNo=MCONSOLE1&from=${today}`)).json as { total: number }).total, 1);
      assert.equal(((await op.get(`/orders?state=6&mchNo=MCONSOLE1`)).json as { total: number }).total, 0);
      assert.equal(((await op.get(`/orders?to=${today}&mchNo=MCONSOLE1`)).json as { total: number }).total, 0);
      assert.equal((await op.get('/orders?from=yesterday')).status, 400);
    });

    test('refund from the console, notification resend, full timeline, dashboard', async () => {
      const refund = await op.post(`/orders/${payOrderId}/refunds`, { refundAmount: 234, refundReason: '客户要求', mchRefundNo: 'consolerefund01' });
      assert.equal(refund.status, 200, JSON.stringify(refund.json));
      const again = await op.post(`/orders/${payOrderId}/refunds`, { refundAmount: 234, refundReason: '客户要求', mchRefundNo: 'consolerefund01' });
      assert.equal(again.json.refundOrderId, refund.json.refundOrderId, 'a double click refunds once');
      const tooMuch = await op.post(`/orders/${payOrderId}/refunds`, { refundAmount: 1001, refundReason: 'x', mchRefundNo: 'consolerefund02' });
      assert.equal(tooMuch.json.errorKey, 'REFUND_AMOUNT_EXCEEDED');
      await waitFor('refund settled and notified', async () => receiver.received.some((n) => n.fields.refundOrderId === refund.json.refundOrderId && n.fields.state === '2'));
      const list = (await op.get(`/refunds?q=${payOrderId}`)).json as { total: number; items: Array<{ refundAmount: number }> };
      assert.equal(list.total, 1);
      assert.equal(list.items[0]?.refundAmount, 234);

      const detail = (await op.get(`/orders/${payOrderId}`)).json as { events: Array<{ kind: string; orderType: string }>; notifications: Array<{ id: number; orderType: string; attemptLog: unknown[] }>; refunds: unknown[] };
      assert.ok(detail.events.some((e) => e.kind === 'created' && e.orderType === 'pay'));
      assert.ok(detail.events.some((e) => e.kind === 'transition' && e.orderType === 'refund'));
      assert.ok(detail.events.some((e) => e.kind === 'callback'), 'the channel callback is on the timeline');
      const payNotification = detail.notifications.find((n) => n.orderType === 'pay');
      assert.equal(payNotification?.attemptLog.length, 1);
      const before = receiver.received.length;
      assert.equal((await op.post(`/notifications/${payNotification?.id}/resend`)).status, 200);
      await waitFor('resent', () => receiver.received.length === before + 1);

      const dash = (await op.get('/dashboard')).json as { today: { paidAmount: number; paidOrders: number; refundAmount: number; successPermille: number }; byWay: Array<{ wayCode: string; paidAmount: number }>; byChannel: Array<{ ifCode: string }>; days: unknown[] };
      assert.equal(dash.today.paidAmount, 1234);
      assert.equal(dash.today.refundAmount, 234);
      assert.equal(dash.today.successPermille, 1000);
      assert.equal(dash.byWay.find((w) => w.wayCode === 'WX_NATIVE')?.paidAmount, 1234);
      assert.ok(dash.byChannel.some((c) => c.ifCode === 'wxpay'));
      assert.equal(dash.days.length, 7);
    });

    test('"fill with sandbox keys": the simulator issues a new merchant whose keys work once saved', async () => {
      assert.equal((await op.post(`/apps/${appId}/channels/wxpay/sandbox-keys`)).status, 404, 'nothing without a running sandbox');
      registerSandboxKeyIssuers(s.gw, { wechat: s.sim, alipay: null });
      assert.deepEqual((await op.get('/sandbox')).json.keys, ['wxpay']);
      const keys = (await op.post(`/apps/${appId}/channels/wxpay/sandbox-keys`)).json as { params: Record<string, string>; secrets: Record<string, string> };
      assert.match(keys.params.mchId ?? '', /^19\d{8}$/);
      assert.match(keys.secrets.apiClientKey ?? '', /BEGIN PRIVATE KEY/);
      assert.equal((await op.put(`/apps/${appId}/channels/wxpay`, { ...keys, ways: ['WX_NATIVE', 'WX_JSAPI'] })).status, 200);
      const r = await op.post('/pay-test', { appId, wayCode: 'WX_NATIVE', amount: 1, mchOrderNo: 'sandboxkeys01', subject: 'keys' });
      assert.equal(r.json.payDataType, 'codeUrl', JSON.stringify(r.json));
      await s.sim.payer.pay(keys.params.mchId as string, String(r.json.payOrderId));
      await waitFor('paid with the issued keys', async () => ((await op.get(`/orders/${r.json.payOrderId}`)).json.order as { state: number }).state === 2);
      s.gw.sandboxKeys.clear();
    });

    test('service providers: credentials through the generated form, a sub-merchant, its Alipay authorisation link', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const params = { appId: '2021000199990001', alipayPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), gatewayUrl: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do' };
      assert.equal((await op.put('/isvs/ISV01/channels/alipay', { name: '测试服务商', params, secrets: { privateKey: pem } })).status, 200);
      const list = (await op.get('/isvs')).json as { isvs: Array<{ isvNo: string; name: string; secretsSet: Record<string, boolean> }> };
      assert.deepEqual(list.isvs.map((i) => [i.isvNo, i.name, i.secretsSet.privateKey]), [['ISV01', '测试服务商', true]]);
      assert.ok(!JSON.stringify(list).includes(pem.slice(60, 120)), 'the provider key never comes back');
      const sub = await op.post('/isvs/ISV01/merchants', { name: '特约商户', mchNo: 'MSUB01' });
      assert.equal(sub.status, 200);
      assert.equal((await op.post('/isvs/NOPE/merchants', { name: 'x' })).status, 404);
      const subApp = String((await op.post('/merchants/MSUB01/apps', {})).json.appId);
      const link = (await op.post(`/apps/${subApp}/alipay/app-auth`)).json as { url: string };
      assert.match(link.url, /app_id=2021000199990001/);
      assert.equal((await op.post(`/apps/${appId}/alipay/app-auth`)).status, 400, 'only a sub-merchant\'s app');
    });

    test('rotating the app secret shows the new one once; the audit trail names who did what', async () => {
      const old = (await s.gw.tenancy.getApp(appId))?.appSecret;
      const r = await op.post(`/apps/${appId}/secret`);
      assert.notEqual(r.json.appSecret, old);
      assert.equal((await s.gw.tenancy.getApp(appId))?.appSecret, r.json.appSecret);
      const audit = (await op.get('/audit')).json.entries as Array<{ action: string; outcome: number }>;
      assert.ok(audit.some((a) => a.action === 'POST /apps/:appId/secret' && a.outcome === 200));
      assert.ok(audit.some((a) => a.action === 'POST /orders/:payOrderId/refunds'));
    });
  });
}
