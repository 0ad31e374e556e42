import { createPrivateKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { closeTrade, digits, openTrade, refundTrade, requireTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason } from '../../sandbox/acquirer/types.ts';
import { compactChinaTime } from '../../china-time.ts';
import { PAY_TYPE_ALIPAY_LITE, TIMESTAMP_WINDOW_MS, XL_CODES, XL_PATHS } from '../protocol.ts';
import { parseFlatJson, verifyXinlian, type XlFields } from '../sign.ts';
import { okFields, refundFields, refusalFields, sealXinlian, tradeFields, type XinlianKeys } from './wire.ts';

/**
 * 信联's API as the simulator serves it (docs/channels/xinlian.md): known merchant and app, RSA2
 * signature with the merchant's key, timestamp window, nonce never reused and every business field
 * checked before anything is done; every answer, refusals included, signed with Xinlian's key.
 */

class WireRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REASON_CODE: Record<RefusalReason, string> = {
  NOT_FOUND: XL_CODES.orderNotFound,
  PAID: XL_CODES.orderPaid,
  CLOSED: XL_CODES.orderClosed,
  NOT_PAYABLE: XL_CODES.orderClosed,
  INCONSISTENT: XL_CODES.outTradeNoUsed,
  BAR_INVALID: XL_CODES.paramError,
  BAR_DECLINED: XL_CODES.paramError,
  NOT_REFUNDABLE: XL_CODES.notRefundable,
  REFUND_EXCEEDS: XL_CODES.refundExceeds,
  REFUND_INCONSISTENT: XL_CODES.refundNoUsed,
  WALLET_NOT_ACCEPTED: XL_CODES.paramError,
};

type F = Record<string, unknown>;

function text(f: F, key: string, o: { required?: boolean; re?: RegExp; max?: number } = {}): string | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === '') {
    if (o.required) throw new WireRefusal(XL_CODES.paramError, `缺少参数 ${key}`);
    return undefined;
  }
  if (typeof v !== 'string' || (o.re && !o.re.test(v)) || (o.max !== undefined && Array.from(v).length > o.max)) throw new WireRefusal(XL_CODES.paramError, `参数 ${key} 格式错误`);
  return v;
}

function fen(f: F, key: string): number {
  const v = f[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new WireRefusal(XL_CODES.paramError, `参数 ${key} 应为正整数(分)`);
  return v;
}

const NO = /^[0-9A-Za-z_-]{1,32}$/;
const URL_RE = /^https?:\/\/\S+$/;

function fingerprint(f: F): string {
  return JSON.stringify(Object.keys(f).filter((k) => !['sign', 'timestamp', 'nonce', 'signType', 'expireSeconds'].includes(k)).sort().map((k) => [k, f[k]]));
}

function handlers(ctx: AcquirerContext): Record<string, (m: MerchantRecord, f: F) => XlFields> {
  const trade = (m: MerchantRecord, f: F) => requireTrade(ctx, m.id, text(f, 'outTradeNo', { required: true, re: NO }) as string);
  return {
    [XL_PATHS.unifiedOrder]: (m, f) => {
      if (text(f, 'payType', { required: true }) !== PAY_TYPE_ALIPAY_LITE) throw new WireRefusal(XL_CODES.paramError, `payType 仅支持 ${PAY_TYPE_ALIPAY_LITE}`);
      if (text(f, 'currency', { required: true }) !== 'CNY') throw new WireRefusal(XL_CODES.paramError, '仅支持 CNY');
      const buyerId = text(f, 'buyerId', { required: true, re: /^2088[0-9]{12}$/ }) as string;
      const ttl = f.expireSeconds;
      if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1)) throw new WireRefusal(XL_CODES.paramError, 'expireSeconds 应为正整数');
      const now = ctx.now();
      const { trade: t, repeat } = openTrade(ctx, {
        merchantId: m.id,
        outTradeNo: text(f, 'outTradeNo', { required: true, re: NO }) as string,
        product: PAY_TYPE_ALIPAY_LITE,
        wallets: ['ALIPAY'],
        amount: fen(f, 'amount'),
        currency: 'CNY',
        subject: text(f, 'subject', { required: true, max: 64 }) as string,
        ...(typeof ttl === 'number' ? { expiresAt: now + ttl * 1000 } : {}),
        notifyUrl: text(f, 'notifyUrl', { required: true, re: URL_RE, max: 512 }) as string,
        // Only this Alipay user can pay the trade in their mini-program.
        attrs: { payer: buyerId, xlTradeNo: `XL${compactChinaTime(now)}${digits(8)}` },
        fingerprint: fingerprint(f),
      });
      if (repeat) ctx.log.debug({ outTradeNo: t.outTradeNo }, 'xinlian unifiedorder repeated');
      return tradeFields(m, t);
    },
    [XL_PATHS.query]: (m, f) => tradeFields(m, trade(m, f)),
    [XL_PATHS.close]: (m, f) => {
      const t = trade(m, f);
      if (t.status !== 'CREATED' && t.status !== 'PAYING' && t.status !== 'SUCCESS') throw new SimRefusal('CLOSED', `order ${t.outTradeNo} is already closed`);
      return tradeFields(m, closeTrade(ctx, t));
    },
    [XL_PATHS.refund]: (m, f) => {
      const t = trade(m, f);
      const reason = text(f, 'reason', { max: 64 });
      const notifyUrl = text(f, 'notifyUrl', { re: URL_RE, max: 512 });
      return refundFields(m, refundTrade(ctx, t, { outRefundNo: text(f, 'outRefundNo', { required: true, re: NO }) as string, amount: fen(f, 'refundAmount'), ...(reason ? { reason } : {}), ...(notifyUrl ? { notifyUrl } : {}) }));
    },
    [XL_PATHS.refundQuery]: (m, f) => {
      const r = ctx.book.refund(m.id, text(f, 'outRefundNo', { required: true, re: NO }) as string);
      if (!r || r.outTradeNo !== text(f, 'outTradeNo', { required: true, re: NO })) throw new SimRefusal('NOT_FOUND', '退款单不存在');
      return refundFields(m, r);
    },
  };
}

export function registerXinlianApi(app: FastifyInstance, core: AcquirerCore<XinlianKeys>): void {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  // Nonces seen within the timestamp window (older requests are refused by their timestamp anyway).
  const nonces = new Map<string, number>();
  for (const [path, handle] of Object.entries(handlers(ctx))) {
    app.post(path, async (req, reply) => {
      const send = (fields: XlFields) => reply.code(200).type('application/json; charset=utf-8').send(sealXinlian(key, fields, ctx.now()));
      try {
        const f = parseFlatJson(typeof req.body === 'string' ? req.body : '');
        if (!f) throw new WireRefusal(XL_CODES.paramError, '请求不是JSON对象');
        const m = typeof f.mchNo === 'string' ? ctx.book.merchants.get(f.mchNo) : undefined;
        if (!m || f.appId !== m.secrets.appId) throw new WireRefusal(XL_CODES.merchantNotFound, '商户或应用不存在');
        if (!verifyXinlian(f, ctx.book.merchantKey(m))) throw new WireRefusal(XL_CODES.signError, '验签失败');
        const now = ctx.now();
        if (typeof f.timestamp !== 'number' || Math.abs(f.timestamp - now) > TIMESTAMP_WINDOW_MS) throw new WireRefusal(XL_CODES.timestampOutOfWindow, 'timestamp 超出允许范围');
        const nonce = text(f, 'nonce', { required: true, re: /^[0-9A-Za-z]{16,64}$/ }) as string;
        for (const [n, at] of nonces) {
          if (at >= now - TIMESTAMP_WINDOW_MS) break; // insertion order is time order
          nonces.delete(n);
        }
        if (nonces.has(`${m.id}:${nonce}`)) throw new WireRefusal(XL_CODES.nonceUsed, 'nonce 重复');
        nonces.set(`${m.id}:${nonce}`, now);
        if (core.takeBusy(path === XL_PATHS.unifiedOrder)) throw new WireRefusal(XL_CODES.systemBusy, '系统繁忙，请稍后再试');
        return send(okFields(handle(m, f)));
      } catch (err) {
        const r = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(r instanceof WireRefusal)) throw err;
        ctx.log.info({ path, code: r.code }, 'xinlian call refused');
        return send(refusalFields(r.code, r.message));
      }
    });
  }
}
