import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { signXinlian, verifyXinlian, xinlianSignContent } from './sign.ts';

/** 信联's assumed signature (X2) against a hand-built text and node:crypto. */

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('sorted k=v without sign and empty values, numbers as digits; RSA2 verifies with node:crypto', () => {
  const fields = { outTradeNo: 'P1', amount: 1234, mchNo: 'M1', buyerId: '2088102177846880', body: '', subject: '商品 a&b' };
  const signed = signXinlian(fields, privateKey);
  const byHand = 'amount=1234&buyerId=2088102177846880&mchNo=M1&outTradeNo=P1&signType=RSA2&subject=商品 a&b';
  assert.equal(xinlianSignContent(signed), byHand);
  assert.ok(createVerify('RSA-SHA256').update(byHand).verify(publicKey, signed.sign, 'base64'));
  assert.ok(verifyXinlian(JSON.parse(JSON.stringify(signed)), publicKey));
  assert.equal(verifyXinlian({ ...signed, amount: 1235 }, publicKey), false, 'amount changed');
  assert.equal(verifyXinlian({ ...signed, signType: 'RSA' }, publicKey), false, 'only RSA2');
  assert.equal(verifyXinlian({ ...signed, amount: 12.5 }, publicKey), false, 'a fraction cannot be signed');
  assert.throws(() => xinlianSignContent({ a: { b: 1 } }), TypeError);
});
