import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { startWechatPaySimulator, type SandboxCredentials, type VerifyMode, type WechatPaySimulator } from './index.ts';
import { nativeOrder, startReceiver, type Receiver } from './test-support.ts';

/**
 * Oracle: an independent client (npm wechatpay-axios-plugin 0.9.6, not our v3-crypto) drives the
 * simulator unmodified. The plugin signs its own requests and verifies every 2xx answer itself
 * (timestamp window, serial lookup, RSA signature), so a symmetric bug shared by our client and
 * our simulator cannot hide here. The supported way to aim it elsewhere is axios' `baseURL`.
 * Paths use the plugin's `chain('v3/…')` form (same requests as `wx.v3.pay…`), which stays typed
 * under our noUncheckedIndexedAccess setting.
 */

let sim: WechatPaySimulator;
let rcv: Receiver;

before(async () => {
  sim = await startWechatPaySimulator({ refundDelayMs: 20 });
  rcv = await startReceiver();
});
after(async () => {
  await rcv.close();
  await sim.close();
});

function pluginFor(creds: SandboxCredentials, certs?: Record<string, string>): Wechatpay {
  const platform =
    creds.verifyMode === 'publicKey'
      ? { [creds.wxpayPublicKeyId]: creds.wxpayPublicKeyPem }
      : { [creds.platformCertificateSerial]: creds.platformCertificatePem };
  return new Wechatpay({
    mchid: creds.mchid,
    serial: creds.merchantSerialNo,
    privateKey: creds.merchantPrivateKeyPem as string,
    certs: certs ?? platform,
    baseURL: `${sim.baseUrl}/`,
  });
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to be rejected');
}

for (const mode of ['publicKey', 'platformCert'] as VerifyMode[]) {
  describe(`wechatpay-axios-plugin in ${mode} mode`, () => {
    let creds: SandboxCredentials;
    let wx: Wechatpay;
    before(() => {
      creds = sim.registerMerchant({ verifyMode: mode });
      wx = pluginFor(creds);
    });

    test('native order → query → close (204) → query CLOSED', async () => {
      const body = nativeOrder(creds, rcv.url);
      const created = await wx.chain('v3/pay/transactions/native').post<any>(body);
      assert.equal(created.status, 200);
      assert.match(created.data.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
      const queried = await wx.chain('v3/pay/transactions/out-trade-no/{out_trade_no}').get({ params: { mchid: creds.mchid }, out_trade_no: body.out_trade_no });
      assert.equal(queried.data.trade_state, 'NOTPAY');
      const closed = await wx.chain('v3/pay/transactions/out-trade-no/{out_trade_no}/close').post<any>({ mchid: creds.mchid }, { out_trade_no: body.out_trade_no });
      assert.equal(closed.status, 204);
      const after = await wx.chain('v3/pay/transactions/out-trade-no/{out_trade_no}').get({ params: { mchid: creds.mchid }, out_trade_no: body.out_trade_no });
      assert.equal(after.data.trade_state, 'CLOSED');
    });

    test('pay → query by transaction id → refund → refund query; errors surface as 4xx', async () => {
      const body = nativeOrder(creds, rcv.url);
      const created = await wx.chain('v3/pay/transactions/native').post<any>(body);
      const txn = await sim.payer.payByCodeUrl(created.data.code_url);
      const byId = await wx.chain('v3/pay/transactions/id/{transaction_id}').get({ params: { mchid: creds.mchid }, transaction_id: txn.transaction_id });
      assert.equal(byId.data.trade_state, 'SUCCESS');
      assert.equal(byId.data.amount.total, 1000);
      const refund = await wx.chain('v3/refund/domestic/refunds').post<any>({
        transaction_id: txn.transaction_id,
        out_refund_no: `R${body.out_trade_no}`,
        reason: '商品已售完',
        amount: { refund: 888, total: 1000, currency: 'CNY' },
      });
      assert.equal(refund.data.status, 'PROCESSING');
      await new Promise((r) => setTimeout(r, 60));
      const rq = await wx.chain('v3/refund/domestic/refunds/{out_refund_no}').get({ out_refund_no: `R${body.out_trade_no}` });
      assert.equal(rq.data.status, 'SUCCESS');
      const err = await rejection(wx.chain('v3/pay/transactions/out-trade-no/{out_trade_no}/close').post<any>({ mchid: creds.mchid }, { out_trade_no: body.out_trade_no }));
      assert.equal(err.response?.status, 400);
      assert.equal(err.response?.data?.code, 'ORDERPAID');
    });

    test('the plugin rejects our answer when it trusts the wrong key for the announced serial', async () => {
      const serial = mode === 'publicKey' ? creds.wxpayPublicKeyId : creds.platformCertificateSerial;
      const wrongPem = mode === 'publicKey' ? creds.platformCertificatePem : creds.wxpayPublicKeyPem;
      const err = await rejection(pluginFor(creds, { [serial]: wrongPem }).chain('v3/certificates').get());
      assert.equal(err.code, 'EV3_RES_HEADER_SIGNATURE_DIGEST');
      const unknown = await rejection(pluginFor(creds, { PUB_KEY_ID_0000000000000000000000000000000000: creds.wxpayPublicKeyPem }).chain('v3/certificates').get());
      assert.equal(unknown.code, 'EV3_RES_HEADER_PLATFORM_SERIAL');
    });

    test('/v3/certificates decrypts with Aes.AesGcm to the platform certificate', async () => {
      const res = await wx.chain('v3/certificates').get();
      const item = res.data.data[0];
      const { nonce, associated_data: aad, ciphertext } = item.encrypt_certificate;
      assert.equal(Aes.AesGcm.decrypt(ciphertext, creds.apiV3Key, nonce, aad), creds.platformCertificatePem);
      assert.equal(item.serial_no, creds.platformCertificateSerial);
    });
  });
}

test('a callback verifies with Rsa.verify and decrypts with Aes.AesGcm.decrypt', async () => {
  const creds = sim.registerMerchant({ verifyMode: 'publicKey' });
  const wx = pluginFor(creds);
  const body = nativeOrder(creds, rcv.url, { amount: { total: 4321, currency: 'CNY' } });
  const created = await wx.chain('v3/pay/transactions/native').post<any>(body);
  const before = rcv.received.length;
  await sim.payer.payByCodeUrl(created.data.code_url);
  const got = await rcv.waitFor(before + 1);
  const r = got[before];
  assert.ok(r);
  const h = r.headers as Record<string, string>;
  const message = Formatter.response(h['wechatpay-timestamp'] as string, h['wechatpay-nonce'] as string, r.body);
  assert.equal(h['wechatpay-serial'], creds.wxpayPublicKeyId);
  assert.ok(Rsa.verify(message, h['wechatpay-signature'] as string, Rsa.from(creds.wxpayPublicKeyPem, Rsa.KEY_TYPE_PUBLIC)));
  assert.equal(Rsa.verify(`${message} `, h['wechatpay-signature'] as string, Rsa.from(creds.wxpayPublicKeyPem, Rsa.KEY_TYPE_PUBLIC)), false);
  const { resource } = JSON.parse(r.body);
  const plain = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext, creds.apiV3Key, resource.nonce, resource.associated_data));
  assert.equal(plain.out_trade_no, body.out_trade_no);
  assert.equal(plain.amount.total, 4321);
  assert.equal(plain.trade_state, 'SUCCESS');
});
