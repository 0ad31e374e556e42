import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { orderNo, startReceiver, startStack, waitFor } from '../helpers/stack.ts';

/** Older merchants verify WeChat with downloaded platform certificates instead of the WeChat Pay public key. */
describe('WeChat Pay platform-certificate mode through the gateway', () => {
  test('orders, callbacks and refunds verify with certificates fetched from /v3/certificates', async () => {
    const s = await startStack('pglite');
    const receiver = await startReceiver(s.demo.appSecret);
    try {
      const creds = s.sim.registerMerchant({ mchid: '1900000002', appids: ['wxcertmode000001'], verifyMode: 'platformCert' });
      assert.equal(creds.verifyMode, 'platformCert');
      await s.gw.tenancy.setChannelConfig(
        s.demo.appId,
        'wxpay',
        { mchId: creds.mchid, appId: 'wxcertmode000001', liteAppId: 'wxcertmode000001', appAppId: 'wxcertmode000001', merchantSerialNo: creds.merchantSerialNo, verifyMode: 'platformCert', wxpayPublicKeyId: '', wxpayPublicKey: '', baseUrl: s.sim.baseUrl },
        { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key },
      );
      const cfg = await s.gw.tenancy.getChannelConfig(s.demo.appId, 'wxpay');
      assert.equal(cfg?.params.verifyMode, 'platformCert');
      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 42, currency: 'cny', subject: 's', body: 'b', notifyUrl: receiver.url });
      assert.equal(res.code, 0, res.msg);
      const id = (res.data as { payOrderId: string }).payOrderId;
      await s.sim.payer.pay('1900000002', id);
      await waitFor('paid by a certificate-signed callback', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
      const ev = await s.gw.db.query<{ kind: string }>(`SELECT kind FROM order_events WHERE order_id = $1 AND kind = 'callback'`, [id]);
      assert.equal(ev.rows.length, 1, 'the callback itself was accepted (not just an active query)');
      const refund = await s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: 42, currency: 'cny', refundReason: 'x' });
      assert.equal(refund.code, 0, refund.msg);
      await waitFor('refunded', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 5);
    } finally {
      await receiver.close();
      await s.close();
    }
  });
});
