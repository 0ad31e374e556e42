import type { Dispatcher } from 'undici';
import { newNonce } from '../../domain/ids.ts';
import { sendChannelRequest, tlsAgent, type SendChannelRequest } from '../http.ts';
import { ChannelError, type Logger } from '../types.ts';
import { sameCode } from './mapping.ts';
import { configuredV2AppIds, type WechatPayV2Config } from './v2-config.ts';
import { signV2, v2SignMatches } from './v2-sign.ts';
import { configuredSubAppIds, subAppIdForWay } from './sp-config.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from './v2-xml.ts';

/**
 * Signed WeChat Pay API v2 client for one merchant configuration (protocols.md §B). Answers are
 * judged in the order seed 004 prescribes: return_code (did WeChat accept the message at all),
 * then the signature, then result_code (did the business operation succeed); the caller then
 * reads trade_state. /secapi paths go through a pool that presents the merchant API certificate.
 */

export interface WechatPayV2ClientDeps {
  send?: SendChannelRequest;
  timeoutMs?: number;
}

/** err_codes after which the same request may be sent again: the outcome is unknown. */
const SYSTEM_CODES = ['SYSTEMERROR', 'BANKERROR', 'FREQUENCY_LIMITED'];
const USER_AGENT = `Polypay/0.1 WechatPay-APIv2 (node ${process.version})`;

export class WechatPayV2Client {
  readonly config: WechatPayV2Config;
  readonly #send: SendChannelRequest;
  readonly #timeoutMs: number | undefined;
  #plainPool: Dispatcher | undefined;
  #certPool: Dispatcher | undefined;

  constructor(config: WechatPayV2Config, deps: WechatPayV2ClientDeps = {}) {
    this.config = config;
    this.#send = deps.send ?? sendChannelRequest;
    this.#timeoutMs = deps.timeoutMs;
  }

  /** The pool for a path: built lazily and kept with this client (the client cache keeps one per config). */
  dispatcher(path: string): Dispatcher | undefined {
    const ca = this.config.tlsCaCert;
    if (path.startsWith('/secapi/')) {
      if (!this.config.tls) throw new ChannelError('misconfigured', `wxpay v2: ${path} needs the merchant API certificate (apiClientCert + apiClientKey, or apiClientP12)`);
      this.#certPool ??= tlsAgent({ ...this.config.tls, ...(ca ? { ca } : {}) });
      return this.#certPool;
    }
    if (!ca) return undefined;
    this.#plainPool ??= tlsAgent({ ca });
    return this.#plainPool;
  }

  /** Signs and builds the request document (also used for the bill download, whose answer is not XML). */
  requestXml(fields: Record<string, string | undefined>): string {
    // Service provider: every call acts for the sub-merchant (sub_mch_id) and, outside the central
    // scenario, in its app (sub_appid); a way-specific sub_appid in `fields` wins (protocols.md §B.1).
    const sp = this.config.sp;
    const partner = sp ? { sub_mch_id: sp.subMchId, sub_appid: subAppIdForWay('WX_BAR', sp) } : {};
    return buildWechatXml(signV2({ mch_id: this.config.mchId, ...partner, nonce_str: newNonce(32), ...fields }, this.config.apiKey, this.config.signType));
  }

  /**
   * Sends one call; resolves with the verified fields of a SUCCESS/SUCCESS answer. Throws
   * ChannelError: 'rejected' for return_code FAIL or a final err_code (channelCode = err_code),
   * 'system' for SYSTEMERROR-like codes, 'bad_signature' / 'mismatch' for an answer not from
   * WeChat for this merchant, 'protocol' for anything unreadable.
   */
  async call(path: string, fields: Record<string, string | undefined>, log?: Logger): Promise<Record<string, string>> {
    const started = Date.now();
    const res = await this.#send({
      method: 'POST',
      url: `${this.config.baseUrl}${path}`,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', 'User-Agent': USER_AGENT },
      body: this.requestXml(fields),
      ...(this.#timeoutMs !== undefined && { timeoutMs: this.#timeoutMs }),
      ...(this.dispatcher(path) && { dispatcher: this.dispatcher(path) }),
    });
    log?.debug({ channel: 'wxpay', api: 'v2', path, status: res.status, ms: Date.now() - started }, 'wxpay call');
    if (res.status >= 500) throw new ChannelError('system', `wxpay v2 ${path} → HTTP ${res.status}`, { httpStatus: res.status });
    if (res.status !== 200) throw new ChannelError('protocol', `wxpay v2 ${path} → HTTP ${res.status}`, { httpStatus: res.status });
    return this.readAnswer(path, res.body);
  }

  /** Parses and judges an answer document (exposed for the bill download's XML error answers). */
  readAnswer(path: string, body: string): Record<string, string> {
    let answer: Record<string, string>;
    try {
      answer = parseWechatXml(body);
    } catch (err) {
      if (err instanceof XmlFormatError) throw new ChannelError('protocol', `wxpay v2 ${path}: answer is not a v2 XML document (${err.message})`);
      throw err;
    }
    if (answer.return_code !== 'SUCCESS') {
      // Communication layer: WeChat did not process the message; it carries no sign (§B.3).
      const msg = answer.return_msg ?? '';
      throw new ChannelError('rejected', `wxpay v2 ${path}: return_code ${answer.return_code ?? '(none)'} ${msg}`, { channelCode: answer.return_code === 'FAIL' ? 'FAIL' : 'RETURN_CODE', channelMessage: msg });
    }
    if (!v2SignMatches(answer, this.config.apiKey, this.config.signType)) throw new ChannelError('bad_signature', `wxpay v2 ${path}: answer sign does not verify`);
    this.checkOwner(answer);
    if (answer.result_code !== 'SUCCESS') {
      const code = answer.err_code ?? 'FAIL';
      const text = `wxpay v2 ${path}: result_code ${answer.result_code ?? '(none)'} ${code}${answer.err_code_des ? `: ${answer.err_code_des}` : ''}`;
      const extra = { channelCode: code, ...(answer.err_code_des !== undefined && { channelMessage: answer.err_code_des }) };
      throw new ChannelError(sameCode(code, ...SYSTEM_CODES) ? 'system' : 'rejected', text, extra);
    }
    return answer;
  }

  /** A signed document must name this merchant and, when it names one, an appid of this config. */
  checkOwner(doc: Record<string, string>, requireAppId = false): void {
    if (doc.mch_id !== this.config.mchId) throw new ChannelError('mismatch', `wxpay v2: document names mch_id ${String(doc.mch_id)}, configured ${this.config.mchId}`);
    // Another sub-merchant of the same provider signs with the same key: sub_mch_id decides.
    const sp = this.config.sp;
    if ((sp?.subMchId ?? undefined) !== (doc.sub_mch_id || undefined)) throw new ChannelError('mismatch', `wxpay v2: document names sub_mch_id ${String(doc.sub_mch_id)}, configured ${String(sp?.subMchId)}`);
    if (sp && doc.sub_appid && !configuredSubAppIds(sp).includes(doc.sub_appid)) throw new ChannelError('mismatch', `wxpay v2: document names sub_appid ${doc.sub_appid}, not one of the sub-merchant's appids`);
    if (doc.appid === undefined && !requireAppId) return;
    if (doc.appid === undefined || !configuredV2AppIds(this.config).includes(doc.appid)) {
      throw new ChannelError('mismatch', `wxpay v2: document names appid ${String(doc.appid)}, not one of this config's appids`);
    }
  }
}
