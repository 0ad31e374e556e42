import type { KeyObject } from 'node:crypto';
import { rsaSign, rsaVerify, type RsaHash } from '../rsa.ts';
import { ANSWER_SIGN_HASH, REPLY_SIGN_TYPE } from './protocol.ts';

/**
 * ICBC API 开放平台 signatures (protocols.md §F.5, docs/channels/icbc.md I4–I9), used by the client
 * and the simulator alike:
 *
 *   requests and notifications: `{path}?{k=v&…}` over every parameter but `sign`, keys sorted,
 *                               raw (not URL-encoded) values, empty ones left out;
 *   answers:                    the raw text of the `response_biz_content` value exactly as it
 *                               stands in the body (never a re-serialisation), signed by the gateway;
 *   the merchant's reply to a notification: the text between the outer `{` and `,"sign"`.
 */

export function icbcSignContent(path: string, params: Readonly<Record<string, string | undefined>>): string {
  const pairs = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`);
  return `${path}?${pairs.join('&')}`;
}

export function signIcbcParams(path: string, params: Readonly<Record<string, string | undefined>>, hash: RsaHash, key: KeyObject): string {
  return rsaSign(hash, icbcSignContent(path, params), key);
}

export function verifyIcbcParams(path: string, params: Readonly<Record<string, string | undefined>>, hash: RsaHash, key: KeyObject): boolean {
  const sign = params.sign;
  return typeof sign === 'string' && sign !== '' && rsaVerify(hash, icbcSignContent(path, params), sign, key);
}

export class IcbcEnvelopeError extends Error {}

/**
 * The raw text of each member of a top-level JSON object, as it stands in `text`. Written here
 * because JSON.parse keeps no source positions and a signature covers exact bytes; the text is
 * first checked to be valid JSON, so the scanner only has to track strings and nesting.
 */
export function rawMembers(text: string): Map<string, string> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new IcbcEnvelopeError('the answer is not a JSON object');
  } catch (err) {
    if (err instanceof IcbcEnvelopeError) throw err;
    throw new IcbcEnvelopeError('the answer is not JSON');
  }
  const out = new Map<string, string>();
  let i = text.indexOf('{') + 1;
  const skipWs = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i += 1;
  };
  const scanString = (): void => {
    i += 1; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
  };
  for (;;) {
    skipWs();
    if (text[i] === '}') break;
    const keyStart = i;
    scanString();
    const name = JSON.parse(text.slice(keyStart, i)) as string;
    skipWs();
    i += 1; // colon
    skipWs();
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '"') {
        scanString();
        if (depth === 0) break;
        continue;
      }
      if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth -= 1;
        if (depth === 0) {
          i += 1;
          break;
        }
      } else if (depth === 0 && (c === ',' || /\s/.test(c))) break;
      i += 1;
    }
    out.set(name, text.slice(start, i));
    skipWs();
    if (text[i] === ',') i += 1;
  }
  return out;
}

/** An answer as the gateway sends it: the business JSON emitted once, its exact text signed. */
export function sealIcbcAnswer(biz: Record<string, unknown>, key: KeyObject, o: { forge?: boolean } = {}): string {
  const raw = JSON.stringify(biz);
  const sign = rsaSign(ANSWER_SIGN_HASH, o.forge ? `${raw} ` : raw, key);
  return `{"response_biz_content":${raw},"sign":${JSON.stringify(sign)}}`;
}

/** Verifies an answer over the raw `response_biz_content` text and parses it. */
export function openIcbcAnswer(body: string, key: KeyObject): { biz: Record<string, unknown>; verified: boolean } {
  const members = rawMembers(body);
  const raw = members.get('response_biz_content');
  if (raw === undefined || !raw.startsWith('{')) throw new IcbcEnvelopeError('the answer has no response_biz_content object');
  const signText = members.get('sign');
  const sign = signText?.startsWith('"') ? (JSON.parse(signText) as string) : '';
  return { biz: JSON.parse(raw) as Record<string, unknown>, verified: sign !== '' && rsaVerify(ANSWER_SIGN_HASH, raw, sign, key) };
}

/**
 * The merchant's answer to a notification (I9): the reply text is built once, and exactly the
 * bytes `"response_biz_content":{…},"sign_type":"RSA2"` are signed with the merchant's key.
 */
export function icbcNotifyReply(biz: { return_code: number; return_msg: string; msg_id: string }, key: KeyObject): string {
  const signed = `"response_biz_content":${JSON.stringify({ return_code: biz.return_code, return_msg: biz.return_msg, msg_id: biz.msg_id })},"sign_type":"${REPLY_SIGN_TYPE}"`;
  return `{${signed},"sign":${JSON.stringify(rsaSign('sha256', signed, key))}}`;
}

/** The simulator's side: the reply's business fields when its signature verifies with the merchant's key, else undefined. */
export function openIcbcNotifyReply(body: string, key: KeyObject): Record<string, unknown> | undefined {
  const text = body.trim();
  const at = text.lastIndexOf(',"sign":');
  if (!text.startsWith('{') || !text.endsWith('}') || at < 0) return undefined;
  let members: Map<string, string>;
  try {
    members = rawMembers(text);
  } catch {
    return undefined;
  }
  const sign = members.get('sign');
  const raw = members.get('response_biz_content');
  if (!sign?.startsWith('"') || raw === undefined || members.get('sign_type') !== `"${REPLY_SIGN_TYPE}"`) return undefined;
  if (!rsaVerify('sha256', text.slice(1, at), JSON.parse(sign) as string, key)) return undefined;
  const biz: unknown = JSON.parse(raw);
  return typeof biz === 'object' && biz !== null && !Array.isArray(biz) ? (biz as Record<string, unknown>) : undefined;
}

/** yyyy-MM-dd HH:mm:ss in China time (GMT+8), whatever the server's zone. */
export function icbcTimestamp(ms: number): string {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function parseIcbcTimestamp(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - 8 * 3600 * 1000;
  return Number.isNaN(ms) || icbcTimestamp(ms) !== value ? undefined : ms;
}
