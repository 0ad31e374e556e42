import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * Certificates of the UnionPay channel (protocols.md §D.3):
 *  - the merchant's signing certificate arrives as a PKCS#12 file (.pfx) with a password;
 *    node-forge reads it (node:crypto has no PKCS#12 reader). `certId` is the certificate's
 *    serial number in decimal.
 *  - UnionPay's answers and notifications carry their own signing certificate
 *    (`signPubKeyCert`); it is trusted only if it chains to the configured middle and root
 *    certificates, is within its validity, and names 中国银联股份有限公司 (the SDK's CN check).
 */

export interface MerchantSigner {
  privateKey: KeyObject;
  certificate: X509Certificate;
  /** Decimal serial of the signing certificate. */
  certId: string;
}

export class CertificateError extends Error {}

/** Decimal serial of a certificate (node gives it in hex). */
export function decimalSerial(cert: X509Certificate): string {
  return BigInt(`0x${cert.serialNumber}`).toString(10);
}

/** Reads a base64 PFX. The first key and the certificate for that key are used, as the SDK's keystore alias loop does. */
export function loadPfx(pfxBase64: string, password: string): MerchantSigner {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const der = forge.util.decode64(pfxBase64.replace(/\s+/g, ''));
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), false, password);
  } catch {
    // forge's messages can quote internals of the file; never pass them on.
    throw new CertificateError('not a readable PKCS#12 file, or the password is wrong');
  }
  const bags = (type: string | undefined): forge.pkcs12.Bag[] => (type ? (p12.getBags({ bagType: type })[type] ?? []) : []);
  const { pkcs8ShroudedKeyBag, keyBag, certBag } = forge.pki.oids;
  const keyBags = [...bags(pkcs8ShroudedKeyBag), ...bags(keyBag)];
  const certBags = bags(certBag);
  const key = keyBags.find((b) => b.key)?.key;
  if (!key) throw new CertificateError('the PKCS#12 file holds no private key');
  const privateKey = createPrivateKey(forge.pki.privateKeyToPem(key));
  const publicPem = forge.pki.publicKeyToPem(forge.pki.setRsaPublicKey((key as forge.pki.rsa.PrivateKey).n, (key as forge.pki.rsa.PrivateKey).e));
  for (const bag of certBags) {
    if (!bag.cert) continue;
    const cert = new X509Certificate(forge.pki.certificateToPem(bag.cert));
    if (cert.publicKey.export({ type: 'spki', format: 'pem' }) === publicPem.replace(/\r\n/g, '\n')) return { privateKey, certificate: cert, certId: decimalSerial(cert) };
  }
  throw new CertificateError('the PKCS#12 file holds no certificate for its private key');
}

/** Builds a PFX (simulator side: the certificate file a sandbox merchant downloads). */
export function buildPfx(privateKeyPem: string, certificatePems: string[], password: string): string {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const certs = certificatePems.map((pem) => forge.pki.certificateFromPem(pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des', friendlyName: 'acp-sign' });
  return forge.util.encode64(forge.asn1.toDer(asn1).getBytes());
}

/** The production CN part (third `@` field of the subject CN) of UnionPay's signing certificate. */
export const UNIONPAY_CN = '中国银联股份有限公司';
/** What the SDK also accepts when CN checking is relaxed (its test environment). */
export const UNIONPAY_TEST_CN = '00040000:SIGN';

export interface TrustAnchors {
  middle: X509Certificate;
  root: X509Certificate;
  /** false: also accept the test environment's 00040000:SIGN (acp_sdk ifValidateCNName=false). */
  strictCn: boolean;
}

function cnOwner(cert: X509Certificate): string {
  const cn = cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '';
  return cn.split('@')[2] ?? '';
}

function within(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/**
 * Checks a `signPubKeyCert` and returns it parsed. The chain is exactly leaf → middle → root
 * (UnionPay's published layout); node:crypto gives the issuer-name match and the signature check
 * of each link, so the path logic here is two links long rather than a general PKIX builder.
 */
export function verifyUnionPayCert(pem: string, trust: TrustAnchors, now = Date.now()): X509Certificate {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pem);
  } catch {
    throw new CertificateError('signPubKeyCert is not a readable certificate');
  }
  if (!within(leaf, now)) throw new CertificateError('signPubKeyCert is outside its validity period');
  const { middle, root } = trust;
  if (!within(middle, now) || !within(root, now)) throw new CertificateError('a configured UnionPay CA certificate is outside its validity period');
  if (!middle.ca || !root.ca) throw new CertificateError('the configured middle/root certificates are not CA certificates');
  if (!leaf.checkIssued(middle) || !leaf.verify(middle.publicKey)) throw new CertificateError('signPubKeyCert was not issued by the configured UnionPay middle certificate');
  if (!middle.checkIssued(root) || !middle.verify(root.publicKey)) throw new CertificateError('the middle certificate was not issued by the configured UnionPay root certificate');
  if (!root.checkIssued(root) || !root.verify(root.publicKey)) throw new CertificateError('the configured root certificate is not self-signed');
  const owner = cnOwner(leaf);
  if (owner !== UNIONPAY_CN && (trust.strictCn || owner !== UNIONPAY_TEST_CN)) throw new CertificateError(`signPubKeyCert does not belong to UnionPay (CN owner "${owner}")`);
  return leaf;
}

export function readCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}
