import { createPrivateKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { closeTrade, openTrade, payUrl, refundTrade, requireTrade, type AcquirerContext } from '../../sandbox/acquirer/engine.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import { SimRefusal, type MerchantRecord, type RefusalReason } from '../../sandbox/acquirer/types.ts';
import { ACCESS_TYPE_MOBILE, CUR_TYPE_CNY, ICBC_CHARSET, ICBC_CODES, ICBC_FORMAT, ICBC_PATHS, PAY_MODE_ICBC_APP, SIGN_HASH, TIMESTAMP_WINDOW_MS } from '../protocol.ts';
import { parseIcbcTimestamp, sealIcbcAnswer, verifyIcbcParams } from '../sign.ts';
import { merchantByAppId, refundBiz, tradeBiz, type IcbcKeys } from './wire.ts';

/**
 * The ICBC gateway's 聚合支付 services as the simulator serves them (docs/channels/icbc.md): every
 * call checked strictly — known app_id, signature over `path?sorted params` with the app's key,
 * msg_id never seen before, timestamp within the window, biz fields — before anything is done;
 * every answer, refusals included, signed over its raw response_biz_content with the gateway key.
 */

class WireRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const REASON_CODE: Record<RefusalReason, number> = {
  NOT_FOUND: ICBC_CODES.orderNotFound,
  PAID: ICBC_CODES.orderPaid,
  CLOSED: ICBC_CODES.orderClosed,
  NOT_PAYABLE: ICBC_CODES.orderClosed,
  INCONSISTENT: ICBC_CODES.outTradeNoUsed,
  BAR_INVALID: ICBC_CODES.paramError,
  BAR_DECLINED: ICBC_CODES.paramError,
  NOT_REFUNDABLE: ICBC_CODES.notRefundable,
  REFUND_EXCEEDS: ICBC_CODES.refundExceeds,
  REFUND_INCONSISTENT: ICBC_CODES.refundNoUsed,
  WALLET_NOT_ACCEPTED: ICBC_CODES.paramError,
};

type Biz = Record<string, unknown>;

function field(b: Biz, key: string, o: { required?: boolean; re?: RegExp; max?: number } = {}): string | undefined {
  const v = b[key];
  if (v === undefined || v === '') {
    if (o.required) throw new WireRefusal(ICBC_CODES.paramError, `缺少参数 ${key}`);
    return undefined;
  }
  if (typeof v !== 'string' || (o.re && !o.re.test(v)) || (o.max !== undefined && Array.from(v).length > o.max)) throw new WireRefusal(ICBC_CODES.paramError, `参数 ${key} 格式错误`);
  return v;
}

const NO = /^[0-9A-Za-z_-]{1,32}$/;
const fen = (b: Biz, key: string): number => Number(field(b, key, { required: true, re: /^[1-9][0-9]{0,11}$/ }));
const url = (b: Biz, key: string, required: boolean): string | undefined => field(b, key, { required, re: /^https?:\/\/\S+$/, max: 512 });

function fingerprint(b: Biz): string {
  return JSON.stringify(Object.keys(b).filter((k) => k !== 'orig_date_time').sort().map((k) => [k, b[k]]));
}

function handlers(ctx: AcquirerContext): Record<string, (m: MerchantRecord, b: Biz) => Record<string, string>> {
  const trade = (m: MerchantRecord, b: Biz) => requireTrade(ctx, m.id, field(b, 'out_trade_no', { required: true, re: NO }) as string);
  return {
    [ICBC_PATHS.pay]: (m, b) => {
      if (field(b, 'pay_mode', { required: true }) !== PAY_MODE_ICBC_APP) throw new WireRefusal(ICBC_CODES.paramError, `pay_mode 应为 ${PAY_MODE_ICBC_APP} (工行APP)`);
      if (field(b, 'access_type', { required: true }) !== ACCESS_TYPE_MOBILE) throw new WireRefusal(ICBC_CODES.paramError, `access_type 应为 ${ACCESS_TYPE_MOBILE}`);
      if (field(b, 'cur_type', { required: true }) !== CUR_TYPE_CNY) throw new WireRefusal(ICBC_CODES.paramError, `cur_type 仅支持 ${CUR_TYPE_CNY}`);
      const orig = parseIcbcTimestamp(field(b, 'orig_date_time', { required: true }) as string);
      if (orig === undefined) throw new WireRefusal(ICBC_CODES.paramError, 'orig_date_time 格式应为 yyyy-MM-dd HH:mm:ss');
      const ttl = field(b, 'expire_time', { re: /^[1-9][0-9]{0,7}$/ });
      const returnUrl = url(b, 'return_url', false);
      const { trade: t } = openTrade(ctx, {
        merchantId: m.id,
        outTradeNo: field(b, 'out_trade_no', { required: true, re: NO }) as string,
        product: 'ICBC_APP',
        wallets: ['ICBC'],
        amount: fen(b, 'order_amt'),
        currency: 'CNY',
        subject: field(b, 'goods_body', { required: true, max: 64 }) as string,
        ...(ttl ? { expiresAt: orig + Number(ttl) * 1000 } : {}),
        notifyUrl: url(b, 'notify_url', true) as string,
        ...(returnUrl ? { returnUrl } : {}),
        fingerprint: fingerprint(b),
      });
      return { mer_id: m.id, out_trade_no: t.outTradeNo, order_id: t.tradeNo, order_amt: String(t.amount), pay_url: payUrl(ctx, t) };
    },
    [ICBC_PATHS.query]: (m, b) => tradeBiz(trade(m, b)),
    [ICBC_PATHS.close]: (m, b) => {
      const t = trade(m, b);
      if (t.status !== 'CREATED' && t.status !== 'PAYING' && t.status !== 'SUCCESS') throw new SimRefusal('CLOSED', `order ${t.outTradeNo} is already closed`);
      return tradeBiz(closeTrade(ctx, t));
    },
    [ICBC_PATHS.refund]: (m, b) => {
      const t = trade(m, b);
      if (field(b, 'cur_type', { required: true }) !== CUR_TYPE_CNY) throw new WireRefusal(ICBC_CODES.paramError, `cur_type 仅支持 ${CUR_TYPE_CNY}`);
      const reason = field(b, 'reason', { max: 64 });
      return refundBiz(refundTrade(ctx, t, { outRefundNo: field(b, 'outtrx_serial_no', { required: true, re: NO }) as string, amount: fen(b, 'ret_total_amt'), ...(reason ? { reason } : {}) }));
    },
    [ICBC_PATHS.refundQuery]: (m, b) => {
      const r = ctx.book.refund(m.id, field(b, 'outtrx_serial_no', { required: true, re: NO }) as string);
      if (!r || r.outTradeNo !== field(b, 'out_trade_no', { required: true, re: NO })) throw new SimRefusal('NOT_FOUND', '退款交易不存在');
      return refundBiz(r);
    },
  };
}

/** Remembered msg_ids per app (bounded: the oldest are forgotten first; the timestamp window covers the rest). */
class SeenMsgIds {
  readonly #seen = new Set<string>();
  add(appId: string, msgId: string): boolean {
    const k = `${appId}\u0000${msgId}`;
    if (this.#seen.has(k)) return false;
    this.#seen.add(k);
    if (this.#seen.size > 200_000) this.#seen.delete(this.#seen.values().next().value as string);
    return true;
  }
}

export function registerIcbcApi(app: FastifyInstance, core: AcquirerCore<IcbcKeys>): void {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.gatewayPrivateKeyPem);
  const seen = new SeenMsgIds();
  for (const [path, handle] of Object.entries(handlers(ctx))) {
    app.post(path, async (req, reply) => {
      const p = Object.fromEntries(new URLSearchParams(typeof req.body === 'string' ? req.body : ''));
      const answer = (fields: Record<string, unknown>) => reply.code(200).type('application/json; charset=utf-8').send(sealIcbcAnswer({ ...fields, msg_id: p.msg_id ?? '' }, key));
      try {
        const m = p.app_id ? merchantByAppId(core, p.app_id) : undefined;
        if (!m) throw new WireRefusal(ICBC_CODES.appNotFound, 'app_id 不存在');
        const hash = SIGN_HASH[p.sign_type ?? ''];
        if (!hash || !verifyIcbcParams(path, p, hash, ctx.book.merchantKey(m))) throw new WireRefusal(ICBC_CODES.signError, '签名验证失败');
        if (p.format !== ICBC_FORMAT || p.charset !== ICBC_CHARSET) throw new WireRefusal(ICBC_CODES.paramError, `format 应为 ${ICBC_FORMAT}, charset 应为 ${ICBC_CHARSET}`);
        const at = parseIcbcTimestamp(p.timestamp ?? '');
        if (at === undefined || Math.abs(at - ctx.now()) > TIMESTAMP_WINDOW_MS) throw new WireRefusal(ICBC_CODES.timestampOutOfWindow, 'timestamp 超出允许范围');
        if (!p.msg_id || !/^[0-9A-Za-z_-]{1,64}$/.test(p.msg_id) || !seen.add(m.secrets.appId as string, p.msg_id)) throw new WireRefusal(ICBC_CODES.msgIdUsed, 'msg_id 重复或无效');
        let biz: unknown;
        try {
          biz = JSON.parse(p.biz_content ?? '');
        } catch {
          throw new WireRefusal(ICBC_CODES.paramError, 'biz_content 不是合法的JSON');
        }
        if (typeof biz !== 'object' || biz === null || Array.isArray(biz)) throw new WireRefusal(ICBC_CODES.paramError, 'biz_content 不是JSON对象');
        if ((biz as Biz).mer_id !== m.id) throw new WireRefusal(ICBC_CODES.paramError, 'mer_id 与 app_id 不匹配');
        if (core.takeBusy(path === ICBC_PATHS.pay)) throw new WireRefusal(ICBC_CODES.systemBusy, '系统繁忙，请稍后再试');
        return answer({ return_code: 0, return_msg: 'success', ...handle(m, biz as Biz) });
      } catch (err) {
        const r = err instanceof SimRefusal ? new WireRefusal(REASON_CODE[err.reason], err.message) : err;
        if (!(r instanceof WireRefusal)) throw err;
        ctx.log.info({ path, code: r.code }, 'icbc call refused');
        return answer({ return_code: r.code, return_msg: r.message });
      }
    });
  }
}
