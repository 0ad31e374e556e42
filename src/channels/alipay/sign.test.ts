import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { ChannelHttpRequest, ChannelHttpResponse } from '../http.ts';
import { ChannelError, type ChannelConfig, type Logger } from '../types.ts';
import { AlipayChannel } from './channel.ts';
import { AlipayClient } from './client.ts';
import { parseAlipayConfig } from './config.ts';
import { NOTIFY_UNSIGNED, REQUEST_UNSIGNED, chinaTime, loadAlipayPrivateKey, loadAlipayPublicKey, parseChinaTime, responseKey, rsa2Sign, rsa2Verify, signContent } from './sign.ts';

/** Every vector of shared/reference/vectors/alipay-rsa2.json (kept in fixtures/), through our primitives and through the client's alipay-sdk path. */

const V = JSON.parse(readFileSync(new URL('./fixtures/alipay-rsa2.json', import.meta.url), 'utf8'));
const req = V.request_precreate;
const resp = V.response_signature;
const notify = V.async_notify;
const log: Logger = { info() {}, warn() {}, error() {}, debug() {} };

function config(over: Record<string, string> = {}): ChannelConfig {
  return { params: { appId: req.params.app_id, alipayPublicKey: resp.alipay_public_key_pem, gatewayUrl: 'http://127.0.0.1:1/gateway.do', ...over }, secrets: { privateKey: req.app_private_key_pem } };
}

test('request: sign content and RSA2 signature (precreate vector)', () => {
  assert.equal(signContent(req.params, REQUEST_UNSIGNED), req.expected_sign_content);
  assert.equal(rsa2Sign(req.expected_sign_content, loadAlipayPrivateKey(req.app_private_key_pem)), req.expected_sign);
  assert.ok(rsa2Verify(req.expected_sign_content, req.expected_sign, loadAlipayPublicKey(req.app_public_key_pem)));
  assert.ok(rsa2Verify(req.expected_sign_content, req.expected_sign, loadAlipayPublicKey(req.app_public_key_bare_base64)), 'bare base64 public key');
  const form = Object.fromEntries(new URLSearchParams(req.post_form_urlencoded_body));
  assert.equal(form.sign, req.expected_sign);
  assert.deepEqual({ ...form, sign: undefined }, { ...req.params, sign: undefined });
});

test('request: the client (alipay-sdk sdkExecute) produces the vector sign for the vector time', () => {
  const now = parseChinaTime(req.params.timestamp) as number;
  const client = new AlipayClient(parseAlipayConfig(config()), { now: () => now });
  const biz = JSON.parse(req.params.biz_content);
  const signed = Object.fromEntries(new URLSearchParams(client.signedString(req.params.method, biz, { notifyUrl: req.params.notify_url, params: { format: 'JSON' } })));
  assert.equal(signed.timestamp, '2014-07-24 03:07:50', 'GMT+8 time, whatever the host time zone');
  assert.equal(signed.biz_content, req.params.biz_content);
  assert.equal(signed.sign, req.expected_sign);
});

test('a PKCS#1 private key and a bare base64 PKCS#8 key are the same key', () => {
  const key = createPrivateKey(req.app_private_key_pem);
  const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }) as string;
  const bare = (key.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');
  for (const text of [pkcs1, bare]) assert.equal(rsa2Sign('x', loadAlipayPrivateKey(text)), rsa2Sign('x', key));
});

for (const name of ['precreate', 'query_success', 'query_business_failed'] as const) {
  test(`response ${name}: the exact signed substring verifies; the client accepts it and refuses a tampered copy`, () => {
    const v = resp[name];
    const key = responseKey(v.method);
    const client = new AlipayClient(parseAlipayConfig(config()));
    assert.equal(client.sdk.getSignStr(v.raw_body, key), v.expected_signed_substring);
    assert.ok(v.raw_body.includes(`"${key}":${v.expected_signed_substring},"sign":"${v.expected_sign}"`));
    assert.ok(rsa2Verify(v.expected_signed_substring, v.expected_sign, createPublicKey(resp.alipay_public_key_pem)));
    const answer = client.parseAnswer(v.method, { status: 200, headers: {}, body: v.raw_body });
    assert.equal(answer.signed, true);
    assert.equal(answer.code, JSON.parse(v.expected_signed_substring).code);
    const tampered = v.raw_body.replace('"msg":"', '"msg":"x');
    assert.throws(() => client.parseAnswer(v.method, { status: 200, headers: {}, body: tampered }), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
  });
}

test('unsigned answers: a success is refused, a gateway error is read but marked unsigned', () => {
  const client = new AlipayClient(parseAlipayConfig(config()));
  const ok = '{"alipay_trade_query_response":{"code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS"}}';
  assert.throws(() => client.parseAnswer('alipay.trade.query', { status: 200, headers: {}, body: ok }), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
  const err = client.parseAnswer('alipay.trade.query', { status: 200, headers: {}, body: '{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}' });
  assert.deepEqual([err.code, err.subCode, err.signed], ['40002', 'isv.invalid-signature', false]);
});

test('async notification: sign content drops sign and sign_type; the channel verifies, maps and cross-checks', async () => {
  assert.equal(signContent(notify.fields_decoded, NOTIFY_UNSIGNED), notify.expected_sign_content);
  assert.ok(rsa2Verify(notify.expected_sign_content, notify.expected_sign, createPublicKey(notify.alipay_public_key_pem)));
  assert.deepEqual(Object.fromEntries(new URLSearchParams(notify.post_form_urlencoded_body)), notify.fields_decoded);

  const channel = new AlipayChannel();
  const inbound = (body: string) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: Buffer.from(body), query: {} });
  const parsed = await channel.parseCallback({ config: config(), log }, 'pay', inbound(notify.post_form_urlencoded_body));
  assert.equal(parsed.kind, 'pay');
  assert.deepEqual(parsed.kind === 'pay' && parsed.payment, {
    status: 'SUCCESS', outTradeNo: '20150320010101001', amount: 1, channelOrderNo: '2015042721001004330245521573', channelUser: '2088102122524333', successAt: new Date(Date.UTC(2015, 3, 27, 7, 45, 58)),
  });
  assert.equal(parsed.eventId, notify.fields_decoded.notify_id);

  const refusal = async (cfg: ChannelConfig, body: string): Promise<string> => {
    try {
      await channel.parseCallback({ config: cfg, log }, 'pay', inbound(body));
    } catch (err) {
      if (err instanceof ChannelError) return err.kind;
      throw err;
    }
    return 'accepted';
  };
  assert.equal(await refusal(config(), notify.post_form_urlencoded_body.replace('total_amount=0.01', 'total_amount=100.01')), 'bad_signature', 'tampered amount');
  assert.equal(await refusal(config({ appId: '2014072300009999' }), notify.post_form_urlencoded_body), 'mismatch', 'another app');
  assert.equal(await refusal(config({ sellerId: '2088000000000001' }), notify.post_form_urlencoded_body), 'mismatch', 'another seller');
  assert.equal(await refusal(config({ sellerId: notify.fields_decoded.seller_id }), notify.post_form_urlencoded_body), 'accepted', 'the configured seller');
  assert.equal(await refusal(config({ alipayPublicKey: req.app_public_key_pem }), notify.post_form_urlencoded_body), 'bad_signature', 'another Alipay key');
  assert.deepEqual(channel.ackReply(), { status: 200, contentType: 'text/plain', body: 'success' });
  assert.notEqual(channel.nackReply('x').body, 'success');
});

test('China time: formatting and strict parsing', () => {
  assert.equal(chinaTime(Date.UTC(2014, 6, 23, 19, 7, 50)), '2014-07-24 03:07:50');
  assert.equal(parseChinaTime('2014-07-24 03:07:50'), Date.UTC(2014, 6, 23, 19, 7, 50));
  for (const bad of ['2024-02-30 00:00:00', '2014-07-24T03:07:50', '2014-7-24 03:07:50', '']) assert.equal(parseChinaTime(bad), undefined, bad);
});

test('transport: the client posts the SDK-signed form to the gateway and classifies HTTP failures', async () => {
  const sent: ChannelHttpRequest[] = [];
  const answer = (r: ChannelHttpResponse) => async (q: ChannelHttpRequest) => {
    sent.push(q);
    return r;
  };
  const raw = resp.query_success.raw_body;
  const client = new AlipayClient(parseAlipayConfig(config()), { send: answer({ status: 200, headers: {}, body: raw }) });
  const a = await client.call('alipay.trade.query', { out_trade_no: '20150320010101001' }, log);
  assert.equal(a.data.trade_status, 'TRADE_SUCCESS');
  const q = sent[0] as ChannelHttpRequest;
  assert.equal(q.url, 'http://127.0.0.1:1/gateway.do?charset=utf-8');
  const form = Object.fromEntries(new URLSearchParams(q.body));
  assert.equal(form.method, 'alipay.trade.query');
  assert.ok(rsa2Verify(signContent(form, REQUEST_UNSIGNED), form.sign as string, loadAlipayPublicKey(req.app_public_key_pem)), 'request signature verifies with the app public key');
  const failing = new AlipayClient(parseAlipayConfig(config()), { send: answer({ status: 502, headers: {}, body: 'bad gateway' }) });
  await assert.rejects(failing.call('alipay.trade.query', {}, log), (e: unknown) => e instanceof ChannelError && e.kind === 'system');
});
