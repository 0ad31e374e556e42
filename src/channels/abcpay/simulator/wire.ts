import { createPrivateKey, type KeyObject } from 'node:crypto';
import { compactChinaTime, slashedChinaDateTime } from '../../china-time.ts';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { abcSign, encodeAbc } from '../envelope.ts';
import { yuan } from '../mapping.ts';
import { ABC_CODES, ABC_ENVELOPE, NOTIFY_FIELD, NOTIFY_RETRY_S, PAY_CHANNEL } from '../protocol.ts';

/** How the simulated ABC names states (A8, A9), answers (A3) and notifies (A10). */

export interface AbcKeys {
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
  /** A self-signed certificate of the platform key (TrustPay.cer). */
  trustpayCertPem: string;
}

export function orderStatusOf(t: TradeRecord): string {
  switch (t.status) {
    case 'CREATED':
      return '01';
    case 'PAYING':
      return '02';
    case 'SUCCESS':
      return t.refunded === 0 ? '04' : t.refunded >= t.amount ? '05' : '07';
    case 'FAILED':
      return '06';
    case 'CLOSED':
    case 'REVOKED':
      return '99';
  }
}

export function orderFields(t: TradeRecord): Record<string, string> {
  return {
    OrderNo: t.outTradeNo,
    OrderAmount: yuan(t.amount),
    Status: orderStatusOf(t),
    TrxID: t.tradeNo,
    ...(t.paidAt !== undefined ? { PayTime: compactChinaTime(t.paidAt), PayChannel: PAY_CHANNEL[(t.paidWith ?? 'ABC') as keyof typeof PAY_CHANNEL], PayerID: t.payer ?? '' } : {}),
  };
}

const REFUND_STATUS = { PROCESSING: 'PROCESSING', SUCCESS: 'SUCCESS', FAILED: 'FAIL' } as const;

export function refundFields(r: RefundRecord): Record<string, string> {
  return { OrderNo: r.outTradeNo, NewOrderNo: r.outRefundNo, TrxAmount: yuan(r.amount), TrxID: r.refundNo, RefundStatus: REFUND_STATUS[r.status] };
}

/** The answer envelope text: signed unless `key` is undefined (gateway-level refusals). */
export function answerText(merchantId: string, response: Record<string, unknown>, key: KeyObject | undefined, o: { forge?: boolean } = {}): string {
  const { date, time } = slashedChinaDateTime(Date.now());
  const message = {
    Version: ABC_ENVELOPE.version,
    Format: ABC_ENVELOPE.format,
    Common: { Channel: ABC_ENVELOPE.merchantType },
    Merchant: { ECMerchantType: ABC_ENVELOPE.merchantType, MerchantID: merchantId },
    TrxResponse: { ...response, TrxDate: date, TrxTime: time },
  };
  const text = JSON.stringify(message);
  if (!key) return `{"MSG":{"Message":${text}}}`;
  // A signature over other content: verifiers must recompute, not trust.
  const signature = abcSign(o.forge ? `${text} ` : text, key);
  return `{"MSG":{"Message":${text},"Signature-Algorithm":"${ABC_ENVELOPE.signatureAlgorithm}","Signature":"${signature}"}}`;
}

/** Result notifications: a form field MSG holding the base64 of the GB18030 envelope; any HTTP 200 acknowledges. */
export function abcNoticeCodec(core: AcquirerCore<AbcKeys>): NoticeCodec {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged: (status) => status === 200,
    render(n: NoticeRecord) {
      const t = ctx.book.trade(n.merchantId, n.outTradeNo);
      if (!t) throw new Error(`notification ${n.id} for an unknown trade`);
      const { faults } = ctx;
      const fields: Record<string, string> = { ReturnCode: ABC_CODES.success, ErrorMessage: '交易成功', TrxType: 'PayResult', ...orderFields(t) };
      if (faults.tamperNotifyAmount) fields.OrderAmount = yuan(t.amount + 1);
      const text = answerText(faults.wrongNotifyMerchant ? `9${n.merchantId}` : n.merchantId, fields, key, { forge: faults.badNotifySignature });
      return { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ [NOTIFY_FIELD]: encodeAbc(text).toString('base64') }).toString() };
    },
  };
}
