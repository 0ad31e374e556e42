import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { request } from 'undici';
import { orderNo, startReceiver, waitFor, type Receiver, type Stack } from './stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { ensureAcquirerDemo, type AcquirerSandboxes } from '../../src/demo-acquirers.ts';
import type { AcquirerServer } from '../../src/channels/sandbox/acquirer/server.ts';
import { defaultAcquirerFaults, type AcquirerFaults } from '../../src/channels/sandbox/acquirer/types.ts';

/**
 * End-to-end scaffolding shared by the acquirer channels (盛付通, 京东支付, 农业银行): the demo app
 * of one acquirer against its simulator, merchant API helpers, and the scenarios every acquirer
 * must pass the same way (refusal of forged notifications, error classification).
 */

type Data = Record<string, any>;

export interface AcquirerEnv<S> {
  sim: S;
  client: MerchantClient;
  rcv: Receiver;
  appId: string;
  create(wayCode: string, amount: number, extra?: Record<string, unknown>, more?: Data): Promise<Data>;
  query(id: string, sync?: boolean): Promise<Data>;
  state(id: string, s: number): Promise<unknown>;
  events(id: string): Promise<Array<{ kind: string; detail: Data }>>;
  simTrade(id: string): ReturnType<AcquirerServer<unknown>['ledger']>['trades'][number] | undefined;
  /** Refunds a third, then the rest, waiting for each to settle; the order ends in state 5. */
  refundFully(id: string, amount: number, o?: { notified?: boolean }): Promise<void>;
}

export function useAcquirerApp<S extends AcquirerServer<unknown>>(env: { readonly s: Stack }, o: { start(): Promise<S>; sandboxes(sim: S): AcquirerSandboxes; merchantId: string; ifCode: string }): AcquirerEnv<S> {
  const ctx = {} as AcquirerEnv<S>;
  before(async () => {
    ctx.sim = await o.start();
    const [app] = await ensureAcquirerDemo(env.s.gw, o.sandboxes(ctx.sim), env.s.demo);
    ctx.appId = app!.appId;
    ctx.client = new MerchantClient({ baseUrl: env.s.url, ...app! });
    ctx.rcv = await startReceiver(app!.appSecret);
  });
  after(async () => {
    await ctx.rcv?.close();
    await ctx.sim?.close();
  });
  beforeEach(() => Object.assign(ctx.sim.faults, defaultAcquirerFaults()));

  ctx.create = async (wayCode, amount, extra = {}, more = {}) => {
    const res = await ctx.client.unifiedOrder({ mchOrderNo: orderNo(o.ifCode.slice(0, 3)), wayCode, amount, currency: 'cny', subject: `${wayCode} 测试`, body: 'b', clientIp: '10.1.2.3', notifyUrl: ctx.rcv.url, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined, ...more });
    assert.equal(res.code, 0, res.msg);
    return res.data as Data;
  };
  ctx.query = async (id, sync = false) => (await ctx.client.query({ payOrderId: id, ...(sync ? { sync: 1 } : {}) })).data as Data;
  ctx.state = (id, s) => waitFor(`${id} in state ${s}`, async () => (await ctx.query(id)).state === s);
  ctx.events = async (id) => (await env.s.gw.db.query<{ kind: string; detail: Data }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
  ctx.simTrade = (id) => ctx.sim.ledger(o.merchantId).trades.find((t) => t.out_trade_no === id);
  ctx.refundFully = async (id, amount, r = {}) => {
    const part = Math.floor(amount / 3);
    for (const [amt, s] of [[part, 2], [amount - part, 5]] as const) {
      const res = await ctx.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: amt, currency: 'cny', refundReason: 'r', notifyUrl: ctx.rcv.url });
      assert.equal(res.code, 0, res.msg);
      const refundId = (res.data as Data).refundOrderId;
      await waitFor(`refund ${refundId} settled`, async () => ((await ctx.client.refundQuery({ refundOrderId: refundId })).data as Data).state === 2);
      await ctx.state(id, s);
    }
    if (r.notified !== false) await waitFor('merchant refund notifications', () => ctx.rcv.received.filter((x) => x.fields.payOrderId === id && x.fields.refundOrderId && x.signatureValid).length === 2);
    assert.equal(ctx.simTrade(id)?.refunded, amount);
  };
  return ctx;
}

/**
 * Forged, tampered and foreign notifications are refused (the channel is told to retry: `refusal`
 * is the answer body it records); the truth then comes by query. Finally a hand-made notification
 * (`forged`) changes nothing.
 */
export async function notificationRefusals<S extends AcquirerServer<unknown>>(a: AcquirerEnv<S>, o: { way: string; refusal: string; forged(payOrderId: string): { contentType: string; body: string }; gatewayUrl: string; ifCode: string }): Promise<void> {
  for (const fault of ['badNotifySignature', 'tamperNotifyAmount', 'wrongNotifyMerchant'] as const satisfies ReadonlyArray<keyof AcquirerFaults>) {
    a.sim.faults[fault] = true;
    const d = await a.create(o.way, 250);
    a.sim.payer.pay(a.simTrade(d.payOrderId)!.pay_url);
    await waitFor(`${fault} refused`, async () => (await a.events(d.payOrderId)).some((e) => e.kind === 'refused'));
    const n = await waitFor(`${fault} answer recorded`, () => a.sim.ledger().notifications.find((x) => x.out_trade_no === d.payOrderId && x.attempts > 0));
    assert.equal(n?.delivered, false, `${fault}: the channel was told to retry`);
    assert.equal(n?.last_body, o.refusal);
    a.sim.faults[fault] = false;
    await a.state(d.payOrderId, 2);
    assert.equal((await a.query(d.payOrderId)).amount, 250);
  }
  const d = await a.create(o.way, 10);
  const forged = o.forged(d.payOrderId);
  const res = await request(`${o.gatewayUrl}/api/pay/notify/${o.ifCode}/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': forged.contentType }, body: forged.body });
  assert.equal(await res.body.text(), o.refusal);
  assert.equal((await a.query(d.payOrderId)).state, 1);
}

/**
 * The error classification as the order sees it: the simulator down → the order fails (nothing
 * was sent: safe to fail over); busy → outcome unknown, queried, nothing created; slow → timeout,
 * queried, and the order (which the channel did create) can still be paid.
 */
export async function errorClassification<S extends AcquirerServer<unknown>>(a: AcquirerEnv<S>, o: { gw: Stack['gw']; ifCode: string; ways: [string, string, string] }): Promise<void> {
  const createError = async (id: string) => (await a.events(id)).find((e) => e.detail?.op === 'create')?.detail.error;
  await a.sim.down();
  try {
    const down = await a.create(o.ways[0], 100);
    assert.deepEqual([down.orderState, down.errCode], [3, 'UNAVAILABLE']);
    assert.equal(await createError(down.payOrderId), 'unavailable');
  } finally {
    await a.sim.up();
  }
  // Only the create: the gateway's background queries of other orders must not use it up.
  a.sim.faults.busyNextCreates = 1;
  const busy = await a.create(o.ways[1], 100);
  assert.equal(busy.orderState, 1, 'system busy: outcome unknown, the gateway will query');
  assert.equal(await createError(busy.payOrderId), 'system');
  assert.equal(a.simTrade(busy.payOrderId), undefined, 'nothing was created at the channel');
  await o.gw.tenancy.setChannelConfig(a.appId, o.ifCode, { timeoutMs: '400' }, {});
  try {
    a.sim.faults.responseDelayMs = 1500;
    const slow = await a.create(o.ways[2], 100, {}, { returnUrl: 'https://shop.example.com/done' });
    assert.equal(slow.orderState, 1);
    assert.equal(await createError(slow.payOrderId), 'timeout');
    a.sim.faults.responseDelayMs = 0;
    assert.ok(a.simTrade(slow.payOrderId), 'the slow call was processed at the channel');
    a.sim.payer.pay(a.simTrade(slow.payOrderId)!.pay_url);
    await a.state(slow.payOrderId, 2);
  } finally {
    a.sim.faults.responseDelayMs = 0;
    await o.gw.tenancy.setChannelConfig(a.appId, o.ifCode, { timeoutMs: '10000' }, {});
  }
}
