import { fromMajorString } from '../../../domain/money.ts';
import { yuan } from '../mapping.ts';
import { chinaTime, parseChinaTime } from '../sign.ts';
import { SANDBOX_BUYER_ID, alnum, business, buyerFields, tradeNo, type SimContext } from './context.ts';
import { checkIsvTrade } from './app-auth.ts';
import type { AppRecord, PayerOptions, TradeKind, TradeRecord, TradeStatus } from './types.ts';

/**
 * Trade lifecycle of the simulated Alipay (protocols.md §C.4): creation per method, the payer's
 * actions, lazy expiry, and the asynchronous notifications every status change triggers (§C.5).
 */

export type Biz = Record<string, unknown>;
const DAY_MS = 24 * 3600 * 1000;

export function str(biz: Biz, key: string, o: { required?: boolean; max?: number; re?: RegExp } = {}): string | undefined {
  const v = biz[key];
  if (v === undefined || v === null || v === '') {
    if (o.required) throw business('ACQ.INVALID_PARAMETER', `参数无效: 缺少 ${key}`);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw business('ACQ.INVALID_PARAMETER', `参数无效: ${key} 类型错误`);
  const s = String(v);
  if ((o.max !== undefined && Array.from(s).length > o.max) || (o.re && !o.re.test(s))) throw business('ACQ.INVALID_PARAMETER', `参数无效: ${key}`);
  return s;
}

/** Yuan with at most two decimals, 0.01 … 100000000 (fen internally, never a float). */
export function amount(biz: Biz, key: string): number {
  const s = str(biz, key, { required: true }) as string;
  const fen = fromMajorString(s, 'CNY');
  if (fen === undefined || fen < 1 || fen > 10_000_000_000) throw business('ACQ.INVALID_PARAMETER', `参数无效: ${key} 金额格式错误`);
  return fen;
}

export const OUT_TRADE_NO = /^[0-9A-Za-z_-]{1,64}$/;

function expiry(ctx: SimContext, biz: Biz, kind: TradeKind): number {
  const abs = str(biz, 'time_expire');
  if (abs !== undefined) {
    const ms = parseChinaTime(abs);
    if (ms === undefined) throw business('ACQ.INVALID_PARAMETER', '参数无效: time_expire 格式应为 yyyy-MM-dd HH:mm:ss');
    return ms;
  }
  const rel = str(biz, 'timeout_express');
  if (rel !== undefined) {
    const m = /^([1-9][0-9]*)([mhdc])$/.exec(rel);
    if (!m) throw business('ACQ.INVALID_PARAMETER', '参数无效: timeout_express');
    const unit = { m: 60_000, h: 3_600_000, d: DAY_MS, c: DAY_MS }[m[2] as 'm'] ?? 60_000;
    return ctx.now() + Number(m[1]) * unit;
  }
  return ctx.now() + (kind === 'precreate' ? 2 * 3600 * 1000 : 15 * DAY_MS);
}

/** Deterministic fingerprint of the business fields: repeats with the same ones get the same answer. */
export function fingerprint(kind: string, biz: Biz, extra: Record<string, string | undefined> = {}): string {
  const keys = Object.keys(biz).sort();
  return JSON.stringify([kind, keys.map((key) => [key, biz[key]]), extra]);
}

/** Answer fields common to query / pay / notification: amounts as yuan strings. */
function amounts(t: TradeRecord): Record<string, string> {
  const paid = t.status === 'TRADE_SUCCESS' || t.status === 'TRADE_FINISHED' || (t.status === 'TRADE_CLOSED' && t.gmt_payment !== undefined);
  const a = paid ? yuan(t.total_amount) : '0.00';
  return { total_amount: yuan(t.total_amount), buyer_pay_amount: a, point_amount: '0.00', invoice_amount: a, receipt_amount: a };
}

export function buyerOf(t: TradeRecord): Record<string, string> {
  const out: Record<string, string> = {};
  if (t.buyer_logon_id) out.buyer_logon_id = t.buyer_logon_id;
  return out;
}

/** Lookup by out_trade_no or trade_no (§C.4), answering ACQ.TRADE_NOT_EXIST like Alipay. */
export function findTrade(ctx: SimContext, app: AppRecord, biz: Biz): TradeRecord | undefined {
  const out = str(biz, 'out_trade_no');
  const no = str(biz, 'trade_no');
  if (out === undefined && no === undefined) throw business('ACQ.INVALID_PARAMETER', '参数无效: out_trade_no 和 trade_no 不能同时为空');
  const t = out !== undefined ? ctx.state.trade(app.appId, out) : ctx.state.tradeByNo(no as string);
  if (!t || t.app_id !== app.appId || (no !== undefined && t.trade_no !== no)) return undefined;
  expireIfDue(ctx, t);
  return t;
}

export function requireTrade(ctx: SimContext, app: AppRecord, biz: Biz): TradeRecord {
  const t = findTrade(ctx, app, biz);
  // A precreated code nobody scanned is not a trade yet (§C.4).
  if (!t || t.status === undefined) throw business('ACQ.TRADE_NOT_EXIST', '交易不存在', { out_trade_no: str(biz, 'out_trade_no') });
  return t;
}

/** The trade comes into existence at Alipay: a scan, an opened cashier, a submitted order string. */
export function materialize(ctx: SimContext, t: TradeRecord, o: PayerOptions = {}): void {
  if (t.trade_no === undefined) {
    let no = tradeNo(ctx.now());
    while (ctx.state.hasTradeNo(no)) no = tradeNo(ctx.now());
    t.trade_no = no;
    t.status = 'WAIT_BUYER_PAY';
    ctx.state.index(t);
  }
  if (!t.buyer_id && !t.buyer_open_id) {
    const app = ctx.state.apps.get(t.app_id);
    Object.assign(t, buyerFields(app, o.buyerId ?? SANDBOX_BUYER_ID, o.buyerOpenId));
    t.buyer_logon_id = 'sbx***@sandbox.com';
  }
  ctx.state.changed();
}

export function newTrade(ctx: SimContext, app: AppRecord, kind: TradeKind, biz: Biz, params: Record<string, string>, hash: string, caller: AppRecord = app): TradeRecord {
  const outTradeNo = str(biz, 'out_trade_no', { required: true, re: OUT_TRADE_NO }) as string;
  const spid = checkIsvTrade(caller, app, biz);
  const t: TradeRecord = {
    app_id: app.appId,
    out_trade_no: outTradeNo,
    kind,
    product_code: str(biz, 'product_code') ?? '',
    subject: str(biz, 'subject', { required: true, max: 256 }) as string,
    total_amount: amount(biz, 'total_amount'),
    params_hash: hash,
    time_expire: expiry(ctx, biz, kind),
    gmt_create: ctx.now(),
    refunded: 0,
  };
  const body = str(biz, 'body', { max: 128 });
  if (body !== undefined) t.body = body;
  const passback = str(biz, 'passback_params', { max: 512 });
  if (passback !== undefined) t.passback_params = passback;
  if (params.notify_url) t.notify_url = params.notify_url;
  if (params.return_url) t.return_url = params.return_url;
  const quit = str(biz, 'quit_url');
  if (quit !== undefined) t.quit_url = quit;
  if (caller.appId !== app.appId) t.isv_app_id = caller.appId;
  if (spid !== undefined) t.sys_service_provider_id = spid;
  return t;
}

/** A repeat of a create call: same fields → the same trade; otherwise Alipay's refusals. */
export function existingFor(ctx: SimContext, app: AppRecord, biz: Biz, hash: string): TradeRecord | undefined {
  const out = str(biz, 'out_trade_no', { required: true, re: OUT_TRADE_NO }) as string;
  const t = ctx.state.trade(app.appId, out);
  if (!t) return undefined;
  expireIfDue(ctx, t);
  if (t.status === 'TRADE_SUCCESS' || t.status === 'TRADE_FINISHED') throw business('ACQ.TRADE_HAS_SUCCESS', '交易已被支付', { out_trade_no: out });
  if (t.status === 'TRADE_CLOSED') throw business('ACQ.TRADE_HAS_CLOSE', '交易已经关闭', { out_trade_no: out });
  if (t.params_hash !== hash) throw business('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改', { out_trade_no: out });
  return t;
}

export function createQr(ctx: SimContext, t: TradeRecord): void {
  t.qr_token = `bax${alnum(21)}`;
  t.qr_code = `${ctx.baseUrl}/sandbox/qr/${t.qr_token}`;
}

function payable(ctx: SimContext, t: TradeRecord): void {
  expireIfDue(ctx, t);
  if (t.status === undefined && ctx.now() > t.time_expire) throw business('ACQ.TRADE_NOT_EXIST', '二维码已过期');
  if (t.status === 'TRADE_SUCCESS' || t.status === 'TRADE_FINISHED') throw business('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
  if (t.status === 'TRADE_CLOSED') throw business('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
}

/** The buyer pays (scan + password, cashier button, app, bar-code password confirmed). */
export function payTrade(ctx: SimContext, t: TradeRecord, o: PayerOptions = {}): TradeRecord {
  payable(ctx, t);
  const app = ctx.state.apps.get(t.app_id);
  if (t.kind === 'create' && (o.buyerId || o.buyerOpenId)) {
    const named = buyerFields(app, o.buyerId ?? SANDBOX_BUYER_ID, o.buyerOpenId);
    if ((t.buyer_id && named.buyer_id && named.buyer_id !== t.buyer_id) || (t.buyer_open_id && named.buyer_open_id && named.buyer_open_id !== t.buyer_open_id)) {
      throw business('ACQ.BUYER_NOT_MATCH', '买家与交易不匹配');
    }
  }
  materialize(ctx, t, o);
  delete t.password_until;
  t.status = 'TRADE_SUCCESS';
  t.gmt_payment = ctx.now();
  ctx.state.changed();
  notifyTrade(ctx, t);
  ctx.log.debug({ appId: t.app_id, outTradeNo: t.out_trade_no, tradeNo: t.trade_no }, 'trade paid');
  return t;
}

export function scanTrade(ctx: SimContext, t: TradeRecord, o: PayerOptions = {}): TradeRecord {
  payable(ctx, t);
  materialize(ctx, t, o);
  return t;
}

export function closeTrade(ctx: SimContext, t: TradeRecord): void {
  t.status = 'TRADE_CLOSED';
  t.gmt_close = ctx.now();
  delete t.password_until;
  ctx.state.changed();
  notifyTrade(ctx, t);
}

/** Unpaid trades close at time_expire (checked whenever the trade is touched). */
export function expireIfDue(ctx: SimContext, t: TradeRecord): void {
  if (t.status === 'WAIT_BUYER_PAY' && ctx.now() > t.time_expire) closeTrade(ctx, t);
}

/**
 * trade_status_sync (§C.5) to the trade's notify_url, when it has one. Refund fields are added
 * for refund-triggered notifications.
 */
export function notifyTrade(ctx: SimContext, t: TradeRecord, refund?: { refundFee: number; outBizNo: string; at: number }): void {
  if (!t.notify_url || !t.status || !t.trade_no) return;
  const app = ctx.state.apps.get(t.app_id);
  const p: Record<string, string> = {
    notify_type: 'trade_status_sync',
    notify_id: alnum(34),
    // A provider's trade: app_id names the provider's app, auth_app_id the merchant's (§C.5).
    app_id: t.isv_app_id ?? t.app_id,
    auth_app_id: t.app_id,
    charset: 'utf-8',
    version: '1.0',
    trade_no: t.trade_no,
    out_trade_no: t.out_trade_no,
    ...(t.buyer_id ? { buyer_id: t.buyer_id } : {}),
    ...(t.buyer_open_id ? { buyer_open_id: t.buyer_open_id } : {}),
    ...buyerOf(t),
    seller_id: app?.pid ?? '',
    seller_email: 'sandbox-seller@alipay.com',
    trade_status: t.status,
    ...amounts(t),
    subject: t.subject,
    ...(t.body ? { body: t.body } : {}),
    gmt_create: chinaTime(t.gmt_create),
    ...(t.gmt_payment !== undefined ? { gmt_payment: chinaTime(t.gmt_payment), fund_bill_list: JSON.stringify([{ amount: yuan(t.total_amount), fundChannel: 'ALIPAYACCOUNT' }]) } : {}),
    ...(t.gmt_close !== undefined ? { gmt_close: chinaTime(t.gmt_close) } : {}),
    ...(t.passback_params ? { passback_params: t.passback_params } : {}),
    ...(refund ? { refund_fee: yuan(refund.refundFee), gmt_refund: `${chinaTime(refund.at)}.000`, out_biz_no: refund.outBizNo } : {}),
  };
  const id = p.notify_id as string;
  ctx.state.addNotification({
    id,
    app_id: t.isv_app_id ?? t.app_id,
    url: t.notify_url,
    out_trade_no: t.out_trade_no,
    trade_status: t.status,
    params: p,
    created_at: ctx.now(),
    attempts: 0,
    delivered: false,
    gave_up: false,
    last_status: null,
    next_at: ctx.now(),
    duplicate: ctx.faults.duplicateNotifications,
  });
  ctx.onNotification(id);
}

/** The trade as alipay.trade.query (and the bar-code pay answer) describes it. */
export function tradeAnswer(t: TradeRecord): Record<string, unknown> {
  const status = t.status as TradeStatus;
  return {
    trade_no: t.trade_no,
    out_trade_no: t.out_trade_no,
    ...buyerOf(t),
    trade_status: status,
    ...amounts(t),
    ...(t.gmt_payment !== undefined ? { send_pay_date: chinaTime(t.gmt_payment), fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount: yuan(t.total_amount) }] } : {}),
    ...(t.buyer_open_id ? { buyer_open_id: t.buyer_open_id } : {}),
    ...(t.buyer_id ? { buyer_user_id: t.buyer_id } : {}),
  };
}

/** Magic payment codes of the sandbox (docs/sandbox/alipay.md). */
export type BarOutcome = 'success' | 'password' | 'password_forever' | 'decline' | 'system_error_paid';

export function barOutcome(authCode: string): BarOutcome {
  // Alipay payment codes: 16–24 digits starting 25–30 (jeepay.md §3.5).
  if (!/^(2[5-9]|30)[0-9]{14,22}$/.test(authCode)) throw business('ACQ.PAYMENT_AUTH_CODE_INVALID', '支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款');
  if (authCode.startsWith('281')) return 'password';
  if (authCode.startsWith('282')) return 'password_forever';
  if (authCode.startsWith('288')) return 'system_error_paid';
  if (authCode.startsWith('289')) return 'decline';
  return 'success';
}
