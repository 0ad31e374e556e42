import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decryptReqInfo, encryptReqInfo, signV2, v2AppPayParams, v2JsapiPayParams, v2Sign, v2SignMatches, v2SignString } from './v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from './v2-xml.ts';

/** API v2 signing and XML against the cross-checked vectors (fixtures/wechatpay-v2.json, from shared/reference/vectors). */

const V = JSON.parse(readFileSync(new URL('./fixtures/wechatpay-v2.json', import.meta.url), 'utf8'));

test('the official MD5 and HMAC-SHA256 examples', () => {
  for (const name of ['official_md5', 'official_hmac_sha256']) {
    const v = V[name];
    assert.equal(v2SignString(v.params), v.expected_stringA);
    assert.equal(v2Sign(v.params, v.key, v.sign_type), v.expected_sign, name);
  }
});

test('a generated unifiedorder: empty values dropped, sign_type signed, UTF-8 body; the request XML parses back to the same fields', () => {
  const v = V.generated_unifiedorder_hmac;
  assert.equal(v2SignString(v.params), v.expected_stringA);
  const signed = signV2(v.params, v.key, 'HMAC-SHA256');
  assert.equal(signed.sign, v.expected_sign);
  const parsed = parseWechatXml(v.request_xml);
  assert.equal(parsed.sign, v.expected_sign);
  assert.ok(v2SignMatches(parsed, v.key, 'HMAC-SHA256'));
  assert.ok(!v2SignMatches({ ...parsed, total_fee: '889' }, v.key, 'HMAC-SHA256'), 'a changed amount no longer verifies');
  assert.ok(!v2SignMatches(parsed, v.key, 'MD5'), 'the algorithm matters');
});

test('the pay notification vector verifies; the merchant replies are what WeChat expects', () => {
  const v = V.generated_pay_notify_md5;
  const doc = parseWechatXml(v.notify_xml);
  assert.equal(v2SignString(doc), v.expected_stringA);
  assert.ok(v2SignMatches(doc, v.key, 'MD5'));
  assert.equal(doc.attach, '支付测试');
  assert.equal(buildWechatXml({ return_code: 'SUCCESS', return_msg: 'OK' }), v.merchant_success_reply_xml);
});

test('JSAPI / mini-program paySign (MD5 and HMAC-SHA256) and the APP sign', () => {
  const v = V.generated_jsapi_paysign;
  for (const [kind, type] of [['md5', 'MD5'], ['hmac_sha256', 'HMAC-SHA256']] as const) {
    const p = v[kind].params;
    const out = v2JsapiPayParams(p.appId, p.timeStamp, p.nonceStr, p.package.replace('prepay_id=', ''), v.key, type);
    assert.equal(out.paySign, v[kind].expected_paySign, kind);
    assert.equal(out.package, p.package);
  }
  const a = V.generated_app_sign;
  const app = v2AppPayParams(a.params.appid, a.params.partnerid, a.params.prepayid, a.params.noncestr, a.params.timestamp, a.key);
  assert.equal(app.sign, a.expected_sign);
});

test('refund notification req_info: AES-256-ECB under md5(API key)', () => {
  const v = V.generated_refund_notify_req_info;
  assert.equal(decryptReqInfo(v.expected_req_info_base64, v.key), v.plaintext_xml);
  assert.equal(encryptReqInfo(v.plaintext_xml, v.key), v.expected_req_info_base64);
  assert.throws(() => decryptReqInfo(v.expected_req_info_base64, 'X'.repeat(32)));
  assert.equal(parseWechatXml(v.plaintext_xml, 'root').refund_recv_accout, '支付用户零钱');
});

test('XML: values stay strings, text entities decoded, CDATA kept verbatim, DOCTYPE and nesting refused', () => {
  const doc = parseWechatXml('<xml>\n  <total_fee>088</total_fee>\n  <a>1&amp;2&#x4e2d;</a>\n  <b><![CDATA[&amp;<x>]]></b>\n  <c></c>\n</xml>');
  assert.deepEqual(doc, { total_fee: '088', a: '1&2中', b: '&amp;<x>', c: '' });
  assert.throws(() => parseWechatXml('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'), XmlFormatError);
  assert.throws(() => parseWechatXml('<xml><a><b>1</b></a></xml>'), XmlFormatError);
  assert.throws(() => parseWechatXml('<xml><a>1</a><a>2</a></xml>'), XmlFormatError);
  assert.throws(() => parseWechatXml('<other><a>1</a></other>'), XmlFormatError);
  assert.throws(() => parseWechatXml('not xml <'), XmlFormatError);
  const tricky = { body: 'x]]>y <&> 中文', n: '00012' };
  assert.deepEqual(parseWechatXml(buildWechatXml(tricky)), tricky);
});
