import { constants, createCipheriv, createDecipheriv, createHash, privateEncrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';

/**
 * JD Pay's message envelope (protocols.md §F.2, docs/channels/jdpay.md J2–J3), written from the
 * protocol description with node:crypto — used by the client and the simulator alike, and checked
 * against vectors Java's own DESede and RSA produced (fixtures/envelope-vectors.json).
 *
 *   sign:    sha256 hex of the canonical XML without <sign>, then RSA *private-key encryption*
 *            (PKCS#1 v1.5 type 1 over the hex text — not a DigestInfo signature), base64;
 *   encrypt: 3DES-ECB without padding over [4-byte big-endian length][UTF-8 XML][zeros to 8],
 *            lower-case hex, then base64 of that hex text.
 */

export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

export type XmlValue = string | { [name: string]: XmlValue };
export type XmlFields = Record<string, XmlValue>;

export class JdEnvelopeError extends Error {}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function elements(fields: XmlFields): string {
  return Object.entries(fields)
    .map(([k, v]) => {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k)) throw new JdEnvelopeError(`bad element name ${k}`);
      return `<${k}>${typeof v === 'string' ? esc(v) : elements(v)}</${k}>`;
    })
    .join('');
}

/** `<?xml …?><jdpay>…</jdpay>` with the fields in the given order (empty values left out). */
export function buildJdXml(fields: XmlFields): string {
  const kept = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
  return `${XML_HEAD}<jdpay>${elements(kept)}</jdpay>`;
}

// DOCTYPE and ENTITY declarations are refused before parsing, so entity processing can only
// decode the predefined entities and character references.
const parser = new XMLParser({ parseTagValue: false, processEntities: true, htmlEntities: false, ignoreAttributes: true, ignoreDeclaration: true, ignorePiTags: true, trimValues: true });

function plain(value: unknown, path: string): XmlValue {
  if (typeof value === 'string') return value;
  if (value === '' || value === null || value === undefined) return '';
  if (typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v, `${path}.${k}`)]));
  throw new JdEnvelopeError(`element ${path} is repeated or not a plain value`);
}

export function parseJdXml(text: string): XmlFields {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new JdEnvelopeError('DOCTYPE / ENTITY declarations are refused');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new JdEnvelopeError(`not XML: ${(err as Error).message}`);
  }
  const root = (doc as Record<string, unknown> | null)?.jdpay;
  if (root === '') return {};
  const parsed = plain(root, 'jdpay');
  if (typeof parsed === 'string') throw new JdEnvelopeError('the document is not a <jdpay> element');
  return parsed;
}

/** The signed text: XML declaration added when missing, tabs and line breaks removed with the spaces around them, <sign> removed. */
export function canonicalJdXml(xml: string): string {
  const withHead = xml.trimStart().startsWith('<?xml') ? xml : `${XML_HEAD}${xml}`;
  const flat = withHead
    .split(/[\t\r\n]/)
    .map((s) => s.trim())
    .join('');
  const start = flat.indexOf('<sign>');
  const end = flat.lastIndexOf('</sign>');
  return start >= 0 && end > start ? flat.slice(0, start) + flat.slice(end + '</sign>'.length) : flat;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** base64(RSA-private-encrypt(sha256 hex of the content)). */
export function jdSignText(content: string, key: KeyObject): string {
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(sha256Hex(content), 'utf8')).toString('base64');
}

export function jdVerifyText(content: string, sign: string, key: KeyObject): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sign)) return false;
  try {
    return publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(sign, 'base64')).toString('utf8') === sha256Hex(content);
  } catch {
    return false;
  }
}

/** The XML with its <sign> element appended just before </jdpay>. */
export function signJdXml(xml: string, key: KeyObject): string {
  const canonical = canonicalJdXml(xml);
  if (!canonical.endsWith('</jdpay>')) throw new JdEnvelopeError('not a <jdpay> document');
  return `${canonical.slice(0, -'</jdpay>'.length)}<sign>${jdSignText(canonical, key)}</sign></jdpay>`;
}

export function verifyJdXml(xml: string, key: KeyObject): boolean {
  const start = xml.indexOf('<sign>');
  const end = xml.lastIndexOf('</sign>');
  if (start < 0 || end <= start) return false;
  return jdVerifyText(canonicalJdXml(xml), xml.slice(start + '<sign>'.length, end), key);
}

/** A 3DES key as JD hands it out: base64 of 24 bytes. */
export function jdDesKey(base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 24) throw new JdEnvelopeError('the 3DES key must be base64 of 24 bytes');
  return key;
}

/** [4-byte length][UTF-8][zeros] under DESede/ECB/NoPadding, lower-case hex. */
export function tripleDesEncryptHex(key: Buffer, text: string): string {
  const data = Buffer.from(text, 'utf8');
  const block = Buffer.alloc(Math.ceil((data.length + 4) / 8) * 8);
  block.writeUInt32BE(data.length, 0);
  data.copy(block, 4);
  const cipher = createCipheriv('des-ede3', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]).toString('hex');
}

export function tripleDesDecryptHex(key: Buffer, hex: string): string {
  if (!/^(?:[0-9A-Fa-f]{16})+$/.test(hex)) throw new JdEnvelopeError('ciphertext is not hex of whole 8-byte blocks');
  let block: Buffer;
  try {
    const decipher = createDecipheriv('des-ede3', key, null).setAutoPadding(false);
    block = Buffer.concat([decipher.update(Buffer.from(hex, 'hex')), decipher.final()]);
  } catch {
    throw new JdEnvelopeError('3DES decryption failed');
  }
  const length = block.readUInt32BE(0);
  if (length > block.length - 4) throw new JdEnvelopeError('decrypted length prefix is wrong (another key?)');
  return block.subarray(4, 4 + length).toString('utf8');
}

/** The <encrypt> value: base64 of the hex text. */
export function encryptJdXml(key: Buffer, xml: string): string {
  return Buffer.from(tripleDesEncryptHex(key, xml), 'utf8').toString('base64');
}

export function decryptJdXml(key: Buffer, encrypt: string): string {
  return tripleDesDecryptHex(key, Buffer.from(encrypt, 'base64').toString('utf8'));
}

/**
 * PC/H5 cashier forms (saveOrder): every field but `sign` with a value, keys sorted, `k=v` joined
 * by `&`, signed like the XML; then each value but merchant, version and sign 3DES-encrypted.
 */
export function jdFormSignContent(fields: Readonly<Record<string, string>>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

export const FORM_PLAIN_FIELDS: ReadonlySet<string> = new Set(['merchant', 'version', 'sign']);
