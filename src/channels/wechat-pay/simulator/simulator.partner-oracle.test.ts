import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { startReceiver, type Receiver } from './test-support.ts';

/**
 * Oracle (npm wechatpay-axios-plugin, its own signing and answer verification) for the v3 付款码
 * answers — 200 with the transaction, 202 USERPAYING, 204 reverse, direct and partner — and for a
 * partner (服务商) notification, verified with Rsa.verify and decrypted with Aes.AesGcm.
 */

const SP_APPID = 'wxoraclesp000001';
let sim: WechatPaySimulator;
let rcv: Receiver;
let creds: SandboxCredentials;
let sub: string;
let wx: Wechatpay;

before(async () => {
  sim = await startWechatPaySimulator({ refundDelayMs: 20, barcodeTimeScale: 1000, logger: false });
  rcv = await startReceiver();
  creds = sim.registerMerchant({ appids: [SP_APPID], providerType: 'normal' });
  sub = sim.registerSubMerchant({ spMchid: creds.mchid }).sub_mchid;
  wx = new Wechatpay({ mchid: creds.mchid, serial: creds.merchantSerialNo, privateKey: creds.merchantPrivateKeyPem as string, certs: { [creds.wxpayPublicKeyId]: creds.wxpayPublicKeyPem }, baseURL: `${sim.baseUrl}/` });
});
after(async () => {
  await rcv.close();
  await sim.close();
});

let seq = 0;
const no = () => `ORC${Date.now()}${++seq}`;
const bar = (authCode: string, extra: Record<string, unknown>) => ({ description: '付款码', out_trade_no: no(), payer: { auth_code: authCode }, amount: { total: 66, currency: 'CNY' }, scene_info: { device_ip: '127.0.0.1', store_info: { out_id: 'S1' } }, ...extra });

test('codepay: 200 with the paid transaction, 202 USERPAYING, 204 reverse — each answer verified by the plugin', async () => {
  const paid = await wx.chain('v3/pay/transactions/codepay').post<any>(bar('101234567890123456', { appid: SP_APPID, mchid: creds.mchid }));
  assert.equal(paid.status, 200);
  assert.equal(paid.data.trade_state, 'SUCCESS');
  assert.equal(paid.data.trade_type, 'MICROPAY');
  assert.equal(paid.data.amount.total, 66);

  const waiting = bar('111234567890123499', { appid: SP_APPID, mchid: creds.mchid });
  const answer = await wx.chain('v3/pay/transactions/codepay').post<any>(waiting);
  assert.equal(answer.status, 202);
  assert.equal(answer.data.trade_state, 'USERPAYING');
  const reversed = await wx.chain('v3/pay/transactions/out-trade-no/{out_trade_no}/reverse').post<any>({ appid: SP_APPID, mchid: creds.mchid }, { out_trade_no: waiting.out_trade_no });
  assert.equal(reversed.status, 204);
});

test('partner codepay answers the partner transaction shape', async () => {
  const res = await wx.chain('v3/pay/partner/transactions/codepay').post<any>(bar('101234567890123457', { sp_appid: SP_APPID, sp_mchid: creds.mchid, sub_mchid: sub }));
  assert.equal(res.status, 200);
  assert.equal(res.data.sp_mchid, creds.mchid);
  assert.equal(res.data.sub_mchid, sub);
  assert.equal(res.data.trade_state, 'SUCCESS');
});

test('a partner notification verifies with Rsa.verify and decrypts to the sp/sub identifiers and sp_openid', async () => {
  const openid = sim.open.openid(SP_APPID, 'oracle-payer');
  const body = { sp_appid: SP_APPID, sp_mchid: creds.mchid, sub_mchid: sub, description: '服务商订单', out_trade_no: no(), notify_url: rcv.url, amount: { total: 777, currency: 'CNY' }, payer: { sp_openid: openid } };
  const created = await wx.chain('v3/pay/partner/transactions/jsapi').post<any>(body);
  assert.match(created.data.prepay_id, /^wx/);
  const before = rcv.received.length;
  await sim.payer.pay(sub, body.out_trade_no);
  const r = (await rcv.waitFor(before + 1))[before];
  assert.ok(r);
  const h = r.headers as Record<string, string>;
  const message = Formatter.response(h['wechatpay-timestamp'] as string, h['wechatpay-nonce'] as string, r.body);
  assert.ok(Rsa.verify(message, h['wechatpay-signature'] as string, Rsa.from(creds.wxpayPublicKeyPem, Rsa.KEY_TYPE_PUBLIC)));
  const { resource, event_type: eventType } = JSON.parse(r.body);
  assert.equal(eventType, 'TRANSACTION.SUCCESS');
  const plain = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext, creds.apiV3Key, resource.nonce, resource.associated_data));
  assert.equal(plain.sp_mchid, creds.mchid);
  assert.equal(plain.sub_mchid, sub);
  assert.equal(plain.sp_appid, SP_APPID);
  assert.equal(plain.mchid, undefined);
  assert.equal(plain.payer.sp_openid, openid);
  assert.equal(plain.amount.total, 777);
  const queried = await wx.chain('v3/pay/partner/transactions/out-trade-no/{out_trade_no}').get<any>({ params: { sp_mchid: creds.mchid, sub_mchid: sub }, out_trade_no: body.out_trade_no });
  assert.equal(queried.data.trade_state, 'SUCCESS');
});
