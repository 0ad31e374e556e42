import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { loadRsaPublicKey, spkiPem } from '../rsa.ts';
import { abcMessage, abcSign, abcVerify, decodeAbc, encodeAbc, openAbcEnvelope, sealAbcMessage } from './envelope.ts';

/** ABC TrustPay's envelope against Java's SHA1withRSA over GB18030 bytes (fixtures/envelope-vectors.json). */

const v = JSON.parse(readFileSync(new URL('./fixtures/envelope-vectors.json', import.meta.url), 'utf8'));
const priv = createPrivateKey(v.privateKeyPem);
const pub = createPublicKey(v.publicKeyPem);

describe('ABC TrustPay envelope', () => {
  test('GB18030 bytes and the SHA1withRSA signature equal Java\'s; UTF-8 bytes would give another one', () => {
    assert.equal(encodeAbc(v.messageText).toString('hex'), v.gb18030Hex);
    assert.equal(decodeAbc(Buffer.from(v.gb18030Hex, 'hex')), v.messageText);
    assert.equal(abcSign(v.messageText, priv), v.sign);
    assert.notEqual(v.sign, v.signOverUtf8);
    assert.ok(abcVerify(v.messageText, v.sign, pub));
    assert.equal(abcVerify(v.messageText, v.signOverUtf8, pub), false);
  });

  test('sealed once, verified over the raw Message text even when re-spaced or re-ordered around it', () => {
    const msg = abcMessage('103881636900016', { TrxRequest: { TrxType: 'Query', OrderNo: 'P1', Desc: '含 "引号" 与 } 括号' } });
    const sealed = sealAbcMessage(msg, priv);
    const opened = openAbcEnvelope(sealed);
    assert.deepEqual(opened.message, msg);
    assert.ok(abcVerify(opened.messageText, opened.signature as string, pub));
    const respaced = `{ "MSG" : { "Signature-Algorithm":"SHA1withRSA", "Message" : ${opened.messageText} , "Signature":"${opened.signature}" } }`;
    const again = openAbcEnvelope(respaced);
    assert.ok(abcVerify(again.messageText, again.signature as string, pub), 'the signature covers the Message text, not the envelope');
    const reserialised = sealed.replace(opened.messageText, JSON.stringify(JSON.parse(opened.messageText), null, 1));
    const changed = openAbcEnvelope(reserialised);
    assert.equal(abcVerify(changed.messageText, changed.signature as string, pub), false, 'a re-serialised Message no longer verifies');
    const unsigned = openAbcEnvelope(sealAbcMessage(msg, undefined));
    assert.equal(unsigned.signature, undefined);
    assert.throws(() => openAbcEnvelope('{"MSG":{}}'), /no MSG.Message/);
    assert.throws(() => openAbcEnvelope(sealed.replace('SHA1withRSA', 'MD5')), /Signature-Algorithm/);
  });

  test('TrustPay.cer: the key is read from a PEM or a bare base64 DER certificate', () => {
    assert.equal(spkiPem(loadRsaPublicKey(v.trustpayCertPem)), spkiPem(pub));
    assert.equal(spkiPem(loadRsaPublicKey(v.trustpayCertDerBase64)), spkiPem(pub));
  });
});
