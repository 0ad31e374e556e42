import type { KeyObject } from 'node:crypto';
import iconv from 'iconv-lite';
import { rsaSign, rsaVerify } from '../rsa.ts';
import { ABC_CHARSET, ABC_ENVELOPE } from './protocol.ts';

/**
 * ABC TrustPay's JSON envelope (protocols.md §F.4, docs/channels/abc.md A2–A3):
 * `{"MSG":{"Message":{…},"Signature-Algorithm":"SHA1withRSA","Signature":"…"}}`, GB18030 on the
 * wire, the signature over the GB18030 bytes of the `Message` value exactly as it stands in the
 * text. Messages are emitted once and signed as emitted; received ones are verified over the raw
 * substring, never over a re-serialisation. Used by the client and the simulator alike.
 */

export class AbcEnvelopeError extends Error {}

export const encodeAbc = (text: string): Buffer => iconv.encode(text, ABC_CHARSET);
export const decodeAbc = (bytes: Buffer): string => iconv.decode(bytes, ABC_CHARSET);

/** SHA1withRSA over the GB18030 bytes of the text, base64. */
export function abcSign(text: string, key: KeyObject): string {
  return rsaSign('sha1', encodeAbc(text), key);
}

export function abcVerify(text: string, signature: string, key: KeyObject): boolean {
  return rsaVerify('sha1', encodeAbc(text), signature, key);
}

/** The whole envelope text: Message emitted once, its signature appended (or none, for unsigned refusals). */
export function sealAbcMessage(message: Record<string, unknown>, key: KeyObject | undefined): string {
  const text = JSON.stringify(message);
  if (!key) return `{"MSG":{"Message":${text}}}`;
  return `{"MSG":{"Message":${text},"Signature-Algorithm":"${ABC_ENVELOPE.signatureAlgorithm}","Signature":"${abcSign(text, key)}"}}`;
}

/** Index just past a JSON string starting at `i` (a `"`). */
function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
  throw new AbcEnvelopeError('unterminated string');
}

/** Index just past the JSON value starting at `i` (after whitespace). */
function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') j = skipString(s, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new AbcEnvelopeError('unbalanced brackets');
  }
  const m = /^[^,}\]\s]+/.exec(s.slice(i));
  if (!m) throw new AbcEnvelopeError('a value is missing');
  return i + m[0].length;
}

const ws = (s: string, i: number): number => {
  while (i < s.length && /\s/.test(s[i] as string)) i++;
  return i;
};

/** The exact text of member `key` of the object starting at `start`; undefined when absent. */
function rawMember(s: string, start: number, key: string): { from: number; to: number } | undefined {
  let i = ws(s, start);
  if (s[i] !== '{') throw new AbcEnvelopeError('an object was expected');
  i = ws(s, i + 1);
  while (s[i] !== '}') {
    if (s[i] !== '"') throw new AbcEnvelopeError('a member name was expected');
    const nameEnd = skipString(s, i);
    const name = JSON.parse(s.slice(i, nameEnd)) as string;
    i = ws(s, nameEnd);
    if (s[i] !== ':') throw new AbcEnvelopeError('":" was expected');
    const from = ws(s, i + 1);
    const to = skipValue(s, from);
    if (name === key) return { from, to };
    i = ws(s, to);
    if (s[i] === ',') i = ws(s, i + 1);
    else if (s[i] !== '}') throw new AbcEnvelopeError('"," or "}" was expected');
  }
  return undefined;
}

export interface OpenedEnvelope {
  message: Record<string, unknown>;
  /** The exact Message text (what the signature covers). */
  messageText: string;
  signature: string | undefined;
}

/** Parses an envelope without trusting it: the caller verifies `signature` over `messageText`. */
export function openAbcEnvelope(text: string): OpenedEnvelope {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AbcEnvelopeError('not JSON');
  }
  const msg = parsed?.MSG as Record<string, unknown> | undefined;
  if (!msg || typeof msg !== 'object' || typeof msg.Message !== 'object' || msg.Message === null) throw new AbcEnvelopeError('no MSG.Message object');
  const outer = rawMember(text, 0, 'MSG') as { from: number; to: number };
  const inner = rawMember(text, outer.from, 'Message') as { from: number; to: number };
  const algorithm = msg['Signature-Algorithm'];
  const signature = typeof msg.Signature === 'string' && msg.Signature !== '' ? msg.Signature : undefined;
  if (signature !== undefined && algorithm !== ABC_ENVELOPE.signatureAlgorithm) throw new AbcEnvelopeError(`unsupported Signature-Algorithm ${String(algorithm)}`);
  return { message: msg.Message as Record<string, unknown>, messageText: text.slice(inner.from, inner.to), signature };
}

/** The Message of a request or answer: version, format, merchant and the TrxRequest / TrxResponse. */
export function abcMessage(merchantId: string, body: { TrxRequest: Record<string, unknown> } | { TrxResponse: Record<string, unknown> }): Record<string, unknown> {
  return { Version: ABC_ENVELOPE.version, Format: ABC_ENVELOPE.format, Merchant: { ECMerchantType: ABC_ENVELOPE.merchantType, MerchantID: merchantId }, ...body };
}
