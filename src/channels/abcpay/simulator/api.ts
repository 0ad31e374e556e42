import { createPrivateKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { fromMajorString } from '../../../domain/money.ts';
import { closeTrade, openTrade, payUrl, refundTrade, requireTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason } from '../../sandbox/acquirer/types.ts';
import { parseCompactChinaTime } from '../../china-time.ts';
import { AbcEnvelopeError, abcVerify, decodeAbc, encodeAbc, openAbcEnvelope } from '../envelope.ts';
import { ABC_CODES, ABC_CONTENT_TYPE, ABC_ENVELOPE, ABC_SERVLET, ORDER_CONSTANTS, PAYMENT_LINK, TRX_TYPE } from '../protocol.ts';
import { answerText, orderFields, refundFields, type AbcKeys } from './wire.ts';

/**
 * ABC TrustPay's servlet as the simulator serves it (docs/sandbox/abc.md): GB18030 JSON envelopes,
 * checked (format, merchant, signature over the raw Message text with the merchant's key) before
 * anything is done; answers signed with TrustPay's key; gateway-level refusals (APE…, EUNKWN)
 * unsigned, business refusals (E…) signed.
 */

class WireRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly signed = true,
  ) {
    super(message);
  }
}

const REASON_CODE: Record<RefusalReason, string> = {
  NOT_FOUND: ABC_CODES.orderNotExist,
  PAID: ABC_CODES.orderPaid,
  CLOSED: ABC_CODES.orderClosed,
  NOT_PAYABLE: ABC_CODES.orderClosed,
  INCONSISTENT: ABC_CODES.orderNoUsed,
  BAR_INVALID: ABC_CODES.systemError,
  BAR_DECLINED: ABC_CODES.systemError,
  NOT_REFUNDABLE: ABC_CODES.notRefundable,
  REFUND_EXCEEDS: ABC_CODES.refundExceeds,
  REFUND_INCONSISTENT: ABC_CODES.orderNoUsed,
  WALLET_NOT_ACCEPTED: ABC_CODES.systemError,
};

type Obj = Record<string, unknown>;

function str(o: Obj, key: string, re?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '' || (re && !re.test(v))) throw new WireRefusal(ABC_CODES.formatError, `${key} 缺失或格式错误`, false);
  return v;
}

function yuanField(o: Obj, key: string): number {
  const fen = fromMajorString(str(o, key), 'CNY');
  if (fen === undefined || fen < 1) throw new WireRefusal(ABC_CODES.formatError, `${key} 金额格式错误`, false);
  return fen;
}

const ORDER_NO = /^[0-9A-Za-z_-]{1,50}$/;
const URL_RE = /^https?:\/\/\S{1,250}$/;

function fingerprint(order: Obj, trx: Obj): string {
  const keep = (o: Obj, drop: string[]) => Object.keys(o).filter((k) => !drop.includes(k)).sort().map((k) => [k, o[k]]);
  return JSON.stringify([keep(order, ['OrderDate', 'OrderTime']), keep(trx, ['Order', 'OrderDetail'])]);
}

function createOrder(ctx: AcquirerContext, m: MerchantRecord, trx: Obj, kind: 'scan' | 'page'): Obj {
  const order = trx.Order as Obj | undefined;
  if (!order || typeof order !== 'object') throw new WireRefusal(ABC_CODES.formatError, '缺少 Order', false);
  if (str(order, 'PayTypeID') !== ORDER_CONSTANTS.payTypeId || str(order, 'CurrencyCode') !== ORDER_CONSTANTS.currencyCode) throw new WireRefusal(ABC_CODES.formatError, 'PayTypeID 或 CurrencyCode 不支持', false);
  str(order, 'OrderDate', /^\d{4}\/\d{2}\/\d{2}$/);
  str(order, 'OrderTime', /^\d{2}:\d{2}:\d{2}$/);
  const link = str(trx, 'PaymentLinkType', /^[1-4]$/);
  const timeout = typeof order.OrderTimeoutDate === 'string' ? parseCompactChinaTime(order.OrderTimeoutDate) : undefined;
  const days = Number(str(order, 'ExpiredDate', /^[1-9][0-9]{0,2}$/));
  const returnUrl = kind === 'page' ? str(trx, 'MerchantSuccessURL', URL_RE) : undefined;
  if (kind === 'page' && link !== PAYMENT_LINK.mobile && link !== PAYMENT_LINK.pc) throw new WireRefusal(ABC_CODES.formatError, 'PaymentLinkType 不支持', false);
  const { trade: t } = openTrade(ctx, {
    merchantId: m.id,
    outTradeNo: str(order, 'OrderNo', ORDER_NO),
    product: kind === 'scan' ? TRX_TYPE.scanOrder : `${TRX_TYPE.pageOrder}/${link}`,
    wallets: kind === 'scan' ? ['WECHAT', 'ALIPAY', 'UNIONPAY', 'ABC'] : ['ABC'],
    amount: yuanField(order, 'OrderAmount'),
    currency: 'CNY',
    subject: str(order, 'OrderDesc'),
    expiresAt: timeout ? timeout.getTime() : ctx.now() + days * 86_400_000,
    notifyUrl: str(trx, 'ResultNotifyURL', URL_RE),
    ...(returnUrl ? { returnUrl } : {}),
    fingerprint: fingerprint(order, trx),
  });
  const link2 = payUrl(ctx, t);
  return { OrderNo: t.outTradeNo, OrderAmount: orderFields(t).OrderAmount, TrxID: t.tradeNo, ...(kind === 'scan' ? { QRCode: link2 } : { PaymentURL: link2 }) };
}

function handlers(ctx: AcquirerContext): Record<string, (m: MerchantRecord, trx: Obj) => Obj> {
  const trade = (m: MerchantRecord, trx: Obj) => requireTrade(ctx, m.id, str(trx, 'OrderNo', ORDER_NO));
  return {
    [TRX_TYPE.scanOrder]: (m, trx) => createOrder(ctx, m, trx, 'scan'),
    [TRX_TYPE.pageOrder]: (m, trx) => createOrder(ctx, m, trx, 'page'),
    [TRX_TYPE.query]: (m, trx) => orderFields(trade(m, trx)),
    [TRX_TYPE.close]: (m, trx) => ({ OrderNo: closeTrade(ctx, trade(m, trx)).outTradeNo }),
    [TRX_TYPE.refund]: (m, trx) => {
      const t = trade(m, trx);
      if (str(trx, 'CurrencyCode') !== ORDER_CONSTANTS.currencyCode) throw new WireRefusal(ABC_CODES.formatError, 'CurrencyCode 不支持', false);
      const reason = typeof trx.RefundReason === 'string' ? trx.RefundReason : '';
      return refundFields(refundTrade(ctx, t, { outRefundNo: str(trx, 'NewOrderNo', ORDER_NO), amount: yuanField(trx, 'TrxAmount'), reason }));
    },
    [TRX_TYPE.refundQuery]: (m, trx) => {
      const r = ctx.book.refund(m.id, str(trx, 'NewOrderNo', ORDER_NO));
      if (!r || r.outTradeNo !== trx.OrderNo) throw new WireRefusal(ABC_CODES.orderNotExist, '退款交易不存在');
      return refundFields(r);
    },
  };
}

export function registerAbcApi(app: FastifyInstance, core: AcquirerCore<AbcKeys>): void {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  const table = handlers(ctx);
  // GB18030 bodies: this route reads raw bytes (the shared parser decodes UTF-8).
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post(ABC_SERVLET, async (req, reply) => {
      let merchantId = '';
      let text: string;
      try {
        const opened = (() => {
          try {
            return openAbcEnvelope(decodeAbc(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)));
          } catch (err) {
            if (err instanceof AbcEnvelopeError) throw new WireRefusal(ABC_CODES.formatError, `请求报文格式错误: ${err.message}`, false);
            throw err;
          }
        })();
        const msg = opened.message;
        const merchant = msg.Merchant as Obj | undefined;
        if (msg.Version !== ABC_ENVELOPE.version || msg.Format !== ABC_ENVELOPE.format || merchant?.ECMerchantType !== ABC_ENVELOPE.merchantType) throw new WireRefusal(ABC_CODES.formatError, 'Version/Format/ECMerchantType 错误', false);
        const m = typeof merchant.MerchantID === 'string' ? ctx.book.merchants.get(merchant.MerchantID) : undefined;
        if (!m) throw new WireRefusal(ABC_CODES.merchantNotFound, '商户信息不存在', false);
        if (!opened.signature || !abcVerify(opened.messageText, opened.signature, ctx.book.merchantKey(m))) throw new WireRefusal(ABC_CODES.signatureError, '签名验证失败', false);
        merchantId = m.id;
        const trx = msg.TrxRequest as Obj | undefined;
        if (core.takeBusy(trx?.TrxType === TRX_TYPE.scanOrder || trx?.TrxType === TRX_TYPE.pageOrder)) throw new WireRefusal(ABC_CODES.unknown, '交易结果未知，请进行查证明确交易结果', false);
        const handle = trx && typeof trx.TrxType === 'string' ? table[trx.TrxType] : undefined;
        if (!trx || !handle) throw new WireRefusal(ABC_CODES.systemError, '系统错误: TrxType 不存在', false);
        text = answerText(m.id, { ReturnCode: ABC_CODES.success, ErrorMessage: '交易成功', ...handle(m, trx) }, key);
      } catch (err) {
        const r = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(r instanceof WireRefusal)) throw err;
        ctx.log.info({ code: r.code }, 'abc call refused');
        text = answerText(r.signed ? merchantId : '', { ReturnCode: r.code, ErrorMessage: r.message }, r.signed ? key : undefined);
      }
      return reply.code(200).type(ABC_CONTENT_TYPE).send(encodeAbc(text));
    });
  });
}
