import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { barPay } from '../../sandbox/acquirer/barcodes.ts';
import { closeTrade, openTrade, payUrl, refundTrade, requireTrade, revokeTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason, type TradeRecord } from '../../sandbox/acquirer/types.ts';
import { parseCompactChinaTime } from '../../china-time.ts';
import { clientCertificate } from '../../wechat-pay/simulator/tls-front.ts';
import { v2SignMatches } from '../../wechat-pay/v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from '../../wechat-pay/v2-xml.ts';
import { CERT_PATHS, QPAY_PATHS, QQ_AUTH_CODE } from '../protocol.ts';
import { refundQueryFields, signedXml, tradeFields, type QqpayKeys } from './wire.ts';

/**
 * QPay's merchant API as the simulator serves it (docs/sandbox/qqpay.md): XML in, XML out, HTTP
 * 200. What QPay cannot take (no XML, unknown mch_id, bad sign, no client certificate on the api
 * paths) is return_code FAIL, unsigned; a business refusal is a signed result_code FAIL + err_code.
 */

type Fields = Record<string, string>;

class ReturnFail extends Error {}
export class QpayError extends Error {
  constructor(
    readonly errCode: string,
    message: string,
  ) {
    super(message);
  }
}

const REASON_CODE: Record<RefusalReason, string> = {
  NOT_FOUND: 'ORDERNOTEXIST',
  PAID: 'ORDERPAID',
  CLOSED: 'ORDERCLOSED',
  NOT_PAYABLE: 'ORDERCLOSED',
  INCONSISTENT: 'OUT_TRADE_NO_USED',
  BAR_INVALID: 'AUTH_CODE_INVALID',
  BAR_DECLINED: 'NOTENOUGH',
  NOT_REFUNDABLE: 'TRADE_STATE_ERROR',
  REFUND_EXCEEDS: 'REFUND_FEE_INVALID',
  REFUND_INCONSISTENT: 'INVALID_REQUEST',
  WALLET_NOT_ACCEPTED: 'AUTH_CODE_INVALID',
};

const OUT_NO = /^[0-9A-Za-z_\-|*@]{1,32}$/;

function need(f: Fields, ...keys: string[]): void {
  for (const k of keys) if (!f[k]) throw new QpayError('LACK_PARAMS', `缺少参数${k}`);
}

function field(f: Fields, key: string, re: RegExp): string {
  need(f, key);
  if (!re.test(f[key] as string)) throw new QpayError('PARAM_ERROR', `${key}格式错误`);
  return f[key] as string;
}

const fen = (f: Fields, key: string): number => Number(field(f, key, /^[1-9][0-9]{0,11}$/));

/** The request's business fields: a repeat of an out_trade_no must carry the same ones. */
function fingerprint(f: Fields): string {
  return JSON.stringify(Object.keys(f).filter((k) => k !== 'sign' && k !== 'nonce_str').sort().map((k) => [k, f[k]]));
}

function checkAppId(m: MerchantRecord, f: Fields, required: boolean): void {
  if (!f.appid && !required) return;
  if (!f.appid) throw new QpayError('LACK_PARAMS', '缺少参数appid');
  if (f.appid !== m.secrets.appId) throw new QpayError('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
}

function checkOperator(m: MerchantRecord, f: Fields): void {
  need(f, 'op_user_id', 'op_user_passwd');
  const md5 = createHash('md5').update(m.secrets.opUserPassword ?? '', 'utf8').digest('hex');
  if (f.op_user_id !== m.secrets.opUserId || f.op_user_passwd?.toLowerCase() !== md5) throw new QpayError('OPUSER_INVALID', '操作员账号或密码错误');
}

function tradeOf(ctx: AcquirerContext, m: MerchantRecord, f: Fields): TradeRecord {
  if (f.out_trade_no) return requireTrade(ctx, m.id, f.out_trade_no);
  const t = f.transaction_id ? ctx.book.tradeByNo(f.transaction_id) : undefined;
  if (!f.transaction_id) throw new QpayError('LACK_PARAMS', 'out_trade_no和transaction_id至少填一个');
  if (!t || t.merchantId !== m.id) throw new QpayError('ORDERNOTEXIST', '订单不存在');
  return t;
}

function newTrade(ctx: AcquirerContext, m: MerchantRecord, f: Fields, product: string) {
  need(f, 'body', 'spbill_create_ip', 'notify_url');
  if (f.fee_type && f.fee_type !== 'CNY') throw new QpayError('PARAM_ERROR', 'fee_type仅支持CNY');
  if (!/^https?:\/\/\S{1,250}$/.test(f.notify_url as string)) throw new QpayError('PARAM_ERROR', 'notify_url格式错误');
  const expire = f.time_expire ? parseCompactChinaTime(f.time_expire) : undefined;
  if (f.time_expire && !expire) throw new QpayError('PARAM_ERROR', 'time_expire格式错误');
  return openTrade(ctx, {
    merchantId: m.id,
    outTradeNo: field(f, 'out_trade_no', OUT_NO),
    product,
    wallets: ['QQ'],
    amount: fen(f, 'total_fee'),
    currency: 'CNY',
    subject: Array.from(f.body as string).slice(0, 128).join(''),
    ...(expire ? { expiresAt: expire.getTime() } : {}),
    notifyUrl: f.notify_url as string,
    fingerprint: fingerprint(f),
  });
}

function handlers(ctx: AcquirerContext): Record<string, (m: MerchantRecord, f: Fields) => Fields> {
  return {
    [QPAY_PATHS.unifiedOrder]: (m, f) => {
      const tradeType = field(f, 'trade_type', /^(NATIVE|JSAPI|APP)$/);
      checkAppId(m, f, tradeType !== 'NATIVE');
      const { trade: t } = newTrade(ctx, m, f, tradeType);
      // The sandbox's prepay id is the trade's payer token: the sandbox payer pays with it (docs/sandbox/qqpay.md).
      return { trade_type: tradeType, out_trade_no: t.outTradeNo, prepay_id: t.token, ...(tradeType === 'NATIVE' ? { code_url: payUrl(ctx, t) } : {}) };
    },
    [QPAY_PATHS.microPay]: (m, f) => {
      checkAppId(m, f, false);
      const code = field(f, 'auth_code', /^\d{18}$/);
      if (!QQ_AUTH_CODE.test(code)) throw new QpayError('AUTH_CODE_INVALID', '付款码无效');
      const { trade: t, repeat } = newTrade(ctx, m, f, 'MICROPAY');
      if (repeat && t.status === 'PAYING') throw new QpayError('USERPAYING', '需要用户输入支付密码');
      const outcome = barPay(ctx, t, code);
      if (outcome === 'PAID') return tradeFields(t);
      if (outcome === 'PAID_BUT_SYSTEM_ERROR') throw new QpayError('SYSTEMERROR', '系统错误，请查询订单');
      if (outcome === 'DECLINED') throw new QpayError('NOTENOUGH', '余额不足');
      throw new QpayError('USERPAYING', '需要用户输入支付密码');
    },
    [QPAY_PATHS.orderQuery]: (m, f) => tradeFields(tradeOf(ctx, m, f)),
    [QPAY_PATHS.closeOrder]: (m, f) => {
      const t = requireTrade(ctx, m.id, field(f, 'out_trade_no', OUT_NO));
      if (t.status === 'REVOKED') throw new QpayError('ORDERREVERSED', '订单已撤销');
      closeTrade(ctx, t);
      return {};
    },
    [QPAY_PATHS.reverse]: (m, f) => {
      checkOperator(m, f);
      revokeTrade(ctx, tradeOf(ctx, m, f));
      return { recall: 'N' };
    },
    [QPAY_PATHS.refund]: (m, f) => {
      checkOperator(m, f);
      const t = tradeOf(ctx, m, f);
      const r = refundTrade(ctx, t, { outRefundNo: field(f, 'out_refund_no', OUT_NO), amount: fen(f, 'refund_fee') });
      return { out_trade_no: t.outTradeNo, transaction_id: t.tradeNo, out_refund_no: r.outRefundNo, refund_id: r.refundNo, refund_fee: String(r.amount) };
    },
    [QPAY_PATHS.refundQuery]: (m, f) => {
      const all = [...ctx.book.allRefunds()].filter((r) => r.merchantId === m.id);
      const one = f.out_refund_no ? all.find((r) => r.outRefundNo === f.out_refund_no) : f.refund_id ? all.find((r) => r.refundNo === f.refund_id) : undefined;
      if ((f.out_refund_no || f.refund_id) && !one) throw new QpayError('REFUNDNOTEXIST', '退款单不存在');
      const t = one ? ctx.book.trade(m.id, one.outTradeNo) : tradeOf(ctx, m, f);
      if (!t) throw new QpayError('REFUNDNOTEXIST', '退款单不存在');
      const refunds = one ? [one] : all.filter((r) => r.outTradeNo === t.outTradeNo);
      if (refunds.length === 0) throw new QpayError('REFUNDNOTEXIST', '退款单不存在');
      return refundQueryFields(t, refunds);
    },
  };
}

/** What QPay checks before the business fields: XML, merchant, client certificate (api paths), nonce and sign. */
function authenticate(ctx: AcquirerContext, req: FastifyRequest, path: string): { m: MerchantRecord; f: Fields } {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (raw.trim() === '') throw new ReturnFail('post数据为空');
  let f: Fields;
  try {
    f = parseWechatXml(raw);
  } catch (err) {
    if (err instanceof XmlFormatError) throw new ReturnFail('XML格式错误');
    throw err;
  }
  const m = f.mch_id ? ctx.book.merchants.get(f.mch_id) : undefined;
  if (!m) throw new ReturnFail(f.mch_id ? '商户号mch_id不存在' : '缺少参数mch_id');
  if (CERT_PATHS.has(path)) {
    const cert = clientCertificate(req.raw.socket);
    if (!cert || cert.serial !== m.secrets.certSerial || cert.subjectCn !== m.id) throw new ReturnFail('证书不存在或与商户号不匹配，请使用商户API证书发起请求');
  }
  if (!f.nonce_str) throw new ReturnFail('缺少参数nonce_str');
  if (f.sign_type !== undefined && f.sign_type !== 'MD5') throw new ReturnFail('sign_type仅支持MD5');
  if (!f.sign) throw new ReturnFail('缺少参数sign');
  if (!v2SignMatches(f, m.secrets.apiKey as string, 'MD5')) throw new ReturnFail('签名错误');
  return { m, f };
}

export function registerQqpayApi(app: FastifyInstance, core: AcquirerCore<QqpayKeys>): void {
  const { ctx } = core;
  const xml = (reply: FastifyReply, body: string) => reply.code(200).type('text/xml; charset=utf-8').send(body);
  for (const [path, handle] of Object.entries(handlers(ctx))) {
    app.post(path, async (req, reply) => {
      let call: { m: MerchantRecord; f: Fields };
      try {
        call = authenticate(ctx, req, path);
      } catch (err) {
        if (!(err instanceof ReturnFail)) throw err;
        ctx.log.info({ path, reason: err.message }, 'qqpay request rejected');
        return xml(reply, buildWechatXml({ return_code: 'FAIL', return_msg: err.message }));
      }
      let business: Fields;
      try {
        if (core.takeBusy(path === QPAY_PATHS.unifiedOrder || path === QPAY_PATHS.microPay)) throw new QpayError('SYSTEMERROR', '系统繁忙，请稍后再试');
        business = { result_code: 'SUCCESS', ...handle(call.m, call.f) };
      } catch (err) {
        const e = err instanceof SimRefusal ? new QpayError(REASON_CODE[err.reason], err.message) : err;
        if (!(e instanceof QpayError)) throw err;
        ctx.log.debug({ path, code: e.errCode }, 'qqpay call refused');
        business = { result_code: 'FAIL', err_code: e.errCode, err_code_des: e.message };
      }
      return xml(reply, signedXml(call.m, { return_code: 'SUCCESS', return_msg: 'OK', ...business }));
    });
  }
}
