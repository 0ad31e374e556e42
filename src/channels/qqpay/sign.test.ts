import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signV2, v2Sign, v2SignMatches } from '../wechat-pay/v2-sign.ts';
import { parseWechatXml } from '../wechat-pay/v2-xml.ts';
import { QqpayClient } from './client.ts';
import { parseQqpayConfig } from './config.ts';

/**
 * QPay signs like WeChat Pay v2 with MD5 (protocols.md §F.1, §B.2), so the WeChat code is reused:
 * checked here against a QQ request whose sign string and MD5 are built by hand, and against the
 * WeChat official vector (the same rule).
 */

const KEY = 'd139ae6fb0175e5659dce2a7c1fe84d5';

test('a QQ unified order: the hand-built sign string (sorted, empty values dropped, &key=) and its upper-case MD5', () => {
  const params = { mch_id: '1900000109', nonce_str: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', body: 'QQ会员', out_trade_no: '20260101000001', fee_type: 'CNY', total_fee: '100', spbill_create_ip: '127.0.0.1', trade_type: 'NATIVE', notify_url: 'https://shop.example.com/qq', attach: '' };
  const text = 'body=QQ会员&fee_type=CNY&mch_id=1900000109&nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&notify_url=https://shop.example.com/qq&out_trade_no=20260101000001&spbill_create_ip=127.0.0.1&total_fee=100&trade_type=NATIVE';
  const expected = createHash('md5').update(`${text}&key=${KEY}`, 'utf8').digest('hex').toUpperCase();
  assert.equal(v2Sign(params, KEY, 'MD5'), expected);
  const signed = signV2(params, KEY, 'MD5');
  assert.equal(signed.sign, expected);
  assert.equal(signed.sign_type, undefined, 'MD5 is not declared');
  assert.ok(v2SignMatches({ ...signed, sign: expected.toLowerCase() }, KEY, 'MD5'), 'hex case does not matter');
  assert.ok(!v2SignMatches({ ...signed, total_fee: '101' }, KEY, 'MD5'));
});

test('the WeChat v2 official MD5 example: the rule QPay shares', () => {
  const v = JSON.parse(readFileSync(new URL('../wechat-pay/fixtures/wechatpay-v2.json', import.meta.url), 'utf8')).official_md5;
  assert.equal(v2Sign(v.params, v.key, 'MD5'), v.expected_sign);
});

test('the client signs every request with mch_id and a fresh nonce; the operator password goes as its MD5', () => {
  const client = new QqpayClient(parseQqpayConfig({ params: { mchId: '1900000109', opUserId: '190000010901' }, secrets: { apiKey: KEY, opUserPassword: 'secret-pw' } }));
  const a = parseWechatXml(client.requestXml({ out_trade_no: 'P1' }));
  const b = parseWechatXml(client.requestXml({ out_trade_no: 'P1' }));
  assert.equal(a.mch_id, '1900000109');
  assert.notEqual(a.nonce_str, b.nonce_str);
  assert.ok(v2SignMatches(a, KEY, 'MD5'));
  assert.deepEqual(client.operatorFields(), { op_user_id: '190000010901', op_user_passwd: createHash('md5').update('secret-pw').digest('hex') });
});
