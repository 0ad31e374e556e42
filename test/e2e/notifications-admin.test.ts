import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import pino from 'pino';
import { openDb } from '../../src/db/db.ts';
import { createGateway } from '../../src/gateway.ts';
import { ADMIN_TOKEN, type Stack, freePort, orderNo, startReceiver, startStack, waitFor } from '../helpers/stack.ts';

async function admin(s: Stack, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  const res = await request(`${s.url}/admin/v1${path}`, { method: method as 'GET', headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

for (const leg of dbLegs()) {
  describe(`merchant notifications and admin API on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg);
    });
    after(() => s.close());

    test('a failing merchant endpoint is retried on schedule; attempts recorded; manual resend works', async () => {
      const receiver = await startReceiver(s.demo.appSecret, (n) => (n <= 2 ? 'FAIL' : n === 3 ? 'DROP' : 'success'));
      try {
        const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 10, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url });
        const id = (created.data as { payOrderId: string }).payOrderId;
        await s.sim.payer.pay('1900000001', id);
        await waitFor('delivered on the 4th attempt', async () => {
          const list = (await admin(s, 'GET', `/notifications?orderId=${id}`)).json.notifications as Array<{ state: number; attempts: number }>;
          return list[0]?.state === 1 ? list[0] : undefined;
        });
        const [n] = (await admin(s, 'GET', `/notifications?orderId=${id}`)).json.notifications as Array<{ id: number; attempts: number; attemptLog: Array<{ result: string }> }>;
        assert.equal(n?.attempts, 4);
        assert.equal(n?.attemptLog.length, 4);
        assert.ok(receiver.received.every((r) => r.signatureValid));
        assert.equal(new Set(receiver.received.map((r) => r.fields.sign)).size, 1, 'retries resend the identical signed payload');
        const resend = await admin(s, 'POST', `/notifications/${n?.id}/resend`);
        assert.equal(resend.status, 200);
        await waitFor('resent', () => receiver.received.length === 5);
      } finally {
        await receiver.close();
      }
    });

    test('a merchant endpoint that hangs holds one delivery slot, not the queue: other merchants are notified meanwhile', async () => {
      // Accepts the connection and never answers (the gateway's timeout is 10 s).
      const open: Array<import('node:http').ServerResponse> = [];
      const hanging = createServer((_req, res) => void open.push(res));
      await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
      const receiver = await startReceiver(s.demo.appSecret);
      try {
        const slow = (await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 10, currency: 'cny', subject: 's', body: 'b', notifyUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/notify` })).data as { payOrderId: string };
        await s.sim.payer.pay('1900000001', slow.payOrderId);
        await waitFor('the hanging endpoint got its request', () => open.length > 0);
        const started = Date.now();
        const fast = (await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 10, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url })).data as { payOrderId: string };
        await s.sim.payer.pay('1900000001', fast.payOrderId);
        await waitFor('the other merchant notified', () => receiver.received.some((r) => r.fields.payOrderId === fast.payOrderId));
        assert.ok(Date.now() - started < 8000, `notified after ${Date.now() - started} ms`);
        assert.equal(open.length, 1, 'the hanging delivery is still in flight, unanswered');
        await waitFor('its outcome recorded while the other still hangs', async () => ((await admin(s, 'GET', `/notifications?orderId=${fast.payOrderId}`)).json.notifications as Array<{ state: number }>)[0]?.state === 1, 5000);
        assert.equal(open.length, 1);
      } finally {
        for (const res of open) res.end('SUCCESS');
        await new Promise<void>((r) => hanging.close(() => r()));
        await receiver.close();
      }
    });

    test('gives up after the schedule is exhausted (merchant endpoint down)', async () => {
      const receiver = await startReceiver(s.demo.appSecret, () => 'FAIL');
      try {
        const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 10, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url });
        const id = (created.data as { payOrderId: string }).payOrderId;
        await s.sim.payer.pay('1900000001', id);
        const n = await waitFor('gave up', async () => ((await admin(s, 'GET', `/notifications?orderId=${id}`)).json.notifications as Array<{ state: number; attempts: number }>).find((x) => x.state === 2));
        assert.equal(n.attempts, s.config.notifySchedule.length);
        assert.equal(receiver.received.length, s.config.notifySchedule.length);
      } finally {
        await receiver.close();
      }
    });

    test('two gateway processes on one database never send the same notification attempt twice', { skip: leg !== 'postgres' && 'PGlite is single-process by design' }, async () => {
      const db2 = await openDb({ databaseUrl: s.testDb.url, poolSize: 5 });
      const gw2 = await createGateway({ ...s.config, port: await freePort() }, { db: db2, logger: pino({ level: 'silent' }) });
      await gw2.start();
      const receiver = await startReceiver(s.demo.appSecret);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 30; i++) {
          const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 10 + i, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url });
          ids.push((created.data as { payOrderId: string }).payOrderId);
        }
        await Promise.all(ids.map((id) => s.sim.payer.pay('1900000001', id)));
        await waitFor('all delivered', async () => {
          const r = await s.gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM merchant_notifications WHERE order_id = ANY($1::text[]) AND state = 1`, [ids]);
          return r.rows[0]?.n === ids.length;
        }, 20_000);
        assert.equal(receiver.received.length, ids.length, 'each notification delivered exactly once');
        assert.equal(new Set(receiver.received.map((r) => r.fields.payOrderId)).size, ids.length);
        const attempts = await s.gw.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_attempts a JOIN merchant_notifications n ON n.id = a.notification_id WHERE n.order_id = ANY($1::text[])`, [ids]);
        assert.equal(attempts.rows[0]?.n, ids.length);
      } finally {
        await receiver.close();
        await gw2.stop();
        await db2.close();
      }
    });

    test('admin API: auth required; secrets write-only and masked; app secret shown once', async () => {
      assert.equal((await admin(s, 'GET', '/merchants', undefined, 'wrong')).status, 401);
      const m = await admin(s, 'POST', '/merchants', { name: 'Shop A' });
      const mchNo = m.json.mchNo as string;
      const app = await admin(s, 'POST', `/merchants/${mchNo}/apps`, { name: 'web' });
      assert.equal((app.json.appSecret as string).length, 64);
      const listed = JSON.stringify((await admin(s, 'GET', `/apps?mchNo=${mchNo}`)).json);
      assert.ok(!listed.includes(app.json.appSecret as string), 'list never returns the app secret');
      const channels = await admin(s, 'GET', `/apps/${s.demo.appId}/channels`);
      const text = JSON.stringify(channels.json);
      assert.ok(!text.includes('PRIVATE KEY'), 'private key never returned');
      assert.match(text, /\*\*\*\*/);
      const stored = await s.gw.db.query<{ secrets_enc: string }>(`SELECT secrets_enc FROM channel_configs WHERE app_id = $1`, [s.demo.appId]);
      assert.ok(!stored.rows[0]?.secrets_enc.includes('PRIVATE'), 'encrypted at rest');
      const bad = await admin(s, 'PUT', `/apps/${app.json.appId as string}/channels/wxpay`, { params: { apiClientKey: 'x' } });
      assert.equal(bad.json.errorKey, 'PARAM_INVALID');
      const ways = await admin(s, 'PUT', `/apps/${app.json.appId as string}/ways`, { ifCode: 'wxpay', ways: ['ALI_QR'] });
      assert.equal(ways.json.errorKey, 'PARAM_INVALID');
    });
  });
}
