import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { shengpaySignContent, signShengpay, verifyShengpay } from './sign.ts';

/** Shengpay's signature rule against vectors Java's own SHA1withRSA / SHA256withRSA produced (fixtures/sign-vectors.json). */

const v = JSON.parse(readFileSync(new URL('./fixtures/sign-vectors.json', import.meta.url), 'utf8'));
const priv = createPrivateKey(v.privateKeyPem);
const pub = createPublicKey(v.publicKeyPem);

describe('Shengpay sign content', () => {
  test('sorted keys, sign and empty values dropped, JSON strings as their text, numbers as digits', () => {
    assert.equal(shengpaySignContent({ ...v.fields, signType: 'RSA', sign: 'x' }), v.rsa.content);
    assert.equal(shengpaySignContent({ b: '2', a: 1, c: null, d: '', e: undefined, sign: 's' }), 'a=1&b=2');
    assert.equal(shengpaySignContent({ subMchId: 'x', subject: 'y', Zeta: 'z' }), 'Zeta=z&subMchId=x&subject=y', 'plain ASCII order: upper case first, _ before letters');
    assert.throws(() => shengpaySignContent({ flag: true }), /cannot be signed/);
  });

  test('RSA = SHA1withRSA and RSA2 = SHA256withRSA reproduce the Java signatures', () => {
    assert.equal(signShengpay(v.fields, 'RSA', priv).sign, v.rsa.sign);
    assert.equal(signShengpay(v.fields, 'RSA2', priv).sign, v.rsa2.sign);
    assert.ok(verifyShengpay({ ...v.fields, signType: 'RSA', sign: v.rsa.sign }, pub));
    assert.ok(verifyShengpay({ ...v.fields, signType: 'RSA2', sign: v.rsa2.sign }, pub));
  });

  test('verification fails on any change, another key, another signType or no sign', () => {
    const signed = signShengpay(v.fields, 'RSA2', priv);
    assert.ok(verifyShengpay(signed, pub));
    assert.equal(verifyShengpay({ ...signed, totalFee: 102 }, pub), false);
    assert.equal(verifyShengpay({ ...signed, signType: 'RSA' }, pub), false);
    assert.equal(verifyShengpay({ ...signed, signType: 'MD5' }, pub), false);
    assert.equal(verifyShengpay({ ...signed, sign: '' }, pub), false);
    assert.equal(verifyShengpay({ ...signed, sign: 'not base64!' }, pub), false);
    assert.equal(verifyShengpay(signed, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), false);
    assert.ok(verifyShengpay({ ...signed, extraneous: '' }, pub), 'an added empty field takes no part');
  });
});
