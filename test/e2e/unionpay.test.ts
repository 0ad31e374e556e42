import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { ADMIN_TOKEN, orderNo, useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { DEMO_UNIONPAY_MERID, ensureDemoMerchant } from '../../src/demo.ts';
import { UnionPayChannel } from '../../src/channels/unionpay/channel.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { clearingDay } from '../../src/channels/unionpay/sign.ts';
import { startUnionPaySimulator, type UnionPaySimulator } from '../../src/channels/unionpay/simulator/index.ts';

/**
 * Every 云闪付 / UnionPay way through the gateway against the simulator (acp mode, the demo
 * merchant): paid by the sandbox payer, notified, refunded — an undo when in full on the same
 * clearing day, refunds otherwise, both settled by UnionPay's back notification; bar-code pay
 * through the core's polling and reversal; forged and mismatching notifications refused; the bill.
 */

type Data = Record<string, any>;

for (const leg of dbLegs()) {
  describe(`云闪付 / UnionPay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg, { env: { POLYPAY_BAR_TIMEOUT_SECONDS: '5', POLYPAY_BAR_POLL_SCHEDULE: '0.3' } });
    let sim: UnionPaySimulator;
    before(async () => {
      sim = await startUnionPaySimulator({ timeScale: 1000, refundDelayMs: 100_000, passwordDelayMs: 1_500_000 });
      await ensureDemoMerchant(env.s.gw, env.s.sim, null, sim);
    });
    after(async () => sim?.close());
    beforeEach(() => Object.assign(sim.faults, { badNotifySignature: false, tamperNotifyAmount: false, wrongNotifyMerId: false, foreignSignCert: false, duplicateNotifications: false }));

    const create = async (wayCode: string, amount: number, extra: Record<string, unknown> = {}): Promise<Data> => {
      const res = await env.s.client.unifiedOrder({ mchOrderNo: orderNo('up'), wayCode, amount, currency: 'cny', subject: `${wayCode} 测试`, body: 'b', clientIp: '10.1.2.3', notifyUrl: env.receiver.url, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined });
      assert.equal(res.code, 0, res.msg);
      return res.data as Data;
    };
    const query = async (id: string, sync = false): Promise<Data> => (await env.s.client.query({ payOrderId: id, ...(sync ? { sync: 1 } : {}) })).data as Data;
    const state = (id: string, s: number, ms = 10_000) => waitFor(`${id} in state ${s}`, async () => (await query(id)).state === s, ms);
    const events = async (id: string) => (await env.s.gw.db.query<{ kind: string; to_state: number | null }>(`SELECT kind, to_state FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
    const refundNo = async (id: string, amount: number): Promise<Data> => {
      const r = await env.s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: amount, currency: 'cny', refundReason: 'r', notifyUrl: env.receiver.url });
      assert.equal(r.code, 0, r.msg);
      return r.data as Data;
    };
    const refundSettled = (refundOrderId: string) => waitFor(`${refundOrderId} settled`, async () => ((await env.s.client.refundQuery({ refundOrderId })).data as Data).state === 2);
    const simAfter = (refundOrderId: string) => sim.ledger(DEMO_UNIONPAY_MERID).after.find((a) => a.orderId === refundOrderId);
    const undoToday = (id: string) => clearingDay(Date.now()) === clearingDay(Date.UTC(+id.slice(1, 5), +id.slice(5, 7) - 1, +id.slice(7, 9), +id.slice(9, 11), +id.slice(11, 13), +id.slice(13, 15)));

    test('UP_QR: the README journey — scan and pay, notified, refund part then the rest (04 twice), state 5', async () => {
      const d = await create('UP_QR', 1000);
      assert.deepEqual([d.orderState, d.payDataType], [1, 'codeUrl']);
      sim.payer.pay({ qrCode: d.payData });
      await state(d.payOrderId, 2);
      const note = await waitFor('merchant notified', () => env.receiver.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
      assert.ok(note.signatureValid);
      const q = await query(d.payOrderId);
      assert.equal(q.channelOrderNo, sim.ledger(DEMO_UNIONPAY_MERID).consumes.find((c) => c.orderId === d.payOrderId)?.queryId);
      const r1 = await refundNo(d.payOrderId, 300);
      assert.equal(r1.state, 1, 'accepted by UnionPay, settled by its notification');
      await refundSettled(r1.refundOrderId);
      assert.equal(simAfter(r1.refundOrderId)?.kind, 'refund');
      const r2 = await refundNo(d.payOrderId, 700);
      await refundSettled(r2.refundOrderId);
      await state(d.payOrderId, 5);
      await waitFor('refund notifications', () => env.receiver.received.filter((r) => r.fields.payOrderId === d.payOrderId && r.fields.refundOrderId && r.signatureValid).length === 2);
    });

    test('UP_APP and YSF_LITE: tn paid in the app; a full refund the same clearing day is a consume undo (31)', async () => {
      for (const way of ['UP_APP', 'YSF_LITE']) {
        const d = await create(way, 450);
        assert.equal(d.payDataType, 'ysfapp');
        sim.payer.pay({ tn: JSON.parse(d.payData).tn });
        await state(d.payOrderId, 2);
        const r = await refundNo(d.payOrderId, 450);
        await refundSettled(r.refundOrderId);
        assert.equal(simAfter(r.refundOrderId)?.kind, undoToday(d.payOrderId) ? 'undo' : 'refund');
        await state(d.payOrderId, 5);
      }
    });

    test('YSF_JSAPI: the user-authorisation service gives the userId; ordered for that user, paid in 云闪付', async () => {
      const channel = env.s.gw.channels.get('ysfpay') as UnionPayChannel;
      const config = await env.s.gw.tenancy.getChannelConfig(env.s.demo.appId, 'ysfpay');
      const ctx = { config: config!, log: { info() {}, warn() {}, error() {}, debug() {} } };
      const authUrl = new URL(channel.ysfUserAuthUrl(ctx, `${env.s.url}/cashier/ysf`));
      const back = new URL(sim.payer.authorize(authUrl.searchParams.get('redirectUrl') as string).location);
      const { userId } = await channel.lookupYsfUser(ctx, { userAuthCode: back.searchParams.get('userAuthCode') as string });
      const missing = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'YSF_JSAPI', amount: 1, currency: 'cny', subject: 's', body: 'b' });
      assert.deepEqual([(missing.data as Data).orderState, (missing.data as Data).errCode], [3, 'PARAM_ERROR'], 'no userId: refused before anything is sent');
      const d = await create('YSF_JSAPI', 660, { userId });
      assert.equal(d.payDataType, 'ysfapp');
      assert.equal((await query(d.payOrderId, true)).state, 1, 'an active query: not paid yet');
      sim.payer.pay({ redirectUrl: JSON.parse(d.payData).redirectUrl });
      assert.equal((await query(d.payOrderId, true)).state, 2, 'sync=1 asks UnionPay at once');
      const r = await refundNo(d.payOrderId, 60);
      await refundSettled(r.refundOrderId);
    });

    test('bar code: immediate success; AUTO_BAR → YSF_BAR with the password polled; insufficient funds; never confirmed → reversed (4)', async () => {
      const ok = await create('UP_BAR', 900, { authCode: '6200000000000000001' });
      assert.deepEqual([ok.orderState, ok.payDataType], [2, 'none']);
      const auto = await create('AUTO_BAR', 500, { auth_code: '6210000000000000077' });
      assert.equal(auto.orderState, 1, 'the payer is entering the password');
      const row = await env.s.gw.db.query<{ way_code: string }>(`SELECT way_code FROM pay_orders WHERE pay_order_id = $1`, [auto.payOrderId]);
      assert.equal(row.rows[0]?.way_code, 'YSF_BAR');
      await state(auto.payOrderId, 2, 10_000);
      const poor = await create('YSF_BAR', 500, { authCode: '6290000000000000077' });
      assert.deepEqual([poor.orderState, poor.errCode], [3, '65']);
      const stuck = await create('YSF_BAR', 500, { authCode: '6220000000000000078' });
      assert.equal(stuck.orderState, 1);
      await state(stuck.payOrderId, 4, 25_000);
      assert.equal(sim.ledger(DEMO_UNIONPAY_MERID).consumes.find((c) => c.orderId === stuck.payOrderId)?.status, 'REVOKED');
    });

    test('notifications: forged, tampered, foreign-chained and other-merchant ones are refused; the truth comes by query', async () => {
      for (const fault of ['badNotifySignature', 'tamperNotifyAmount', 'foreignSignCert', 'wrongNotifyMerId'] as const) {
        const d = await create('UP_QR', 250);
        sim.faults[fault] = true;
        sim.payer.pay({ qrCode: d.payData });
        await waitFor(`${fault} refused`, async () => (await events(d.payOrderId)).some((e) => e.kind === 'refused'));
        assert.equal(sim.ledger(DEMO_UNIONPAY_MERID).notifications.find((n) => n.orderId === d.payOrderId)?.delivered, false, `${fault}: UnionPay was told to retry`);
        sim.faults[fault] = false;
        await state(d.payOrderId, 2);
        assert.equal((await query(d.payOrderId)).amount, 250);
      }
      const d = await create('UP_QR', 10);
      const forged = await request(`${env.s.url}/api/pay/notify/ysfpay/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ merId: DEMO_UNIONPAY_MERID, orderId: d.payOrderId, txnType: '01', respCode: '00', txnAmt: '10', signMethod: '01', signature: 'Zm9yZ2Vk', signPubKeyCert: 'x' }).toString() });
      assert.equal(forged.statusCode, 400);
      await forged.body.dump();
      assert.equal((await query(d.payOrderId)).state, 1);
    });

    test('the reconciliation file (txnType 76) is fetched, parsed and stored as the bill', async () => {
      const d = await create('UP_QR', 1234);
      sim.payer.pay({ qrCode: d.payData });
      await state(d.payOrderId, 2);
      const day = clearingDay(Date.now());
      const date = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`;
      const res = await request(`${env.s.url}/admin/v1/apps/${env.s.demo.appId}/bills/ysfpay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ date }) });
      assert.equal(res.statusCode, 200, await res.body.text());
      const rows = await env.s.gw.db.query<{ kind: string; amount: number; out_trade_no: string }>(`SELECT r.kind, r.amount, r.out_trade_no FROM channel_bill_rows r JOIN channel_bills b ON b.id = r.bill_id WHERE b.app_id = $1 AND b.if_code = 'ysfpay'`, [env.s.demo.appId]);
      assert.ok(rows.rows.some((r) => r.kind === 'pay' && r.amount === 1234 && r.out_trade_no === d.payOrderId));
      assert.ok(rows.rows.some((r) => r.kind === 'refund'), 'the refunds and undos of this day are in the file too');
    });

    test('service-provider mode (another app): YSF_BAR by micropay, YSF_JSAPI by unifiedorder, synchronous refund, JSON notification', async () => {
      const gw = env.s.gw;
      const sp = await sim.registerProvider();
      const app = await gw.tenancy.createApp({ mchNo: env.s.demo.mchNo, name: 'sp app' });
      await gw.tenancy.setChannelConfig(app.appId, 'ysfpay', { mode: 'sp', merId: sp.merIds[0] as string, serProvId: sp.serProvId, ysfPublicKey: sp.ysfPublicKey, spBaseUrl: sp.spBaseUrl, userAuthUrl: sp.userAuthUrl }, { signCertPfx: sp.pfxBase64 as string, signCertPassword: sp.pfxPassword as string });
      await gw.passages.enableWays(app.appId, 'ysfpay', ['YSF_BAR', 'YSF_JSAPI']);
      const client = new MerchantClient({ baseUrl: env.s.url, mchNo: env.s.demo.mchNo, appId: app.appId, appSecret: app.appSecret });
      const pay = async (wayCode: string, amount: number, extra: Record<string, unknown>) => {
        const r = await client.unifiedOrder({ mchOrderNo: orderNo('sp'), wayCode, amount, currency: 'cny', subject: 'sp', body: 'b', notifyUrl: env.receiver.url, channelExtra: JSON.stringify(extra) });
        assert.equal(r.code, 0, r.msg);
        return r.data as Data;
      };
      const bar = await pay('YSF_BAR', 520, { authCode: '6200000000000000042' });
      assert.equal(bar.orderState, 2);
      const r = await client.refund({ payOrderId: bar.payOrderId, mchRefundNo: orderNo('r'), refundAmount: 520, currency: 'cny', refundReason: 'r' });
      assert.equal((r.data as Data).state, 2, 'the provider gateway refunds synchronously');
      const channel = gw.channels.get('ysfpay') as UnionPayChannel;
      const ctx = { config: (await gw.tenancy.getChannelConfig(app.appId, 'ysfpay'))!, log: { info() {}, warn() {}, error() {}, debug() {} } };
      const code = new URL(sim.payer.authorize('https://m.shop.example/p').location).searchParams.get('userAuthCode') as string;
      const { userId } = await channel.lookupYsfUser(ctx, { userAuthCode: code });
      const js = await pay('YSF_JSAPI', 310, { userId });
      sim.payer.pay({ redirectUrl: JSON.parse(js.payData).redirectUrl });
      await waitFor('sp order paid by notification', async () => ((await client.query({ payOrderId: js.payOrderId })).data as Data).state === 2);
      assert.ok((await events(js.payOrderId)).some((e) => e.kind === 'callback'), 'settled by the JSON notification');
    });
  });
}
