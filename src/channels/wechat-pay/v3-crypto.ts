import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * WeChat Pay API v3 cryptography (protocols.md §A.3–A.6), shared by our client and our
 * simulator. Vectors: ../shared/reference/vectors/wechatpay-v3-*.json. The simulator shares
 * this file, so the oracle test against wechatpay-axios-plugin guards against symmetric bugs.
 */

export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` — URL is path + query exactly as sent. */
export function requestMessage(method: string, canonicalUrl: string, timestamp: string, nonce: string, body: string): string {
  return `${method}\n${canonicalUrl}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** `TIMESTAMP\nNONCE\nBODY\n` — responses and notifications. */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

export function rsaSign(message: string, privateKey: KeyObject): string {
  return sign('RSA-SHA256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/**
 * The same signature computed on libuv's thread pool: an RSA-2048 sign is ~0.3 ms of CPU, the
 * largest single cost of a create-order, and this keeps it off the event loop under load.
 */
export function rsaSignAsync(message: string, privateKey: KeyObject): Promise<string> {
  return new Promise((resolve, reject) => {
    sign('RSA-SHA256', Buffer.from(message, 'utf8'), privateKey, (err, signature) => (err ? reject(err) : resolve(signature.toString('base64'))));
  });
}

export function rsaVerify(message: string, signatureB64: string, publicKey: KeyObject): boolean {
  try {
    return verify('RSA-SHA256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

export interface AuthorizationParts {
  mchid: string;
  nonce_str: string;
  signature: string;
  timestamp: string;
  serial_no: string;
}

export function buildAuthorization(p: AuthorizationParts): string {
  return `${AUTH_SCHEME} mchid="${p.mchid}",nonce_str="${p.nonce_str}",signature="${p.signature}",timestamp="${p.timestamp}",serial_no="${p.serial_no}"`;
}

/** Parses an Authorization header; null when the scheme or any of the five fields is missing. Field order is free. */
export function parseAuthorization(header: string | undefined): AuthorizationParts | null {
  if (!header || !header.startsWith(`${AUTH_SCHEME} `)) return null;
  const fields: Record<string, string> = {};
  const re = /([a-z_]+)="([^"]*)"/g;
  for (const m of header.slice(AUTH_SCHEME.length + 1).matchAll(re)) fields[m[1] as string] = m[2] as string;
  const { mchid, nonce_str, signature, timestamp, serial_no } = fields;
  if (!mchid || !nonce_str || !signature || !timestamp || !serial_no) return null;
  return { mchid, nonce_str, signature, timestamp, serial_no };
}

/** AES-256-GCM as WeChat uses it: key = 32 ASCII bytes, IV = nonce ASCII, AAD ASCII, ciphertext = base64(ct ‖ tag). */
export function aesGcmDecrypt(apiV3Key: string, nonce: string, associatedData: string, ciphertextB64: string): string {
  const key = Buffer.from(apiV3Key, 'utf8');
  if (key.length !== 32) throw new Error('APIv3 key must be 32 bytes');
  const data = Buffer.from(ciphertextB64, 'base64');
  if (data.length < 17) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
}

export function aesGcmEncrypt(apiV3Key: string, nonce: string, associatedData: string, plaintext: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

/** JSAPI / mini-program paySign over `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function jsapiPaySign(appId: string, timeStamp: string, nonceStr: string, pkg: string, merchantKey: KeyObject): string {
  return rsaSign(`${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`, merchantKey);
}

/** APP sign over `appid\ntimestamp\nnoncestr\nprepayid\n` (bare prepay id). */
export function appPaySign(appId: string, timestamp: string, nonceStr: string, prepayId: string, merchantKey: KeyObject): string {
  return rsaSign(`${appId}\n${timestamp}\n${nonceStr}\n${prepayId}\n`, merchantKey);
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** Accepts a PUBLIC KEY PEM or a CERTIFICATE PEM (platform certificate mode). */
export function loadPublicKey(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  return createPublicKey(pem);
}

/** Upper-case hex serial of a certificate, as WeChat prints it in Wechatpay-Serial. */
export function certificateSerial(pem: string): string {
  return new X509Certificate(pem).serialNumber.toUpperCase();
}

export const PROBE_SIGNATURE_PREFIX = 'WECHATPAY/SIGNTEST/';
