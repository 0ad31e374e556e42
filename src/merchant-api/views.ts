import type { PayOrderRow, RefundOrderRow } from '../services/order-store.ts';

/**
 * The merchant-facing shapes of our orders (Jeepay-compatible field names, jeepay.md §3.4).
 * The query answer and the notification payload are the same view, so a merchant can use
 * one parser for both. Times are epoch milliseconds; currency is lower case like Jeepay.
 */
export function payOrderView(o: PayOrderRow): Record<string, string | number | undefined> {
  return {
    payOrderId: o.pay_order_id,
    mchNo: o.mch_no,
    appId: o.app_id,
    mchOrderNo: o.mch_order_no,
    ifCode: o.if_code,
    wayCode: o.way_code,
    amount: o.amount,
    currency: o.currency.toLowerCase(),
    state: o.state,
    clientIp: o.client_ip ?? undefined,
    subject: o.subject,
    body: o.body,
    channelOrderNo: o.channel_order_no ?? undefined,
    errCode: o.err_code ?? undefined,
    errMsg: o.err_msg ?? undefined,
    extParam: o.ext_param ?? undefined,
    refundAmount: o.refund_amount,
    createdAt: o.created_at.getTime(),
    successTime: o.success_at ? o.success_at.getTime() : undefined,
  };
}

export function refundOrderView(r: RefundOrderRow): Record<string, string | number | undefined> {
  return {
    refundOrderId: r.refund_order_id,
    payOrderId: r.pay_order_id,
    mchNo: r.mch_no,
    appId: r.app_id,
    mchRefundNo: r.mch_refund_no,
    payAmount: r.pay_amount,
    refundAmount: r.refund_amount,
    currency: r.currency.toLowerCase(),
    state: r.state,
    channelOrderNo: r.channel_order_no ?? undefined,
    errCode: r.err_code ?? undefined,
    errMsg: r.err_msg ?? undefined,
    extParam: r.ext_param ?? undefined,
    createdAt: r.created_at.getTime(),
    successTime: r.success_at ? r.success_at.getTime() : undefined,
  };
}

/** Drops undefined so JSON answers and signatures see the same field set. */
export function compact<T extends Record<string, unknown>>(obj: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}
