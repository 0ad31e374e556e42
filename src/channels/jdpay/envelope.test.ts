import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  buildJdXml,
  canonicalJdXml,
  decryptJdXml,
  encryptJdXml,
  jdDesKey,
  jdFormSignContent,
  jdSignText,
  jdVerifyText,
  parseJdXml,
  signJdXml,
  tripleDesDecryptHex,
  tripleDesEncryptHex,
  verifyJdXml,
} from './envelope.ts';

/** JD Pay's XML + RSA + 3DES envelope against vectors Java's DESede / RSA and the openssl CLI produced (fixtures/envelope-vectors.json). */

const v = JSON.parse(readFileSync(new URL('./fixtures/envelope-vectors.json', import.meta.url), 'utf8'));
const priv = createPrivateKey(v.privateKeyPem);
const pub = createPublicKey(v.publicKeyPem);
const des = jdDesKey(v.desKey);

describe('JD Pay envelope', () => {
  test('the signature is RSA private-key encryption of the sha256 hex, as Java computes it', () => {
    assert.equal(jdSignText(v.xml, priv), v.xmlSign);
    assert.equal(jdSignText(v.formContent, priv), v.formSign);
    assert.ok(jdVerifyText(v.xml, v.xmlSign, pub));
    assert.equal(jdVerifyText(`${v.xml} `, v.xmlSign, pub), false);
    assert.equal(jdVerifyText(v.xml, v.xmlSign, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), false);
  });

  test('the encrypted envelope equals Java\'s byte for byte and decrypts back; a field under openssl\'s 3DES', () => {
    const signed = signJdXml(v.xml, priv);
    assert.equal(encryptJdXml(des, signed), v.encrypt);
    assert.equal(decryptJdXml(des, v.encrypt), signed);
    assert.ok(verifyJdXml(signed, pub));
    assert.equal(tripleDesEncryptHex(des, v.fieldPlain), v.fieldCipherHex);
    assert.equal(tripleDesDecryptHex(des, v.fieldCipherHex.toUpperCase()), v.fieldPlain);
    assert.throws(() => decryptJdXml(jdDesKey(Buffer.alloc(24, 9).toString('base64')), v.encrypt), /length prefix|failed/);
    assert.throws(() => tripleDesDecryptHex(des, 'abc'), /whole 8-byte blocks/);
    assert.throws(() => jdDesKey('c2hvcnQ='), /24 bytes/);
  });

  test('canonical form: declaration added, line breaks and tabs removed with surrounding spaces, <sign> dropped', () => {
    const pretty = '<jdpay>\n  <version>V2.0</version>\n\t<merchant>1</merchant>\n  <sign>abc</sign>\n</jdpay>\n';
    assert.equal(canonicalJdXml(pretty), '<?xml version="1.0" encoding="UTF-8"?><jdpay><version>V2.0</version><merchant>1</merchant></jdpay>');
    const signed = signJdXml(pretty, priv);
    assert.ok(verifyJdXml(signed.replace('<merchant>', '\n    <merchant>'), pub), 'reformatting does not break the signature');
    assert.equal(verifyJdXml(signed.replace('<merchant>1<', '<merchant>2<'), pub), false);
    assert.equal(verifyJdXml(canonicalJdXml(signed), pub), false, 'no <sign>, no verification');
  });

  test('XML: built in order with escaping, parsed back with nesting; DOCTYPE refused; form sign content', () => {
    const xml = buildJdXml({ version: 'V2.0', merchant: '1', result: { code: '000000', desc: 'a<b & c' }, empty: '', tradeName: '杯子&' });
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?><jdpay><version>V2.0</version><merchant>1</merchant><result><code>000000</code><desc>a&lt;b &amp; c</desc></result><tradeName>杯子&amp;</tradeName></jdpay>');
    assert.deepEqual(parseJdXml(xml), { version: 'V2.0', merchant: '1', result: { code: '000000', desc: 'a<b & c' }, tradeName: '杯子&' });
    assert.equal(parseJdXml('<jdpay><amount>0088</amount></jdpay>').amount, '0088', 'values stay strings');
    assert.throws(() => parseJdXml('<!DOCTYPE x [<!ENTITY a "b">]><jdpay><a>&a;</a></jdpay>'), /refused/);
    assert.throws(() => parseJdXml('<jdpay><a>1</a><a>2</a></jdpay>'), /repeated/);
    assert.equal(jdFormSignContent({ version: 'V2.0', merchant: '1', sign: 'x', userId: '', amount: '1' }), 'amount=1&merchant=1&version=V2.0');
  });
});
