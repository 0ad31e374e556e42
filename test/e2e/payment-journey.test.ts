import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createPrivateKey, verify } from 'node:crypto';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, useStackWithReceiver, waitFor } from '../helpers/stack.ts';

/** The README journey: WX_NATIVE order → scan and pay in the sandbox → notification → query → partial + full refund. */
for (const leg of dbLegs()) {
  describe(`payment journey on ${leg}`, () => {
    const env = useStackWithReceiver(leg);

    test('WX_NATIVE: pay, notify, query, refund part then the rest', async () => {
      const mchOrderNo = orderNo();
      const created = await env.s.client.unifiedOrder({ mchOrderNo, wayCode: 'WX_NATIVE', amount: 100, currency: 'cny', subject: 'T-shirt', body: 'Blue T-shirt', notifyUrl: env.receiver.url });
      assert.equal(created.code, 0, created.msg);
      const data = created.data as { payOrderId: string; orderState: number; payDataType: string; payData: string };
      assert.equal(data.orderState, 1);
      assert.equal(data.payDataType, 'codeUrl');
      assert.match(data.payData, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);

      await env.s.sim.payer.payByCodeUrl(data.payData);
      const paid = await waitFor('order paid', async () => {
        const q = await env.s.client.query({ payOrderId: data.payOrderId });
        return (q.data as { state: number }).state === 2 ? q.data : undefined;
      });
      assert.equal((paid as { amount: number }).amount, 100);
      assert.ok((paid as { channelOrderNo?: string }).channelOrderNo?.startsWith('42000'));

      const payNote = await waitFor('pay notification', () => env.receiver.received.find((r) => r.fields.payOrderId === data.payOrderId));
      assert.ok(payNote.signatureValid, 'notification signature verifies with the app secret');
      assert.equal(payNote.fields.state, '2');
      assert.equal(payNote.fields.mchOrderNo, mchOrderNo);

      const r1 = await env.s.client.refund({ payOrderId: data.payOrderId, mchRefundNo: orderNo('rf'), refundAmount: 40, currency: 'cny', refundReason: 'partial', notifyUrl: env.receiver.url });
      assert.equal(r1.code, 0, r1.msg);
      const refund1 = r1.data as { refundOrderId: string; state: number };
      assert.ok([1, 2].includes(refund1.state));
      await waitFor('refund 1 success', async () => ((await env.s.client.refundQuery({ refundOrderId: refund1.refundOrderId })).data as { state: number }).state === 2);
      const afterPartial = (await env.s.client.query({ payOrderId: data.payOrderId })).data as { state: number; refundAmount: number };
      assert.equal(afterPartial.state, 2, 'partially refunded stays paid');
      assert.equal(afterPartial.refundAmount, 40);

      const over = await env.s.client.refund({ payOrderId: data.payOrderId, mchRefundNo: orderNo('rf'), refundAmount: 61, currency: 'cny', refundReason: 'too much' });
      assert.equal(over.errorKey, 'REFUND_AMOUNT_EXCEEDED');

      const r2 = await env.s.client.refund({ payOrderId: data.payOrderId, mchRefundNo: orderNo('rf'), refundAmount: 60, currency: 'cny', refundReason: 'rest', notifyUrl: env.receiver.url });
      assert.equal(r2.code, 0, r2.msg);
      const refund2 = r2.data as { refundOrderId: string };
      await waitFor('order fully refunded', async () => ((await env.s.client.query({ payOrderId: data.payOrderId })).data as { state: number }).state === 5);
      for (const id of [refund1.refundOrderId, refund2.refundOrderId]) {
        const note = await waitFor(`refund notification ${id}`, () => env.receiver.received.find((r) => r.fields.refundOrderId === id && r.fields.state === '2'));
        assert.ok(note.signatureValid);
      }
      const ledger = env.s.sim.ledger('1900000001');
      const simOrder = ledger.orders.find((o: { out_trade_no: string }) => o.out_trade_no === data.payOrderId);
      assert.equal(simOrder?.trade_state, 'REFUND');
    });

    test('WX_NATIVE codeImgUrl: a PNG of the code URL, served only for a valid token', async () => {
      const created = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ payDataType: 'codeImgUrl' }) });
      const data = created.data as { payDataType: string; payData: string };
      assert.equal(data.payDataType, 'codeImgUrl');
      const png = await request(data.payData);
      assert.equal(png.statusCode, 200);
      assert.equal(png.headers['content-type'], 'image/png');
      const bytes = Buffer.from(await png.body.arrayBuffer());
      assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
      const forged = await request(data.payData.replace(/\.[A-Za-z0-9_-]+\.png$/, '.AAAAAAAAAAAAAAAAAAAAAA.png'));
      assert.equal(forged.statusCode, 404);
      await forged.body.dump();
    });

    test('WX_JSAPI and WX_LITE: signed client parameters for the right appid; openid required', async () => {
      const cfg = await env.s.gw.tenancy.getChannelConfig(env.s.demo.appId, 'wxpay');
      const merchantPublic = createPublicKey(createPrivateKey(cfg!.secrets.apiClientKey as string));
      for (const [way, appid] of [['WX_JSAPI', cfg!.params.appId], ['WX_LITE', cfg!.params.liteAppId]] as const) {
        const res = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: way, amount: 88, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }) });
        assert.equal(res.code, 0, res.msg);
        const d = res.data as { payDataType: string; payData: string };
        assert.equal(d.payDataType, 'wxapp');
        const p = JSON.parse(d.payData) as Record<string, string>;
        assert.equal(p.appId, appid);
        assert.equal(p.signType, 'RSA');
        assert.match(p.package as string, /^prepay_id=wx/);
        const msg = `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`;
        assert.ok(verify('RSA-SHA256', Buffer.from(msg), merchantPublic, Buffer.from(p.paySign as string, 'base64')), `${way} paySign verifies`);
      }
      const missing = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_JSAPI', amount: 88, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(missing.errorKey, 'PARAM_INVALID');
      assert.match(missing.msg, /openid/);
    });

    test('WX_H5 gives a pay URL, WX_APP the APP parameters', async () => {
      const h5 = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_H5', amount: 5, currency: 'cny', subject: 's', body: 'b', clientIp: '14.23.150.211', returnUrl: 'https://shop.example.com/done' });
      assert.equal(h5.code, 0, h5.msg);
      assert.equal((h5.data as { payDataType: string }).payDataType, 'payurl');
      assert.match((h5.data as { payData: string }).payData, /redirect_url=https%3A%2F%2Fshop\.example\.com%2Fdone/);
      const appRes = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_APP', amount: 5, currency: 'cny', subject: 's', body: 'b' });
      const p = JSON.parse((appRes.data as { payData: string }).payData) as Record<string, string>;
      assert.equal(p.partnerid, '1900000001');
      assert.equal(p.package, 'Sign=WXPay');
      assert.ok(p.prepayid && p.sign && p.noncestr && p.timestamp);
    });

    test('close: the channel order is closed first, then ours; a closed order cannot be paid', async () => {
      const created = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 9, currency: 'cny', subject: 's', body: 'b' });
      const id = (created.data as { payOrderId: string }).payOrderId;
      const closed = await env.s.client.close({ payOrderId: id });
      assert.equal(closed.code, 0, closed.msg);
      assert.equal(((await env.s.client.query({ payOrderId: id })).data as { state: number }).state, 6);
      const simOrder = env.s.sim.ledger('1900000001').orders.find((o: { out_trade_no: string }) => o.out_trade_no === id);
      assert.equal(simOrder?.trade_state, 'CLOSED');
      await assert.rejects(env.s.sim.payer.pay('1900000001', id));
      assert.equal((await env.s.client.close({ payOrderId: id })).code, 0, 'closing twice is a no-op');
    });

    test('idempotent unified order: same parameters → same order; different → refused', async () => {
      const fields = { mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 300, currency: 'cny', subject: 's', body: 'b' };
      const a = await env.s.client.unifiedOrder(fields);
      const b = await env.s.client.unifiedOrder(fields);
      assert.equal((a.data as { payOrderId: string }).payOrderId, (b.data as { payOrderId: string }).payOrderId);
      assert.equal((a.data as { payData: string }).payData, (b.data as { payData: string }).payData);
      const c = await env.s.client.unifiedOrder({ ...fields, amount: 301 });
      assert.equal(c.errorKey, 'IDEMPOTENCY_MISMATCH');
    });
  });
}
