import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelContext, PayOrderInput } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { startWechatPaySimulator, type WechatPaySimulator } from './simulator/index.ts';

/**
 * Issue 4 item 8: platform certificates rotate. Several valid certificates coexist, an answer
 * signed by an unknown serial makes the client download the list again, and during the move to
 * WeChat-Pay-public-key mode answers signed with either identifier are accepted.
 */
const silent = { info() {}, warn() {}, error() {}, debug() {} };
let sim: WechatPaySimulator;
let clock = Date.now();
// The client refreshes certificates at most once a minute (forged serials must not hammer WeChat): drive its clock.
const channel = new WechatPayChannel({ now: () => clock });

before(async () => {
  sim = await startWechatPaySimulator({ port: 0, timeScale: 1000, logger: false });
});
after(() => sim.close());

let n = 0;
function order(): PayOrderInput {
  n += 1;
  return {
    payOrderId: `ROT${Date.now()}${n}`, wayCode: 'WX_NATIVE', amount: 10, currency: 'CNY', subject: 'rotation', body: 'b', clientIp: null,
    expiredAt: new Date(Date.now() + 3600_000), extra: {}, notifyUrl: 'https://example.com/notify', returnUrl: null, channelOrderNo: null,
  };
}

test('rotation: the new certificate is fetched on first sight, both stay valid; migration to public-key mode is seamless', async () => {
  const cred = sim.registerMerchant({ appids: ['wxrotation0001'], verifyMode: 'platformCert' });
  const ctx: ChannelContext = {
    log: silent,
    config: {
      params: { mchId: cred.mchid, appId: 'wxrotation0001', merchantSerialNo: cred.merchantSerialNo, verifyMode: 'platformCert', baseUrl: sim.baseUrl, wxpayPublicKeyId: cred.wxpayPublicKeyId, wxpayPublicKey: cred.wxpayPublicKeyPem },
      secrets: { apiClientKey: cred.merchantPrivateKeyPem as string, apiV3Key: cred.apiV3Key },
    },
  };
  const first = await channel.createPayment(ctx, order());
  assert.equal(first.payDataType, 'codeUrl');

  const { serial } = await sim.rotatePlatformCertificate();
  assert.notEqual(serial, cred.platformCertificateSerial);
  clock += 61_000; // past the client's refresh interval, within the ±5 min timestamp window
  const afterRotation = await channel.createPayment(ctx, order());
  assert.equal(afterRotation.payDataType, 'codeUrl', 'answers signed by the new certificate verify');

  // The certificate list now carries both, the signer first.
  const client = channel.client(ctx.config);
  const listed = await client.call('GET', '/v3/certificates', undefined, silent);
  const serials = ((listed.data as { data: Array<{ serial_no: string }> }).data).map((c) => c.serial_no);
  assert.deepEqual(serials, [serial, cred.platformCertificateSerial]);

  // Migration: WeChat starts signing with the public key id; the configured public key is accepted too.
  sim.registerMerchant({ mchid: cred.mchid, appids: ['wxrotation0001'], verifyMode: 'publicKey', merchantPublicKeyPem: undefined, merchantSerialNo: cred.merchantSerialNo, apiV3Key: cred.apiV3Key });
  const migrated = await channel.createPayment(ctx, order());
  assert.equal(migrated.payDataType, 'codeUrl', 'PUB_KEY_ID-signed answers verify in platformCert mode with a configured public key');
});
