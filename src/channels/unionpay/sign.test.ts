import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { generateRsaPair, issueCertificate } from '../sandbox/certs.ts';
import { CertificateError, UNIONPAY_CN, buildPfx, decimalSerial, loadPfx, verifyUnionPayCert, type TrustAnchors } from './certs.ts';
import { acpSignString, acpTime, clearingDay, digestSign, digestVerify, formatAcpKv, parseAcpKv, parseAcpTime, sha256Hex, signAcpFields, spSignString } from './sign.ts';
import { generateKeyMaterial, issueSigningPfx, type KeyMaterial } from './simulator/keys.ts';

/** shared/reference/vectors/unionpay-acp-5.1.0.json (kept in fixtures/), the k=v parser, PFX loading and the signPubKeyCert chain. */

const V = JSON.parse(readFileSync(new URL('./fixtures/unionpay-acp-5.1.0.json', import.meta.url), 'utf8'));

describe('ACP 5.1.0 vector', () => {
  const req = V.consume_front_request;
  const note = V.back_notification;

  test('request: sign string, SHA-256 hex, SHA256withRSA over the hex, certId from the certificate serial', () => {
    assert.equal(acpSignString(req.params, true), req.expected_sign_string);
    assert.equal(sha256Hex(req.expected_sign_string), req.expected_sha256_hex);
    const key = createPrivateKey(req.merchant_private_key_pem);
    assert.equal(digestSign(req.expected_sign_string, key), req.expected_signature);
    assert.equal(decimalSerial(new X509Certificate(req.merchant_certificate_pem)), req.certId_decimal_serial);
    const signed = signAcpFields({ ...req.params, reqReserved: '', frontFailUrl: '  ' }, key);
    assert.equal(signed.signature, req.expected_signature, 'blank fields are dropped before signing');
    assert.equal('reqReserved' in signed, false);
  });

  test('back notification: verified over every field but signature, signPubKeyCert included; any change fails', () => {
    const fields = note.fields as Record<string, string>;
    assert.equal(acpSignString(fields, false), note.expected_sign_string);
    assert.equal(sha256Hex(note.expected_sign_string), note.expected_sha256_hex);
    const pub = new X509Certificate(note.unionpay_sign_certificate_pem).publicKey;
    assert.ok(digestVerify(note.expected_sign_string, fields.signature as string, pub));
    assert.equal(digestSign(note.expected_sign_string, createPrivateKey(note.unionpay_sign_private_key_pem_SIMULATOR_ONLY)), note.expected_signature);
    for (const [k, v] of [['txnAmt', '1001'], ['respCode', '01'], ['orderId', '20240101120000002']] as const) {
      assert.equal(digestVerify(acpSignString({ ...fields, [k]: v }, false), fields.signature as string, pub), false, `${k} changed`);
    }
    assert.equal(digestVerify(acpSignString({ ...fields, reqReserved: '' }, false), fields.signature as string, pub), false, 'an added empty field counts on verification');
    assert.equal(digestVerify(note.expected_sign_string, 'not base64!', pub), false);
  });

  test('the vector notification survives a form round trip and the k=v parser', () => {
    const fields = note.fields as Record<string, string>;
    const form = Object.fromEntries(new URLSearchParams(new URLSearchParams(fields).toString()));
    assert.deepEqual(form, fields);
    assert.deepEqual(parseAcpKv(formatAcpKv(fields)), fields, 'PEM newlines and base64 "=" survive k=v');
  });
});

describe('k=v answers', () => {
  test('& and = inside {…} and […] stay in the value; nesting counts; outer braces unwrap', () => {
    const text = 'respCode=00&reqReserved={a=1&b={c=2&d=3}}&riskRateInfo={commodityName=测试&x=y}&list=[{k=v&k2=v2}]&respMsg=成功[0000000]&empty=&last=x=y';
    assert.deepEqual(parseAcpKv(text), {
      respCode: '00',
      reqReserved: '{a=1&b={c=2&d=3}}',
      riskRateInfo: '{commodityName=测试&x=y}',
      list: '[{k=v&k2=v2}]',
      respMsg: '成功[0000000]',
      empty: '',
      last: 'x=y',
    });
    assert.deepEqual(parseAcpKv(`{${text}}`), parseAcpKv(text));
    assert.deepEqual(parseAcpKv('a=1&flag&b=2'), { a: '1', flag: '', b: '2' });
    assert.throws(() => parseAcpKv('a=1&=2'), SyntaxError);
  });

  test('service-provider sign string drops empty values and signature; numbers as text', () => {
    assert.equal(spSignString({ txnAmt: 100, orderNo: 'P1', signature: 'x', empty: '', nil: null, termInfo: '{"ip":"1.2.3.4"}', a: { b: 1 } }), 'a={"b":1}&orderNo=P1&termInfo={"ip":"1.2.3.4"}&txnAmt=100');
  });

  test('times are GMT+8 yyyyMMddHHmmss; invalid dates refused; the clearing day turns at 23:00', () => {
    const ms = Date.UTC(2024, 0, 1, 4, 0, 0);
    assert.equal(acpTime(ms), '20240101120000');
    assert.equal(parseAcpTime('20240101120000'), ms);
    assert.equal(parseAcpTime('20240230120000'), undefined);
    assert.equal(clearingDay(parseAcpTime('20240101225959') as number), '20240101');
    assert.equal(clearingDay(parseAcpTime('20240101230000') as number), '20240102');
  });
});

describe('certificates', () => {
  let m: KeyMaterial;
  let trust: TrustAnchors;
  before(async () => {
    m = await generateKeyMaterial();
    trust = { middle: new X509Certificate(m.middleCertPem), root: new X509Certificate(m.rootCertPem), strictCn: true };
  });

  test('a PFX issued by the sandbox loads with its password: key, certificate, decimal certId', async () => {
    const issued = await issueSigningPfx(m, '777290058110048', 'pw123456');
    const signer = loadPfx(issued.pfxBase64, 'pw123456');
    assert.equal(signer.certId, issued.certId);
    assert.match(signer.certId, /^\d+$/);
    const sig = digestSign('a=1', signer.privateKey);
    assert.ok(digestVerify('a=1', sig, new X509Certificate(issued.certificatePem).publicKey));
    assert.throws(() => loadPfx(issued.pfxBase64, 'wrong'), CertificateError);
    assert.throws(() => loadPfx('bm90IGEgcGZ4', 'pw'), CertificateError);
  });

  test('the vector merchant key and certificate, packed as a PFX, give the vector certId', () => {
    const req = V.consume_front_request;
    const pfx = buildPfx(req.merchant_private_key_pem, [req.merchant_certificate_pem], '000000');
    assert.equal(loadPfx(pfx, '000000').certId, '69042905377');
  });

  test('UnionPay signing certificate: accepted when it chains to middle and root and names 中国银联股份有限公司', () => {
    const leaf = verifyUnionPayCert(m.signCertPem, trust);
    assert.ok(leaf.subject.includes(UNIONPAY_CN));
  });

  test('a wrong chain is refused: other root, other middle, self-signed, merchant certificate, expired', async () => {
    const other = await generateKeyMaterial();
    assert.throws(() => verifyUnionPayCert(other.signCertPem, trust), /not issued by the configured UnionPay middle/);
    assert.throws(() => verifyUnionPayCert(m.signCertPem, { ...trust, root: new X509Certificate(other.rootCertPem) }), /not issued by the configured UnionPay root/);
    assert.throws(() => verifyUnionPayCert(m.signCertPem, { ...trust, middle: new X509Certificate(other.middleCertPem) }), CertificateError);
    assert.throws(() => verifyUnionPayCert(V.back_notification.unionpay_sign_certificate_pem, trust), CertificateError, 'the vector certificate is self-signed');
    const merchant = await issueSigningPfx(m, '777290058110048');
    assert.throws(() => verifyUnionPayCert(merchant.certificatePem, trust), /does not belong to UnionPay/, 'same CA, but not UnionPay');
    const pair = await generateRsaPair();
    const expired = await issueCertificate({
      subject: `CN=041@Z1@${UNIONPAY_CN}@00000001`,
      issuer: 'C=CN, O=China Financial Certification Authority, CN=CFCA ACS OCA31 (Polypay sandbox)',
      subjectPublicKeyPem: pair.publicKeyPem,
      issuerPrivateKeyPem: m.middlePrivateKeyPem,
      ca: false,
      notBefore: new Date(Date.now() - 2 * 86400e3),
      notAfter: new Date(Date.now() - 86400e3),
    });
    assert.throws(() => verifyUnionPayCert(expired, trust), /validity/);
    assert.throws(() => verifyUnionPayCert('garbage', trust), /not a readable/);
  });

  test('relaxed CN check (test environment) also accepts 00040000:SIGN, never a merchant CN', async () => {
    const pair = await generateRsaPair();
    const testCert = await issueCertificate({
      subject: 'CN=041@Z1@00040000:SIGN@00000001',
      issuer: 'C=CN, O=China Financial Certification Authority, CN=CFCA ACS OCA31 (Polypay sandbox)',
      subjectPublicKeyPem: pair.publicKeyPem,
      issuerPrivateKeyPem: m.middlePrivateKeyPem,
      ca: false,
    });
    assert.throws(() => verifyUnionPayCert(testCert, trust), CertificateError);
    assert.ok(verifyUnionPayCert(testCert, { ...trust, strictCn: false }));
    const merchant = await issueSigningPfx(m, '777290058110048');
    assert.throws(() => verifyUnionPayCert(merchant.certificatePem, { ...trust, strictCn: false }), CertificateError);
    assert.ok(createPublicKey(m.spPublicKeyPem));
  });
});
