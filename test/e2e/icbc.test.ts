import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { errorClassification, notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_ICBC_MERCHANT } from '../../src/demo-acquirers.ts';
import { startIcbcSimulator } from '../../src/channels/icbc/simulator/index.ts';

/**
 * ICBC_APP through the gateway (the demo-icbc app) against the ICBC simulator: created (a payurl),
 * approved by the sandbox payer in 工行 e支付, notified — the simulator re-sends until our signed
 * reply verifies with the merchant's key — refunded in part and in full (state 5); close; forged
 * and mismatching notifications refused with nothing changed; the error classification.
 */

const NACK = '{"response_biz_content":{"return_code":-1,"return_msg":"fail"},"sign_type":"RSA2"}';

for (const leg of dbLegs()) {
  describe(`ICBC end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startIcbcSimulator({ timeScale: 1000 }), sandboxes: (icbc) => ({ icbc }), merchantId: DEMO_ICBC_MERCHANT, ifCode: 'icbc' });
    const notice = (id: string) => a.sim.ledger(DEMO_ICBC_MERCHANT).notifications.find((n) => n.out_trade_no === id);

    test('ICBC_APP: payurl, paid, notified (our signed reply accepted at once), refunded in two parts', async () => {
      const d = await a.create('ICBC_APP', 300, {}, { returnUrl: 'https://shop.example.com/done' });
      assert.deepEqual([d.orderState, d.payDataType], [1, 'payurl']);
      assert.equal(a.sim.payer.pay(d.payData).paid_with, 'ICBC');
      await a.state(d.payOrderId, 2);
      const note = await waitFor('merchant notified', () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
      assert.ok(note.signatureValid);
      await waitFor('ICBC notification acknowledged', () => notice(d.payOrderId)?.delivered === true);
      assert.equal(notice(d.payOrderId)?.attempts, 1, 'the first signed reply verified');
      assert.equal((await a.query(d.payOrderId)).channelOrderNo, a.simTrade(d.payOrderId)?.trade_no);
      await a.refundFully(d.payOrderId, 300);
    });

    test('a reply signed with a key ICBC does not know is not an acknowledgement: re-sent until ours verifies', async () => {
      const d = await a.create('ICBC_APP', 120);
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const config = await env.s.gw.tenancy.getChannelConfig(a.appId, 'icbc');
      await env.s.gw.tenancy.setChannelConfig(a.appId, 'icbc', {}, { privateKey: stranger });
      try {
        a.sim.payer.pay(d.payData);
        await a.state(d.payOrderId, 2);
        await waitFor('re-sent', () => (notice(d.payOrderId)?.attempts ?? 0) >= 3);
        assert.equal(notice(d.payOrderId)?.delivered, false);
      } finally {
        await env.s.gw.tenancy.setChannelConfig(a.appId, 'icbc', {}, { privateKey: config!.secrets.privateKey as string });
      }
      await waitFor('acknowledged once our key signs again', () => notice(d.payOrderId)?.delivered === true, 8000);
      assert.equal((await a.query(d.payOrderId)).state, 2);
    });

    test('close: an unpaid order closes at ICBC; a paid order cannot be closed', async () => {
      const open = await a.create('ICBC_APP', 100);
      assert.equal((await a.client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await a.query(open.payOrderId)).state, 6);
      assert.equal(a.simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await a.create('ICBC_APP', 100);
      a.sim.payer.pay(paid.payData);
      await a.state(paid.payOrderId, 2);
      assert.equal((await a.client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
      assert.equal(a.simTrade(paid.payOrderId)?.status, 'SUCCESS');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', () =>
      notificationRefusals(a, {
        way: 'ICBC_APP',
        refusal: NACK,
        gatewayUrl: env.s.url,
        ifCode: 'icbc',
        forged: (id) => ({
          contentType: 'application/x-www-form-urlencoded',
          body: new URLSearchParams({ from: 'icbc-api', app_id: 'x', charset: 'UTF-8', format: 'json', timestamp: '2024-01-01 00:00:00', sign_type: 'RSA', biz_content: JSON.stringify({ return_code: 0, msg_id: 'm', mer_id: DEMO_ICBC_MERCHANT, out_trade_no: id, order_amt: '10', pay_status: '0' }), sign: 'Zm9yZ2Vk' }).toString(),
        }),
      }));

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', () =>
      errorClassification(a, { gw: env.s.gw, ifCode: 'icbc', ways: ['ICBC_APP', 'ICBC_APP', 'ICBC_APP'] }));
  });
}
