import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, startReceiver, useStackWithReceiver, waitFor, type Receiver } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { DEMO_SHENGPAY_MCH_ID, ensureAcquirerDemo } from '../../src/demo-acquirers.ts';
import { startShengpaySimulator, type ShengpaySimulator } from '../../src/channels/shengpay/simulator/index.ts';
import { defaultAcquirerFaults } from '../../src/channels/sandbox/acquirer/types.ts';

/**
 * Every Shengpay way through the gateway (the demo-shengpay app) against the simulator: created,
 * paid by the sandbox payer, notified, refunded in part and in full (state 5); bar codes; forged
 * and mismatching notifications refused; the error classification as the order sees it.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`Shengpay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: ShengpaySimulator;
    let client: MerchantClient;
    let rcv: Receiver;
    let appId: string;
    before(async () => {
      sim = await startShengpaySimulator({ timeScale: 1000, refundDelayMs: 50, passwordDelayMs: 60_000 });
      const [app] = await ensureAcquirerDemo(env.s.gw, { shengpay: sim }, env.s.demo);
      appId = app!.appId;
      client = new MerchantClient({ baseUrl: env.s.url, ...app! });
      rcv = await startReceiver(app!.appSecret);
    });
    after(async () => {
      await rcv?.close();
      await sim?.close();
    });
    beforeEach(() => Object.assign(sim.faults, defaultAcquirerFaults()));

    const create = async (wayCode: string, amount: number, extra: Record<string, unknown> = {}, more: Data = {}): Promise<Data> => {
      const res = await client.unifiedOrder({ mchOrderNo: orderNo('sp'), wayCode, amount, currency: 'cny', subject: `${wayCode} 测试`, body: 'b', clientIp: '10.1.2.3', notifyUrl: rcv.url, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined, ...more });
      assert.equal(res.code, 0, res.msg);
      return res.data as Data;
    };
    const query = async (id: string, sync = false): Promise<Data> => (await client.query({ payOrderId: id, ...(sync ? { sync: 1 } : {}) })).data as Data;
    const state = (id: string, s: number) => waitFor(`${id} in state ${s}`, async () => (await query(id)).state === s);
    const events = async (id: string) => (await env.s.gw.db.query<{ kind: string; detail: Data }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
    const simTrade = (id: string) => sim.ledger(DEMO_SHENGPAY_MCH_ID).trades.find((t) => t.out_trade_no === id);

    async function refundFully(id: string, amount: number): Promise<void> {
      const part = Math.floor(amount / 3);
      for (const [amt, s] of [[part, 2], [amount - part, 5]] as const) {
        const r = await client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: amt, currency: 'cny', refundReason: 'r', notifyUrl: rcv.url });
        assert.equal(r.code, 0, r.msg);
        const refundId = (r.data as Data).refundOrderId;
        await waitFor(`refund ${refundId} settled`, async () => ((await client.refundQuery({ refundOrderId: refundId })).data as Data).state === 2);
        await state(id, s);
      }
      await waitFor('refund notifications', () => rcv.received.filter((x) => x.fields.payOrderId === id && x.fields.refundOrderId && x.signatureValid).length === 2);
      assert.equal(simTrade(id)?.refunded, amount);
    }

    test('every scan, web and JSAPI way: created, paid, merchant notified, refunded in two parts', async () => {
      const ways: Array<[string, string, Record<string, unknown>]> = [
        ['WX_NATIVE', 'codeUrl', {}], ['ALI_QR', 'codeUrl', {}], ['UP_QR', 'codeUrl', {}],
        ['WX_H5', 'payurl', {}], ['ALI_WAP', 'payurl', {}], ['ALI_PC', 'payurl', {}],
        ['WX_JSAPI', 'wxapp', { openid: 'oDemoPayer001' }], ['WX_LITE', 'wxapp', { openid: 'oDemoPayer002' }], ['ALI_JSAPI', 'aliapp', { buyerUserId: '2088102177846880' }],
      ];
      for (const [way, type, extra] of ways) {
        const d = await create(way, 300, extra, { returnUrl: 'https://shop.example.com/done' });
        assert.deepEqual([d.orderState, d.payDataType], [1, type], way);
        sim.payer.pay(simTrade(d.payOrderId)!.pay_url);
        await state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await query(d.payOrderId)).channelOrderNo, simTrade(d.payOrderId)?.trade_no);
        await refundFully(d.payOrderId, 300);
      }
    });

    test('bar code: paid at once (and refunded), declined, the password wait settled by polling; AUTO_BAR picks the way', async () => {
      const ok = await create('WX_BAR', 900, { authCode: '134567890123450001' });
      assert.deepEqual([ok.orderState, ok.payDataType], [2, 'none']);
      await refundFully(ok.payOrderId, 900);
      const declined = await create('UP_BAR', 900, { authCode: '6212345678901239993' });
      assert.deepEqual([declined.orderState, declined.errCode], [3, 'BALANCE_NOT_ENOUGH']);
      const waiting = await create('ALI_BAR', 500, { authCode: '2812345678909991' });
      assert.equal(waiting.orderState, 1, 'the payer is entering the password');
      sim.payer.pay(simTrade(waiting.payOrderId)!.trade_no);
      await state(waiting.payOrderId, 2);
      const auto = await create('AUTO_BAR', 200, { authCode: '6212345678901230001' });
      assert.equal(auto.orderState, 2);
      assert.equal((await query(auto.payOrderId)).wayCode, 'YSF_BAR');
    });

    test('close: an unpaid code closes at Shengpay; a paid order cannot be closed', async () => {
      const open = await create('WX_NATIVE', 100);
      assert.equal((await client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await query(open.payOrderId)).state, 6);
      assert.equal(simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await create('UP_QR', 100);
      sim.payer.pay(paid.payData);
      await state(paid.payOrderId, 2);
      assert.equal((await client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', async () => {
      for (const fault of ['badNotifySignature', 'tamperNotifyAmount', 'wrongNotifyMerchant'] as const) {
        sim.faults[fault] = true;
        const d = await create('ALI_QR', 250);
        sim.payer.pay(d.payData);
        await waitFor(`${fault} refused`, async () => (await events(d.payOrderId)).some((e) => e.kind === 'refused'));
        const n = await waitFor(`${fault} answer recorded`, () => sim.ledger(DEMO_SHENGPAY_MCH_ID).notifications.find((x) => x.out_trade_no === d.payOrderId && x.attempts > 0));
        assert.equal(n?.delivered, false, `${fault}: Shengpay was told to retry`);
        assert.equal(n?.last_body, 'FAIL');
        sim.faults[fault] = false;
        await state(d.payOrderId, 2);
        assert.equal((await query(d.payOrderId)).amount, 250);
      }
      const d = await create('WX_NATIVE', 10);
      const forged = await request(`${env.s.url}/api/pay/notify/shengpay/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mchId: DEMO_SHENGPAY_MCH_ID, outTradeNo: d.payOrderId, status: 'PAY_SUCCESS', totalFee: 10, signType: 'RSA', sign: 'Zm9yZ2Vk' }) });
      assert.equal(await forged.body.text(), 'FAIL');
      assert.equal((await query(d.payOrderId)).state, 1);
    });

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', async () => {
      await sim.down();
      try {
        const down = await create('WX_NATIVE', 100);
        assert.deepEqual([down.orderState, down.errCode], [3, 'UNAVAILABLE']);
        assert.equal((await events(down.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'unavailable');
      } finally {
        await sim.up();
      }
      sim.faults.busyNextRequests = 1;
      const busy = await create('WX_NATIVE', 100);
      assert.equal(busy.orderState, 1, 'system busy: outcome unknown, the gateway will query');
      assert.equal((await events(busy.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'system');
      assert.equal(simTrade(busy.payOrderId), undefined, 'nothing was created at Shengpay');
      await env.s.gw.tenancy.setChannelConfig(appId, 'shengpay', { timeoutMs: '400' }, {});
      try {
        sim.faults.responseDelayMs = 1500;
        const slow = await create('ALI_QR', 100);
        assert.equal(slow.orderState, 1);
        assert.equal((await events(slow.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'timeout');
        sim.faults.responseDelayMs = 0;
        assert.ok(simTrade(slow.payOrderId), 'the slow call was processed at Shengpay');
        sim.payer.pay(simTrade(slow.payOrderId)!.pay_url);
        await state(slow.payOrderId, 2);
      } finally {
        sim.faults.responseDelayMs = 0;
        await env.s.gw.tenancy.setChannelConfig(appId, 'shengpay', { timeoutMs: '10000' }, {});
      }
    });
  });
}
