import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Merchant request/response signature, compatible with Jeepay's JeepayKit.getSign
 * (jeepay.md §3.2): drop null/empty values, render `name=value&` (raw, not URL-encoded),
 * sort those strings with Java's String.CASE_INSENSITIVE_ORDER, append `key=<appSecret>`,
 * MD5, upper-case hex. `HMAC-SHA256` is our addition: the same base string, HMAC keyed by the
 * app secret (the WeChat v2 convention), upper-case hex.
 *
 * Vector (jeepay.md §3.2): the documented example string with key EWEFD123RGSRETYDFNGFGFGSHDFGH
 * → 84E1CA56F984502BBAC06EA6707157F5.
 */
export const SIGN_TYPES = ['MD5', 'HMAC-SHA256'] as const;
export type SignType = (typeof SIGN_TYPES)[number];

export function parseSignType(value: unknown): SignType | undefined {
  if (value === undefined || value === null || value === '') return 'MD5';
  if (typeof value !== 'string') return undefined;
  const v = value.toUpperCase().replace('_', '-');
  return (SIGN_TYPES as readonly string[]).includes(v) ? (v as SignType) : undefined;
}

/** Java's String.CASE_INSENSITIVE_ORDER, char by char (upper, then lower), then by length. */
export function javaCaseInsensitiveCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let c1 = a[i] as string;
    let c2 = b[i] as string;
    if (c1 !== c2) {
      c1 = c1.toUpperCase();
      c2 = c2.toUpperCase();
      if (c1 !== c2) {
        c1 = c1.toLowerCase();
        c2 = c2.toLowerCase();
        if (c1 !== c2) return c1.charCodeAt(0) - c2.charCodeAt(0);
      }
    }
  }
  return a.length - b.length;
}

export function renderValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export function signBase(params: Record<string, unknown>, secret: string): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (name === 'sign') continue;
    const rendered = renderValue(value);
    if (rendered !== undefined) parts.push(`${name}=${rendered}&`);
  }
  parts.sort(javaCaseInsensitiveCompare);
  return `${parts.join('')}key=${secret}`;
}

export function signParams(params: Record<string, unknown>, secret: string, signType: SignType = 'MD5'): string {
  const base = signBase(params, secret);
  const digest = signType === 'MD5' ? createHash('md5').update(base, 'utf8') : createHmac('sha256', secret).update(base, 'utf8');
  return digest.digest('hex').toUpperCase();
}

/** Constant-time; accepts lower-case hex like Jeepay does. */
export function verifySignature(params: Record<string, unknown>, secret: string, signType: SignType, sign: string): boolean {
  const expected = Buffer.from(signParams(params, secret, signType), 'utf8');
  const given = Buffer.from(sign.toUpperCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
