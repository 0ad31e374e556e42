import { signV2, encryptReqInfo } from '../v2-sign.ts';
import { buildWechatXml } from '../v2-xml.ts';
import type { SimContext } from './context.ts';
import { alnum, cstDateTime, cstDigits, eventId } from './ids.ts';
import { enqueueBody } from './notifications.ts';
import { partnerPayer } from './partners.ts';
import type { MerchantRecord, OrderRecord, RefundOutcome, RefundRecord } from './types.ts';

/**
 * API v2 notifications (protocols.md §B.4): a pay result is a signed `<xml>` (signed with the
 * algorithm of the order's unifiedorder); a refund result is unsigned and carries `req_info`,
 * AES-256-ECB under md5(API key). Bodies are final when queued; the notifier only re-sends them.
 */

const V2_REFUND_STATUS: Record<RefundOutcome, string> = { SUCCESS: 'SUCCESS', ABNORMAL: 'CHANGE', CLOSED: 'REFUNDCLOSE' };

function newEventId(ctx: SimContext): string {
  let id = eventId(ctx.now());
  while (ctx.state.callbacks.has(id)) id = eventId(ctx.now());
  return id;
}

export function enqueueV2PayCallback(ctx: SimContext, merchant: MerchantRecord, o: OrderRecord): void {
  const signType = o.dialect?.api === 'v2' ? o.dialect.signType : 'MD5';
  const total = String(ctx.faults.tamperCallbackAmount ? o.amount_total + 1 : o.amount_total);
  const fields = signV2(
    {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: o.appid,
      mch_id: o.partner ? o.partner.sp_mchid : o.mchid,
      // Service-provider fields (protocols.md §B.1): the sub-merchant, and the payer under sub_appid.
      sub_mch_id: o.partner ? o.mchid : undefined,
      sub_appid: o.partner?.sub_appid,
      nonce_str: alnum(32),
      result_code: 'SUCCESS',
      ...v2PayerFields(ctx, o),
      is_subscribe: 'N',
      trade_type: o.trade_type,
      bank_type: 'OTHERS',
      total_fee: total,
      fee_type: 'CNY',
      cash_fee: total,
      transaction_id: o.transaction_id,
      out_trade_no: o.out_trade_no,
      attach: o.attach,
      time_end: o.success_time === undefined ? undefined : cstDigits(o.success_time),
    },
    merchant.apiKey,
    signType,
  );
  enqueueBody(ctx, merchant, newEventId(ctx), { url: o.notify_url, eventType: 'V2.PAY.SUCCESS', outTradeNo: o.out_trade_no }, buildWechatXml(fields), 'v2');
}


/** openid (under appid) and, for a partner order with sub_appid, sub_openid. */
export function v2PayerFields(ctx: SimContext, o: OrderRecord): Record<string, string | undefined> {
  const p = partnerPayer(ctx, o);
  if (!o.partner) return { openid: o.payer_openid };
  return { openid: p?.sp_openid, sub_openid: p?.sub_openid };
}

export function enqueueV2RefundCallback(ctx: SimContext, merchant: MerchantRecord, r: RefundRecord, outcome: RefundOutcome, appid: string, subAppid?: string): void {
  if (!r.notify_url) return;
  const refundFee = String(ctx.faults.tamperCallbackAmount ? r.amount_refund + 1 : r.amount_refund);
  const inner = buildWechatXml(
    {
      transaction_id: r.transaction_id,
      out_trade_no: r.out_trade_no,
      refund_id: r.refund_id,
      out_refund_no: r.out_refund_no,
      total_fee: String(r.amount_total),
      settlement_total_fee: String(r.amount_total),
      refund_fee: refundFee,
      settlement_refund_fee: refundFee,
      refund_status: V2_REFUND_STATUS[outcome],
      success_time: outcome === 'SUCCESS' && r.success_time !== undefined ? cstDateTime(r.success_time) : undefined,
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
    },
    'root',
  );
  const partner = r.sp_mchid !== undefined ? { mch_id: r.sp_mchid, sub_mch_id: r.mchid, sub_appid: subAppid } : { mch_id: r.mchid };
  const outer = buildWechatXml({ return_code: 'SUCCESS', appid, ...partner, nonce_str: alnum(32), req_info: encryptReqInfo(inner, merchant.apiKey) });
  enqueueBody(ctx, merchant, newEventId(ctx), { url: r.notify_url, eventType: `V2.REFUND.${outcome}`, outTradeNo: r.out_trade_no, outRefundNo: r.out_refund_no }, outer, 'v2');
}
