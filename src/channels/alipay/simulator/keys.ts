// @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { certSn, rootCertSn } from '../sign.ts';

/**
 * The simulated Alipay's key material (protocols.md §C.6, §G). Two distinct RSA keys, one per
 * key mode, so a client verifying a certificate-mode answer with the public-key-mode key (or
 * the reverse) fails as it would in production:
 *   - the "支付宝公钥" key signs answers and notifications of public-key-mode apps;
 *   - the key inside alipayCertPublicKey_RSA2.crt signs those of certificate-mode apps.
 * A sandbox root CA (RSA) issues that certificate and every app's public-key certificate. The
 * root bundle handed out also holds an ECDSA root that stands in for Alipay's SM2 root: the SN
 * rule must skip it.
 */

x509.cryptoProvider.set(webcrypto);
const generateKeyPairAsync = promisify(generateKeyPair);
const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const ROOT_NAME = 'C=CN, O=Ant Financial, OU=Certification Authority, CN=Ant Financial Certification Authority R1 (Polypay sandbox)';
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface KeyMaterial {
  alipayPrivateKeyPem: string;
  alipayPublicKeyPem: string;
  rootPrivateKeyPem: string;
  /** PEM bundle: the ECDSA stand-in first, then the RSA root (like Alipay's, whose first certificate is not RSA). */
  rootBundlePem: string;
  alipayCertPrivateKeyPem: string;
  alipayCertPem: string;
}

export interface SimKeys {
  material: KeyMaterial;
  alipayKey: KeyObject;
  alipayCertKey: KeyObject;
  alipayCertSn: string;
  rootCertSn: string;
}

export interface PemPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function generateRsaPair(): Promise<PemPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = 0x10 + ((bytes[0] ?? 0) % 0x70); // positive, no leading zero
  return bytes.toString('hex');
}

async function signingKey(privateKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, RSA_SIGN, false, ['sign']);
}

async function publicCryptoKey(publicKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', der, RSA_SIGN, true, ['verify']);
}

/** A certificate for `subjectPublicKeyPem`, issued by the sandbox root. */
export async function issueCertificate(material: Pick<KeyMaterial, 'rootPrivateKeyPem'>, subjectPublicKeyPem: string, subject: string): Promise<string> {
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ROOT_NAME,
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 5 * YEAR_MS),
    signingAlgorithm: RSA_SIGN,
    publicKey: await publicCryptoKey(subjectPublicKeyPem),
    signingKey: await signingKey(material.rootPrivateKeyPem),
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return cert.toString('pem');
}

export async function generateKeyMaterial(): Promise<KeyMaterial> {
  const [alipay, root, alipayCert] = await Promise.all([generateRsaPair(), generateRsaPair(), generateRsaPair()]);
  const now = Date.now();
  const rootCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: ROOT_NAME,
    issuer: ROOT_NAME,
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 10 * YEAR_MS),
    signingAlgorithm: RSA_SIGN,
    publicKey: await publicCryptoKey(root.publicKeyPem),
    signingKey: await signingKey(root.privateKeyPem),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const ecKeys = (await webcrypto.subtle.generateKey(ec, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ecRoot = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'C=CN, O=Ant Financial, OU=Certification Authority, CN=Ant Financial Certification Authority E1 (Polypay sandbox)',
    keys: ecKeys,
    signingAlgorithm: ec,
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 10 * YEAR_MS),
  });
  const material = {
    alipayPrivateKeyPem: alipay.privateKeyPem,
    alipayPublicKeyPem: alipay.publicKeyPem,
    rootPrivateKeyPem: root.privateKeyPem,
    rootBundlePem: `${ecRoot.toString('pem')}\n${rootCert.toString('pem')}\n`,
    alipayCertPrivateKeyPem: alipayCert.privateKeyPem,
    alipayCertPem: '',
  };
  material.alipayCertPem = await issueCertificate(material, alipayCert.publicKeyPem, 'C=CN, O=支付宝(中国)网络技术有限公司, OU=Alipay Sandbox, CN=支付宝(中国)网络技术有限公司-RSA2');
  return material;
}

export function loadKeys(material: KeyMaterial): SimKeys {
  return {
    material,
    alipayKey: createPrivateKey(material.alipayPrivateKeyPem),
    alipayCertKey: createPrivateKey(material.alipayCertPrivateKeyPem),
    alipayCertSn: certSn(material.alipayCertPem),
    rootCertSn: rootCertSn(material.rootBundlePem),
  };
}
