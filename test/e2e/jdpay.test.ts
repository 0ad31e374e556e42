import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { orderNo, startReceiver, useStackWithReceiver, waitFor, type Receiver } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { DEMO_JDPAY_MERCHANT, ensureAcquirerDemo } from '../../src/demo-acquirers.ts';
import { startJdpaySimulator, type JdpaySimulator } from '../../src/channels/jdpay/simulator/index.ts';
import { defaultAcquirerFaults } from '../../src/channels/sandbox/acquirer/types.ts';

/**
 * Every JD Pay way through the gateway (the demo-jdpay app) against the simulator: created (codes,
 * the app link, the PC/H5 cashier forms), paid by the sandbox payer, notified, refunded in part and
 * in full (state 5); close; forged and mismatching notifications refused; the error classification
 * as the order sees it.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`JD Pay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    let sim: JdpaySimulator;
    let client: MerchantClient;
    let rcv: Receiver;
    let appId: string;
    before(async () => {
      sim = await startJdpaySimulator({ timeScale: 1000, refundDelayMs: 50 });
      const [app] = await ensureAcquirerDemo(env.s.gw, { jdpay: sim }, env.s.demo);
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
      const res = await client.unifiedOrder({ mchOrderNo: orderNo('jd'), wayCode, amount, currency: 'cny', subject: `${wayCode} 测试`, body: 'b', clientIp: '10.1.2.3', notifyUrl: rcv.url, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined, ...more });
      assert.equal(res.code, 0, res.msg);
      return res.data as Data;
    };
    const query = async (id: string, sync = false): Promise<Data> => (await client.query({ payOrderId: id, ...(sync ? { sync: 1 } : {}) })).data as Data;
    const state = (id: string, s: number) => waitFor(`${id} in state ${s}`, async () => (await query(id)).state === s);
    const events = async (id: string) => (await env.s.gw.db.query<{ kind: string; detail: Data }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
    const simTrade = (id: string) => sim.ledger(DEMO_JDPAY_MERCHANT).trades.find((t) => t.out_trade_no === id);

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

    /** Submits a cashier form as the payer's browser would; answers the payer page it leads to. */
    async function submitForm(html: string): Promise<string> {
      const action = /action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
      const inputs = [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')]);
      const res = await request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(inputs).toString() });
      await res.body.dump();
      assert.equal(res.statusCode, 303);
      return String(res.headers.location);
    }

    test('every way: JD codes and app link, the aggregated WeChat/Alipay codes, PC/H5 cashier forms; paid, notified, refunded in two parts', async () => {
      const ways: Array<[string, string, string]> = [['JD_QR', 'codeUrl', 'JD'], ['WX_NATIVE', 'codeUrl', 'WECHAT'], ['ALI_QR', 'codeUrl', 'ALIPAY'], ['JD_APP', 'payurl', 'JD'], ['JD_PC', 'form', 'JD'], ['JD_H5', 'form', 'JD']];
      for (const [way, type, wallet] of ways) {
        const d = await create(way, 300, {}, { returnUrl: 'https://shop.example.com/done' });
        assert.deepEqual([d.orderState, d.payDataType], [1, type], way);
        const link = type === 'form' ? await submitForm(d.payData) : d.payData;
        assert.equal(sim.payer.pay(link).paid_with, wallet);
        await state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await query(d.payOrderId)).channelOrderNo, simTrade(d.payOrderId)?.trade_no);
        await refundFully(d.payOrderId, 300);
      }
    });

    test('close: an unpaid code is revoked at JD; a paid order cannot be closed', async () => {
      const open = await create('JD_QR', 100);
      assert.equal((await client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await query(open.payOrderId)).state, 6);
      assert.equal(simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await create('WX_NATIVE', 100);
      sim.payer.pay(paid.payData);
      await state(paid.payOrderId, 2);
      assert.equal((await client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
      assert.equal(simTrade(paid.payOrderId)?.refunded, 0, 'never revoked (revoking a paid order refunds it)');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', async () => {
      for (const fault of ['badNotifySignature', 'tamperNotifyAmount', 'wrongNotifyMerchant'] as const) {
        sim.faults[fault] = true;
        const d = await create('JD_QR', 250);
        sim.payer.pay(d.payData);
        await waitFor(`${fault} refused`, async () => (await events(d.payOrderId)).some((e) => e.kind === 'refused'));
        const n = await waitFor(`${fault} answer recorded`, () => sim.ledger(DEMO_JDPAY_MERCHANT).notifications.find((x) => x.out_trade_no === d.payOrderId && x.attempts > 0));
        assert.equal(n?.delivered, false, `${fault}: JD was told to retry`);
        assert.equal(n?.last_body, 'fail');
        sim.faults[fault] = false;
        await state(d.payOrderId, 2);
        assert.equal((await query(d.payOrderId)).amount, 250);
      }
      const d = await create('JD_QR', 10);
      const forged = await request(`${env.s.url}/api/pay/notify/jdpay/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: `<jdpay><version>V2.0</version><merchant>${DEMO_JDPAY_MERCHANT}</merchant><result><code>000000</code><desc>success</desc></result><encrypt>Zm9yZ2Vk</encrypt></jdpay>` });
      assert.equal(await forged.body.text(), 'fail');
      assert.equal((await query(d.payOrderId)).state, 1);
    });

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', async () => {
      await sim.down();
      try {
        const down = await create('JD_QR', 100);
        assert.deepEqual([down.orderState, down.errCode], [3, 'UNAVAILABLE']);
        assert.equal((await events(down.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'unavailable');
      } finally {
        await sim.up();
      }
      sim.faults.busyNextRequests = 1;
      const busy = await create('WX_NATIVE', 100);
      assert.equal(busy.orderState, 1, 'system busy: outcome unknown, the gateway will query');
      assert.equal((await events(busy.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'system');
      assert.equal(simTrade(busy.payOrderId), undefined, 'nothing was created at JD');
      await env.s.gw.tenancy.setChannelConfig(appId, 'jdpay', { timeoutMs: '400' }, {});
      try {
        sim.faults.responseDelayMs = 1500;
        const slow = await create('JD_APP', 100);
        assert.equal(slow.orderState, 1);
        assert.equal((await events(slow.payOrderId)).find((e) => e.detail?.op === 'create')?.detail.error, 'timeout');
        sim.faults.responseDelayMs = 0;
        assert.ok(simTrade(slow.payOrderId), 'the slow call was processed at JD');
        sim.payer.pay(simTrade(slow.payOrderId)!.pay_url);
        await state(slow.payOrderId, 2);
      } finally {
        sim.faults.responseDelayMs = 0;
        await env.s.gw.tenancy.setChannelConfig(appId, 'jdpay', { timeoutMs: '10000' }, {});
      }
    });
  });
}
