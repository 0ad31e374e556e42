import { createPrivateKey, randomBytes } from 'node:crypto';
import { compactChinaTime } from '../../china-time.ts';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { NOTIFY_ACK, NOTIFY_RETRY_S, type ShengpaySignType } from '../protocol.ts';
import { shengpaySignContent, signShengpay, isShengpaySignType } from '../sign.ts';

/** How the simulated Shengpay names states (S10, S12) and what its notifications look like (S13). */

export interface ShengpayKeys {
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
}

export function orderStatusOf(t: TradeRecord): string {
  switch (t.status) {
    case 'CREATED':
      return 'PAY_INIT';
    case 'PAYING':
      return 'PAY_ING';
    case 'SUCCESS':
      return t.refunded >= t.amount ? 'REFUND_SUCCESS' : 'PAY_SUCCESS';
    case 'FAILED':
      return 'PAY_FAIL';
    case 'CLOSED':
      return 'CLOSED';
    case 'REVOKED':
      return 'REVOKED';
  }
}

const REFUND_STATUS = { PROCESSING: 'REFUND_ING', SUCCESS: 'REFUND_SUCCESS', FAILED: 'REFUND_FAIL' } as const;

export function refundFields(t: TradeRecord, r: RefundRecord): Record<string, unknown> {
  return {
    outTradeNo: r.outTradeNo,
    transactionId: t.tradeNo,
    outRefundNo: r.outRefundNo,
    refundId: r.refundNo,
    refundFee: r.amount,
    refundStatus: REFUND_STATUS[r.status],
    ...(r.doneAt !== undefined && r.status === 'SUCCESS' ? { refundTime: compactChinaTime(r.doneAt) } : {}),
  };
}

/** Notifications: JSON, signed under the signType the merchant used; acknowledged by the text SUCCESS. */
export function shengpayNoticeCodec(core: AcquirerCore<ShengpayKeys>): NoticeCodec {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged: (status, body) => status === 200 && body.trim() === NOTIFY_ACK,
    render(n: NoticeRecord) {
      const t = ctx.book.trade(n.merchantId, n.outTradeNo);
      const r = n.outRefundNo !== undefined ? ctx.book.refund(n.merchantId, n.outRefundNo) : undefined;
      if (!t) throw new Error(`notification ${n.id} for an unknown trade`);
      const { faults } = ctx;
      const signType: ShengpaySignType = isShengpaySignType(t.attrs.signType) ? t.attrs.signType : 'RSA';
      const fields: Record<string, unknown> = {
        mchId: faults.wrongNotifyMerchant ? `9${n.merchantId}` : n.merchantId,
        ...(t.attrs.subMchId ? { subMchId: t.attrs.subMchId } : {}),
        ...(n.kind === 'refund' && r ? refundFields(t, r) : { outTradeNo: t.outTradeNo, transactionId: t.tradeNo, tradeType: t.product, status: 'PAY_SUCCESS', totalFee: t.amount, currency: t.currency, payTime: compactChinaTime(t.paidAt ?? ctx.now()), payerInfo: JSON.stringify({ openid: t.payer }) }),
        nonceStr: randomBytes(16).toString('hex'),
      };
      if (faults.tamperNotifyAmount) {
        if (typeof fields.totalFee === 'number') fields.totalFee += 1;
        if (typeof fields.refundFee === 'number') fields.refundFee += 1;
      }
      const signed = signShengpay(fields, signType, key);
      // A signature over other content: verifiers must recompute, not trust.
      if (faults.badNotifySignature) signed.sign = signShengpay({ ...fields, forged: shengpaySignContent(fields).length }, signType, key).sign;
      return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(signed) };
    },
  };
}
