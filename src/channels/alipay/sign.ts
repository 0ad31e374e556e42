import { X509Certificate, createHash, createPrivateKey, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * Alipay gateway-protocol primitives (protocols.md §C.2, §C.3, §C.5, §C.6), written from the
 * protocol text with node:crypto only. The gateway's client signs requests through the official
 * alipay-sdk; these functions serve the simulator, notification and return-URL verification,
 * and the vector tests — so the simulator never shares the SDK's code, and an oracle test that
 * pits the SDK against the simulator can catch a bug on either side.
 */

/** Request signing keeps sign_type (§C.2); notifications and return URLs drop it (§C.5). */
export const REQUEST_UNSIGNED = ['sign'] as const;
export const NOTIFY_UNSIGNED = ['sign', 'sign_type'] as const;

/**
 * The sign content: every parameter except the excluded ones, empty values dropped, keys in
 * plain ASCII order (JS sort on ASCII keys), `k=v` joined by `&`, raw (decoded) values.
 */
export function signContent(params: Readonly<Record<string, string | undefined>>, exclude: readonly string[]): string {
  return Object.keys(params)
    .filter((k) => !exclude.includes(k) && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/** SHA256withRSA ("RSA2"), base64. */
export function rsa2Sign(content: string, privateKey: KeyObject): string {
  return createSign('RSA-SHA256').update(content, 'utf8').sign(privateKey, 'base64');
}

export function rsa2Verify(content: string, signature: string, publicKey: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return createVerify('RSA-SHA256').update(content, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/** `alipay.trade.precreate` → `alipay_trade_precreate_response` (§C.3). */
export function responseKey(method: string): string {
  return `${method.replaceAll('.', '_')}_response`;
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000; // Asia/Shanghai, no DST since 1991

/** Alipay times are `yyyy-MM-dd HH:mm:ss` in GMT+8, whatever the server's own time zone. */
export function chinaTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError('invalid time');
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

const CHINA_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function parseChinaTime(value: string): number | undefined {
  const m = CHINA_TIME.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - CHINA_OFFSET_MS;
  // Reject 2024-02-30 and friends: Date.UTC silently rolls them over.
  return Number.isNaN(ms) || chinaTime(ms) !== value ? undefined : ms;
}

/**
 * Keys as Alipay's tools hand them out: PEM (PKCS#8 or PKCS#1) or the bare base64 body the
 * open platform shows. Returned as KeyObjects so nothing downstream re-parses per call.
 */
export function loadAlipayPrivateKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----')) return createPrivateKey(t);
  const der = Buffer.from(t.replace(/\s+/g, ''), 'base64');
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
  }
}

export function loadAlipayPublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----')) return createPublicKey(t);
  return createPublicKey({ key: Buffer.from(t.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
}

export function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

/** Splits a PEM bundle (Alipay's root "certificate" holds several) into single certificates. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Certificate SN (§C.6): md5 of the issuer DN — attributes in reverse order of appearance,
 * `short=value` joined by `,` — followed by the decimal serial number. This is what
 * alipay-sdk's antcertutil computes; a test cross-checks the two.
 */
export function certSn(pem: string): string {
  const cert = new X509Certificate(pem);
  const issuer = cert.issuer.split('\n').reverse().join(',');
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10);
  return createHash('md5').update(issuer + serial, 'utf8').digest('hex');
}

/**
 * Root SN: the SNs of the bundle's RSA certificates joined by `_`. Alipay's root bundle also
 * holds an SM2 certificate, which the SDK skips by its signature algorithm; for the
 * self-signed roots in a bundle "signed with RSA" is "has an RSA key", which node can tell.
 */
export function rootCertSn(bundle: string): string {
  return splitPemBundle(bundle)
    .filter((pem) => {
      try {
        return new X509Certificate(pem).publicKey.asymmetricKeyType === 'rsa';
      } catch {
        return false; // a curve node cannot load (SM2) is not RSA either
      }
    })
    .map(certSn)
    .join('_');
}
