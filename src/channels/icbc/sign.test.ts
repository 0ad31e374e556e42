import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { ChannelError } from '../types.ts';
import { IcbcClient } from './client.ts';
import { parseIcbcConfig } from './config.ts';
import { icbcNotifyReply, icbcSignContent, icbcTimestamp, openIcbcAnswer, openIcbcNotifyReply, parseIcbcTimestamp, rawMembers, signIcbcParams } from './sign.ts';

/** ICBC's signatures checked against texts built by hand and node:crypto directly (docs/channels/icbc.md I4–I9). */

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchant = pair();
const gateway = pair();
const pem = (k: typeof merchant.privateKey) => k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;
const verify256 = (text: string, sig: string, key = merchant.publicKey) => createVerify('RSA-SHA256').update(text).verify(key, sig, 'base64');
const sign1 = (text: string) => createSign('RSA-SHA1').update(text).sign(gateway.privateKey, 'base64');

describe('request signature: path?sorted k=v, raw values', () => {
  test('the sign string and its RSA2 signature match a hand-built text', () => {
    const params = { timestamp: '2024-05-01 12:00:00', app_id: '10000000000000001', sign_type: 'RSA2', msg_id: 'm1', format: 'json', charset: 'UTF-8', biz_content: '{"mer_id":"020001","out_trade_no":"P1","goods_body":"a&b=c"}', empty: '' };
    const byHand = '/api/cardbusiness/aggregatepay/b2c/online/orderqry/V1?app_id=10000000000000001&biz_content={"mer_id":"020001","out_trade_no":"P1","goods_body":"a&b=c"}&charset=UTF-8&format=json&msg_id=m1&sign_type=RSA2&timestamp=2024-05-01 12:00:00';
    assert.equal(icbcSignContent('/api/cardbusiness/aggregatepay/b2c/online/orderqry/V1', { ...params, sign: 'ignored' }), byHand);
    assert.ok(verify256(byHand, signIcbcParams('/api/cardbusiness/aggregatepay/b2c/online/orderqry/V1', params, 'sha256', merchant.privateKey)));
  });

  test("the client's form: common params, China-time timestamp, fresh msg_id, signature over the path", () => {
    const config = parseIcbcConfig({ params: { appId: '10000000000000001', merId: '020001', icbcPublicKey: pem(gateway.publicKey) }, secrets: { privateKey: pem(merchant.privateKey) } });
    const client = new IcbcClient(config, { now: () => Date.UTC(2024, 0, 31, 16, 30, 5) });
    const a = client.requestParams('/api/x/V1', { mer_id: '020001' });
    const b = client.requestParams('/api/x/V1', { mer_id: '020001' });
    assert.notEqual(a.msg_id, b.msg_id);
    assert.deepEqual([a.app_id, a.format, a.charset, a.sign_type, a.timestamp, a.biz_content], ['10000000000000001', 'json', 'UTF-8', 'RSA2', '2024-02-01 00:30:05', '{"mer_id":"020001"}']);
    const byHand = `/api/x/V1?app_id=10000000000000001&biz_content={"mer_id":"020001"}&charset=UTF-8&format=json&msg_id=${a.msg_id}&sign_type=RSA2&timestamp=2024-02-01 00:30:05`;
    assert.ok(verify256(byHand, a.sign as string));
    assert.equal(verify256(byHand.replace('/api/x/V1', '/api/y/V1'), a.sign as string), false, 'the path is signed');
  });
});

describe('answers: the raw response_biz_content text is verified', () => {
  const raw = '{"return_code":0, "return_msg":"成功","msg_id":"m1","order_amt":"100","note":"}{\\"x"}';
  const body = `{ "response_biz_content" : ${raw} ,"sign":"${sign1(raw)}"}`;
  const config = parseIcbcConfig({ params: { appId: '10000000000000001', merId: '020001', icbcPublicKey: pem(gateway.publicKey) }, secrets: { privateKey: pem(merchant.privateKey) } });
  const client = new IcbcClient(config);

  test('the exact bytes verify; braces and escaped quotes inside strings do not confuse the scan', () => {
    assert.equal(rawMembers(body).get('response_biz_content'), raw);
    const opened = openIcbcAnswer(body, gateway.publicKey);
    assert.equal(opened.verified, true);
    assert.deepEqual([opened.biz.order_amt, opened.biz.note], ['100', '}{"x']);
    assert.equal(client.parseAnswer('/p', { status: 200, headers: {}, body }, 'm1').order_amt, '100');
  });

  test('a re-serialised body (same data, other bytes) fails: the signature covers the text, not the values', () => {
    const reserialised = JSON.stringify(JSON.parse(body));
    assert.deepEqual(JSON.parse(reserialised), JSON.parse(body));
    assert.equal(openIcbcAnswer(reserialised, gateway.publicKey).verified, false);
    assert.throws(() => client.parseAnswer('/p', { status: 200, headers: {}, body: reserialised }, 'm1'), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
  });

  test('classification: another msg_id is a mismatch, a busy code a system fault, a refusal rejected, 5xx system, garbage protocol', () => {
    const sealed = (biz: string) => `{"response_biz_content":${biz},"sign":"${sign1(biz)}"}`;
    const kind = (res: { status: number; body: string }, msgId = 'm1') => {
      try {
        client.parseAnswer('/p', { ...res, headers: {} }, msgId);
        return 'ok';
      } catch (e) {
        return `${(e as ChannelError).kind}:${(e as ChannelError).channelCode ?? ''}`;
      }
    };
    assert.equal(kind({ status: 200, body: sealed('{"return_code":0,"msg_id":"m2"}') }), 'mismatch:');
    assert.equal(kind({ status: 200, body: sealed('{"return_code":500001,"return_msg":"busy","msg_id":"m1"}') }), 'system:500001');
    assert.equal(kind({ status: 200, body: sealed('{"return_code":93001,"return_msg":"no","msg_id":"m1"}') }), 'rejected:93001');
    assert.equal(kind({ status: 200, body: '{"response_biz_content":{"return_code":93001}}' }), 'bad_signature:', 'an unsigned refusal is not trusted');
    assert.equal(kind({ status: 502, body: '' }), 'system:');
    assert.equal(kind({ status: 200, body: '<html>' }), 'protocol:');
  });
});

describe('the reply to a notification', () => {
  test('exact shape; the signed text is between the outer { and ,"sign"; verified with the merchant key', () => {
    const reply = icbcNotifyReply({ return_code: 0, return_msg: 'success', msg_id: 'N20240501' }, merchant.privateKey);
    const signed = '"response_biz_content":{"return_code":0,"return_msg":"success","msg_id":"N20240501"},"sign_type":"RSA2"';
    const m = /^\{(.*),"sign":"([A-Za-z0-9+/=]+)"\}$/.exec(reply);
    assert.ok(m, reply);
    assert.equal(m[1], signed);
    assert.ok(verify256(signed, m[2] as string));
    assert.deepEqual(openIcbcNotifyReply(reply, merchant.publicKey), { return_code: 0, return_msg: 'success', msg_id: 'N20240501' });
    assert.equal(openIcbcNotifyReply(reply, gateway.publicKey), undefined, 'another key');
    assert.equal(openIcbcNotifyReply(reply.replace('N20240501', 'N20240502'), merchant.publicKey), undefined, 'altered');
    assert.equal(openIcbcNotifyReply(reply.replace('"sign_type":"RSA2",', ''), merchant.publicKey), undefined, 'without sign_type');
  });
});

test('timestamps: China time both ways; malformed or impossible dates refused', () => {
  const ms = Date.UTC(2024, 1, 29, 15, 59, 59);
  assert.equal(icbcTimestamp(ms), '2024-02-29 23:59:59');
  assert.equal(parseIcbcTimestamp('2024-02-29 23:59:59'), ms);
  for (const bad of ['2023-02-29 00:00:00', '2024-02-29T23:59:59', '20240229235959', '']) assert.equal(parseIcbcTimestamp(bad), undefined, bad);
});
