import { randomBytes, randomInt, createHash } from 'node:crypto';

/** WeChat prints times in China Standard Time with an explicit offset (protocols.md conventions). */
const CST_OFFSET_MS = 8 * 3600 * 1000;

/** RFC 3339 with +08:00, e.g. 2018-06-08T10:34:56+08:00. */
export function rfc3339(ms: number): string {
  return `${new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** yyyyMMddHHmmss in CST, used inside prepay ids and event ids. */
export function cstDigits(ms: number): string {
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an RFC 3339 timestamp, or undefined when the text is not one (Date.parse alone is too lenient). */
export function parseRfc3339(text: string): number | undefined {
  if (!RFC3339_RE.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function digits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return out.slice(0, n);
}

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function alnum(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[randomInt(0, ALNUM.length)];
  return out;
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** `wx` + 14-digit CST time + 20 hex chars (shape of real prepay ids, e.g. wx201410272009395522657a690389285100). */
export function prepayId(now: number): string {
  return `wx${cstDigits(now)}${hex(10)}`;
}

/** 28 digits starting 42000: 42000 + 5 random + yyyyMMdd + 10 random. */
export function transactionId(now: number): string {
  return `42000${digits(5)}${cstDigits(now).slice(0, 8)}${digits(10)}`;
}

/** 29 digits starting 50, like 50000000382019052709732678859. */
export function refundId(now: number): string {
  return `50${digits(9)}${cstDigits(now).slice(0, 8)}${digits(10)}`;
}

export function eventId(now: number): string {
  return `EV-${cstDigits(now)}${digits(6)}`;
}

/** 12 ASCII chars: the AES-GCM IV is the nonce's ASCII bytes (protocols.md §A.5). */
export function gcmNonce(): string {
  return alnum(12);
}

export function requestId(): string {
  return hex(16).toUpperCase();
}

/**
 * A stable sandbox openid per appid, so the same "user" pays every order of an app unless the
 * caller names one. Shape of real openids: 28 chars starting with "o".
 */
export function sandboxOpenid(appid: string): string {
  return `o${createHash('sha256').update(`polypay-sandbox-payer:${appid}`).digest('base64url').slice(0, 27)}`;
}

/** Deterministic JSON (sorted keys) used to compare "same params" on idempotent requests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** yyyy-MM-dd HH:mm:ss in CST, the time format of v2 refund results and bills. */
export function cstDateTime(ms: number): string {
  const d = cstDigits(ms);
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)} ${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}`;
}
