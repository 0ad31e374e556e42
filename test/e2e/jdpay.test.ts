import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { useStackWithReceiver, waitFor } from '../helpers/stack.ts';
import { errorClassification, notificationRefusals, useAcquirerApp } from '../helpers/acquirer.ts';
import { DEMO_JDPAY_MERCHANT } from '../../src/demo-acquirers.ts';
import { startJdpaySimulator } from '../../src/channels/jdpay/simulator/index.ts';

/**
 * Every JD Pay way through the gateway (the demo-jdpay app) against the simulator: created (codes,
 * the app link, the PC/H5 cashier forms), paid by the sandbox payer, notified, refunded in part and
 * in full (state 5); close; forged and mismatching notifications refused; the error classification
 * as the order sees it.
 */

for (const leg of dbLegs()) {
  describe(`JD Pay end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    const a = useAcquirerApp(env, { start: () => startJdpaySimulator({ timeScale: 1000, refundDelayMs: 50 }), sandboxes: (jdpay) => ({ jdpay }), merchantId: DEMO_JDPAY_MERCHANT, ifCode: 'jdpay' });

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
        const d = await a.create(way, 300, {}, { returnUrl: 'https://shop.example.com/done' });
        assert.deepEqual([d.orderState, d.payDataType], [1, type], way);
        const link = type === 'form' ? await submitForm(d.payData) : d.payData;
        assert.equal(a.sim.payer.pay(link).paid_with, wallet);
        await a.state(d.payOrderId, 2);
        const note = await waitFor(`${way} merchant notified`, () => a.rcv.received.find((r) => r.fields.payOrderId === d.payOrderId && r.fields.state === '2'));
        assert.ok(note.signatureValid);
        assert.equal((await a.query(d.payOrderId)).channelOrderNo, a.simTrade(d.payOrderId)?.trade_no);
        await a.refundFully(d.payOrderId, 300);
      }
    });

    test('close: an unpaid code is revoked at JD; a paid order cannot be closed', async () => {
      const open = await a.create('JD_QR', 100);
      assert.equal((await a.client.close({ payOrderId: open.payOrderId })).code, 0);
      assert.equal((await a.query(open.payOrderId)).state, 6);
      assert.equal(a.simTrade(open.payOrderId)?.status, 'CLOSED');
      const paid = await a.create('WX_NATIVE', 100);
      a.sim.payer.pay(paid.payData);
      await a.state(paid.payOrderId, 2);
      assert.equal((await a.client.close({ payOrderId: paid.payOrderId })).errorKey, 'ORDER_STATE_INVALID');
      assert.equal(a.simTrade(paid.payOrderId)?.refunded, 0, 'never revoked (revoking a paid order refunds it)');
    });

    test('notifications: bad signature, tampered amount and another merchant are refused; the truth comes by query', () =>
      notificationRefusals(a, {
        way: 'JD_QR',
        refusal: 'fail',
        gatewayUrl: env.s.url,
        ifCode: 'jdpay',
        forged: () => ({ contentType: 'application/xml', body: `<jdpay><version>V2.0</version><merchant>${DEMO_JDPAY_MERCHANT}</merchant><result><code>000000</code><desc>success</desc></result><encrypt>Zm9yZ2Vk</encrypt></jdpay>` }),
      }));

    test('error classification: simulator down → failed, nothing sent; busy → unknown, queried; slow → timeout, queried, then paid', () =>
      errorClassification(a, { gw: env.s.gw, ifCode: 'jdpay', ways: ['JD_QR', 'WX_NATIVE', 'JD_APP'] }));
  });
}
