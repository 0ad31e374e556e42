import { sendChannelRequest, type ChannelHttpResponse, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import type { AbcpayConfig } from './config.ts';
import { AbcEnvelopeError, abcMessage, abcVerify, decodeAbc, encodeAbc, openAbcEnvelope, sealAbcMessage } from './envelope.ts';
import { ABC_CODES, ABC_CONTENT_TYPE, ABC_SERVLET, ABC_UNKNOWN_CODES, NOTIFY_FIELD } from './protocol.ts';

/**
 * The ABC TrustPay client of one merchant app: GB18030 JSON envelopes signed with the merchant
 * key, answers verified with TrustPay's key over the raw Message text, and classified for the core
 * (docs/channels/abc.md A4): EUNKWN is "outcome unknown"; APE* refusals (format, merchant,
 * signature) may come unsigned and are definite; business answers must be signed.
 */

export interface AbcpayClientDeps {
  send?: SendChannelRequest;
}

const USER_AGENT = `Polypay/0.1 abcpay (node ${process.version})`;

function protocol(message: string, extra: { httpStatus?: number } = {}): ChannelError {
  return new ChannelError('protocol', `abcpay: ${message}`, extra);
}

export function returnCodeError(what: string, code: string, message: string, signed: boolean): ChannelError {
  const text = `abcpay ${what} → ${code} ${message}`.trim();
  const extra = { channelCode: code, channelMessage: message };
  if (ABC_UNKNOWN_CODES.has(code)) return new ChannelError('system', text, extra);
  // A4: a gateway-level refusal (APE…) is believed unsigned: nothing was processed.
  if (code.startsWith('APE')) return new ChannelError('rejected', text, extra);
  if (!signed) return new ChannelError('bad_signature', `${text} (unsigned)`, extra);
  return new ChannelError('rejected', text, extra);
}

export class AbcpayClient {
  readonly config: AbcpayConfig;
  readonly #send: SendChannelRequest;

  constructor(config: AbcpayConfig, deps: AbcpayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
  }

  requestBody(trx: Record<string, unknown>): Buffer {
    return encodeAbc(sealAbcMessage(abcMessage(this.config.merchantId, { TrxRequest: trx }), this.config.privateKey));
  }

  /** One transaction; resolves with the verified TrxResponse of a 0000 answer. */
  async call(trx: Record<string, unknown>, log?: Logger): Promise<Record<string, unknown>> {
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.baseUrl}${ABC_SERVLET}`,
      headers: { 'Content-Type': ABC_CONTENT_TYPE, Accept: '*/*', 'User-Agent': USER_AGENT },
      bodyBytes: this.requestBody(trx),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
    });
    const answer = this.parseAnswer(String(trx.TrxType), res);
    log?.debug({ channel: 'abcpay', trxType: trx.TrxType, status: res.status, ms: Date.now() - started }, 'abcpay call');
    return answer;
  }

  parseAnswer(what: string, res: ChannelHttpResponse): Record<string, unknown> {
    if (res.status !== 200) {
      const text = `${what} → HTTP ${res.status}`;
      throw res.status >= 500 ? new ChannelError('system', `abcpay: ${text}`, { httpStatus: res.status }) : protocol(text, { httpStatus: res.status });
    }
    const { response, signed } = this.#open(decodeAbc(res.raw ?? Buffer.from(res.body, 'utf8')), what);
    const code = typeof response.ReturnCode === 'string' ? response.ReturnCode : '';
    const message = typeof response.ErrorMessage === 'string' ? response.ErrorMessage : '';
    if (code === '') throw protocol(`${what}: answer has no ReturnCode`);
    if (code !== ABC_CODES.success) throw returnCodeError(what, code, message, signed);
    if (!signed) throw new ChannelError('bad_signature', `abcpay: ${what}: unsigned success answer`);
    return response;
  }

  /** A result notification: form field MSG = base64 of the GB18030 envelope (A10); must be signed and for us. */
  openNotification(rawBody: Buffer): Record<string, unknown> {
    const msg = new URLSearchParams(rawBody.toString('utf8')).get(NOTIFY_FIELD);
    if (!msg) throw protocol(`notification without ${NOTIFY_FIELD}`);
    const { response, signed } = this.#open(decodeAbc(Buffer.from(msg, 'base64')), 'notification');
    if (!signed) throw new ChannelError('bad_signature', 'abcpay: notification is unsigned');
    if (response.ReturnCode !== ABC_CODES.success) throw protocol(`notification with ReturnCode ${String(response.ReturnCode)}`);
    return response;
  }

  /** Verifies when signed; a signed message must name this merchant. */
  #open(text: string, what: string): { response: Record<string, unknown>; signed: boolean } {
    let opened;
    try {
      opened = openAbcEnvelope(text);
    } catch (err) {
      if (err instanceof AbcEnvelopeError) throw protocol(`${what}: ${err.message}`);
      throw err;
    }
    const signed = opened.signature !== undefined;
    if (signed && !abcVerify(opened.messageText, opened.signature as string, this.config.trustpayKey)) throw new ChannelError('bad_signature', `abcpay: ${what}: signature does not verify with TrustPay's key`);
    const merchant = (opened.message.Merchant as Record<string, unknown> | undefined)?.MerchantID;
    if (signed && merchant !== this.config.merchantId) throw new ChannelError('mismatch', `abcpay: ${what} names MerchantID ${String(merchant)}, configured ${this.config.merchantId}`);
    const response = opened.message.TrxResponse;
    if (typeof response !== 'object' || response === null || Array.isArray(response)) throw protocol(`${what}: no TrxResponse`);
    return { response: response as Record<string, unknown>, signed };
  }
}
