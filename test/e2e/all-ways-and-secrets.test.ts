import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.ts';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, useStackWithReceiver, waitFor } from '../helpers/stack.ts';

const WAYS = ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP'] as const;

for (const leg of dbLegs()) {
  describe(`every WeChat way end to end on ${leg}`, () => {
    const env = useStackWithReceiver(leg);

    for (const way of WAYS) {
      test(`${way}: create → pay → notified → refund in full → state 5`, async () => {
        const res = await env.s.client.unifiedOrder({
          mchOrderNo: orderNo(), wayCode: way, amount: 321, currency: 'cny', subject: way, body: 'b', clientIp: '10.1.2.3', notifyUrl: env.receiver.url,
          channelExtra: way === 'WX_JSAPI' || way === 'WX_LITE' ? JSON.stringify({ openid: 'o-test-openid' }) : undefined,
        });
        assert.equal(res.code, 0, res.msg);
        const id = (res.data as { payOrderId: string }).payOrderId;
        await env.s.sim.payer.pay('1900000001', id, { openid: 'o-test-openid' });
        await waitFor('paid', async () => ((await env.s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
        await waitFor('notified', () => env.receiver.received.some((r) => r.fields.payOrderId === id && r.fields.state === '2' && r.signatureValid));
        const refund = await env.s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: 321, currency: 'cny', refundReason: 'all', notifyUrl: env.receiver.url });
        assert.equal(refund.code, 0, refund.msg);
        await waitFor('refunded', async () => ((await env.s.client.query({ payOrderId: id })).data as { state: number }).state === 5);
        const simOrder = env.s.sim.ledger('1900000001').orders.find((o: { out_trade_no: string }) => o.out_trade_no === id);
        assert.equal(simOrder?.trade_type, { WX_NATIVE: 'NATIVE', WX_JSAPI: 'JSAPI', WX_LITE: 'JSAPI', WX_H5: 'MWEB', WX_APP: 'APP' }[way]);
      });
    }
  });
}

describe('secrets never reach the logs', () => {
  test('a journey at debug level, with a refused callback, logs no key or secret', async () => {
    let out = '';
    const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
    const s = await startStack('pglite', { logStream: sink });
    try {
      s.sim.faults.probeSignatureFirst = true; // makes the gateway log a refusal with request details
      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(res.code, 0);
      const id = (res.data as { payOrderId: string }).payOrderId;
      await s.sim.payer.pay('1900000001', id);
      await waitFor('paid', async () => ((await s.client.query({ payOrderId: id })).data as { state: number }).state === 2);
      await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1, currency: 'cny', subject: 's', body: 'b', signType: 'bad' });
      const cfg = await s.gw.tenancy.getChannelConfig(s.demo.appId, 'wxpay');
      assert.ok(out.length > 0 && /callback refused/.test(out), 'the gateway did log');
      for (const [name, secret] of [['app secret', s.demo.appSecret], ['APIv3 key', cfg!.secrets.apiV3Key], ['private key', 'PRIVATE KEY']] as const) {
        assert.ok(!out.includes(secret as string), `${name} absent from the logs`);
      }
      const probe = createLogger('info', sink as never);
      probe.info({ appSecret: 'SHOULD-NOT-APPEAR', secrets: { apiV3Key: 'x' }, req: { headers: { authorization: 'WECHATPAY2 y' } } }, 'probe');
      assert.ok(!out.includes('SHOULD-NOT-APPEAR') && !out.includes('WECHATPAY2 y') && out.includes('[secret]'), 'redaction rules hold');
    } finally {
      await s.close();
    }
  });
});
