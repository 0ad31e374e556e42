import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';
import { CHANNELS } from '../../src/channels/registry.ts';
import type { ChannelDescriptor } from '../../src/channels/types.ts';
import { WechatPayChannel, wechatPayDescriptor } from '../../src/channels/wechat-pay/index.ts';
import { startWechatPaySimulator, type WechatPaySimulator } from '../../src/channels/wechat-pay/simulator/index.ts';

/**
 * Routing between pay passages (issue 8). Two passages serve WX_NATIVE for the demo app: the
 * demo's WeChat merchant (`wxpay`) and a second WeChat merchant on its own simulator, installed
 * as channel `wxpay_b` — two real channel configurations, so weights, limits, failover and the
 * breaker can be watched against real protocol answers; stopping the second simulator is a
 * channel that cannot be reached.
 */
const SECOND: ChannelDescriptor = {
  ...wechatPayDescriptor,
  ifCode: 'wxpay_b',
  name: '微信支付 (second merchant)',
  create: () => Object.defineProperty(new WechatPayChannel({ timeoutMs: 1500 }), 'ifCode', { value: 'wxpay_b' }),
};

for (const leg of dbLegs()) {
  describe(`pay passages and routing on ${leg}`, () => {
    let s: Stack;
    let simB: WechatPaySimulator;
    const admin = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
      const res = await request(`${s.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return (await res.body.json()) as Record<string, unknown>;
    };
    const passage = async (ifCode: string, settings: Record<string, unknown>) => {
      const r = await admin('PUT', `/apps/${s.demo.appId}/passages`, { wayCode: 'WX_NATIVE', ifCode, ...settings });
      assert.ok(r.passage, JSON.stringify(r));
      return (r.passage as { passageId: number }).passageId;
    };
    const order = async (amount = 100) => {
      const r = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: 's', body: 'b' });
      return r;
    };
    const row = async (payOrderId: string) =>
      (await s.gw.db.query<{ if_code: string; passage_id: number; fee_rate_ppm: number; fee_amount: number; state: number }>(`SELECT * FROM pay_orders WHERE pay_order_id = $1`, [payOrderId])).rows[0]!;
    const events = async (payOrderId: string) => (await s.gw.db.query<{ kind: string; detail: Record<string, unknown> }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [payOrderId])).rows;
    let passageA = 0;
    let passageB = 0;

    before(async () => {
      s = await startStack(leg, { descriptors: [...CHANNELS, SECOND], env: { POLYPAY_BREAKER_THRESHOLD: '3', POLYPAY_BREAKER_OPEN_SECONDS: '3600' } });
      simB = await startWechatPaySimulator({ port: 0, host: '127.0.0.1', timeScale: 1000, logger: false });
      const creds = simB.registerMerchant({ mchid: '1900000777', appids: ['wxd0000000000demo1'], verifyMode: 'publicKey' });
      await s.gw.tenancy.setChannelConfig(
        s.demo.appId,
        'wxpay_b',
        { mchId: creds.mchid, appId: 'wxd0000000000demo1', merchantSerialNo: creds.merchantSerialNo, verifyMode: 'publicKey', wxpayPublicKeyId: creds.wxpayPublicKeyId as string, wxpayPublicKey: creds.wxpayPublicKeyPem as string, baseUrl: simB.baseUrl },
        { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key },
      );
      passageA = await passage('wxpay', { weight: 300, feeRatePpm: 3800 });
      passageB = await passage('wxpay_b', { weight: 100, feeRatePpm: 6000 });
    });
    after(async () => {
      await simB?.close().catch(() => {});
      await s?.close();
    });

    test('equal priority: orders are shared by weight, each records its passage, route and fee', async () => {
      const served: Record<string, number> = { wxpay: 0, wxpay_b: 0 };
      for (let i = 0; i < 80; i++) {
        const r = await order(1001);
        assert.equal(r.code, 0, r.msg);
        const id = (r.data as { payOrderId: string }).payOrderId;
        const o = await row(id);
        served[o.if_code]! += 1;
        assert.equal(o.passage_id, o.if_code === 'wxpay' ? passageA : passageB);
        assert.equal(o.fee_amount, o.if_code === 'wxpay' ? 4 : 6, '1001 fen at 0.38 % = 3.8 → 4; at 0.6 % = 6.006 → 6');
        const created = (await events(id)).find((e) => e.kind === 'created');
        assert.equal((created?.detail.route as { passageId: number }).passageId, o.passage_id);
      }
      // 3:1 weights over 80 orders: expected 60/20 (binomial sd ≈ 3.9).
      assert.ok(served.wxpay! >= 44 && served.wxpay! <= 76, JSON.stringify(served));
      assert.ok(served.wxpay_b! > 0, JSON.stringify(served));
    });

    test('per-order limits and the daily limit send orders to the other passage', async () => {
      await passage('wxpay', { priority: 0, maxAmount: 500 });
      await passage('wxpay_b', { priority: 1, dailyLimit: 1500 });
      const big = await order(1000);
      assert.equal((await row((big.data as { payOrderId: string }).payOrderId)).if_code, 'wxpay_b', 'above wxpay maximum');
      const over = await order(1000);
      assert.equal(over.errorKey, 'WAY_NOT_AVAILABLE', 'wxpay_b would exceed its daily limit, wxpay its maximum');
      assert.match(over.msg, /daily limit 1500 reached/);
      assert.match(over.msg, /above the passage maximum 500/);
      const small = await order(100);
      assert.equal((await row((small.data as { payOrderId: string }).payOrderId)).if_code, 'wxpay', 'priority 0 takes what fits');
      await passage('wxpay', { maxAmount: null, windowStart: 60, windowEnd: 120 });
      await passage('wxpay', { windowStart: null, windowEnd: null });
      const cleared = ((await admin('GET', `/apps/${s.demo.appId}/passages`)).passages as Array<{ ifCode: string; wayCode: string; maxAmount: unknown; windowStart: unknown }>).find((p) => p.ifCode === 'wxpay' && p.wayCode === 'WX_NATIVE');
      assert.deepEqual([cleared?.maxAmount, cleared?.windowStart], [null, null], 'null clears a limit (never coerced to 0)');
      await passage('wxpay_b', { priority: 0, dailyLimit: null });
    });

    test('a decline is an answer, not a reason to fail over; bad passage settings are refused', async () => {
      await passage('wxpay', { priority: 1 });
      await passage('wxpay_b', { priority: 0 });
      // The second merchant's configuration names an appid WeChat has not bound to it: a definite refusal.
      await s.gw.tenancy.setChannelConfig(s.demo.appId, 'wxpay_b', { appId: 'wxd00000000000bad' }, {});
      const declined = await order();
      assert.equal(declined.code, 0, declined.msg);
      const d = declined.data as { payOrderId: string; orderState: number };
      assert.equal(d.orderState, 3, 'failed at wxpay_b');
      assert.equal((await row(d.payOrderId)).if_code, 'wxpay_b');
      assert.ok(!(await events(d.payOrderId)).some((e) => e.kind === 'rerouted'));
      await s.gw.tenancy.setChannelConfig(s.demo.appId, 'wxpay_b', { appId: 'wxd0000000000demo1' }, {});

      const bad = await admin('PUT', `/apps/${s.demo.appId}/passages`, { wayCode: 'WX_NATIVE', ifCode: 'wxpay', weight: 0 });
      assert.equal(bad.code, 11, 'weight 0 is refused');
      const wrongWay = await admin('PUT', `/apps/${s.demo.appId}/passages`, { wayCode: 'ALI_QR', ifCode: 'wxpay' });
      assert.match(String(wrongWay.msg), /does not serve ALI_QR/);
      const inverted = await admin('PUT', `/apps/${s.demo.appId}/passages`, { wayCode: 'WX_NATIVE', ifCode: 'wxpay', minAmount: 500, maxAmount: 100 });
      assert.equal(inverted.code, 11, JSON.stringify(inverted));
    });

    test('failover when the preferred passage is unreachable; never after a timeout; breaker opens and is visible', async () => {
      // A timeout after sending: the order stays on wxpay_b and is queried, not failed over.
      simB.faults.responseDelayMs = 3000;
      const slow = await order();
      const slowId = (slow.data as { payOrderId: string }).payOrderId;
      assert.equal((slow.data as { orderState: number }).orderState, 1, 'PAYING: outcome unknown, the gateway will query');
      assert.equal((await row(slowId)).if_code, 'wxpay_b');
      assert.ok(!(await events(slowId)).some((e) => e.kind === 'rerouted'));
      simB.faults.responseDelayMs = 0;

      // The second merchant's simulator goes down: nothing reaches it, so the order moves on.
      await simB.close();
      const first = await order();
      assert.equal(first.code, 0, first.msg);
      const id = (first.data as { payOrderId: string; payData: string }).payOrderId;
      assert.equal((await row(id)).if_code, 'wxpay');
      const rerouted = (await events(id)).find((e) => e.kind === 'rerouted');
      assert.equal((rerouted?.detail.fault as { kind: string }).kind, 'unavailable');
      assert.equal((rerouted?.detail.from as { ifCode: string }).ifCode, 'wxpay_b');
      await s.sim.payer.payByCodeUrl((first.data as { payData: string }).payData);
      await waitFor('paid through the failover passage', async () => (await row(id)).state === 2);

      // Two more faults (with the timeout: three) open wxpay_b's breaker: routing skips it and says so.
      await order();
      await order();
      const skipped = await order();
      const created = (await events((skipped.data as { payOrderId: string }).payOrderId)).find((e) => e.kind === 'created');
      const route = created?.detail.route as { ifCode: string; skipped: Array<{ ifCode: string; reason: string }> };
      assert.equal(route.ifCode, 'wxpay');
      assert.deepEqual(route.skipped.map((x) => [x.ifCode, x.reason]), [['wxpay_b', 'circuit breaker open after repeated channel failures']]);
      const health = (await admin('GET', '/passages/health')) as { breakers: Array<{ passageId: number; state: string }>; events: Array<{ passageId: number; kind: string }> };
      assert.equal(health.breakers.find((b) => b.passageId === passageB)?.state, 'open');
      await waitFor('trip recorded for operators', async () => ((await admin('GET', '/passages/health')) as typeof health).events.some((e) => e.passageId === passageB && e.kind === 'breaker_open'));
    });

  });
}
