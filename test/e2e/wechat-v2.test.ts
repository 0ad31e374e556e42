import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Receiver, type Stack, orderNo, startReceiver, startStack, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { DEMO_WECHAT_MCHID, ensureWechatV2DemoApp } from '../../src/demo.ts';

/** Every WX way through the gateway on WeChat Pay API v2 (XML), both sign types: create → pay → XML notification → refund over mutual TLS. */

const WAYS = ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP'] as const;
const TRADE_TYPE = { WX_NATIVE: 'NATIVE', WX_JSAPI: 'JSAPI', WX_LITE: 'JSAPI', WX_H5: 'MWEB', WX_APP: 'APP' } as const;

for (const leg of dbLegs()) {
  describe(`WeChat Pay API v2 end to end on ${leg}`, () => {
    let s: Stack;
    let receiver: Receiver;
    let client: MerchantClient;
    before(async () => {
      s = await startStack(leg);
      const app = await ensureWechatV2DemoApp(s.gw, s.sim, s.demo.mchNo, leg === 'pglite' ? 'MD5' : 'HMAC-SHA256');
      client = new MerchantClient({ baseUrl: s.url, ...app });
      receiver = await startReceiver(app.appSecret);
    });
    after(async () => {
      await receiver?.close();
      await s?.close();
    });
    const state = async (id: string) => ((await client.query({ payOrderId: id })).data as { state: number }).state;

    for (const way of WAYS) {
      test(`${way}: create → pay → notified → partial + full refund → state 5`, async () => {
        const res = await client.unifiedOrder({
          mchOrderNo: orderNo(), wayCode: way, amount: 300, currency: 'cny', subject: `v2 ${way}`, body: 'b', clientIp: '10.1.2.3', notifyUrl: receiver.url,
          channelExtra: way === 'WX_JSAPI' || way === 'WX_LITE' ? JSON.stringify({ openid: 'o-v2-e2e' }) : undefined,
        });
        assert.equal(res.code, 0, res.msg);
        const d = res.data as { payOrderId: string; payData: string };
        if (way === 'WX_JSAPI' || way === 'WX_LITE') assert.match(JSON.parse(d.payData).signType, /^(MD5|HMAC-SHA256)$/);
        await s.sim.payer.pay(DEMO_WECHAT_MCHID, d.payOrderId);
        await waitFor('paid', async () => (await state(d.payOrderId)) === 2);
        await waitFor('notified', () => receiver.received.some((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2' && r.signatureValid));
        const cb = s.sim.ledger(DEMO_WECHAT_MCHID).callbacks.find((c) => c.out_trade_no === d.payOrderId);
        assert.ok(cb?.delivered && cb.event_type === 'V2.PAY.SUCCESS', 'the XML notification was acknowledged with an XML SUCCESS');
        for (const amount of [100, 200]) {
          const r = await client.refund({ payOrderId: d.payOrderId, mchRefundNo: orderNo('r'), refundAmount: amount, currency: 'cny', refundReason: 'v2', notifyUrl: receiver.url });
          assert.equal(r.code, 0, r.msg);
        }
        await waitFor('refunded', async () => (await state(d.payOrderId)) === 5);
        const simOrder = s.sim.ledger(DEMO_WECHAT_MCHID).orders.find((o) => o.out_trade_no === d.payOrderId);
        assert.equal(simOrder?.trade_type, TRADE_TYPE[way]);
        assert.equal(simOrder?.refunded_total, 300);
      });
    }

    test('close of an unpaid v2 order; a tampered XML notification is refused and the truth is queried', async () => {
      const res = await client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 50, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(res.code, 0, res.msg);
      const id = (res.data as { payOrderId: string }).payOrderId;
      const closed = await client.call('/api/pay/close', { payOrderId: id });
      assert.equal(closed.code, 0, closed.msg);
      await waitFor('closed', async () => (await state(id)) === 6);

      s.sim.faults.badCallbackSignature = true;
      try {
        const r2 = await client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 70, currency: 'cny', subject: 's', body: 'b' });
        const id2 = (r2.data as { payOrderId: string }).payOrderId;
        await s.sim.payer.pay(DEMO_WECHAT_MCHID, id2);
        await waitFor('refused callback', () => s.sim.ledger(DEMO_WECHAT_MCHID).callbacks.some((c) => c.out_trade_no === id2 && c.attempts > 0 && !c.delivered));
        await waitFor('paid by query', async () => (await state(id2)) === 2);
        const events = await s.gw.db.query<{ kind: string }>(`SELECT kind FROM order_events WHERE order_id = $1`, [id2]);
        assert.ok(events.rows.some((e) => e.kind === 'refused'), 'the forged notification is on the timeline');
      } finally {
        s.sim.faults.badCallbackSignature = false;
      }
    });
  });
}
