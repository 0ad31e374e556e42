import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import type { ChannelHttpRequest, ChannelHttpResponse } from '../http.ts';
import { ChannelError, type ChannelConfig, type Logger } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { WechatPayClient } from './client.ts';
import { parseWechatPayConfig } from './config.ts';
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  appPaySign,
  buildAuthorization,
  certificateSerial,
  jsapiPaySign,
  loadPrivateKey,
  loadPublicKey,
  parseAuthorization,
  requestMessage,
  responseMessage,
  rsaSign,
  rsaVerify,
} from './v3-crypto.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
// Copies of ../shared/reference/vectors/ (cross-checked there against independent libraries), kept in the repo so a clone is self-contained.
const vector = (name: string): Json => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Json;
const SIG = vector('wechatpay-v3-signature.json');
const NOTIFY = vector('wechatpay-v3-aesgcm-notify.json').generated_notifications as Json;
const OFFICIAL = vector('wechatpay-v3-official-sdk-vectors.json');
const REQ = SIG.generated_request_signature as Json;
const RESP = SIG.generated_response_signature as Json;
const merchantKey = loadPrivateKey(REQ.merchant.private_key_pem);
const merchantPub = loadPublicKey(REQ.merchant.certificate_pem);
const platformPub = loadPublicKey(RESP.platform.public_key_pem);

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** The vectors' merchant as a stored channel config (public-key mode). */
function vectorConfig(over: Partial<Record<string, string>> = {}): ChannelConfig {
  const params: Record<string, string> = {
    mchId: REQ.merchant.mchid,
    appId: 'wxd678efh567hg6787',
    merchantSerialNo: REQ.merchant.serial_no,
    wxpayPublicKeyId: RESP.platform.public_key_id_pubkey_mode,
    wxpayPublicKey: RESP.platform.public_key_pem,
  };
  const secrets: Record<string, string> = { apiClientKey: REQ.merchant.private_key_pem, apiV3Key: NOTIFY.apiv3_key };
  for (const [k, v] of Object.entries(over)) {
    const target = k === 'apiClientKey' || k === 'apiV3Key' ? secrets : params;
    if (v === undefined) delete target[k];
    else target[k] = v;
  }
  return { params, secrets };
}

test('the vectors path resolves to the shared reference folder', () => {
  assert.equal(REQ.merchant.mchid, '1900009191');
  assert.equal(certificateSerial(REQ.merchant.certificate_pem), REQ.merchant.serial_no);
});

for (const name of ['post_jsapi', 'get_query_by_out_trade_no']) {
  test(`request signing reproduces ${name}: message, signature, Authorization`, async () => {
    const t = REQ[name] as Json;
    const message = requestMessage(t.method, t.url, t.timestamp, t.nonce_str, t.body);
    assert.equal(message, t.expected_message);
    const signature = rsaSign(message, merchantKey);
    assert.equal(signature, t.expected_signature);
    const auth = buildAuthorization({ mchid: REQ.merchant.mchid, nonce_str: t.nonce_str, signature, timestamp: t.timestamp, serial_no: REQ.merchant.serial_no });
    assert.equal(auth, t.expected_authorization);
    assert.deepEqual(parseAuthorization(auth), { mchid: REQ.merchant.mchid, nonce_str: t.nonce_str, signature, timestamp: t.timestamp, serial_no: REQ.merchant.serial_no });
    // The client builds the identical header from a parsed config.
    const client = new WechatPayClient(parseWechatPayConfig(vectorConfig()));
    assert.equal(client.authorize(t.method, t.url, t.body, t.timestamp, t.nonce_str), t.expected_authorization);
    // …and the same header when the signature is computed on the thread pool (the request path).
    assert.equal(await client.authorizeAsync(t.method, t.url, t.body, t.timestamp, t.nonce_str), t.expected_authorization);
  });
}

test('GET signs path plus query and an empty body line', () => {
  const t = REQ.get_query_by_out_trade_no as Json;
  assert.ok(t.expected_message.endsWith(`${t.nonce_str}\n\n`));
  assert.ok(!rsaVerify(requestMessage('GET', t.url.split('?')[0], t.timestamp, t.nonce_str, ''), t.expected_signature, merchantPub), 'dropping the query breaks the signature');
});

for (const name of ['http_200', 'http_204']) {
  test(`response verification reproduces ${name}`, () => {
    const t = RESP[name] as Json;
    const message = responseMessage(t.headers['Wechatpay-Timestamp'], t.headers['Wechatpay-Nonce'], t.body);
    assert.equal(message, t.expected_message);
    assert.ok(rsaVerify(message, t.expected_signature, platformPub));
    assert.ok(rsaVerify(message, t.expected_signature, loadPublicKey(RESP.platform.certificate_pem)), 'certificate and public key name the same key');
    assert.ok(!rsaVerify(responseMessage(t.headers['Wechatpay-Timestamp'], t.headers['Wechatpay-Nonce'], `${t.body} `), t.expected_signature, platformPub));
    assert.ok(!rsaVerify(message, t.expected_signature, merchantPub), 'the merchant key must not verify WeChat answers');
  });
}

test('client.verify: public-key mode accepts the 200 vector, rejects skew, unknown serial, tampering and probes', async () => {
  const t = RESP.http_200 as Json;
  const ts = Number(t.headers['Wechatpay-Timestamp']);
  let now = ts * 1000;
  const client = new WechatPayClient(parseWechatPayConfig(vectorConfig()), { now: () => now });
  const headers = lower(t.headers);
  await client.verify(headers, t.body);
  now = (ts + 300) * 1000;
  await client.verify(headers, t.body); // exactly five minutes is still inside the window
  now = (ts + 301) * 1000;
  await assert.rejects(client.verify(headers, t.body), { kind: 'bad_signature' });
  now = (ts - 301) * 1000;
  await assert.rejects(client.verify(headers, t.body), { kind: 'bad_signature' });
  now = ts * 1000;
  await assert.rejects(client.verify({ ...headers, 'wechatpay-serial': 'PUB_KEY_ID_0000' }, t.body), { kind: 'bad_signature' });
  await assert.rejects(client.verify(headers, t.body.replace('wx26', 'wx27')), { kind: 'bad_signature' });
  await assert.rejects(client.verify({ ...headers, 'wechatpay-signature': `WECHATPAY/SIGNTEST/${t.expected_signature}` }, t.body), /probe/);
  await assert.rejects(client.verify({ ...headers, 'wechatpay-signature': undefined as unknown as string }, t.body), { kind: 'bad_signature' });
});

test('client: platform-cert mode downloads /v3/certificates (signed request), then verifies the 204 vector', async () => {
  const certs = NOTIFY.certificates_response as Json;
  const seen: ChannelHttpRequest[] = [];
  let now = Number(certs.headers['Wechatpay-Timestamp']) * 1000;
  const send = async (req: ChannelHttpRequest): Promise<ChannelHttpResponse> => {
    seen.push(req);
    return { status: 200, headers: lower(certs.headers), body: certs.body };
  };
  const cfg = vectorConfig({ verifyMode: 'platformCert', wxpayPublicKeyId: undefined, wxpayPublicKey: undefined, baseUrl: 'https://wx.test/prefix' });
  const client = new WechatPayClient(parseWechatPayConfig(cfg), { send, now: () => now });
  await client.refreshCertificates(true);
  assert.equal(seen.length, 1);
  const req = seen[0] as ChannelHttpRequest;
  assert.equal(req.url, 'https://wx.test/prefix/v3/certificates');
  const auth = parseAuthorization(req.headers.Authorization);
  assert.ok(auth);
  assert.equal(auth.nonce_str.length, 32);
  assert.ok(rsaVerify(requestMessage('GET', '/prefix/v3/certificates', auth.timestamp, auth.nonce_str, ''), auth.signature, merchantPub));

  const t = RESP.http_204 as Json;
  now = Number(t.headers['Wechatpay-Timestamp']) * 1000;
  await client.verify(lower(t.headers), '');
  assert.equal(seen.length, 1, 'a known serial needs no download');
  await assert.rejects(client.verify({ ...lower(t.headers), 'wechatpay-serial': 'ABCDEF' }, ''), { kind: 'bad_signature' });
  assert.equal(seen.length, 1, 'unknown serials within a minute of the last download do not trigger another');
});

test('client: a certificate list that does not decrypt, or whose own signature fails, is refused', async () => {
  const certs = NOTIFY.certificates_response as Json;
  const now = (): number => Number(certs.headers['Wechatpay-Timestamp']) * 1000;
  const answer = (headers: Record<string, string>) => async (): Promise<ChannelHttpResponse> => ({ status: 200, headers, body: certs.body });
  const wrongKey = new WechatPayClient(parseWechatPayConfig(vectorConfig({ verifyMode: 'platformCert', apiV3Key: 'X'.repeat(32) })), { send: answer(lower(certs.headers)), now });
  await assert.rejects(wrongKey.refreshCertificates(true), { kind: 'bad_signature' });
  const forged = { ...lower(certs.headers), 'wechatpay-signature': RESP.http_200.expected_signature as string };
  const cfg = parseWechatPayConfig(vectorConfig({ verifyMode: 'platformCert' }));
  await assert.rejects(new WechatPayClient(cfg, { send: answer(forged), now }).refreshCertificates(true), { kind: 'bad_signature' });
  const stale = { ...lower(certs.headers), 'wechatpay-timestamp': '1554208460' };
  await assert.rejects(new WechatPayClient(cfg, { send: answer(stale), now }).refreshCertificates(true), { kind: 'bad_signature' });
});

test('JSAPI paySign and APP sign reproduce the vectors', () => {
  const j = SIG.generated_jsapi_and_app_paysign.jsapi.request_payment_params as Json;
  assert.equal(jsapiPaySign(j.appId, j.timeStamp, j.nonceStr, j.package, merchantKey), j.paySign);
  const a = SIG.generated_jsapi_and_app_paysign.app.params as Json;
  assert.equal(appPaySign(a.appid, a.timestamp, a.noncestr, a.prepayid, merchantKey), a.sign);
  assert.notEqual(appPaySign(a.appid, a.timestamp, a.noncestr, `prepay_id=${a.prepayid}`, merchantKey), a.sign, 'APP signs the bare prepay id');
});

for (const name of ['transaction_success', 'refund_success'] as const) {
  test(`notification ${name}: signature verifies and the resource decrypts`, () => {
    const n = NOTIFY[name] as Json;
    const h = n.headers as Record<string, string>;
    const message = responseMessage(h['Wechatpay-Timestamp'] as string, h['Wechatpay-Nonce'] as string, n.body);
    assert.equal(message, n.expected_verify_message);
    assert.ok(rsaVerify(message, h['Wechatpay-Signature'] as string, loadPublicKey(NOTIFY.platform_public_key_pem)));
    const r = JSON.parse(n.body).resource as Json;
    assert.equal(aesGcmDecrypt(NOTIFY.apiv3_key, r.nonce, r.associated_data, r.ciphertext), n.expected_plaintext);
    assert.equal(aesGcmEncrypt(NOTIFY.apiv3_key, r.nonce, r.associated_data, n.expected_plaintext), r.ciphertext);
    assert.throws(() => aesGcmDecrypt(NOTIFY.apiv3_key, r.nonce, 'other', r.ciphertext), 'wrong AAD fails authentication');
  });
}

test('parseCallback turns the vector notifications into results', async () => {
  const channel = new WechatPayChannel({ now: () => 1_700_000_000_000 });
  const ctx = { config: vectorConfig(), log: silent };
  const callback = (n: Json) => ({ headers: lower(n.headers), rawBody: Buffer.from(n.body, 'utf8'), query: {} });
  const pay = await channel.parseCallback(ctx, 'pay', callback(NOTIFY.transaction_success));
  assert.deepEqual(pay, {
    kind: 'pay',
    eventId: 'EV-2018022511223320873',
    payment: {
      status: 'SUCCESS',
      outTradeNo: '1217752501201407033233368018',
      amount: 100,
      currency: 'CNY',
      channelOrderNo: '4200000000201407033233368018',
      channelUser: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      successAt: new Date('2018-06-08T02:34:56Z'),
    },
  });
  const refund = await channel.parseCallback(ctx, 'refund', callback(NOTIFY.refund_success));
  assert.deepEqual(refund, {
    kind: 'refund',
    eventId: 'EV-2018022511223320874',
    refund: {
      status: 'SUCCESS',
      outRefundNo: '1217752501201407033233368018R1',
      outTradeNo: '1217752501201407033233368018',
      refundAmount: 100,
      channelRefundNo: '50000000382019052709732678859',
      successAt: new Date('2018-06-08T02:34:56Z'),
    },
  });
  await assert.rejects(channel.parseCallback(ctx, 'refund', callback(NOTIFY.transaction_success)), { kind: 'protocol' });
  await assert.rejects(channel.parseCallback({ ...ctx, config: vectorConfig({ mchId: '1900000001' }) }, 'pay', callback(NOTIFY.transaction_success)), { kind: 'mismatch' });
  await assert.rejects(channel.parseCallback({ ...ctx, config: vectorConfig({ appId: 'wx0000000000000000' }) }, 'pay', callback(NOTIFY.transaction_success)), { kind: 'mismatch' });
  await assert.rejects(channel.parseCallback({ ...ctx, config: vectorConfig({ apiV3Key: 'Y'.repeat(32) }) }, 'pay', callback(NOTIFY.transaction_success)), { kind: 'bad_signature' });
  const tampered = { ...callback(NOTIFY.transaction_success), rawBody: Buffer.from(NOTIFY.transaction_success.body.replace('支付成功', '支付失败'), 'utf8') };
  await assert.rejects(channel.parseCallback(ctx, 'pay', tampered), { kind: 'bad_signature' });
  const late = new WechatPayChannel({ now: () => 1_700_000_000_000 + 301_000 });
  await assert.rejects(late.parseCallback(ctx, 'pay', callback(NOTIFY.transaction_success)), { kind: 'bad_signature' });
});

test('certificates_response: the encrypted platform certificate decrypts to the signing certificate', () => {
  const c = NOTIFY.certificates_response as Json;
  const entry = JSON.parse(c.body).data[0] as Json;
  const e = entry.encrypt_certificate as Json;
  const pem = aesGcmDecrypt(NOTIFY.apiv3_key, e.nonce, e.associated_data, e.ciphertext);
  assert.equal(pem, c.expected_plaintext_certificate_pem);
  assert.equal(certificateSerial(pem), entry.serial_no);
  const h = c.headers as Record<string, string>;
  assert.ok(rsaVerify(responseMessage(h['Wechatpay-Timestamp'] as string, h['Wechatpay-Nonce'] as string, c.body), h['Wechatpay-Signature'] as string, loadPublicKey(pem)));
});

test('official SDK vectors: wechatpay-go signer, wechatpay-java AEAD, 16-byte Go keys refused', () => {
  const g = OFFICIAL.go_sha256withrsa_signer as Json;
  assert.equal(rsaSign(g.message, loadPrivateKey(g.private_key_pem)), g.expected_signature);
  const j = OFFICIAL.java_aead_aes_256_gcm as Json;
  assert.equal(aesGcmEncrypt(j.apiv3_key, j.nonce, j.associated_data, j.plaintext), j.expected_ciphertext_base64);
  assert.equal(aesGcmDecrypt(j.apiv3_key, j.nonce, j.associated_data, j.expected_ciphertext_base64), j.plaintext);
  const u = OFFICIAL.go_util_aes_128_gcm as Json;
  // Go silently runs AES-128 with these test keys; production keys are 32 bytes, so we refuse.
  assert.throws(() => aesGcmDecrypt(u.apiv3_key, u.nonce, u.associated_data, u.ciphertext_base64), /32 bytes/);
  const n = OFFICIAL.go_notification as Json;
  const h = n.headers as Record<string, string>;
  assert.ok(rsaVerify(responseMessage(h['Wechatpay-Timestamp'] as string, h['Wechatpay-Nonce'] as string, n.body), h['Wechatpay-Signature'] as string, loadPublicKey(n.platform_certificate_pem)));
});

test('oracle: wechatpay-axios-plugin accepts our request signature and Authorization, rejects tampering', () => {
  const t = REQ.post_jsapi as Json;
  const client = new WechatPayClient(parseWechatPayConfig(vectorConfig()));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = Formatter.nonce(32);
  const url = '/v3/pay/transactions/out-trade-no/P20261122103000000001?mchid=1900009191';
  const auth = parseAuthorization(client.authorize('POST', url, t.body, timestamp, nonce));
  assert.ok(auth);
  const publicKey = createPublicKey(REQ.merchant.public_key_pem);
  assert.ok(Rsa.verify(Formatter.request('POST', url, timestamp, nonce, t.body), auth.signature, publicKey));
  assert.equal(Rsa.sign(Formatter.request('POST', url, timestamp, nonce, t.body), merchantKey), auth.signature, 'PKCS#1 v1.5 is deterministic');
  assert.ok(!Rsa.verify(Formatter.request('POST', url, timestamp, nonce, t.body.replace('"total":100', '"total":1')), auth.signature, publicKey));
  assert.ok(!Rsa.verify(Formatter.request('GET', url, timestamp, nonce, t.body), auth.signature, publicKey));
  assert.ok(!Rsa.verify(Formatter.request('POST', url, String(Number(timestamp) + 1), nonce, t.body), auth.signature, publicKey));
  // The plugin orders the five fields differently; our parser accepts any order.
  const theirs = Formatter.authorization(auth.mchid, auth.nonce_str, auth.signature, auth.timestamp, auth.serial_no);
  assert.deepEqual(parseAuthorization(theirs), auth);
  assert.equal(parseAuthorization(theirs.replace('WECHATPAY2-SHA256-RSA2048', 'WECHATPAY2-SHA256')), null);
});

test('oracle: wechatpay-axios-plugin verifies our response-style signatures and opens our AES-GCM', () => {
  const platformKey = loadPrivateKey(RESP.platform.private_key_pem);
  const body = '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}';
  const sig = rsaSign(responseMessage('1700000000', 'n0nce', body), platformKey);
  assert.ok(Rsa.verify(Formatter.response('1700000000', 'n0nce', body), sig, platformPub));
  assert.ok(!Rsa.verify(Formatter.response('1700000000', 'n0nce', `${body}\n`), sig, platformPub));
  const ct = aesGcmEncrypt(NOTIFY.apiv3_key, '0123456789ab', 'transaction', '{"trade_state":"SUCCESS"}');
  assert.equal(Aes.AesGcm.decrypt(ct, NOTIFY.apiv3_key, '0123456789ab', 'transaction'), '{"trade_state":"SUCCESS"}');
  assert.throws(() => Aes.AesGcm.decrypt(ct, NOTIFY.apiv3_key, '0123456789ab', 'refund'));
});

test('ChannelError is what verification failures throw', async () => {
  const client = new WechatPayClient(parseWechatPayConfig(vectorConfig()));
  await assert.rejects(client.verify({}, ''), (err: unknown) => err instanceof ChannelError && err.kind === 'bad_signature');
});
