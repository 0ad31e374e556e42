import type { KeyObject } from 'node:crypto';
import { rsaSign, rsaVerify } from '../rsa.ts';
import { SIGN_TYPE } from './protocol.ts';

/**
 * 信联's signature as we assume it (docs/channels/xinlian.md X2): every top-level field but `sign`,
 * empty ones dropped, keys in ASCII order, `k=v` joined by `&` (numbers as their digits), then
 * SHA256withRSA, base64. Requests are signed with the merchant key; answers and notifications
 * with Xinlian's. Used by the client and the simulator alike.
 */

export type XlFields = Record<string, string | number>;

export function xinlianSignContent(fields: Readonly<Record<string, unknown>>): string {
  const pairs: string[] = [];
  for (const k of Object.keys(fields).sort()) {
    const v = fields[k];
    if (k === 'sign' || v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v))) throw new TypeError(`field ${k} cannot be signed`);
    pairs.push(`${k}=${v}`);
  }
  return pairs.join('&');
}

/** Adds signType and sign. */
export function signXinlian<T extends XlFields>(fields: T, key: KeyObject): T & { signType: string; sign: string } {
  const typed = { ...fields, signType: SIGN_TYPE };
  return { ...typed, sign: rsaSign('sha256', xinlianSignContent(typed), key) };
}

export function verifyXinlian(fields: Readonly<Record<string, unknown>>, key: KeyObject): boolean {
  const { sign } = fields;
  if (typeof sign !== 'string' || sign === '' || fields.signType !== SIGN_TYPE) return false;
  try {
    return rsaVerify('sha256', xinlianSignContent(fields), sign, key);
  } catch {
    return false;
  }
}

/** A parsed JSON object of scalar fields, or undefined. */
export function parseFlatJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
