import type { SimContext } from './context.ts';
import { SimError, errors } from './errors.ts';
import { alnum, canonicalJson, digits, prepayId, rfc3339, sandboxOpenid, transactionId } from './ids.ts';
import { enqueueCallback } from './notifications.ts';
import type { ApiDialect, MerchantRecord, OrderRecord, PrepayEndpoint, TradeState, TradeType, Transaction } from './types.ts';
import { validatePrepay, type PrepayInput } from './validate.ts';
import { partnerView } from './partners.ts';
import { enqueueV2PayCallback } from './v2-notifications.ts';

/**
 * Payment orders: prepay (idempotent per out_trade_no, protocols.md §G), query, close, and the
 * payer's actions. State changes follow WeChat: NOTPAY → SUCCESS | PAYERROR | CLOSED,
 * PAYERROR → SUCCESS | CLOSED (the payer may retry), SUCCESS → REFUND once money went back.
 */

/** prepay_id / code_url live 2 h (protocols.md §A.6); time_expire overrides. */
const DEFAULT_EXPIRY_MS = 2 * 3600 * 1000;

const TRADE_TYPE: Record<PrepayEndpoint, TradeType> = { native: 'NATIVE', jsapi: 'JSAPI', app: 'APP', h5: 'MWEB' };

export const STATE_DESC: Record<TradeState, string> = {
  NOTPAY: '订单未支付',
  SUCCESS: '支付成功',
  REFUND: '订单发生过退款',
  CLOSED: '订单已关闭',
  PAYERROR: '支付失败，请重新下单支付',
  USERPAYING: '需要用户输入支付密码',
  REVOKED: '已撤销',
};

export type PrepayAnswer = { code_url: string } | { prepay_id: string } | { h5_url: string };

function answerOf(ctx: SimContext, o: OrderRecord): PrepayAnswer {
  if (o.trade_type === 'NATIVE') return { code_url: o.code_url as string };
  if (o.trade_type === 'MWEB') return { h5_url: `${ctx.baseUrl}${o.h5_path as string}` };
  return { prepay_id: o.prepay_id };
}

function unique(ctx: SimContext, make: () => string): string {
  for (;;) {
    const v = make();
    if (!ctx.state.hasPrepayOrCode(v)) return v;
  }
}

export function prepay(ctx: SimContext, merchant: MerchantRecord, endpoint: PrepayEndpoint, body: Record<string, unknown>): PrepayAnswer {
  const input = validatePrepay(endpoint, body, merchant, ctx.now());
  return answerOf(ctx, prepareOrder(ctx, merchant, endpoint, input, canonicalJson({ endpoint, body }), { api: 'v3' }));
}

/** The order of a validated prepay (v3 JSON or v2 unifiedorder): the existing one for a repeat with the same parameters. */
export function prepareOrder(ctx: SimContext, merchant: MerchantRecord, endpoint: PrepayEndpoint, input: PrepayInput, fingerprint: string, dialect: ApiDialect): OrderRecord {
  const now = ctx.now();
  const existing = ctx.state.order(merchant.mchid, input.out_trade_no);
  if (existing) {
    if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND') throw errors.orderPaid();
    if (existing.trade_state === 'CLOSED') throw errors.orderClosed();
    if (existing.trade_type !== TRADE_TYPE[endpoint]) throw errors.outTradeNoUsed();
    if (existing.fingerprint !== fingerprint) throw errors.invalid('商户订单号重复，且请求参数与原订单不一致');
    return existing;
  }
  const id = unique(ctx, () => prepayId(now));
  const order: OrderRecord = {
    mchid: merchant.mchid,
    appid: input.appid,
    out_trade_no: input.out_trade_no,
    trade_type: TRADE_TYPE[endpoint],
    description: input.description,
    attach: input.attach,
    notify_url: input.notify_url,
    amount_total: input.amount_total,
    currency: 'CNY',
    time_expire: input.time_expire ?? now + DEFAULT_EXPIRY_MS,
    create_time: now,
    fingerprint,
    prepay_id: id,
    jsapi_openid: input.openid,
    ...(input.openid_kind ? { jsapi_openid_kind: input.openid_kind } : {}),
    ...(input.partner ? { partner: input.partner } : {}),
    trade_state: 'NOTPAY',
    trade_state_desc: STATE_DESC.NOTPAY,
    refunded_total: 0,
    refund_nos: [],
    ...(dialect.api === 'v2' ? { dialect } : {}),
  };
  if (endpoint === 'native') order.code_url = unique(ctx, () => `weixin://wxpay/bizpayurl?pr=${alnum(10)}`);
  if (endpoint === 'h5') order.h5_path = `/sandbox/h5?prepay_id=${id}&package=${digits(10)}`;
  ctx.state.addOrder(order);
  ctx.log.debug({ mchid: order.mchid, out_trade_no: order.out_trade_no, trade_type: order.trade_type, total: order.amount_total }, 'prepay created');
  return order;
}

export function transactionView(o: OrderRecord): Transaction {
  const paid = o.transaction_id !== undefined;
  const view: Transaction = {
    appid: o.appid,
    mchid: o.mchid,
    out_trade_no: o.out_trade_no,
    ...(paid ? { transaction_id: o.transaction_id, trade_type: o.trade_type } : {}),
    trade_state: o.trade_state,
    trade_state_desc: o.trade_state_desc,
    ...(paid ? { bank_type: 'OTHERS' } : {}),
    ...(o.attach !== undefined ? { attach: o.attach } : {}),
    ...(o.success_time !== undefined ? { success_time: rfc3339(o.success_time) } : {}),
    ...(o.payer_openid !== undefined ? { payer: { openid: o.payer_openid } } : {}),
    amount: paid
      ? { total: o.amount_total, payer_total: o.amount_total, currency: o.currency, payer_currency: o.currency }
      : { total: o.amount_total, currency: o.currency, payer_currency: o.currency },
  };
  return view;
}

export function findOrder(ctx: SimContext, mchid: string, outTradeNo: string): OrderRecord {
  const o = ctx.state.order(mchid, outTradeNo);
  if (!o) throw errors.orderNotExist();
  return o;
}

export function findOrderByTransactionId(ctx: SimContext, mchid: string, id: string): OrderRecord {
  const o = ctx.state.orderByTransactionId(id);
  if (!o || o.mchid !== mchid) throw errors.orderNotExist();
  return o;
}

export function closeOrder(ctx: SimContext, o: OrderRecord): void {
  if (o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND') throw errors.orderPaid();
  // Closing twice answers 204 again: close means "make sure it is closed" and gateways retry it.
  if (o.trade_state === 'CLOSED') return;
  o.trade_state = 'CLOSED';
  o.trade_state_desc = STATE_DESC.CLOSED;
  o.close_time = ctx.now();
  ctx.state.changed();
}

/** Errors of the payer surface (not WeChat API answers): the sandbox's own codes. */
function assertPayable(ctx: SimContext, o: OrderRecord): void {
  if (o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND') throw new SimError(409, 'ORDERPAID', '订单已支付');
  if (o.trade_state === 'CLOSED') throw new SimError(409, 'ORDER_CLOSED', '订单已关闭');
  if (o.trade_state === 'REVOKED') throw new SimError(409, 'ORDER_REVERSED', '订单已撤销');
  // WeChat refuses payment after time_expire but leaves the order NOTPAY until the merchant closes it.
  if (ctx.now() > o.time_expire) throw new SimError(409, 'ORDER_EXPIRED', '订单已超过支付截止时间（time_expire）');
}

export function payOrder(ctx: SimContext, o: OrderRecord, openid?: string): Transaction {
  assertPayable(ctx, o);
  const now = ctx.now();
  let txn = transactionId(now);
  while (ctx.state.hasTransactionId(txn)) txn = transactionId(now);
  o.trade_state = 'SUCCESS';
  o.trade_state_desc = STATE_DESC.SUCCESS;
  o.transaction_id = txn;
  o.success_time = now;
  if (o.partner) {
    // The payer of a partner order is a sandbox user of the open platform, so both openids exist.
    o.payer_openid = o.jsapi_openid ?? openid ?? ctx.open.openid(o.appid, 'sandbox-user');
    o.payer_openid_kind = o.jsapi_openid !== undefined ? (o.jsapi_openid_kind ?? 'sp') : 'sp';
  } else o.payer_openid = o.jsapi_openid ?? openid ?? sandboxOpenid(o.appid);
  ctx.state.indexTransaction(o);
  ctx.state.changed();
  const view = transactionView(o);
  const merchant = ctx.state.accountOf(o.mchid);
  // 付款码 has no notify_url: the cashier learns the outcome from the answer or by query.
  if (o.trade_type === 'MICROPAY') return view;
  if (merchant && o.dialect?.api === 'v2') enqueueV2PayCallback(ctx, merchant, o);
  else if (merchant) {
    // tamperCallbackAmount: a correctly signed notification whose amount differs from the order,
    // the "假通知" case every merchant must catch by comparing amounts (perf-reliability.md).
    const wire = o.partner ? partnerView(ctx, o, view) : view;
    const plain = ctx.faults.tamperCallbackAmount
      ? { ...wire, amount: { ...view.amount, total: o.amount_total + 1, payer_total: o.amount_total + 1 } }
      : wire;
    enqueueCallback(ctx, merchant, {
      url: o.notify_url,
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource: plain,
      outTradeNo: o.out_trade_no,
    });
  }
  ctx.log.debug({ mchid: o.mchid, out_trade_no: o.out_trade_no, transaction_id: txn }, 'order paid');
  return view;
}

export function cancelOrder(ctx: SimContext, o: OrderRecord): Transaction {
  assertPayable(ctx, o);
  o.payer_cancelled_at = ctx.now();
  ctx.state.changed();
  return transactionView(o);
}

export function failOrder(ctx: SimContext, o: OrderRecord, reason?: string): Transaction {
  assertPayable(ctx, o);
  o.trade_state = 'PAYERROR';
  o.trade_state_desc = reason && reason.trim() !== '' ? reason.slice(0, 64) : STATE_DESC.PAYERROR;
  ctx.state.changed();
  return transactionView(o);
}
