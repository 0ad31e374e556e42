import { X509Certificate, createPrivateKey, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * RSA helpers shared by the channels that sign with plain RSA keys (盛付通, 京东支付, 农业银行):
 * keys as their tools hand them out, signatures in base64. Written on node:crypto only.
 */

/** PEM (PKCS#8 or PKCS#1) or the bare base64 body many Chinese key tools print. */
export function loadRsaPrivateKey(text: string): KeyObject {
  const t = text.trim();
  const key = t.startsWith('-----') ? createPrivateKey(t) : derPrivateKey(Buffer.from(t.replace(/\s+/g, ''), 'base64'));
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('not an RSA key');
  return key;
}

function derPrivateKey(der: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
  }
}

/** A public key as PEM (SPKI or PKCS#1), an X.509 certificate (PEM or bare base64 DER, e.g. a .cer): its key, or bare base64 SPKI. */
export function loadRsaPublicKey(text: string): KeyObject {
  const t = text.trim();
  const key = t.includes('BEGIN CERTIFICATE') ? new X509Certificate(t).publicKey : t.startsWith('-----') ? createPublicKey(t) : derPublicKey(Buffer.from(t.replace(/\s+/g, ''), 'base64'));
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('not an RSA key');
  return key;
}

function derPublicKey(der: Buffer): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return new X509Certificate(der).publicKey;
  }
}

export type RsaHash = 'sha1' | 'sha256';

const ALGORITHM: Record<RsaHash, string> = { sha1: 'RSA-SHA1', sha256: 'RSA-SHA256' };

/** SHA1withRSA / SHA256withRSA (PKCS#1 v1.5) over the bytes, base64. */
export function rsaSign(hash: RsaHash, content: string | Buffer, key: KeyObject): string {
  return createSign(ALGORITHM[hash]).update(content).sign(key, 'base64');
}

export function rsaVerify(hash: RsaHash, content: string | Buffer, signature: string, key: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return createVerify(ALGORITHM[hash]).update(content).verify(key, signature, 'base64');
  } catch {
    return false;
  }
}

export function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}
