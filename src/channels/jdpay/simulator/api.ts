import { createPrivateKey } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { closeTrade, openTrade, payUrl, refundTrade, requireTrade, revokeTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason, type Wallet } from '../../sandbox/acquirer/types.ts';
import { parseCompactChinaTime } from '../../china-time.ts';
import { FORM_PLAIN_FIELDS, decryptJdXml, jdDesKey, jdFormSignContent, jdVerifyText, parseJdXml, tripleDesDecryptHex, verifyJdXml, type XmlFields } from '../envelope.ts';
import { JD_CODES, JD_PATHS, JD_SANDBOX_CASHIER_PREFIX, JD_VERSION, QUERY_TRADE_TYPE } from '../protocol.ts';
import { refundFields, refusal, sealForMerchant, tradeFields, type JdpayKeys } from './wire.ts';

/**
 * JD Pay's server API and cashiers as the simulator serves them (docs/sandbox/jdpay.md): every
 * message unwrapped, decrypted with the merchant's 3DES key and verified with its RSA key before
 * anything is done; answers sealed with the platform key; refusals as a bare result code (J5).
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
  NOT_FOUND: JD_CODES.orderNotExist,
  PAID: JD_CODES.orderPaid,
  CLOSED: JD_CODES.orderClosed,
  NOT_PAYABLE: JD_CODES.orderClosed,
  INCONSISTENT: JD_CODES.tradeNumUsed,
  BAR_INVALID: JD_CODES.paramError,
  BAR_DECLINED: JD_CODES.paramError,
  NOT_REFUNDABLE: JD_CODES.notRefundable,
  REFUND_EXCEEDS: JD_CODES.refundExceeds,
  REFUND_INCONSISTENT: JD_CODES.tradeNumUsed,
  WALLET_NOT_ACCEPTED: JD_CODES.paramError,
};

function leaf(f: XmlFields, key: string, o: { required?: boolean; re?: RegExp; max?: number } = {}): string | undefined {
  const v = f[key];
  if (v === undefined || v === '') {
    if (o.required) throw new WireRefusal(JD_CODES.paramError, `缺少参数 ${key}`);
    return undefined;
  }
  if (typeof v !== 'string' || (o.re && !o.re.test(v)) || (o.max !== undefined && Array.from(v).length > o.max)) throw new WireRefusal(JD_CODES.paramError, `参数 ${key} 格式错误`);
  return v;
}

const TRADE_NUM = /^[0-9A-Za-z_-]{1,32}$/;
const fen = (f: XmlFields, key: string): number => Number(leaf(f, key, { required: true, re: /^[1-9][0-9]{0,11}$/ }));
const url = (f: XmlFields, key: string, required: boolean): string | undefined => leaf(f, key, { required, re: /^https?:\/\/\S+$/, max: 255 });

function fingerprint(f: XmlFields): string {
  return JSON.stringify(Object.keys(f).filter((k) => !['sign', 'tradeTime', 'version'].includes(k)).sort().map((k) => [k, f[k]]));
}

/** The order of uniorder or a cashier form. */
function createTrade(ctx: AcquirerContext, m: MerchantRecord, f: XmlFields, product: string, wallets: Wallet[], attrs: Record<string, string> = {}) {
  if (leaf(f, 'currency', { required: true }) !== 'CNY') throw new WireRefusal(JD_CODES.paramError, '仅支持 CNY');
  const tradeTime = parseCompactChinaTime(leaf(f, 'tradeTime', { required: true }) as string);
  if (!tradeTime) throw new WireRefusal(JD_CODES.paramError, 'tradeTime 格式应为 yyyyMMddHHmmss');
  const ttl = leaf(f, 'expireTime', { re: /^[1-9][0-9]{0,7}$/ });
  leaf(f, 'orderType', { required: true, re: /^[01]$/ });
  return openTrade(ctx, {
    merchantId: m.id,
    outTradeNo: leaf(f, 'tradeNum', { required: true, re: TRADE_NUM }) as string,
    product,
    wallets,
    amount: fen(f, 'amount'),
    currency: 'CNY',
    subject: leaf(f, 'tradeName', { required: true, max: 64 }) as string,
    ...(ttl ? { expiresAt: tradeTime.getTime() + Number(ttl) * 1000 } : {}),
    notifyUrl: url(f, 'notifyUrl', true) as string,
    ...(url(f, 'callbackUrl', false) ? { returnUrl: url(f, 'callbackUrl', false) as string } : {}),
    attrs,
    fingerprint: fingerprint(f),
  }).trade;
}

function handlers(ctx: AcquirerContext): Record<string, (m: MerchantRecord, f: XmlFields) => XmlFields> {
  return {
    [JD_PATHS.uniorder]: (m, f) => {
      const tradeType = leaf(f, 'tradeType', { required: true, re: /^(GEN|QR)$/ }) as 'GEN' | 'QR';
      const payTool = leaf(f, 'payTool', { re: /^(WX|ALIPAY)$/ });
      if (payTool && tradeType !== 'QR') throw new WireRefusal(JD_CODES.paramError, 'payTool 仅用于 QR');
      const wallets: Wallet[] = payTool === 'WX' ? ['WECHAT'] : payTool === 'ALIPAY' ? ['ALIPAY'] : ['JD'];
      const t = createTrade(ctx, m, f, payTool ? `QR_${payTool}` : tradeType, wallets, payTool ? { payTool } : {});
      return { tradeNum: t.outTradeNo, orderId: t.tradeNo, amount: String(t.amount), ...(tradeType === 'QR' ? { qrCode: payUrl(ctx, t) } : {}) };
    },
    [JD_PATHS.query]: (m, f) => {
      const kind = leaf(f, 'tradeType', { required: true, re: /^[01]$/ });
      const tradeNum = leaf(f, 'tradeNum', { required: true, re: TRADE_NUM }) as string;
      if (kind === QUERY_TRADE_TYPE.pay) return tradeFields(requireTrade(ctx, m.id, tradeNum));
      const r = ctx.book.refund(m.id, tradeNum);
      if (!r || (leaf(f, 'oTradeNum') !== undefined && r.outTradeNo !== leaf(f, 'oTradeNum'))) throw new WireRefusal(JD_CODES.orderNotExist, '退款单不存在');
      return refundFields(r);
    },
    [JD_PATHS.refund]: (m, f) => {
      const t = requireTrade(ctx, m.id, leaf(f, 'oTradeNum', { required: true, re: TRADE_NUM }) as string);
      const note = leaf(f, 'note', { max: 64 });
      const r = refundTrade(ctx, t, { outRefundNo: leaf(f, 'tradeNum', { required: true, re: TRADE_NUM }) as string, amount: fen(f, 'amount'), ...(note ? { reason: note } : {}), ...(url(f, 'notifyUrl', false) ? { notifyUrl: url(f, 'notifyUrl', false) as string } : {}) });
      return refundFields(r);
    },
    [JD_PATHS.revoke]: (m, f) => {
      const t = requireTrade(ctx, m.id, leaf(f, 'oTradeNum', { required: true, re: TRADE_NUM }) as string);
      leaf(f, 'tradeNum', { required: true, re: TRADE_NUM });
      if (fen(f, 'amount') !== t.amount) throw new WireRefusal(JD_CODES.paramError, '撤销金额必须等于订单金额');
      const done = t.status === 'SUCCESS' ? revokeTrade(ctx, t) : closeTrade(ctx, t);
      return { tradeNum: leaf(f, 'tradeNum') as string, oTradeNum: done.outTradeNo, amount: String(done.amount), status: '1' };
    },
  };
}

/** Unwraps a server call: known merchant, version, decryptable with its 3DES key, signed with its key (J2). */
function unwrap(ctx: AcquirerContext, body: string): { m: MerchantRecord; f: XmlFields } {
  let outer: XmlFields;
  try {
    outer = parseJdXml(body);
  } catch {
    throw new WireRefusal(JD_CODES.paramError, '报文不是合法的XML');
  }
  const m = typeof outer.merchant === 'string' ? ctx.book.merchants.get(outer.merchant) : undefined;
  if (!m) throw new WireRefusal(JD_CODES.merchantNotFound, '商户不存在');
  if (outer.version !== JD_VERSION) throw new WireRefusal(JD_CODES.paramError, `version 应为 ${JD_VERSION}`);
  let xml: string;
  try {
    xml = decryptJdXml(jdDesKey(m.secrets.desKey as string), typeof outer.encrypt === 'string' ? outer.encrypt : '');
  } catch {
    throw new WireRefusal(JD_CODES.decryptError, '报文解密失败');
  }
  if (!verifyJdXml(xml, ctx.book.merchantKey(m))) throw new WireRefusal(JD_CODES.signError, '验签失败');
  const f = parseJdXml(xml);
  if (f.merchant !== m.id || f.version !== JD_VERSION) throw new WireRefusal(JD_CODES.paramError, '报文内外商户号或版本不一致');
  return { m, f };
}

/** A cashier form (J4): values decrypted with the merchant's 3DES key, signed over the plain values. */
function openForm(ctx: AcquirerContext, body: string): { m: MerchantRecord; f: XmlFields } {
  const posted = Object.fromEntries(new URLSearchParams(body));
  const m = posted.merchant ? ctx.book.merchants.get(posted.merchant) : undefined;
  if (!m) throw new WireRefusal(JD_CODES.merchantNotFound, '商户不存在');
  const key = jdDesKey(m.secrets.desKey as string);
  const plain: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(posted)) plain[k] = FORM_PLAIN_FIELDS.has(k) ? v : tripleDesDecryptHex(key, v);
  } catch {
    throw new WireRefusal(JD_CODES.decryptError, '参数解密失败');
  }
  if (!jdVerifyText(jdFormSignContent(plain), plain.sign ?? '', ctx.book.merchantKey(m))) throw new WireRefusal(JD_CODES.signError, '验签失败');
  return { m, f: plain };
}

export function registerJdpayApi(app: FastifyInstance, core: AcquirerCore<JdpayKeys>): void {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  const xml = (reply: FastifyReply, body: string) => reply.code(200).type('application/xml;charset=utf-8').send(body);
  for (const [path, handle] of Object.entries(handlers(ctx))) {
    app.post(path, async (req, reply) => {
      let merchant = '';
      try {
        const { m, f } = unwrap(ctx, typeof req.body === 'string' ? req.body : '');
        merchant = m.id;
        if (core.takeBusy(path === JD_PATHS.uniorder)) throw new WireRefusal(JD_CODES.systemBusy, '系统繁忙，请稍后再试');
        return xml(reply, sealForMerchant(key, m, handle(m, f)));
      } catch (err) {
        const r = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(r instanceof WireRefusal)) throw err;
        ctx.log.info({ path, code: r.code }, 'jdpay call refused');
        return xml(reply, refusal(merchant, r.code, r.message));
      }
    });
  }
  for (const kind of ['pc', 'h5'] as const) {
    app.post(`${JD_SANDBOX_CASHIER_PREFIX[kind]}${JD_PATHS.saveOrder}`, async (req, reply) => {
      try {
        const { m, f } = openForm(ctx, typeof req.body === 'string' ? req.body : '');
        const t = createTrade(ctx, m, f, kind === 'pc' ? 'PC' : 'H5', ['JD']);
        return reply.code(303).header('Location', payUrl(ctx, t)).send();
      } catch (err) {
        const r = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(r instanceof WireRefusal)) throw err;
        return reply.code(400).type('text/plain; charset=utf-8').send(`京东支付收银台错误 ${r.code}: ${r.message}`);
      }
    });
  }
}
