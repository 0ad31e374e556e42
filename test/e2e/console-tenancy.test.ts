import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Receiver, type Stack, orderNo, startReceiver, startStack, waitFor } from '../helpers/stack.ts';
import { type ConsoleClient, userWithRole } from '../helpers/console.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';

/**
 * A merchant user sees and touches only its own merchant's data: every attempt to name another
 * merchant's order, refund, notification, app or user — in the URL, the query or the body — is
 * answered like a missing resource and changes nothing.
 */
for (const leg of dbLegs()) {
  describe(`merchant console tenancy (${leg})`, () => {
    let s: Stack;
    let receiver: Receiver;
    let mine: ConsoleClient;
    let operator: ConsoleClient;
    const other = { mchNo: 'MOTHER01', appId: '', appSecret: '', payOrderId: '', notificationId: 0, userId: 0 };
    before(async () => {
      s = await startStack(leg);
      receiver = await startReceiver(s.demo.appSecret);
      await s.gw.tenancy.createMerchant({ mchNo: other.mchNo, name: 'Other shop' });
      const app = await s.gw.tenancy.createApp({ mchNo: other.mchNo });
      Object.assign(other, { appId: app.appId, appSecret: app.appSecret });
      const wx = await s.gw.tenancy.getChannelConfig(s.demo.appId, 'wxpay');
      await s.gw.tenancy.setChannelConfig(other.appId, 'wxpay', wx?.params ?? {}, wx?.secrets ?? {});
      await s.gw.passages.enableWays(other.appId, 'wxpay', ['WX_NATIVE']);
      const otherClient = new MerchantClient({ baseUrl: s.url, mchNo: other.mchNo, appId: other.appId, appSecret: other.appSecret });
      const created = await otherClient.unifiedOrder({ mchOrderNo: orderNo('other'), wayCode: 'WX_NATIVE', amount: 300, currency: 'cny', subject: 'other', body: 'b', notifyUrl: receiver.url });
      other.payOrderId = (created.data as { payOrderId: string }).payOrderId;
      await s.sim.payer.pay('1900000001', other.payOrderId);
      const n = await waitFor('other merchant notified', async () => (await s.gw.db.query<{ id: number }>(`SELECT id FROM merchant_notifications WHERE order_id = $1 AND state = 1`, [other.payOrderId])).rows[0]);
      other.notificationId = n.id;
      other.userId = (await s.gw.consoleAccounts.createUser({ realm: 'merchant', username: 'other-admin', role: 'admin', mchNo: other.mchNo, password: 'other password 1' })).user.id;
      mine = await userWithRole(s.gw, 'merchant', 'admin', s.demo.mchNo);
      operator = await userWithRole(s.gw, 'operator', 'admin');
    });
    after(async () => {
      await receiver?.close();
      await s?.close();
    });

    test('another merchant\'s order, refund, notification, app and user are out of reach', async () => {
      const before = {
        secret: (await s.gw.tenancy.getApp(other.appId))?.appSecret,
        notification: (await s.gw.db.query(`SELECT state, attempts, next_attempt_at FROM merchant_notifications WHERE id = $1`, [other.notificationId])).rows[0],
        orders: (await s.gw.db.query(`SELECT count(*)::int AS n FROM pay_orders`)).rows[0],
        user: (await s.gw.db.query(`SELECT role, state, password_hash FROM console_users WHERE id = $1`, [other.userId])).rows[0],
      };
      const refused: Array<[string, Promise<{ status: number; json: Record<string, unknown> }>]> = [
        ['order detail', mine.get(`/orders/${other.payOrderId}`)],
        ['order sync', mine.post(`/orders/${other.payOrderId}/sync`)],
        ['refund', mine.post(`/orders/${other.payOrderId}/refunds`, { refundAmount: 1, refundReason: 'x', mchRefundNo: 'cross-tenant-1' })],
        ['notification resend', mine.post(`/notifications/${other.notificationId}/resend`)],
        ['app channels', mine.get(`/apps/${other.appId}/channels`)],
        ['app secret rotation', mine.post(`/apps/${other.appId}/secret`)],
        ['pay test with another app', mine.post('/pay-test', { appId: other.appId, wayCode: 'WX_NATIVE', amount: 1, mchOrderNo: 'crosstenant1', subject: 'x' })],
        ['user change', mine.patch(`/users/${other.userId}`, { role: 'readonly' })],
        ['user password reset', mine.post(`/users/${other.userId}/password`)],
      ];
      for (const [what, call] of refused) {
        const r = await call;
        assert.equal(r.status, 404, `${what}: ${JSON.stringify(r.json)}`);
        assert.ok(!JSON.stringify(r.json).includes('Other shop'), `${what} leaks nothing`);
      }
      assert.equal((await s.gw.tenancy.getApp(other.appId))?.appSecret, before.secret);
      assert.deepEqual((await s.gw.db.query(`SELECT state, attempts, next_attempt_at FROM merchant_notifications WHERE id = $1`, [other.notificationId])).rows[0], before.notification);
      assert.deepEqual((await s.gw.db.query(`SELECT count(*)::int AS n FROM pay_orders`)).rows[0], before.orders);
      assert.equal((await s.gw.db.query(`SELECT count(*)::int AS n FROM refund_orders`)).rows[0]?.n, 0);
      assert.deepEqual((await s.gw.db.query(`SELECT role, state, password_hash FROM console_users WHERE id = $1`, [other.userId])).rows[0], before.user);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(receiver.received.length, 1, 'no notification was resent');
    });

    test('lists and searches are limited to the merchant, whatever filter is sent', async () => {
      const byId = await mine.get(`/orders?q=${other.payOrderId}`);
      assert.equal(byId.json.total, 0);
      const byMch = await mine.get(`/orders?mchNo=${other.mchNo}`);
      assert.ok((byMch.json.items as Array<{ mchNo: string }>).every((o) => o.mchNo === s.demo.mchNo));
      const notifications = (await mine.get('/notifications')).json.items as Array<{ mchNo: string }>;
      assert.ok(notifications.every((n) => n.mchNo === s.demo.mchNo));
      const apps = (await mine.get(`/apps?mchNo=${other.mchNo}`)).json.apps as Array<{ mchNo: string }>;
      assert.ok(apps.length > 0 && apps.every((a) => a.mchNo === s.demo.mchNo));
      const users = (await mine.get('/users')).json.users as Array<{ mchNo: string }>;
      assert.ok(users.every((u) => u.mchNo === s.demo.mchNo));
      const dash = (await mine.get('/dashboard')).json as { last7Days: { paidAmount: number } };
      assert.equal(dash.last7Days.paidAmount, 0, 'the other merchant\'s 3.00 is not in this dashboard');
    });

    test('operators see both merchants; the same order is reachable for them', async () => {
      assert.equal((await operator.get(`/orders/${other.payOrderId}`)).status, 200);
      const dash = (await operator.get('/dashboard')).json as { last7Days: { paidAmount: number; paidOrders: number } };
      assert.equal(dash.last7Days.paidAmount, 300);
      const mchDash = (await userWithRole(s.gw, 'merchant', 'readonly', other.mchNo).then((c) => c.get('/dashboard'))).json as { last7Days: { paidAmount: number } };
      assert.equal(mchDash.last7Days.paidAmount, 300);
    });
  });
}
