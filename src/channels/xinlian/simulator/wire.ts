import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { compactChinaTime } from '../../china-time.ts';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { MerchantRecord, NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { NOTIFY_ACK, NOTIFY_RETRY_S, XL_CODES } from '../protocol.ts';
import { signXinlian, xinlianSignContent, type XlFields } from '../sign.ts';
import { rsaSign } from '../../rsa.ts';

/** How the simulated 信联 names states (X5, X6), signs what it sends (X2) and notifies (X7). */

export interface XinlianKeys {
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
}

const TRADE_STATE = { CREATED: 'WAIT_PAY', PAYING: 'WAIT_PAY', SUCCESS: 'SUCCESS', CLOSED: 'CLOSED', FAILED: 'FAIL', REVOKED: 'REVOKED' } as const;

/** The books' trade number is Alipay's (what my.tradePay pays); Xinlian's own order number is kept beside it. */
export function tradeFields(m: MerchantRecord, t: TradeRecord): XlFields {
  return {
    mchNo: m.id,
    appId: m.secrets.appId as string,
    outTradeNo: t.outTradeNo,
    tradeNo: t.attrs.xlTradeNo as string,
    tradeNO: t.tradeNo,
    amount: t.amount,
    currency: t.currency,
    tradeState: TRADE_STATE[t.status],
    ...(t.attrs.payer ? { buyerId: t.attrs.payer } : {}),
    ...(t.paidAt !== undefined ? { successTime: compactChinaTime(t.paidAt) } : {}),
  };
}

export function refundFields(m: MerchantRecord, r: RefundRecord): XlFields {
  return {
    mchNo: m.id,
    appId: m.secrets.appId as string,
    outTradeNo: r.outTradeNo,
    outRefundNo: r.outRefundNo,
    refundNo: r.refundNo,
    refundAmount: r.amount,
    refundState: r.status === 'FAILED' ? 'FAIL' : r.status,
    ...(r.doneAt !== undefined && r.status === 'SUCCESS' ? { successTime: compactChinaTime(r.doneAt) } : {}),
  };
}

/** Everything Xinlian sends: a fresh timestamp and nonce, signed; `forge` signs other content. */
export function sealXinlian(key: KeyObject, fields: XlFields, now: number, o: { forge?: boolean } = {}): string {
  const signed = signXinlian({ ...fields, timestamp: now, nonce: randomBytes(16).toString('hex') }, key);
  if (o.forge) signed.sign = rsaSign('sha256', `${xinlianSignContent(signed)}&forged=1`, key);
  return JSON.stringify(signed);
}

export function refusalFields(code: string, msg: string): XlFields {
  return { code, msg };
}

export const okFields = (fields: XlFields): XlFields => ({ code: XL_CODES.success, msg: 'success', ...fields });

/** PAY / REFUND notifications, acknowledged by the text SUCCESS. */
export function xinlianNoticeCodec(core: AcquirerCore<XinlianKeys>): NoticeCodec {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged: (status, body) => status === 200 && body.trim() === NOTIFY_ACK,
    render(n: NoticeRecord) {
      const { m, t, r } = ctx.book.noticeSubjects(n);
      const { faults } = ctx;
      const fields: XlFields = n.kind === 'refund' && r ? { notifyType: 'REFUND', ...refundFields(m, r) } : { notifyType: 'PAY', ...tradeFields(m, t) };
      if (faults.tamperNotifyAmount) fields[n.kind === 'refund' ? 'refundAmount' : 'amount'] = Number(fields[n.kind === 'refund' ? 'refundAmount' : 'amount']) + 1;
      if (faults.wrongNotifyMerchant) fields.mchNo = `9${m.id}`;
      return { contentType: 'application/json; charset=utf-8', body: sealXinlian(key, fields, ctx.now(), { forge: faults.badNotifySignature }) };
    },
  };
}
