import type { Dispatcher } from 'undici';
import { newNonce } from '../../domain/ids.ts';
import { sendChannelRequest, tlsAgent, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import { signV2, v2SignMatches } from '../wechat-pay/v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from '../wechat-pay/v2-xml.ts';
import type { QqpayConfig } from './config.ts';
import { CERT_PATHS, DEFINITE_CODES } from './protocol.ts';

/**
 * The QPay client of one merchant app. Messages are WeChat-v2 documents (the signing and XML code
 * is WeChat's, imported: the rule is the same, protocols.md §F.1), always MD5. Answers are judged
 * layer by layer: return_code (did QPay take the message), the signature and the merchant, then
 * result_code; callers read trade_state last. Refund and reverse go to the api host with the
 * merchant's client certificate (mutual TLS).
 */

export interface QqpayClientDeps {
  send?: SendChannelRequest;
}

type Fields = Record<string, string | undefined>;
const USER_AGENT = `Polypay/0.1 QPay (node ${process.version})`;

export function parseQpayXml(body: string, what: string): Record<string, string> {
  try {
    return parseWechatXml(body);
  } catch (err) {
    if (err instanceof XmlFormatError) throw new ChannelError('protocol', `qqpay: ${what} is not a QPay XML document (${err.message})`);
    throw err;
  }
}

export class QqpayClient {
  readonly config: QqpayConfig;
  readonly #send: SendChannelRequest;
  #plainPool: Dispatcher | undefined;
  #certPool: Dispatcher | undefined;

  constructor(config: QqpayConfig, deps: QqpayClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
  }

  dispatcher(path: string): Dispatcher | undefined {
    const ca = this.config.tlsCaCert;
    if (CERT_PATHS.has(path)) {
      if (!this.config.tls) throw new ChannelError('misconfigured', `qqpay: ${path} needs the merchant client certificate (apiClientCert + apiClientKey)`);
      this.#certPool ??= tlsAgent({ ...this.config.tls, ...(ca ? { ca } : {}) });
      return this.#certPool;
    }
    if (!ca) return undefined;
    this.#plainPool ??= tlsAgent({ ca });
    return this.#plainPool;
  }

  requestXml(fields: Fields): string {
    return buildWechatXml(signV2({ mch_id: this.config.mchId, nonce_str: newNonce(32), ...fields }, this.config.apiKey, 'MD5'));
  }

  /** Operator fields of refund and reverse (Q9). */
  operatorFields(): Fields {
    const op = this.config.operator;
    if (!op) throw new ChannelError('misconfigured', 'qqpay: refunds and reverses need opUserId and opUserPassword');
    return { op_user_id: op.id, op_user_passwd: op.passwordMd5 };
  }

  /**
   * One call; resolves with the verified fields of a SUCCESS/SUCCESS answer. Throws ChannelError:
   * 'rejected' for return_code FAIL or a definite err_code, 'system' for SYSTEMERROR or an err_code
   * we do not know (outcome unknown), 'bad_signature' / 'mismatch' for an answer not from QPay
   * for this merchant, 'protocol' for anything unreadable.
   */
  async call(path: string, fields: Fields, log?: Logger): Promise<Record<string, string>> {
    const started = Date.now();
    const dispatcher = this.dispatcher(path);
    const res = await this.#send({
      method: 'POST',
      url: `${CERT_PATHS.has(path) ? this.config.apiBaseUrl : this.config.baseUrl}${path}`,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', 'User-Agent': USER_AGENT },
      body: this.requestXml(fields),
      ...(this.config.timeoutMs !== undefined && { timeoutMs: this.config.timeoutMs }),
      ...(dispatcher && { dispatcher }),
    });
    log?.debug({ channel: 'qqpay', path, status: res.status, ms: Date.now() - started }, 'qqpay call');
    if (res.status >= 500) throw new ChannelError('system', `qqpay ${path} → HTTP ${res.status}`, { httpStatus: res.status });
    if (res.status !== 200) throw new ChannelError('protocol', `qqpay ${path} → HTTP ${res.status}`, { httpStatus: res.status });
    return this.readAnswer(path, res.body);
  }

  readAnswer(path: string, body: string): Record<string, string> {
    const answer = parseQpayXml(body, `${path} answer`);
    if (answer.return_code !== 'SUCCESS') {
      // QPay did not take the message (bad sign, bad XML…); such answers carry no sign.
      const msg = answer.return_msg ?? '';
      throw new ChannelError('rejected', `qqpay ${path}: return_code ${answer.return_code ?? '(none)'} ${msg}`, { channelCode: answer.return_code === 'FAIL' ? 'FAIL' : 'RETURN_CODE', channelMessage: msg });
    }
    this.verify(answer, `${path} answer`);
    if (answer.result_code !== 'SUCCESS') {
      const code = answer.err_code || 'FAIL';
      const text = `qqpay ${path}: result_code ${answer.result_code ?? '(none)'} ${code}${answer.err_code_des ? `: ${answer.err_code_des}` : ''}`;
      const extra = { channelCode: code, ...(answer.err_code_des !== undefined && { channelMessage: answer.err_code_des }) };
      throw new ChannelError(DEFINITE_CODES.has(code) ? 'rejected' : 'system', text, extra);
    }
    return answer;
  }

  /** A signed document from QPay for this merchant (and, when it names one, this app). */
  verify(doc: Record<string, string>, what: string): void {
    if (!v2SignMatches(doc, this.config.apiKey, 'MD5')) throw new ChannelError('bad_signature', `qqpay: ${what}: sign does not verify`);
    if (doc.mch_id !== this.config.mchId) throw new ChannelError('mismatch', `qqpay: ${what} names mch_id ${String(doc.mch_id)}, configured ${this.config.mchId}`);
    if (doc.appid && this.config.appId && doc.appid !== this.config.appId) throw new ChannelError('mismatch', `qqpay: ${what} names appid ${doc.appid}, configured ${this.config.appId}`);
  }
}
