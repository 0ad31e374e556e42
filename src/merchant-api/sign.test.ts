import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { javaCaseInsensitiveCompare, signBase, signParams, verifySignature } from './sign.ts';

const KEY = 'EWEFD123RGSRETYDFNGFGFGSHDFGH';

test('reproduces the Jeepay documented example string vector (jeepay.md §3.2)', () => {
  const base = 'amount=10000&clientIp=192.168.0.111&mchOrderNo=P0123456789101&notifyUrl=https://www.baidu.com&platId=1000&reqTime=20190723141000&returnUrl=https://www.baidu.com&version=1.0&key=EWEFD123RGSRETYDFNGFGFGSHDFGH';
  assert.equal(createHash('md5').update(base).digest('hex').toUpperCase(), '84E1CA56F984502BBAC06EA6707157F5');
  const params = { version: '1.0', reqTime: '20190723141000', returnUrl: 'https://www.baidu.com', platId: '1000', notifyUrl: 'https://www.baidu.com', mchOrderNo: 'P0123456789101', clientIp: '192.168.0.111', amount: 10000 };
  assert.equal(signBase(params, KEY), base);
  assert.equal(signParams(params, KEY), '84E1CA56F984502BBAC06EA6707157F5');
});

test('reproduces the Jeepay unified-order vector, dropping empty values', () => {
  const params = {
    amount: 100, appId: '60cc09bce4b0f1c0b83761c9', body: '商品描述', channelExtra: '{"payDataType":"codeImgUrl"}', currency: 'cny', divisionMode: 0,
    mchNo: 'M1621873433953', mchOrderNo: 'mho1624005107281', notifyUrl: 'https://merchant.example.com/notify', reqTime: '1622016572190', signType: 'MD5',
    subject: '商品标题', version: '1.0', wayCode: 'WX_NATIVE', returnUrl: '', clientIp: null, sign: 'ignored',
  };
  assert.equal(signParams(params, KEY), '2E80E694AEB0A1F743BAFF75A9F6FA7F');
  assert.ok(verifySignature(params, KEY, 'MD5', '2e80e694aeb0a1f743baff75a9f6fa7f'), 'lower-case sign accepted');
  assert.ok(!verifySignature({ ...params, amount: 101 }, KEY, 'MD5', '2E80E694AEB0A1F743BAFF75A9F6FA7F'));
  assert.ok(!verifySignature(params, KEY, 'MD5', 'short'));
});

test('HMAC-SHA256 differs from MD5 and verifies', () => {
  const params = { a: '1', b: '2' };
  const sign = signParams(params, KEY, 'HMAC-SHA256');
  assert.equal(sign.length, 64);
  assert.ok(verifySignature(params, KEY, 'HMAC-SHA256', sign));
  assert.ok(!verifySignature(params, KEY, 'MD5', sign));
});

test('sort order mirrors Java CASE_INSENSITIVE_ORDER on whole name=value& strings', () => {
  assert.ok(javaCaseInsensitiveCompare('a_b=1&', 'aB=1&') < 0, '_ (0x5F) sorts before b (0x62) once case-folded');
  assert.ok(javaCaseInsensitiveCompare('x1=1&', 'x=1&') < 0, 'digit sorts before =');
  assert.ok(javaCaseInsensitiveCompare('Amount=1&', 'amount=1&') === 0);
  assert.equal(signBase({ b: '2', A: '1', a_b: '3', aB: '4' }, 'k'), 'A=1&a_b=3&aB=4&b=2&key=k');
});
