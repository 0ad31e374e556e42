import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { JdpayConfig } from './config.ts';
import {
  FORM_PLAIN_FIELDS,
  JdEnvelopeError,
  buildJdXml,
  decryptJdXml,
  encryptJdXml,
  jdFormSignContent,
  jdSignText,
  parseJdXml,
  signJdXml,
  tripleDesEncryptHex,
  verifyJdXml,
  type XmlFields,
} from './envelope.ts';
import { JD_BUSY_CODES, JD_CODES, JD_PATHS, JD_VERSION } from './protocol.ts';

/**
 * The JD Pay client of one merchant app: messages signed, encrypted and wrapped (envelope.ts),
 * answers unwrapped, decrypted and verified, and classified for the core (docs/channels/jdpay.md
 * J3, J5): a busy code is a system fault with an unknown outcome; any other refusal is definite.
 */

export interface JdpayClientDeps {
  send?: SendChannelRequest;
}

const USER_AGENT = `Polypay/0.1 jdpay (node ${process.version})`;

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `jdpay: ${message}`, extra);
}

function leaf(fields: XmlFields, key: string): string | undefined {
  const v = fields[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The result code of an envelope or message (`<result><code>`). */
export function resultOf(fields: XmlFields): { code: string | undefined; desc: string } {
  const r = fields.result;
  if (typeof r !== 'object') return { code: undefined, desc: '' };
  return { code: leaf(r, 'code'), desc: leaf(r, 'desc') ?? '' };
}

export function codeError(path: string, code: string, desc: string): ChannelError {
  const text = `jdpay ${path} → ${code} ${desc}`.trim();
  const extra = { channelCode: code, channelMessage: desc };
  return JD_BUSY_CODES.has(code) ? new ChannelError('system', text, extra) : new ChannelError('rejected', text, extra);
}

export class JdpayClient {
  readonly config: JdpayConfig;
  readonly #send: SendChannelRequest;

  constructor(config: JdpayConfig, deps: JdpayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
  }

  /** The outer document of a server call: version, merchant and the encrypted, signed message. */
  requestXml(fields: XmlFields): string {
    const inner = signJdXml(buildJdXml({ version: JD_VERSION, merchant: this.config.merchant, ...fields }), this.config.privateKey);
    return buildJdXml({ version: JD_VERSION, merchant: this.config.merchant, encrypt: encryptJdXml(this.config.desKey, inner) });
  }

  async call(path: string, fields: XmlFields, log?: Logger): Promise<XmlFields> {
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.paygateUrl}${path}`,
      headers: { 'Content-Type': 'application/xml;charset=utf-8', Accept: 'application/xml', 'User-Agent': USER_AGENT },
      body: this.requestXml(fields),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
    });
    const message = this.parseAnswer(path, res);
    log?.debug({ channel: 'jdpay', path, status: res.status, ms: Date.now() - started }, 'jdpay call');
    return message;
  }

  parseAnswer(path: string, res: ChannelHttpResponse): XmlFields {
    if (res.status !== 200) {
      const text = `${path} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `jdpay: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    const { outer, inner } = this.open(res.body, path);
    const { code, desc } = resultOf(outer);
    if (code === undefined) throw protocol(`${path}: answer has no result code`);
    // J5: refusals come without an encrypted body: nothing to verify, and nothing was done.
    if (code !== JD_CODES.success) throw codeError(path, code, desc);
    if (!inner) throw protocol(`${path}: a success without <encrypt>`);
    const signed = resultOf(inner);
    if (signed.code !== undefined && signed.code !== JD_CODES.success) throw codeError(path, signed.code, signed.desc);
    return inner;
  }

  /**
   * An answer or notification: the outer envelope, and — when it carries one — the message
   * decrypted with our 3DES key, verified with JD's key and checked to be for this merchant.
   */
  open(body: string, what: string): { outer: XmlFields; inner: XmlFields | undefined } {
    let outer: XmlFields;
    try {
      outer = parseJdXml(body);
    } catch (err) {
      throw protocol(`${what}: ${(err as Error).message}`);
    }
    const encrypt = leaf(outer, 'encrypt');
    if (encrypt === undefined) return { outer, inner: undefined };
    let xml: string;
    try {
      xml = decryptJdXml(this.config.desKey, encrypt);
    } catch (err) {
      if (err instanceof JdEnvelopeError) throw new ChannelError('bad_signature', `jdpay: ${what}: cannot decrypt with our 3DES key (${err.message})`);
      throw err;
    }
    if (!verifyJdXml(xml, this.config.jdPublicKey)) throw new ChannelError('bad_signature', `jdpay: ${what}: signature does not verify`);
    let inner: XmlFields;
    try {
      inner = parseJdXml(xml);
    } catch (err) {
      throw protocol(`${what}: decrypted message: ${(err as Error).message}`);
    }
    if (inner.merchant !== this.config.merchant) throw new ChannelError('mismatch', `jdpay: ${what} names merchant ${String(inner.merchant)}, configured ${this.config.merchant}`);
    return { outer, inner };
  }

  /** J4: a PC or H5 cashier form: signed over the plain values, then each value but merchant/version/sign 3DES-encrypted. */
  cashierForm(kind: 'pc' | 'h5', fields: Record<string, string>): { action: string; params: Array<[string, string]> } {
    const plain = Object.fromEntries(Object.entries({ version: JD_VERSION, merchant: this.config.merchant, ...fields }).filter(([, v]) => v !== ''));
    const sign = jdSignText(jdFormSignContent(plain), this.config.privateKey);
    const params = Object.entries({ ...plain, sign }).map(([k, v]): [string, string] => [k, FORM_PLAIN_FIELDS.has(k) ? v : tripleDesEncryptHex(this.config.desKey, v)]);
    return { action: `${kind === 'pc' ? this.config.pcCashierUrl : this.config.h5CashierUrl}${JD_PATHS.saveOrder}`, params };
  }
}
