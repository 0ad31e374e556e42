import { createPrivateKey, createSign, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { barPay } from '../../sandbox/acquirer/barcodes.ts';
import { closeTrade, openTrade, payUrl, refundTrade, requireTrade, revokeTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason, type TradeRecord, type Wallet } from '../../sandbox/acquirer/types.ts';
import { compactChinaTime, parseCompactChinaTime } from '../../china-time.ts';
import { BAR_TRADE_TYPES, ORDER_NOT_EXIST, ORDER_PAID, REFUND_NOT_EXIST, SHENGPAY_ERRORS, SHENGPAY_PATHS, type ShengpaySignType } from '../protocol.ts';
import { isShengpaySignType, signShengpay, verifyShengpay } from '../sign.ts';
import { orderStatusOf, refundFields, type ShengpayKeys } from './wire.ts';

/**
 * Shengpay's merchant API as the simulator serves it (docs/sandbox/shengpay.md): JSON bodies
 * verified strictly — merchant known, nonceStr present, signType RSA/RSA2, signature over the
 * exact fields sent — then answered in Shengpay's returnCode/resultCode layout, signed with the
 * platform key under the caller's signType. Communication-level refusals go unsigned (S8).
 */

type Fields = Record<string, unknown>;

class WireRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly level: 'return' | 'result' = 'result',
  ) {
    super(message);
  }
}

const REASON_CODE: Record<RefusalReason, string> = {
  NOT_FOUND: ORDER_NOT_EXIST,
  PAID: ORDER_PAID,
  CLOSED: SHENGPAY_ERRORS.orderClosed,
  NOT_PAYABLE: SHENGPAY_ERRORS.orderClosed,
  INCONSISTENT: SHENGPAY_ERRORS.orderInconsistent,
  BAR_INVALID: SHENGPAY_ERRORS.authCodeInvalid,
  BAR_DECLINED: SHENGPAY_ERRORS.balanceNotEnough,
  NOT_REFUNDABLE: SHENGPAY_ERRORS.notRefundable,
  REFUND_EXCEEDS: SHENGPAY_ERRORS.refundAmountError,
  REFUND_INCONSISTENT: SHENGPAY_ERRORS.paramsError,
  WALLET_NOT_ACCEPTED: SHENGPAY_ERRORS.paramsError,
};

const WALLET_OF: Record<string, Wallet> = { wx: 'WECHAT', alipay: 'ALIPAY', upacp: 'UNIONPAY' };
const CREATES: ReadonlySet<string> = new Set([SHENGPAY_PATHS.unifiedOffline, SHENGPAY_PATHS.unifiedOnline, SHENGPAY_PATHS.authPay]);
const PRODUCTS = new Set(['wx_jsapi', 'wx_lite', 'wx_native', 'wx_wap', 'alipay_qr', 'alipay_jsapi', 'alipay_wap', 'alipay_pc', 'upacp_qr']);

function str(f: Fields, key: string, o: { required?: boolean; max?: number; re?: RegExp } = {}): string | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') {
    if (o.required) throw new WireRefusal(SHENGPAY_ERRORS.lackParams, `缺少参数 ${key}`);
    return undefined;
  }
  if (typeof v !== 'string') throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `${key} 必须是字符串`);
  if ((o.max !== undefined && Array.from(v).length > o.max) || (o.re && !o.re.test(v))) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `${key} 格式错误`);
  return v;
}

function fen(f: Fields, key: string): number {
  const v = f[key];
  if (v === undefined || v === null || v === '') throw new WireRefusal(SHENGPAY_ERRORS.lackParams, `缺少参数 ${key}`);
  // S6: amounts are integer fen; the JSON number form is what the SDKs send.
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 10_000_000_000) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `${key} 必须是以分为单位的正整数`);
  return v;
}

function httpUrl(f: Fields, key: string, required: boolean): string | undefined {
  const v = str(f, key, { required, max: 255 });
  if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v)) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `${key} 不是合法的URL`);
  return v;
}

function jsonExtra(f: Fields): Record<string, unknown> {
  const raw = str(f, 'extra', { required: true });
  try {
    const v: unknown = JSON.parse(raw as string);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* refused below */
  }
  throw new WireRefusal(SHENGPAY_ERRORS.paramsError, 'extra 必须是JSON对象字符串');
}

/** A fingerprint of the business fields: a repeat with the same ones gets the same answer. */
function fingerprint(f: Fields): string {
  return JSON.stringify(Object.keys(f).filter((k) => !['nonceStr', 'sign', 'signType'].includes(k)).sort().map((k) => [k, f[k]]));
}

function expiry(f: Fields): number | undefined {
  const raw = str(f, 'timeExpire');
  if (raw === undefined) return undefined;
  const at = parseCompactChinaTime(raw);
  if (!at) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, 'timeExpire 格式应为 yyyyMMddHHmmss');
  return at.getTime();
}

/** The client-side parameters of a WeChat JSAPI / mini-program payment, signed like WeChat's (the sandbox's key). */
function wxPayInfo(core: AcquirerCore<ShengpayKeys>, t: TradeRecord): string {
  const p = { appId: t.attrs.appId ?? '', timeStamp: String(Math.floor(t.createdAt / 1000)), nonceStr: randomBytes(16).toString('hex'), package: `prepay_id=${t.tradeNo}`, signType: 'RSA' };
  const paySign = createSign('RSA-SHA256').update(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`).sign(createPrivateKey(core.keys.platformPrivateKeyPem), 'base64');
  return JSON.stringify({ ...p, paySign });
}

function createOrder(core: AcquirerCore<ShengpayKeys>, m: MerchantRecord, f: Fields, signType: ShengpaySignType): Fields {
  const { ctx } = core;
  const product = str(f, 'tradeType', { required: true }) as string;
  if (!PRODUCTS.has(product)) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `tradeType ${product} 不支持`);
  if ((str(f, 'currency') ?? 'CNY') !== 'CNY') throw new WireRefusal(SHENGPAY_ERRORS.paramsError, 'currency 仅支持 CNY');
  const attrs: Record<string, string> = { signType };
  if (product === 'wx_jsapi' || product === 'wx_lite' || product === 'alipay_jsapi') {
    const extra = jsonExtra(f);
    if (typeof extra.openId !== 'string' || extra.openId === '') throw new WireRefusal(SHENGPAY_ERRORS.lackParams, 'extra.openId 不能为空');
    if (product !== 'alipay_jsapi' && (typeof extra.appId !== 'string' || extra.appId === '')) throw new WireRefusal(SHENGPAY_ERRORS.lackParams, 'extra.appId 不能为空');
    attrs.payer = extra.openId;
    if (typeof extra.appId === 'string') attrs.appId = extra.appId;
  }
  const subMchId = str(f, 'subMchId');
  if (subMchId) attrs.subMchId = subMchId;
  const { trade } = openTrade(ctx, {
    merchantId: m.id,
    outTradeNo: str(f, 'outTradeNo', { required: true, re: /^[0-9A-Za-z_-]{1,64}$/ }) as string,
    product,
    wallets: [WALLET_OF[product.split('_')[0] as string] as Wallet],
    amount: fen(f, 'totalFee'),
    currency: 'CNY',
    subject: str(f, 'body', { required: true, max: 128 }) as string,
    ...(expiry(f) !== undefined ? { expiresAt: expiry(f) as number } : {}),
    notifyUrl: httpUrl(f, 'notifyUrl', true) as string,
    ...(httpUrl(f, 'pageUrl', false) ? { returnUrl: httpUrl(f, 'pageUrl', false) as string } : {}),
    attrs,
    fingerprint: fingerprint(f),
  });
  const payInfo = product === 'wx_jsapi' || product === 'wx_lite' ? wxPayInfo(core, trade) : product === 'alipay_jsapi' ? JSON.stringify({ tradeNo: trade.tradeNo }) : payUrl(ctx, trade);
  return { outTradeNo: trade.outTradeNo, transactionId: trade.tradeNo, tradeType: product, payInfo };
}

function authPay(ctx: AcquirerContext, m: MerchantRecord, f: Fields, signType: ShengpaySignType): Fields {
  const product = str(f, 'tradeType', { required: true }) as string;
  if (!BAR_TRADE_TYPES.has(product)) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, `tradeType ${product} 不是付款码支付`);
  const authCode = str(f, 'authCode', { required: true, re: /^[0-9]{16,24}$/ }) as string;
  const { trade, repeat } = openTrade(ctx, {
    merchantId: m.id,
    outTradeNo: str(f, 'outTradeNo', { required: true, re: /^[0-9A-Za-z_-]{1,64}$/ }) as string,
    product,
    wallets: [WALLET_OF[product.split('_')[0] as string] as Wallet],
    amount: fen(f, 'totalFee'),
    currency: 'CNY',
    subject: str(f, 'body', { required: true, max: 128 }) as string,
    ...(httpUrl(f, 'notifyUrl', false) ? { notifyUrl: httpUrl(f, 'notifyUrl', false) as string } : {}),
    attrs: { signType },
    fingerprint: fingerprint(f),
  });
  const outcome = repeat ? 'PAID' : barPay(ctx, trade, authCode);
  if (outcome === 'DECLINED') throw new WireRefusal(SHENGPAY_ERRORS.balanceNotEnough, '用户余额不足');
  if (outcome === 'PAID_BUT_SYSTEM_ERROR') throw new WireRefusal('SYSTEM_ERROR', '系统错误，请查询订单');
  return orderFields(trade);
}

/** The order as queries and authPay answers describe it. */
export function orderFields(t: TradeRecord): Fields {
  return {
    outTradeNo: t.outTradeNo,
    transactionId: t.tradeNo,
    tradeType: t.product,
    status: orderStatusOf(t),
    totalFee: t.amount,
    currency: t.currency,
    ...(t.paidAt !== undefined ? { payTime: compactChinaTime(t.paidAt), payerInfo: JSON.stringify({ openid: t.payer }) } : {}),
  };
}

function handlers(core: AcquirerCore<ShengpayKeys>): Record<string, (m: MerchantRecord, f: Fields, signType: ShengpaySignType) => Fields> {
  const { ctx } = core;
  const trade = (m: MerchantRecord, f: Fields) => requireTrade(ctx, m.id, str(f, 'outTradeNo', { required: true }) as string);
  return {
    [SHENGPAY_PATHS.unifiedOffline]: (m, f, st) => createOrder(core, m, f, st),
    [SHENGPAY_PATHS.unifiedOnline]: (m, f, st) => createOrder(core, m, f, st),
    [SHENGPAY_PATHS.authPay]: (m, f, st) => authPay(ctx, m, f, st),
    [SHENGPAY_PATHS.query]: (m, f) => orderFields(trade(m, f)),
    [SHENGPAY_PATHS.close]: (m, f) => ({ outTradeNo: closeTrade(ctx, trade(m, f)).outTradeNo }),
    [SHENGPAY_PATHS.reverse]: (m, f) => orderFields(revokeTrade(ctx, trade(m, f))),
    [SHENGPAY_PATHS.refund]: (m, f) => {
      const t = trade(m, f);
      const r = refundTrade(ctx, t, { outRefundNo: str(f, 'outRefundNo', { required: true, re: /^[0-9A-Za-z_-]{1,64}$/ }) as string, amount: fen(f, 'refundFee'), reason: str(f, 'refundDesc', { max: 80 }) ?? '', notifyUrl: httpUrl(f, 'notifyUrl', true) as string });
      return { ...refundFields(t, r), totalFee: t.amount };
    },
    [SHENGPAY_PATHS.refundQuery]: (m, f) => {
      const r = ctx.book.refund(m.id, str(f, 'outRefundNo', { required: true }) as string);
      if (!r) throw new WireRefusal(REFUND_NOT_EXIST, '退款单不存在');
      return refundFields(requireTrade(ctx, m.id, r.outTradeNo), r);
    },
  };
}

export function registerShengpayApi(app: FastifyInstance, core: AcquirerCore<ShengpayKeys>): void {
  const { ctx } = core;
  const platformKey = createPrivateKey(core.keys.platformPrivateKeyPem);
  const answer = (reply: FastifyReply, fields: Fields, signType: ShengpaySignType | undefined): FastifyReply => {
    const body = { returnCode: 'SUCCESS', returnMsg: 'SUCCESS', ...fields, nonceStr: randomBytes(16).toString('hex') };
    return reply.code(200).type('application/json;charset=utf-8').send(JSON.stringify(signType ? signShengpay(body, signType, platformKey) : body));
  };
  for (const [path, handle] of Object.entries(handlers(core))) {
    app.post(path, async (req: FastifyRequest, reply) => {
      let signType: ShengpaySignType | undefined;
      let merchant: MerchantRecord | undefined;
      try {
        let f: Fields;
        try {
          const v: unknown = JSON.parse(typeof req.body === 'string' ? req.body : '');
          if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
          f = v as Fields;
        } catch {
          throw new WireRefusal(SHENGPAY_ERRORS.paramsError, '请求报文不是JSON对象', 'return');
        }
        const mchId = typeof f.mchId === 'string' ? f.mchId : '';
        merchant = ctx.book.merchants.get(mchId);
        if (!merchant) throw new WireRefusal(SHENGPAY_ERRORS.merchantNotFound, `商户 ${mchId} 不存在`, 'return');
        if (typeof f.nonceStr !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(f.nonceStr)) throw new WireRefusal(SHENGPAY_ERRORS.lackParams, 'nonceStr 缺失或格式错误', 'return');
        if (!isShengpaySignType(f.signType)) throw new WireRefusal(SHENGPAY_ERRORS.paramsError, 'signType 仅支持 RSA、RSA2', 'return');
        if (!verifyShengpay(f, ctx.book.merchantKey(merchant))) throw new WireRefusal(SHENGPAY_ERRORS.signError, '签名错误', 'return');
        signType = f.signType;
        if (core.takeBusy(CREATES.has(path))) throw new WireRefusal('BIZERR_NEED_RETRY', '业务繁忙，请重试');
        const out = handle(merchant, f, signType);
        ctx.log.debug({ mchId, path }, 'shengpay call');
        return answer(reply, { resultCode: 'SUCCESS', mchId, ...(f.subMchId ? { subMchId: f.subMchId } : {}), ...out }, signType);
      } catch (err) {
        const refusal = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(refusal instanceof WireRefusal)) throw err;
        ctx.log.info({ path, code: refusal.code }, 'shengpay call refused');
        if (refusal.level === 'return') return answer(reply, { returnCode: 'FAIL', returnMsg: refusal.message, errorCode: refusal.code, errorCodeDes: refusal.message }, undefined);
        return answer(reply, { resultCode: 'FAIL', mchId: merchant?.id, errorCode: refusal.code, errorCodeDes: refusal.message }, signType);
      }
    });
  }
}
