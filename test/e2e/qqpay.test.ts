import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_QQPAY_MCH_ID } from '../../src/demo-acquirers.ts';
import { NOTIFY_NACK_XML } from '../../src/channels/qqpay/protocol.ts';
import { QQPAY_SANDBOX_CODES as CODES } from '../../src/channels/qqpay/simulator/cli.ts';
import { startQqpaySimulator } from '../../src/channels/qqpay/simulator/index.ts';
import { v2Sign } from '../../src/channels/wechat-pay/v2-sign.ts';
import { buildWechatXml } from '../../src/channels/wechat-pay/v2-xml.ts';

/**
 * QQ_PAY through the gateway (the demo-qqpay app) against the QQ 钱包 simulator: NATIVE, JSAPI and
 * APP created, paid by the sandbox payer, notified, refunded in part and in full (state 5, refunds
 * settled by refund query); MICROPAY paid at once and after a password; close; forged, tampered
 * and foreign notifications refused with nothing changed.
 */

for (const leg of dbLegs()) {
  describe(`QQ 钱包 end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startQqpaySimulator({ timeScale: 1000, refundDelayMs: 50, passwordDelayMs: 1_000_000 }), sandboxes: (qqpay) => ({ qqpay }), merchantId: DEMO_QQPAY_MCH_ID, ifCode: 'qqpay' });

    test('NATIVE, JSAPI and APP: created, paid by the sandbox payer, notified, refunded in two parts (state 5)', async () => {
      for (const tradeType of ['NATIVE', 'JSAPI', 'APP'] as const) {
        const d = await a.create('QQ_PAY', 300, tradeType === 'NATIVE' ? {} : { tradeType });
        assert.deepEqual([d.orderState, d.payDataType], [1, tradeType === 'NATIVE' ? 'codeUrl' : 'wxapp'], tradeType);
        const params = tradeType === 'NATIVE' ? undefined : (JSON.parse(d.payData) as Record<string, string>);
        if (tradeType === 'APP') {
          const cfg = (await env.s.gw.tenancy.getChannelConfig(a.appId, 'qqpay'))!;
          const text = `appId=${params!.appId}&bargainorId=${DEMO_QQPAY_MCH_ID}&nonce=${params!.nonce}&pubAcc=&tokenId=${params!.tokenId}`;
          assert.equal(params!.sig, createHmac('sha1', `${cfg.secrets.appKey}&`).update(text).digest('base64'));
        }
        assert.equal(a.sim.payer.pay(params ? params.tokenId! : d.payData).paid_with, 'QQ');
        await a.state(d.payOrderId, 2);
        const note = await waitFor(`${tradeType} merchant notified`, () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await a.query(d.payOrderId)).channelOrderNo, a.simTrade(d.payOrderId)?.trade_no);
        await a.refundFully(d.payOrderId, 300);
      }
    });

    test('MICROPAY: paid at once; the password pending then paid (polled); declined', async () => {
      const paid = await a.create('QQ_PAY', 120, { authCode: CODES.paid });
      assert.equal(paid.orderState, 2);
      const pending = await a.create('QQ_PAY', 130, { tradeType: 'MICROPAY', authCode: CODES.passwordThenPaid });
      assert.equal(pending.orderState, 1, 'the payer is entering the password');
      await a.state(pending.payOrderId, 2);
      assert.equal(a.simTrade(pending.payOrderId)?.status, 'SUCCESS');
      const declined = await a.create('QQ_PAY', 140, { authCode: CODES.declined });
      assert.deepEqual([declined.orderState, declined.errCode], [3, 'NOTENOUGH']);
    });

    test('close: an open code closes at QPay; a paid order cannot be closed', async () => {
      const open = await a.create('QQ_PAY', 100);
      assert.equal((await a.client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await a.query(open.payOrderId)).state, 6);
      assert.equal(a.simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await a.create('QQ_PAY', 100);
      a.sim.payer.pay(paid.payData);
      await a.state(paid.payOrderId, 2);
      assert.equal((await a.client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
    });

    test('notifications: bad sign, tampered amount and another mch_id are refused; a hand-made one changes nothing', () =>
      notificationRefusals(a, {
        way: 'QQ_PAY',
        refusal: NOTIFY_NACK_XML,
        gatewayUrl: env.s.url,
        ifCode: 'qqpay',
        forged: (payOrderId) => {
          const doc = { mch_id: DEMO_QQPAY_MCH_ID, nonce_str: 'n0nce', trade_state: 'SUCCESS', out_trade_no: payOrderId, transaction_id: '1202601010000000000000000000', total_fee: '10', fee_type: 'CNY' };
          return { contentType: 'text/xml', body: buildWechatXml({ ...doc, sign: v2Sign(doc, 'f'.repeat(32), 'MD5') }) };
        },
      }));

    test('the acknowledgement is exactly the XML QPay expects', async () => {
      const d = await a.create('QQ_PAY', 50);
      a.sim.payer.pay(d.payData);
      await a.state(d.payOrderId, 2);
      const n = await waitFor('delivered', () => a.sim.ledger().notifications.find((x) => x.out_trade_no === d.payOrderId && x.delivered));
      assert.equal(n.last_body, '<xml><return_code>SUCCESS</return_code></xml>');
      const res = await request(`${env.s.url}/api/pay/notify/qqpay/${d.payOrderId}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: 'not xml' });
      assert.equal(await res.body.text(), NOTIFY_NACK_XML);
    });
  });
}
