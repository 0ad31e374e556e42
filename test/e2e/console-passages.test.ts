import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';
import { type ConsoleClient, userWithRole } from '../helpers/console.ts';
import { startShengpaySimulator, type ShengpaySimulator } from '../../src/channels/shengpay/simulator/index.ts';
import type { PassagesView } from '../../src/console/passages-view.ts';

/**
 * Pay passages in the consoles (docs/console.md, docs/routing.md): operators with the admin or
 * operations role add, change and remove an app's passages and routing follows at once; bad
 * settings are refused with a message that says what to fix; merchant users only read their own
 * apps' passages; breaker trips show up next to the passage. The demo app's WX_NATIVE gets a second
 * passage through the 盛付通 Shengpay simulator, so orders really go through what the console set.
 * (The every-route RBAC walk in console-rbac.test.ts covers these routes' roles and CSRF.)
 */
for (const leg of dbLegs()) {
  describe(`pay passages in the console (${leg})`, () => {
    let s: Stack;
    let shengpay: ShengpaySimulator;
    let ops: ConsoleClient;
    let readonlyOperator: ConsoleClient;
    let merchantUser: ConsoleClient;
    let otherAppId = '';
    const base = () => `/apps/${s.demo.appId}/passages`;
    const view = async (client = ops, path = base()) => {
      const r = await client.get(path);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json as unknown as PassagesView;
    };
    const order = async (amount: number) => {
      const r = await s.client.unifiedOrder({ mchOrderNo: orderNo('cp'), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(r.code, 0, r.msg);
      const id = (r.data as { payOrderId: string }).payOrderId;
      const row = (await s.gw.db.query<{ if_code: string; passage_id: number; fee_amount: number }>(`SELECT if_code, passage_id, fee_amount FROM pay_orders WHERE pay_order_id = $1`, [id])).rows[0]!;
      const events = (await s.gw.db.query<{ kind: string; detail: { route: { passageId: number; skipped: Array<{ ifCode: string; reason: string }> } } }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
      return { ...row, events };
    };
    const snapshot = async () => (await s.gw.db.query(`SELECT * FROM pay_passages ORDER BY passage_id`)).rows;

    before(async () => {
      s = await startStack(leg, { workers: false, env: { POLYPAY_BREAKER_THRESHOLD: '2', POLYPAY_BREAKER_OPEN_SECONDS: '3600' } });
      shengpay = await startShengpaySimulator({ port: 0, host: '127.0.0.1', timeScale: 1000, logger: false });
      const creds = await shengpay.registerMerchant({ newKey: true });
      await s.gw.tenancy.setChannelConfig(s.demo.appId, 'shengpay', { mchId: creds.merchantId, shengpayPublicKey: creds.shengpayPublicKeyPem, signType: 'RSA', baseUrl: shengpay.baseUrl }, { privateKey: creds.privateKeyPem as string });
      await s.gw.tenancy.createMerchant({ mchNo: 'MOTHERP1', name: 'Other shop' });
      otherAppId = (await s.gw.tenancy.createApp({ mchNo: 'MOTHERP1' })).appId;
      const wx = await s.gw.tenancy.getChannelConfig(s.demo.appId, 'wxpay');
      await s.gw.tenancy.setChannelConfig(otherAppId, 'wxpay', wx?.params ?? {}, wx?.secrets ?? {});
      await s.gw.passages.enableWays(otherAppId, 'wxpay', ['WX_NATIVE']);
      ops = await userWithRole(s.gw, 'operator', 'operations');
      readonlyOperator = await userWithRole(s.gw, 'operator', 'readonly');
      merchantUser = await userWithRole(s.gw, 'merchant', 'admin', s.demo.mchNo);
    });
    after(async () => {
      await shengpay?.close();
      await s?.close();
    });

    test('operations adds a second WX_NATIVE passage, and orders follow its priority, limits and removal', async () => {
      const first = await view();
      assert.deepEqual(first.channels.map((c) => c.ifCode).sort(), ['cashier', 'shengpay', 'wxpay'], 'only channels configured for the app can carry a passage');
      const wx = first.passages.find((p) => p.wayCode === 'WX_NATIVE' && p.ifCode === 'wxpay')!;
      assert.equal(wx.shareBp, 10_000);
      assert.equal(wx.breaker.state, 'closed');

      const added = await ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', priority: 0, weight: 300, minAmount: null, maxAmount: 50_000, dailyLimit: 1_000_000, windowStart: null, windowEnd: null, feeRatePpm: 3800, enabled: true });
      assert.equal(added.status, 200, JSON.stringify(added.json));
      const id = (added.json.passage as { passageId: number }).passageId;
      const shares = Object.fromEntries((await view()).passages.filter((p) => p.wayCode === 'WX_NATIVE').map((p) => [p.ifCode, p.shareBp]));
      assert.deepEqual(shares, { wxpay: 2500, shengpay: 7500 }, '100 : 300 among equal priorities');

      assert.equal((await ops.put(`${base()}/${id}`, { priority: -1 })).status, 200);
      const viaShengpay = await order(1001);
      assert.equal(viaShengpay.if_code, 'shengpay');
      assert.equal(viaShengpay.passage_id, id);
      assert.equal(viaShengpay.fee_amount, 4, '1,001 fen at 0.38 % rounds half up to 4 fen');
      assert.equal(viaShengpay.events[0]?.detail.route.passageId, id);

      assert.equal((await ops.put(`${base()}/${id}`, { maxAmount: 1000 })).status, 200);
      const tooBig = await order(1001);
      assert.equal(tooBig.if_code, 'wxpay');
      assert.match(tooBig.events[0]?.detail.route.skipped.find((x) => x.ifCode === 'shengpay')?.reason ?? '', /above the passage maximum 1000/);
      const stored = (await view()).passages.find((p) => p.passageId === id)!;
      assert.deepEqual([stored.priority, stored.weight, stored.maxAmount, stored.dailyLimit, stored.feeRatePpm], [-1, 300, 1000, 1_000_000, 3800], 'an edit keeps what it does not name');

      const removed = await ops.call('DELETE', `${base()}/${id}`);
      assert.equal(removed.status, 200);
      assert.ok(!(await view()).passages.some((p) => p.passageId === id));
      assert.equal((await order(100)).if_code, 'wxpay');
      assert.equal((await ops.call('DELETE', `${base()}/${id}`)).status, 404, 'a passage is removed once');

      const audit = (await s.gw.db.query<{ action: string; outcome: number; username: string }>(`SELECT action, outcome, username FROM console_audit WHERE action LIKE '% /apps/:appId/passages%' ORDER BY id`)).rows;
      assert.deepEqual(audit.map((a) => `${a.action} ${a.outcome}`), [
        'POST /apps/:appId/passages 200', 'PUT /apps/:appId/passages/:passageId 200', 'PUT /apps/:appId/passages/:passageId 200', 'DELETE /apps/:appId/passages/:passageId 200', 'DELETE /apps/:appId/passages/:passageId 404',
      ]);
      assert.ok(audit.every((a) => a.username.startsWith('opoperations')), 'every write is on the trail with who made it');
    });

    test('bad settings are refused with a message that says what to fix, and change nothing', async () => {
      const wx = (await view()).passages.find((p) => p.wayCode === 'WX_NATIVE' && p.ifCode === 'wxpay')!;
      const before = await snapshot();
      const refusals: Array<[string, Promise<{ status: number; json: Record<string, unknown> }>, RegExp]> = [
        ['min above max', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', minAmount: 500, maxAmount: 100 }), /per-order minimum \(5\.00\) is above the per-order maximum \(1\.00\)/],
        ['half a window', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', windowStart: 600 }), /both its start and its end/],
        ['empty window', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', windowStart: 600, windowEnd: 600 }), /starts and ends at 10:00/],
        ['weight 0', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', weight: 0 }), /weight must be >= 1/],
        ['fee over 100 %', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', feeRatePpm: 1_000_001 }), /feeRatePpm must be <= 1000000/],
        ['fractional fen', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', maxAmount: 12.5 }), /maxAmount/],
        ['window past midnight', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', windowStart: 1440, windowEnd: 60 }), /windowStart/],
        ['a channel that does not serve the way', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'alipay' }), /channel alipay does not serve WX_NATIVE/],
        ['an unknown way', ops.post(base(), { wayCode: 'WX_TELEPATHY', ifCode: 'wxpay' }), /does not serve WX_TELEPATHY/],
        ['a channel not configured for the app', ops.post(base(), { wayCode: 'ALI_QR', ifCode: 'alipay' }), /channel alipay is not configured for app .*save its channel form first/],
        ['the same way and channel twice', ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'wxpay', weight: 5 }), new RegExp(`WX_NATIVE already has a passage through wxpay \\(#${wx.passageId}\\)`)],
        ['an edit that crosses the stored maximum', ops.put(`${base()}/${wx.passageId}`, { maxAmount: 1000 }).then(() => ops.put(`${base()}/${wx.passageId}`, { minAmount: 2000 })), /minimum \(20\.00\) is above the per-order maximum \(10\.00\)/],
      ];
      for (const [what, call, message] of refusals) {
        const r = await call;
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.errorKey, 'PARAM_INVALID', what);
        assert.match(String(r.json.msg), message, what);
      }
      assert.equal((await ops.put(`${base()}/999999`, { weight: 5 })).status, 404);
      // An edit names the passage by id: a way or channel in its body is not a setting and is dropped.
      assert.equal((await ops.put(`${base()}/${wx.passageId}`, { wayCode: 'ALI_QR', ifCode: 'alipay' })).status, 200);
      const after = await snapshot();
      const strip = (rows: typeof before) => rows.map(({ updated_at: _u, max_amount: _m, ...r }) => r);
      assert.deepEqual(strip(after), strip(before), 'nothing but the one accepted maximum changed');
      assert.equal(after.find((r) => r.passage_id === wx.passageId)?.max_amount, 1000);
      assert.equal((await ops.put(`${base()}/${wx.passageId}`, { maxAmount: null })).status, 200);
      assert.equal((await view()).passages.find((p) => p.passageId === wx.passageId)?.maxAmount, null, 'null clears a limit');
    });

    test('merchant users read their own apps\' passages only; operators read every app\'s', async () => {
      const own = await view(merchantUser, `/apps/${s.demo.appId}/passages`);
      assert.ok(own.passages.some((p) => p.wayCode === 'WX_NATIVE'));
      const before = await snapshot();
      const foreign = await merchantUser.get(`/apps/${otherAppId}/passages`);
      assert.equal(foreign.status, 404, 'another merchant\'s app is answered like a missing one');
      assert.ok(!JSON.stringify(foreign.json).includes('wxpay'));
      const otherPassage = before.find((r) => r.app_id === otherAppId)!.passage_id as number;
      // The merchant console has no passage writes at all, for its own apps or another's.
      for (const [method, path] of [['POST', `/apps/${s.demo.appId}/passages`], ['PUT', `/apps/${otherAppId}/passages/${otherPassage}`], ['DELETE', `/apps/${otherAppId}/passages/${otherPassage}`], ['DELETE', `/apps/${s.demo.appId}/passages/${own.passages[0]!.passageId}`]] as const) {
        const r = await merchantUser.call(method, path, { wayCode: 'WX_NATIVE', ifCode: 'wxpay', weight: 1 });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
      const refused = await readonlyOperator.call('DELETE', `/apps/${otherAppId}/passages/${otherPassage}`);
      assert.equal(refused.status, 403);
      assert.deepEqual(await snapshot(), before, 'nothing changed');
      assert.equal((await view(readonlyOperator, `/apps/${otherAppId}/passages`)).passages.length, 1);
      assert.equal((await ops.get('/apps/no-such-app/passages')).status, 404);
      assert.equal((await ops.post('/apps/no-such-app/passages', { wayCode: 'WX_NATIVE', ifCode: 'wxpay' })).status, 404);
    });

    test('a passage whose channel keeps failing shows its open breaker and the trip; failover leaves a rerouted event', async () => {
      const added = await ops.post(base(), { wayCode: 'WX_NATIVE', ifCode: 'shengpay', priority: -1 });
      const id = (added.json.passage as { passageId: number }).passageId;
      shengpay.faults.busyNextCreates = 2;
      for (let i = 0; i < 2; i++) {
        const o = await order(100);
        assert.equal(o.if_code, 'wxpay', 'system busy before anything reached the payer: failed over');
        assert.deepEqual(o.events.map((e) => e.kind).slice(0, 2), ['created', 'rerouted']);
      }
      const v = await waitFor('trip recorded', async () => {
        const x = await view();
        return x.events.some((e) => e.passageId === id && e.kind === 'breaker_open') && x;
      });
      const p = v.passages.find((x) => x.passageId === id)!;
      assert.equal(p.breaker.state, 'open');
      assert.equal(p.breaker.consecutiveFailures, 2);
      assert.match(String(p.breaker.lastFailure), /system/);
      assert.equal((await view(merchantUser)).passages.find((x) => x.passageId === id)?.breaker.state, 'open', 'the merchant sees it too');
      assert.equal((await ops.call('DELETE', `${base()}/${id}`)).status, 200);
    });
  });
}
