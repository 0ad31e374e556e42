import { yuan } from '../mapping.ts';
import { chinaTime } from '../sign.ts';
import { AlipayError, business, type SimContext } from './context.ts';
import { billUrl } from './bills.ts';
import {
  type Biz,
  amount,
  barOutcome,
  closeTrade,
  createQr,
  existingFor,
  fingerprint,
  materialize,
  newTrade,
  notifyTrade,
  payTrade,
  requireTrade,
  str,
  tradeAnswer,
} from './trades.ts';
import { openAuthToken, openAuthTokenQuery } from './methods-auth.ts';
import { oauthToken } from './user-auth.ts';
import type { AppRecord } from './types.ts';

/**
 * The server-side gateway methods (protocols.md §C.4). Each returns the business fields of a
 * 10000 answer (or `{ code: '10003', … }`) and throws AlipayError for everything else.
 */

export interface MethodCall {
  /** Whose books: the caller's, or the authorising merchant's (app_auth_token, app-auth.ts). */
  app: AppRecord;
  /** The app that signed the request. */
  caller: AppRecord;
  biz: Biz;
  params: Record<string, string>;
}

type Handler = (ctx: SimContext, c: MethodCall) => Record<string, unknown>;

const precreate: Handler = (ctx, { app, caller, biz, params }) => {
  const hash = fingerprint('precreate', biz, { notify_url: params.notify_url });
  let t = existingFor(ctx, app, biz, hash);
  if (!t) {
    t = newTrade(ctx, app, 'precreate', biz, params, hash, caller);
    createQr(ctx, t);
    ctx.state.addTrade(t);
  }
  return { out_trade_no: t.out_trade_no, qr_code: t.qr_code };
};

const create: Handler = (ctx, { app, caller, biz, params }) => {
  const buyerId = str(biz, 'buyer_id', { re: /^2088[0-9]{12}$/ });
  const buyerOpenId = str(biz, 'buyer_open_id', { re: /^[0-9A-Za-z_-]{16,128}$/ });
  if (buyerId === undefined && buyerOpenId === undefined) throw business('ACQ.INVALID_PARAMETER', '参数无效: buyer_id 和 buyer_open_id 不能同时为空');
  const hash = fingerprint('create', biz, { notify_url: params.notify_url });
  let t = existingFor(ctx, app, biz, hash);
  if (!t) {
    t = newTrade(ctx, app, 'create', biz, params, hash, caller);
    if (buyerId !== undefined) t.buyer_id = buyerId;
    if (buyerOpenId !== undefined) t.buyer_open_id = buyerOpenId;
    ctx.state.addTrade(t);
    materialize(ctx, t);
  }
  return { out_trade_no: t.out_trade_no, trade_no: t.trade_no };
};

/** 条码支付: the outcome depends on the payment code (magic prefixes, trades.ts barOutcome). */
const pay: Handler = (ctx, { app, caller, biz, params }) => {
  const scene = str(biz, 'scene', { required: true });
  if (scene !== 'bar_code' && scene !== 'security_code') throw business('ACQ.INVALID_PARAMETER', '参数无效: scene');
  const authCode = str(biz, 'auth_code', { required: true }) as string;
  const outcome = barOutcome(authCode);
  const hash = fingerprint('pay', biz, { notify_url: params.notify_url });
  const existing = existingFor(ctx, app, biz, hash);
  if (existing) {
    // The payer is still entering the password: the same answer again.
    if (existing.status === 'WAIT_BUYER_PAY') return { code: '10003', ...tradeAnswer(existing) };
    return tradeAnswer(existing);
  }
  if (outcome === 'decline') throw business('ACQ.BUYER_BALANCE_NOT_ENOUGH', '买家余额不足', { out_trade_no: str(biz, 'out_trade_no') });
  const t = newTrade(ctx, app, 'pay', biz, params, hash, caller);
  t.auth_code = authCode;
  ctx.state.addTrade(t);
  materialize(ctx, t);
  if (outcome === 'password' || outcome === 'password_forever') {
    if (outcome === 'password') {
      t.password_until = ctx.now() + ctx.passwordDelayMs / ctx.timeScale;
      ctx.scheduler.at(ctx.passwordDelayMs / ctx.timeScale, () => {
        if (t.status === 'WAIT_BUYER_PAY' && t.password_until !== undefined) payTrade(ctx, t);
      });
    }
    return { code: '10003', ...tradeAnswer(t) };
  }
  payTrade(ctx, t);
  if (outcome === 'system_error_paid') throw new AlipayError('20000', 'ACQ.SYSTEM_ERROR', '系统错误'); // paid, but the answer says "unknown"
  return { ...tradeAnswer(t), gmt_payment: chinaTime(t.gmt_payment as number) };
};

const query: Handler = (ctx, { app, biz }) => tradeAnswer(requireTrade(ctx, app, biz));

const close: Handler = (ctx, { app, biz }) => {
  const t = requireTrade(ctx, app, biz);
  if (t.status !== 'WAIT_BUYER_PAY') throw business('ACQ.TRADE_STATUS_ERROR', '交易状态不合法', { out_trade_no: t.out_trade_no });
  closeTrade(ctx, t);
  return { trade_no: t.trade_no, out_trade_no: t.out_trade_no };
};

/** 撤销: closes an unpaid trade, refunds a paid one in full (§C.4). */
const cancel: Handler = (ctx, { app, biz }) => {
  const t = requireTrade(ctx, app, biz);
  if (t.status === 'TRADE_FINISHED') throw business('ACQ.TRADE_STATUS_ERROR', '交易已完结，不能撤销', { out_trade_no: t.out_trade_no });
  let action = 'close';
  if (t.status === 'TRADE_SUCCESS') {
    action = 'refund';
    const remaining = t.total_amount - t.refunded;
    t.refunded = t.total_amount;
    ctx.state.addRefund({ app_id: app.appId, out_trade_no: t.out_trade_no, out_request_no: `cancel-${t.out_trade_no}`, trade_no: t.trade_no as string, refund_amount: remaining, gmt_refund_pay: ctx.now() });
    closeTrade(ctx, t);
  } else if (t.status === 'WAIT_BUYER_PAY') closeTrade(ctx, t);
  return { trade_no: t.trade_no, out_trade_no: t.out_trade_no, retry_flag: 'N', action };
};

const refund: Handler = (ctx, { app, biz }) => {
  if (ctx.faults.refundNotAllowed) throw business('ACQ.TRADE_NOT_ALLOW_REFUND', '当前交易不允许退款');
  const fee = amount(biz, 'refund_amount');
  const t = requireTrade(ctx, app, biz);
  const outRequestNo = str(biz, 'out_request_no', { max: 64 }) ?? t.out_trade_no;
  const previous = ctx.state.refund(app.appId, t.out_trade_no, outRequestNo);
  const common = { trade_no: t.trade_no, out_trade_no: t.out_trade_no, ...(t.buyer_logon_id ? { buyer_logon_id: t.buyer_logon_id } : {}) };
  if (previous) {
    // out_request_no is the idempotency key: a repeat moves no money (fund_change N).
    if (previous.refund_amount !== fee) throw business('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改: 同一退款请求号金额不一致', { out_trade_no: t.out_trade_no });
    return { ...common, fund_change: 'N', refund_fee: yuan(t.refunded), gmt_refund_pay: chinaTime(previous.gmt_refund_pay) };
  }
  if (t.status === 'WAIT_BUYER_PAY') throw business('ACQ.TRADE_STATUS_ERROR', '交易状态不合法', common);
  if (t.status === 'TRADE_CLOSED') throw business('ACQ.TRADE_HAS_CLOSE', '交易已经关闭', common);
  if (t.status === 'TRADE_FINISHED') throw business('ACQ.TRADE_HAS_FINISHED', '交易已完结', common);
  if (fee > t.total_amount - t.refunded) throw business('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限', common);
  const now = ctx.now();
  t.refunded += fee;
  const reason = str(biz, 'refund_reason', { max: 256 });
  ctx.state.addRefund({ app_id: app.appId, out_trade_no: t.out_trade_no, out_request_no: outRequestNo, trade_no: t.trade_no as string, refund_amount: fee, ...(reason ? { refund_reason: reason } : {}), gmt_refund_pay: now });
  // A full refund closes the trade; either way the trade's notify_url hears about it (§C.5).
  if (t.refunded === t.total_amount) {
    t.status = 'TRADE_CLOSED';
    t.gmt_close = now;
  }
  ctx.state.changed();
  notifyTrade(ctx, t, { refundFee: t.refunded, outBizNo: outRequestNo, at: now });
  return { ...common, fund_change: 'Y', refund_fee: yuan(t.refunded), gmt_refund_pay: chinaTime(now) };
};

const refundQuery: Handler = (ctx, { app, biz }) => {
  const t = requireTrade(ctx, app, biz);
  const outRequestNo = str(biz, 'out_request_no', { required: true }) as string;
  const r = ctx.state.refund(app.appId, t.out_trade_no, outRequestNo);
  // An unknown request answers 10000 with no refund data (§C.4).
  if (!r) return {};
  const options = Array.isArray(biz.query_options) ? biz.query_options : [];
  return {
    trade_no: r.trade_no,
    out_trade_no: r.out_trade_no,
    out_request_no: r.out_request_no,
    total_amount: yuan(t.total_amount),
    refund_amount: yuan(r.refund_amount),
    refund_status: 'REFUND_SUCCESS',
    ...(options.includes('gmt_refund_pay') ? { gmt_refund_pay: chinaTime(r.gmt_refund_pay) } : {}),
  };
};

const billDownloadUrl: Handler = (ctx, { app, biz }) => {
  const type = str(biz, 'bill_type', { required: true });
  if (type !== 'trade' && type !== 'signcustomer') throw business('isv.invalid-arguments', '参数无效: bill_type');
  const date = str(biz, 'bill_date', { required: true }) as string;
  if (!/^\d{4}-\d{2}(-\d{2})?$/.test(date)) throw business('isv.invalid-arguments', '参数无效: bill_date 格式应为 yyyy-MM-dd 或 yyyy-MM');
  // Unlike Alipay (bills from about 09:00 the next day), the sandbox serves today's bill too.
  if (date > chinaTime(ctx.now()).slice(0, date.length)) throw business('isp.bill_not_exist', '账单不存在');
  return { bill_download_url: billUrl(ctx, app.appId, type, date) };
};

export const METHODS: Record<string, Handler> = {
  'alipay.trade.precreate': precreate,
  'alipay.trade.create': create,
  'alipay.trade.pay': pay,
  'alipay.trade.query': query,
  'alipay.trade.close': close,
  'alipay.trade.cancel': cancel,
  'alipay.trade.refund': refund,
  'alipay.trade.fastpay.refund.query': refundQuery,
  'alipay.data.dataservice.bill.downloadurl.query': billDownloadUrl,
  'alipay.system.oauth.token': oauthToken,
  'alipay.open.auth.token.app': openAuthToken,
  'alipay.open.auth.token.app.query': openAuthTokenQuery,
};

/** Browser methods: opened as a cashier page, not answered with JSON. */
export const PAGE_METHODS = new Set(['alipay.trade.page.pay', 'alipay.trade.wap.pay']);
/** Client methods: the order string is submitted by the Alipay app (the sandbox payer API). */
export const APP_METHODS = new Set(['alipay.trade.app.pay']);

