// @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';

/**
 * Certificate building blocks for channel simulators that run their own sandbox PKI (root and
 * intermediate CAs, signing certificates, merchant certificates). RSA-2048 with SHA-256, issued
 * through @peculiar/x509 so no certificate encoding is hand-written.
 */

x509.cryptoProvider.set(webcrypto);

const generateKeyPairAsync = promisify(generateKeyPair);
const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;
export const YEAR_MS = 365 * DAY_MS;

export interface PemPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function generateRsaPair(): Promise<PemPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A positive serial without a leading zero byte, `bytes` long (hex). */
export function randomSerial(bytes = 16): string {
  const b = randomBytes(bytes);
  b[0] = 0x10 + ((b[0] ?? 0) % 0x70);
  return b.toString('hex');
}

async function signingKey(privateKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, RSA_SIGN, false, ['sign']);
}

async function publicCryptoKey(publicKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', der, RSA_SIGN, true, ['verify']);
}

export interface IssueOptions {
  /** Distinguished name, e.g. `C=CN, O=…, CN=…`. */
  subject: string;
  subjectPublicKeyPem: string;
  /** Omit for a self-signed certificate (then `issuerPrivateKeyPem` is the subject's own key). */
  issuer?: string;
  issuerPrivateKeyPem: string;
  ca: boolean;
  /** Hex serial; random when absent. */
  serialNumber?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Subject alternative names of a TLS server certificate (IP addresses or host names); its key usage then also allows key encipherment. */
  altNames?: readonly string[];
}

/** One certificate (PEM). Validity defaults to yesterday … five years (CAs: ten). */
export async function issueCertificate(o: IssueOptions): Promise<string> {
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serialNumber ?? randomSerial(),
    subject: o.subject,
    issuer: o.issuer ?? o.subject,
    notBefore: o.notBefore ?? new Date(now - DAY_MS),
    notAfter: o.notAfter ?? new Date(now + (o.ca ? 10 : 5) * YEAR_MS),
    signingAlgorithm: RSA_SIGN,
    publicKey: await publicCryptoKey(o.subjectPublicKeyPem),
    signingKey: await signingKey(o.issuerPrivateKeyPem),
    extensions: o.ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)]
      : [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (o.altNames?.length ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.nonRepudiation), true),
          ...(o.altNames?.length ? [new x509.SubjectAlternativeNameExtension(o.altNames.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })))] : []),
        ],
  });
  return cert.toString('pem');
}
