import { createHash, createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * UnionPay signing primitives (protocols.md §D.3, §D.6), written from the rule read in the
 * UnionPay ACP SDK 5.1.0 (SDKUtil.sign / validate / parseQString) and jeequan/jeepay's
 * YsfSignUtils; checked against vectors/unionpay-acp-5.1.0.json. No npm implementation of
 * UnionPay exists that is worth depending on (stack.md), hence these few functions.
 *
 * Both gateways sign the same way: signature = base64( SHA256withRSA( lowercase hex of
 * SHA-256(sign string) ) ) — the hex *string* is signed, so SHA-256 is applied twice.
 */

export const ACP_VERSION = '5.1.0';
export const SIGN_METHOD_RSA = '01';

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export function digestSign(content: string, key: KeyObject): string {
  return createSign('RSA-SHA256').update(sha256Hex(content), 'utf8').sign(key, 'base64');
}

export function digestVerify(content: string, signature: string, key: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return createVerify('RSA-SHA256').update(sha256Hex(content), 'utf8').verify(key, signature, 'base64');
  } catch {
    return false;
  }
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * ACP sign string: every field but `signature`, keys in ASCII order, `k=v` joined by `&`, raw
 * values. Requests drop blank values before signing (the SDK's filterBlank); answers and
 * notifications are verified over every field they carry, empty ones included (coverMap2String).
 */
export function acpSignString(fields: Readonly<Record<string, string>>, dropBlank: boolean): string {
  return Object.keys(fields)
    .filter((k) => k !== 'signature' && (!dropBlank || fields[k]?.trim() !== ''))
    .sort(byKey)
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

/** A request ready to send: blank fields removed, `signature` added. `fields` must hold certId and signMethod. */
export function signAcpFields(fields: Readonly<Record<string, string>>, key: KeyObject): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v.trim() !== '' && k !== 'signature') kept[k] = v;
  return { ...kept, signature: digestSign(acpSignString(kept, false), key) };
}

/**
 * The service-provider JSON gateway's sign string (§D.6.2): keys sorted, `signature`, null and
 * empty values left out (YsfSignUtils.convertSignString — protocols.md says empty values are
 * kept; the code it cites drops them, and so do we). Non-string values render as JSON.
 */
export function spSignString(body: Readonly<Record<string, unknown>>): string {
  return Object.keys(body)
    .filter((k) => k !== 'signature' && body[k] !== undefined && body[k] !== null && body[k] !== '')
    .sort(byKey)
    .map((k) => {
      const v = body[k];
      return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    })
    .join('&');
}

/**
 * Parses an ACP `k=v&k=v` answer. Values are not URL-encoded and may carry `&` and `=` inside
 * `{…}` or `[…]` (reqReserved, riskRateInfo, customerInfo): a separator only counts outside
 * brackets. Nesting is counted, so `{a={b&c}&d=e}` stays one value. An answer wrapped in one
 * outer pair of braces is unwrapped first, as the SDK does. Throws on a segment without a key.
 */
export function parseAcpKv(text: string): Record<string, string> {
  let s = text.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
  if (s.startsWith('{') && s.endsWith('}') && /^\{[A-Za-z]\w*=/.test(s)) s = s.slice(1, -1);
  const out: Record<string, string> = {};
  let key: string | null = null;
  let buf = '';
  let depth = 0;
  const flush = (): void => {
    const k = key ?? buf;
    if (k === '') throw new SyntaxError('empty key in k=v answer');
    out[k] = key === null ? '' : buf;
    key = null;
    buf = '';
    depth = 0;
  };
  for (const ch of s) {
    if (key === null) {
      if (ch === '=') {
        key = buf;
        buf = '';
      } else if (ch === '&') flush();
      else buf += ch;
      continue;
    }
    if (ch === '{' || ch === '[') depth += 1;
    else if ((ch === '}' || ch === ']') && depth > 0) depth -= 1;
    if (ch === '&' && depth === 0) flush();
    else buf += ch;
  }
  if (key !== null || buf !== '') flush();
  return out;
}

/** Renders fields as an ACP answer (simulator side): `k=v&…`, raw values, in the given order. */
export function formatAcpKv(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000; // Asia/Shanghai, no DST since 1991

/** UnionPay times: `yyyyMMddHHmmss` in GMT+8 whatever the host's zone. */
export function acpTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError('invalid time');
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

export function parseAcpTime(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - CHINA_OFFSET_MS;
  // Date.UTC rolls 20240230 over to March; a round trip refuses it.
  return Number.isNaN(ms) || acpTime(ms) !== value ? undefined : ms;
}

/**
 * UnionPay's clearing day (清算日) as yyyyMMdd (settleDate is its MMDD): the day turns at 23:00
 * Beijing time, so a payment at 23:30 settles on the next date. ASSUMPTION (docs/channels/
 * unionpay.md, A3): the cut-off hour commonly quoted for 全渠道; not confirmed in official text.
 */
export function clearingDay(ms: number): string {
  return acpTime(ms + 3600 * 1000).slice(0, 8);
}
