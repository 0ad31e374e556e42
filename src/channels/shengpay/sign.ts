import type { KeyObject } from 'node:crypto';
import { rsaSign, rsaVerify } from '../rsa.ts';
import { SIGN_TYPES, type ShengpaySignType } from './protocol.ts';

/**
 * Shengpay's signature (protocols.md §F.3, docs/channels/shengpay.md S3–S4): every top-level
 * field except `sign`, empty and null values dropped, keys in ASCII order (PHP ksort on these
 * ASCII names), `k=v` joined by `&`, values as they are sent — a JSON-string field such as
 * `extra` takes part as its exact text, numbers as their decimal digits. RSA = SHA1withRSA,
 * RSA2 = SHA256withRSA, base64. Used by the client and the simulator alike.
 */

export function shengpaySignContent(fields: Readonly<Record<string, unknown>>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign')
    .sort()
    .flatMap((k) => {
      const v = fields[k];
      if (v === undefined || v === null || v === '') return [];
      if (typeof v === 'string') return [`${k}=${v}`];
      if (typeof v === 'number' && Number.isSafeInteger(v)) return [`${k}=${v}`];
      // Objects and arrays never take part (the PHP SDK skips arrays); we never send them.
      if (typeof v === 'object') return [];
      throw new TypeError(`field ${k} cannot be signed (${typeof v})`);
    })
    .join('&');
}

export function isShengpaySignType(value: unknown): value is ShengpaySignType {
  return typeof value === 'string' && Object.hasOwn(SIGN_TYPES, value);
}

/** Adds signType and sign. */
export function signShengpay<T extends Record<string, unknown>>(fields: T, signType: ShengpaySignType, key: KeyObject): T & { signType: ShengpaySignType; sign: string } {
  const withType = { ...fields, signType };
  return { ...withType, sign: rsaSign(SIGN_TYPES[signType], shengpaySignContent(withType), key) };
}

/** Verifies `sign` under the `signType` the fields name (RSA when absent). */
export function verifyShengpay(fields: Readonly<Record<string, unknown>>, key: KeyObject): boolean {
  const sign = fields.sign;
  const type = fields.signType ?? 'RSA';
  if (typeof sign !== 'string' || sign === '' || !isShengpaySignType(type)) return false;
  return rsaVerify(SIGN_TYPES[type], shengpaySignContent(fields), sign, key);
}
