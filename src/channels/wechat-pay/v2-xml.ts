import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/**
 * The flat `<xml><key>value</key>…</xml>` documents of WeChat Pay API v2 (protocols.md §B).
 * Values stay strings (parseTagValue:false: `total_fee` "088" or a 28-digit transaction id must
 * not become numbers); entity expansion is off (no billion laughs) and a DOCTYPE is refused
 * outright (no external entities). CDATA sections are kept apart from text so that only text
 * gets the five predefined entities and character references decoded, as XML defines.
 */

const CDATA = '__cdata';

const parser = new XMLParser({
  parseTagValue: false,
  processEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: false,
  cdataPropName: CDATA,
});

const builder = new XMLBuilder({ cdataPropName: CDATA, suppressEmptyNode: false, processEntities: false });

export class XmlFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlFormatError';
  }
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (_m, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return NAMED[ref] as string;
  });
}

function leafValue(key: string, value: unknown): string {
  if (typeof value === 'string') return decodeText(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    // Text and CDATA may alternate inside one element (a value containing "]]>" is split that way).
    if (entries.every(([k]) => k === CDATA || k === '#text')) {
      const parts = (value as Record<string, unknown>)[CDATA];
      const cdata = Array.isArray(parts) ? parts.join('') : typeof parts === 'string' ? parts : '';
      const text = (value as Record<string, unknown>)['#text'];
      return (typeof text === 'string' ? decodeText(text) : '') + cdata;
    }
  }
  throw new XmlFormatError(`element <${key}> is not a plain value`);
}

/** Parses a v2 document into its fields. Throws XmlFormatError for anything else. */
export function parseWechatXml(text: string, root: 'xml' | 'root' = 'xml'): Record<string, string> {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new XmlFormatError('DOCTYPE / ENTITY declarations are refused');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new XmlFormatError(`not well-formed XML: ${(err as Error).message}`);
  }
  const top = (doc ?? {}) as Record<string, unknown>;
  const keys = Object.keys(top);
  if (keys.length !== 1 || keys[0] !== root) throw new XmlFormatError(`root element must be <${root}>`);
  const body = top[root];
  if (body === '' || body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new XmlFormatError(`<${root}> has no fields`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === '#text') continue; // whitespace between fields
    if (Array.isArray(value)) throw new XmlFormatError(`field <${key}> appears more than once`);
    out[key] = leafValue(key, value);
  }
  return out;
}

/** `<xml>` with every value in CDATA, in the given key order (absent values left out). */
export function buildWechatXml(fields: Record<string, string | undefined>, root: 'xml' | 'root' = 'xml'): string {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (!/^[A-Za-z_][0-9A-Za-z_]*$/.test(k)) throw new TypeError(`not a v2 field name: ${k}`);
    // The builder splits a "]]>" inside a value across two CDATA sections.
    body[k] = { [CDATA]: v };
  }
  return builder.build({ [root]: body }) as string;
}
