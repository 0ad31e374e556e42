import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { orderNo, startStack, type Stack } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { registerAcquirerKeyIssuers, type AcquirerSandboxes } from '../../src/demo-acquirers.ts';
import { startShengpaySimulator } from '../../src/channels/shengpay/simulator/index.ts';
import { startJdpaySimulator } from '../../src/channels/jdpay/simulator/index.ts';
import { startAbcSimulator } from '../../src/channels/abcpay/simulator/index.ts';
import { startPaypalSimulator } from '../../src/channels/paypal/simulator/index.ts';
import { startQqpaySimulator } from '../../src/channels/qqpay/simulator/index.ts';
import { startIcbcSimulator } from '../../src/channels/icbc/simulator/index.ts';
import { startXinlianSimulator } from '../../src/channels/xinlian/simulator/index.ts';

/**
 * The console's "fill with sandbox keys" for every channel beyond WeChat and Alipay (those are
 * covered in console-operations.test.ts): each running simulator issues a fresh merchant, and the
 * configuration it hands back, saved on a new app as an operator would, takes a real order.
 */

/** The way tried per channel, and what the order needs. */
const TRIAL: Record<string, { way: string; currency?: string; returnUrl?: string; extra?: Record<string, unknown> }> = {
  shengpay: { way: 'ALI_QR' },
  jdpay: { way: 'JD_QR' },
  abcpay: { way: 'QR_CASHIER' },
  paypal: { way: 'PP_PC', currency: 'usd', returnUrl: 'https://shop.example.com/done' },
  qqpay: { way: 'QQ_PAY' },
  icbc: { way: 'ICBC_APP', returnUrl: 'https://shop.example.com/done' },
  xinlian: { way: 'XLALILITE', extra: { buyerUserId: '2088102177846880' } },
};

describe('sandbox keys of every acquirer-style channel configure a working app', () => {
  let s: Stack;
  let sims: AcquirerSandboxes;
  before(async () => {
    s = await startStack('pglite');
    const o = { timeScale: 1000 };
    sims = {
      shengpay: await startShengpaySimulator(o),
      jdpay: await startJdpaySimulator(o),
      abc: await startAbcSimulator(o),
      paypal: await startPaypalSimulator(o),
      qqpay: await startQqpaySimulator(o),
      icbc: await startIcbcSimulator(o),
      xinlian: await startXinlianSimulator(o),
    };
    registerAcquirerKeyIssuers(s.gw, sims);
  });
  after(async () => {
    for (const sim of Object.values(sims ?? {})) await sim?.close();
    await s?.close();
  });

  test('one issuer per channel', () => {
    assert.deepEqual([...s.gw.sandboxKeys.keys()].sort(), Object.keys(TRIAL).sort());
  });

  for (const [ifCode, t] of Object.entries(TRIAL)) {
    test(`${ifCode}: fresh keys → saved on a new app → ${t.way} order accepted by the sandbox`, async () => {
      const issue = s.gw.sandboxKeys.get(ifCode);
      assert.ok(issue, `issuer for ${ifCode}`);
      const form = await issue();
      const secretFields = s.gw.descriptors.get(ifCode)!.configFields.filter((f) => f.secret).map((f) => f.name);
      for (const name of Object.keys(form.secrets)) assert.ok(secretFields.includes(name), `${name} is a secret field of ${ifCode}`);
      for (const name of Object.keys(form.params)) assert.ok(!secretFields.includes(name), `${name} is not handed out as a plain parameter`);
      const app = await s.gw.tenancy.createApp({ mchNo: s.demo.mchNo, name: `sandbox keys ${ifCode}` });
      await s.gw.tenancy.setChannelConfig(app.appId, ifCode, form.params, form.secrets);
      await s.gw.passages.enableWays(app.appId, ifCode, [t.way]);
      const client = new MerchantClient({ baseUrl: s.url, mchNo: s.demo.mchNo, appId: app.appId, appSecret: app.appSecret });
      const res = await client.unifiedOrder({
        mchOrderNo: orderNo('key'), wayCode: t.way, amount: 1500, currency: t.currency ?? 'cny', subject: 'sandbox keys', body: 'b',
        ...(t.returnUrl ? { returnUrl: t.returnUrl } : {}), ...(t.extra ? { channelExtra: JSON.stringify(t.extra) } : {}),
      });
      assert.equal(res.code, 0, res.msg);
      const d = res.data as { orderState: number; errCode?: string; errMsg?: string; payData?: string };
      assert.equal(d.orderState, 1, `${ifCode}: ${d.errCode} ${d.errMsg}`);
      assert.ok(d.payData, 'the sandbox answered with something to pay');
    });
  }
});
