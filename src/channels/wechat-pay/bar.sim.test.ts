import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChannelConfig, ChannelContext, Logger, PayOrderInput } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './simulator/index.ts';

/** WX_BAR against the simulator's magic payment codes, on API v3 (codepay) and v2 (micropay). */

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
let sim: WechatPaySimulator;
let creds: SandboxCredentials;
let cert: string;

before(async () => {
  // Password delays ×1/100: the "20 s" payer takes 200 ms.
  sim = await startWechatPaySimulator({ timeScale: 1000, barcodeTimeScale: 100, logger: false });
  creds = sim.registerMerchant({ appids: ['wxbar00000000mp01'] });
  cert = await sim.merchantCertificate(creds.mchid);
});
after(() => sim?.close());

const configs: Record<'v3' | 'v2', () => ChannelConfig> = {
  v3: () => ({
    params: { mchId: creds.mchid, appId: 'wxbar00000000mp01', merchantSerialNo: creds.merchantSerialNo, wxpayPublicKeyId: creds.wxpayPublicKeyId, wxpayPublicKey: creds.wxpayPublicKeyPem, baseUrl: sim.baseUrl },
    secrets: { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key },
  }),
  v2: () => ({
    params: { apiVersion: 'v2', mchId: creds.mchid, appId: 'wxbar00000000mp01', baseUrl: sim.baseUrl.replace('http:', 'https:'), tlsCaCert: creds.tlsCaCertificatePem, apiClientCert: cert },
    secrets: { apiKey: creds.apiKey, apiClientKey: creds.merchantPrivateKeyPem as string },
  }),
};

const code = (prefix: string, tail = '00'): string => `${prefix}${'0'.repeat(14)}${tail}`;
function order(authCode: string): PayOrderInput {
  return {
    payOrderId: `B${randomBytes(8).toString('hex')}`, wayCode: 'WX_BAR', amount: 1234, currency: 'CNY', subject: '付款码', body: 'b', clientIp: '10.0.0.1',
    expiredAt: new Date(Date.now() + 60_000), extra: { authCode }, notifyUrl: 'http://127.0.0.1:1/n', returnUrl: null, channelOrderNo: null,
  };
}
const channel = new WechatPayChannel();

for (const api of ['v3', 'v2'] as const) {
  describe(`WX_BAR on API ${api}`, () => {
    const ctx = (): ChannelContext => ({ config: configs[api](), log: silent });

    test('10…: paid at once, amount and order checked', async () => {
      const r = await channel.createPayment(ctx(), order(code('10')));
      assert.equal(r.status, 'SUCCESS');
      assert.ok(r.channelOrderNo);
    });

    test('11…20: the payer takes 20 s (scaled) — WAITING, then the query sees SUCCESS', async () => {
      const o = order(code('11', '20'));
      assert.equal((await channel.createPayment(ctx(), o)).status, 'WAITING');
      assert.equal((await channel.queryPayment(ctx(), o)).status, 'WAITING');
      const deadline = Date.now() + 5000;
      while ((await channel.queryPayment(ctx(), o)).status !== 'SUCCESS') {
        assert.ok(Date.now() < deadline, 'paid after the password delay');
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    test('11…99: never confirmed — reversed (撤销), then REVOKED; a second reverse is harmless', async () => {
      const o = order(code('11', '99'));
      assert.equal((await channel.createPayment(ctx(), o)).status, 'WAITING');
      assert.deepEqual(await channel.reversePayment(ctx(), o), { status: 'REVERSED' });
      assert.equal((await channel.queryPayment(ctx(), o)).status, 'REVOKED');
      assert.deepEqual(await channel.reversePayment(ctx(), o), { status: 'REVERSED' });
    });

    test('12…: insufficient balance and 14…: expired code are final failures', async () => {
      const poor = await channel.createPayment(ctx(), order(code('12')));
      assert.equal(poor.status, 'FAIL');
      assert.match(poor.errCode ?? '', /NOT_?ENOUGH/);
      const expired = await channel.createPayment(ctx(), order(code('14')));
      assert.equal(expired.status, 'FAIL');
      assert.match(expired.errCode ?? '', /AUTH_?CODE_?EXPIRE/);
    });

    test('13…: a system error answer — the channel queries and finds the payment made', async () => {
      const r = await channel.createPayment(ctx(), order(code('13')));
      assert.equal(r.status, 'SUCCESS');
    });

    test('a code of another wallet never reaches WeChat', async () => {
      await assert.rejects(channel.createPayment(ctx(), order('281000000000000077')), /WeChat payment code/);
    });
  });
}
