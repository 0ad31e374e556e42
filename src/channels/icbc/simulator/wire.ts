import { createPrivateKey } from 'node:crypto';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { MerchantRecord, NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { CUR_TYPE_CNY, ICBC_CHARSET, ICBC_FORMAT, ICBC_PATHS, NOTIFY_FROM, NOTIFY_RETRY_S } from '../protocol.ts';
import { icbcSignContent, icbcTimestamp, openIcbcNotifyReply, signIcbcParams } from '../sign.ts';
import { rsaSign } from '../../rsa.ts';

/** How the simulated ICBC gateway names states (I7, I8) and notifies (I9). */

export interface IcbcKeys {
  gatewayPrivateKeyPem: string;
  gatewayPublicKeyPem: string;
}

const PAY_STATUS = { CREATED: '2', PAYING: '2', SUCCESS: '0', FAILED: '1', CLOSED: '3', REVOKED: '4' } as const;
const REFUND_STATUS = { PROCESSING: '2', SUCCESS: '0', FAILED: '1' } as const;

export function tradeBiz(t: TradeRecord): Record<string, string> {
  return {
    mer_id: t.merchantId,
    out_trade_no: t.outTradeNo,
    order_id: t.tradeNo,
    order_amt: String(t.amount),
    cur_type: CUR_TYPE_CNY,
    pay_status: PAY_STATUS[t.status],
    ...(t.paidAt !== undefined ? { pay_time: icbcTimestamp(t.paidAt), cust_id: t.payer ?? '' } : {}),
  };
}

export function refundBiz(r: RefundRecord): Record<string, string> {
  return {
    mer_id: r.merchantId,
    out_trade_no: r.outTradeNo,
    outtrx_serial_no: r.outRefundNo,
    intrx_serial_no: r.refundNo,
    ret_total_amt: String(r.amount),
    cur_type: CUR_TYPE_CNY,
    refund_status: REFUND_STATUS[r.status],
    ...(r.doneAt !== undefined && r.status === 'SUCCESS' ? { refund_time: icbcTimestamp(r.doneAt) } : {}),
  };
}

/** The merchant whose app_id this is (the books key merchants by mer_id). */
export function merchantByAppId(core: AcquirerCore<IcbcKeys>, appId: string): MerchantRecord | undefined {
  for (const m of core.ctx.book.merchants.values()) if (m.secrets.appId === appId) return m;
  return undefined;
}

/**
 * Pay notifications: a form signed over `{notify path}?{sorted params}` with the gateway key;
 * acknowledged only by a reply whose RSA2 signature verifies with the merchant's key, with
 * return_code 0 and this notification's msg_id — anything else is re-sent (I9).
 */
export function icbcNoticeCodec(core: AcquirerCore<IcbcKeys>): NoticeCodec {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.gatewayPrivateKeyPem);
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged(status, body, n) {
      const m = ctx.book.merchants.get(n.merchantId);
      if (status !== 200 || !m) return false;
      const reply = openIcbcNotifyReply(body, ctx.book.merchantKey(m));
      return reply !== undefined && reply.return_code === 0 && reply.msg_id === n.id;
    },
    render(n: NoticeRecord) {
      const { m, t } = ctx.book.noticeSubjects(n);
      const { faults } = ctx;
      const biz: Record<string, unknown> = { return_code: 0, return_msg: 'success', msg_id: n.id, ...tradeBiz(t) };
      if (faults.tamperNotifyAmount) biz.order_amt = String(t.amount + 1);
      if (faults.wrongNotifyMerchant) biz.mer_id = `9${m.id}`;
      const params: Record<string, string> = { from: NOTIFY_FROM, api: ICBC_PATHS.pay, app_id: m.secrets.appId as string, charset: ICBC_CHARSET, format: ICBC_FORMAT, timestamp: icbcTimestamp(ctx.now()), biz_content: JSON.stringify(biz), sign_type: 'RSA' };
      const path = new URL(n.url).pathname;
      // A signature over other content: verifiers must recompute, not trust.
      params.sign = faults.badNotifySignature ? rsaSign('sha1', `${icbcSignContent(path, params)}&forged=1`, key) : signIcbcParams(path, params, 'sha1', key);
      return { contentType: 'application/x-www-form-urlencoded; charset=UTF-8', body: new URLSearchParams(params).toString() };
    },
  };
}
