import type { SimContext } from './context.ts';
import { SimError, errors } from './errors.ts';
import { canonicalJson, refundId, rfc3339 } from './ids.ts';
import { enqueueCallback } from './notifications.ts';
import { STATE_DESC } from './transactions.ts';
import { enqueueV2RefundCallback } from './v2-notifications.ts';
import type { ApiDialect, MerchantRecord, OrderRecord, RefundOutcome, RefundRecord, RefundStatus, RefundView } from './types.ts';
import { validateRefund } from './validate.ts';

/**
 * Domestic refunds (protocols.md §A.7): a fresh refund answers PROCESSING and reaches its final
 * state later, reported by REFUND.* notification and by query. out_refund_no is the idempotency
 * key. Money still "on its way back" (PROCESSING, ABNORMAL) counts against the refundable amount;
 * only CLOSED releases it.
 */

const SUMMARY: Record<RefundOutcome, string> = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' };
const HOLDS_FUNDS: ReadonlySet<RefundStatus> = new Set(['PROCESSING', 'SUCCESS', 'ABNORMAL']);

export function refundView(r: RefundRecord): RefundView {
  return {
    refund_id: r.refund_id,
    out_refund_no: r.out_refund_no,
    transaction_id: r.transaction_id,
    out_trade_no: r.out_trade_no,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(r.success_time !== undefined ? { success_time: rfc3339(r.success_time) } : {}),
    create_time: rfc3339(r.create_time),
    status: r.status,
    funds_account: r.funds_account ?? 'AVAILABLE',
    amount: {
      total: r.amount_total,
      refund: r.amount_refund,
      from: [],
      payer_total: r.amount_total,
      payer_refund: r.amount_refund,
      settlement_refund: r.amount_refund,
      settlement_total: r.amount_total,
      discount_refund: 0,
      currency: r.currency,
      refund_fee: 0,
    },
    promotion_detail: [],
  };
}

function resolveOrder(ctx: SimContext, mchid: string, transactionId?: string, outTradeNo?: string): OrderRecord {
  const order = transactionId !== undefined ? ctx.state.orderByTransactionId(transactionId) : ctx.state.order(mchid, outTradeNo as string);
  if (!order || order.mchid !== mchid) throw errors.resourceNotExists('订单');
  if (outTradeNo !== undefined && order.out_trade_no !== outTradeNo) throw errors.param('/out_trade_no', '与transaction_id对应的商户订单号不一致');
  return order;
}

export function createRefund(ctx: SimContext, merchant: MerchantRecord, body: Record<string, unknown>, dialect: ApiDialect = { api: 'v3' }): RefundView {
  const input = validateRefund(body);
  const order = resolveOrder(ctx, merchant.mchid, input.transaction_id, input.out_trade_no);
  const fingerprint = canonicalJson({
    out_trade_no: order.out_trade_no,
    refund: input.refund,
    total: input.total,
    reason: input.reason,
    notify_url: input.notify_url,
    funds_account: input.funds_account,
  });
  const existing = ctx.state.refund(merchant.mchid, input.out_refund_no);
  if (existing) {
    if (existing.fingerprint !== fingerprint) throw errors.invalid('商户退款单号重复，且请求参数与原退款单不一致');
    return refundView(existing);
  }
  if (order.trade_state !== 'SUCCESS' && order.trade_state !== 'REFUND') throw errors.invalid('订单未支付成功，不能发起退款');
  if (input.total !== order.amount_total) throw errors.invalid('订单金额amount.total与原订单金额不一致');
  let held = 0;
  for (const no of order.refund_nos) {
    const r = ctx.state.refund(order.mchid, no);
    if (r && HOLDS_FUNDS.has(r.status)) held += r.amount_refund;
  }
  if (input.refund > order.amount_total - held) throw errors.invalid('申请退款金额超过订单可退金额');
  if (ctx.faults.notEnoughBalanceForRefunds) throw errors.notEnough();

  const now = ctx.now();
  const delayMs = ctx.refundDelayMs / ctx.timeScale;
  const refund: RefundRecord = {
    mchid: merchant.mchid,
    ...(order.partner ? { sp_mchid: order.partner.sp_mchid } : {}),
    out_refund_no: input.out_refund_no,
    refund_id: refundId(now),
    out_trade_no: order.out_trade_no,
    transaction_id: order.transaction_id as string,
    reason: input.reason,
    notify_url: input.notify_url,
    funds_account: input.funds_account,
    amount_refund: input.refund,
    amount_total: input.total,
    currency: 'CNY',
    status: 'PROCESSING',
    create_time: now,
    fingerprint,
    ...(ctx.faults.holdRefunds ? {} : { due_at: now + delayMs }),
    ...(dialect.api === 'v2' ? { dialect } : {}),
  };
  order.refund_nos.push(refund.out_refund_no);
  ctx.state.addRefund(refund);
  if (refund.due_at !== undefined) ctx.onRefundDue(refund.mchid, refund.out_refund_no, delayMs);
  ctx.log.debug({ mchid: refund.mchid, out_refund_no: refund.out_refund_no, refund: refund.amount_refund }, 'refund accepted');
  return refundView(refund);
}

export function findRefund(ctx: SimContext, mchid: string, outRefundNo: string): RefundRecord {
  const r = ctx.state.refund(mchid, outRefundNo);
  if (!r) throw errors.resourceNotExists('退款单');
  return r;
}

/**
 * Moves a refund to its final state. ABNORMAL is not final in WeChat (the merchant can re-drive
 * it), so it may still turn SUCCESS or CLOSED; SUCCESS and CLOSED are final.
 */
export function completeRefund(ctx: SimContext, r: RefundRecord, outcome: RefundOutcome): RefundView {
  if (r.status === outcome) return refundView(r);
  if (r.status === 'SUCCESS' || r.status === 'CLOSED') {
    throw new SimError(409, 'REFUND_FINAL', `退款单已是终态${r.status}`);
  }
  const now = ctx.now();
  r.status = outcome;
  delete r.due_at;
  const order = ctx.state.order(r.mchid, r.out_trade_no);
  if (outcome === 'SUCCESS') {
    r.success_time = now;
    if (order) {
      order.refunded_total += r.amount_refund;
      // WeChat reports a paid order that had money returned as REFUND (转入退款, protocols.md §A.5).
      order.trade_state = 'REFUND';
      order.trade_state_desc = STATE_DESC.REFUND;
    }
  }
  ctx.state.changed();
  const merchant = ctx.state.accountOf(r.mchid);
  if (merchant && r.dialect?.api === 'v2') enqueueV2RefundCallback(ctx, merchant, r, outcome, order?.appid ?? merchant.appids[0] ?? '', order?.partner?.sub_appid);
  else if (merchant && r.notify_url) {
    const amount = { total: r.amount_total, refund: r.amount_refund, payer_total: r.amount_total, payer_refund: r.amount_refund };
    const tampered = ctx.faults.tamperCallbackAmount ? { ...amount, refund: r.amount_refund + 1, payer_refund: r.amount_refund + 1 } : amount;
    enqueueCallback(ctx, merchant, {
      url: r.notify_url,
      eventType: `REFUND.${outcome}`,
      summary: SUMMARY[outcome],
      originalType: 'refund',
      resource: {
        // Partner refunds name both parties (protocols.md §A.5).
        ...(r.sp_mchid !== undefined ? { sp_mchid: r.sp_mchid, sub_mchid: r.mchid } : { mchid: r.mchid }),
        out_trade_no: r.out_trade_no,
        transaction_id: r.transaction_id,
        out_refund_no: r.out_refund_no,
        refund_id: r.refund_id,
        refund_status: outcome,
        ...(r.success_time !== undefined && outcome === 'SUCCESS' ? { success_time: rfc3339(r.success_time) } : {}),
        user_received_account: '支付用户零钱',
        amount: tampered,
      },
      outTradeNo: r.out_trade_no,
      outRefundNo: r.out_refund_no,
    });
  }
  ctx.log.debug({ mchid: r.mchid, out_refund_no: r.out_refund_no, status: outcome }, 'refund completed');
  return refundView(r);
}

/** Timer target: a PROCESSING refund whose delay elapsed succeeds, unless held or already settled. */
export function settleDueRefund(ctx: SimContext, mchid: string, outRefundNo: string): void {
  const r = ctx.state.refund(mchid, outRefundNo);
  if (!r || r.status !== 'PROCESSING' || r.due_at === undefined) return;
  completeRefund(ctx, r, 'SUCCESS');
}
