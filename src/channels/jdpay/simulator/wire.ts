import { createPrivateKey, type KeyObject } from 'node:crypto';
import { compactChinaTime } from '../../china-time.ts';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { MerchantRecord, NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { buildJdXml, encryptJdXml, jdDesKey, jdSignText, signJdXml, type XmlFields } from '../envelope.ts';
import { JD_CODES, JD_VERSION, NOTIFY_ACK, NOTIFY_RETRY_S, QUERY_TRADE_TYPE } from '../protocol.ts';

/** How the simulated JD Pay names states (J8, J9), seals its messages (J3) and notifies (J10). */

export interface JdpayKeys {
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
}

const TRADE_STATUS = { CREATED: '0', PAYING: '1', SUCCESS: '2', FAILED: '3', CLOSED: '4', REVOKED: '5' } as const;
const REFUND_STATUS = { PROCESSING: '0', SUCCESS: '1', FAILED: '2' } as const;

export function tradeFields(t: TradeRecord): Record<string, string> {
  return {
    tradeNum: t.outTradeNo,
    orderId: t.tradeNo,
    amount: String(t.amount),
    currency: t.currency,
    status: TRADE_STATUS[t.status],
    ...(t.paidAt !== undefined ? { payTime: compactChinaTime(t.paidAt), userId: t.payer ?? '' } : {}),
    ...(t.attrs.payTool ? { payTool: t.attrs.payTool } : {}),
  };
}

export function refundFields(r: RefundRecord): Record<string, string> {
  return {
    tradeNum: r.outRefundNo,
    oTradeNum: r.outTradeNo,
    refundId: r.refundNo,
    amount: String(r.amount),
    currency: 'CNY',
    status: REFUND_STATUS[r.status],
    ...(r.doneAt !== undefined && r.status === 'SUCCESS' ? { payTime: compactChinaTime(r.doneAt) } : {}),
  };
}

/** A signed, encrypted message for a merchant, wrapped in the outer envelope with result 000000. */
export function sealForMerchant(key: KeyObject, m: MerchantRecord, fields: XmlFields, o: { merchant?: string; forge?: boolean } = {}): string {
  const result = { code: JD_CODES.success, desc: 'success' };
  const xml = buildJdXml({ version: JD_VERSION, merchant: o.merchant ?? m.id, result, ...fields });
  let signed = signJdXml(xml, key);
  // A signature over other content: verifiers must recompute, not trust.
  if (o.forge) signed = signed.replace(/<sign>[^<]*<\/sign>/, `<sign>${jdSignText(`${xml}forged`, key)}</sign>`);
  return buildJdXml({ version: JD_VERSION, merchant: m.id, result, encrypt: encryptJdXml(jdDesKey(m.secrets.desKey as string), signed) });
}

/** A refusal: the outer envelope alone, unsigned (J5). */
export function refusal(merchant: string, code: string, desc: string): string {
  return buildJdXml({ version: JD_VERSION, merchant, result: { code, desc } });
}

/** Notifications: the same sealed envelope as answers, acknowledged by the text `success`. */
export function jdpayNoticeCodec(core: AcquirerCore<JdpayKeys>): NoticeCodec {
  const { ctx } = core;
  const key = createPrivateKey(core.keys.platformPrivateKeyPem);
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged: (status, body) => status === 200 && body.trim() === NOTIFY_ACK,
    render(n: NoticeRecord) {
      const { m, t, r } = ctx.book.noticeSubjects(n);
      const { faults } = ctx;
      const fields: Record<string, string> = n.kind === 'refund' && r ? { tradeType: QUERY_TRADE_TYPE.refund, ...refundFields(r) } : { tradeType: QUERY_TRADE_TYPE.pay, ...tradeFields(t) };
      if (faults.tamperNotifyAmount) fields.amount = String(Number(fields.amount) + 1);
      const body = sealForMerchant(key, m, fields, { ...(faults.wrongNotifyMerchant ? { merchant: `9${m.id}` } : {}), forge: faults.badNotifySignature });
      return { contentType: 'application/xml;charset=utf-8', body };
    },
  };
}
