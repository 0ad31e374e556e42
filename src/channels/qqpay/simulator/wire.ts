import { compactChinaTime } from '../../china-time.ts';
import { alnum } from '../../wechat-pay/simulator/ids.ts';
import { v2Sign } from '../../wechat-pay/v2-sign.ts';
import { buildWechatXml } from '../../wechat-pay/v2-xml.ts';
import type { NoticeCodec } from '../../sandbox/acquirer/notifier.ts';
import type { AcquirerCore } from '../../sandbox/acquirer/server.ts';
import type { MerchantRecord, NoticeRecord, RefundRecord, TradeRecord } from '../../sandbox/acquirer/types.ts';
import { NOTIFY_RETRY_S } from '../protocol.ts';
import { parseQpayXml } from '../client.ts';

/** How the simulated QPay names trade and refund states (Q5, Q7), signs its documents and notifies (Q8). */

export interface QqpayKeys {
  /** The sandbox CA: issues merchant client certificates and the api host's server certificate. */
  caPrivateKeyPem: string;
  caCertPem: string;
}

type Fields = Record<string, string>;

const TRADE_STATE = { CREATED: 'NOTPAY', PAYING: 'USERPAYING', CLOSED: 'CLOSED', FAILED: 'PAYERROR', REVOKED: 'REVOKED' } as const;
const REFUND_STATE = { PROCESSING: 'PROCESSING', SUCCESS: 'SUCCESS', FAILED: 'FAIL' } as const;

export function tradeState(t: TradeRecord): string {
  if (t.status === 'SUCCESS') return t.refunded > 0 ? 'REFUND' : 'SUCCESS';
  return TRADE_STATE[t.status];
}

export function tradeFields(t: TradeRecord): Fields {
  return {
    trade_type: t.product,
    trade_state: tradeState(t),
    out_trade_no: t.outTradeNo,
    transaction_id: t.tradeNo,
    fee_type: t.currency,
    total_fee: String(t.amount),
    ...(t.paidAt !== undefined ? { cash_fee: String(t.amount), bank_type: 'BALANCE', time_end: compactChinaTime(t.paidAt), openid: t.payer ?? '' } : {}),
    ...(t.status === 'FAILED' ? { trade_state_desc: '支付失败' } : {}),
  };
}

export function refundQueryFields(t: TradeRecord, refunds: RefundRecord[]): Fields {
  const out: Fields = { out_trade_no: t.outTradeNo, transaction_id: t.tradeNo, total_fee: String(t.amount), refund_count: String(refunds.length) };
  refunds.forEach((r, n) => {
    Object.assign(out, { [`out_refund_no_${n}`]: r.outRefundNo, [`refund_id_${n}`]: r.refundNo, [`refund_fee_${n}`]: String(r.amount), [`refund_status_${n}`]: REFUND_STATE[r.status] });
  });
  return out;
}

/** A document signed with the merchant's API key (MD5), as QPay sends it. */
export function signedXml(m: MerchantRecord, fields: Fields, o: { mchId?: string; forge?: boolean } = {}): string {
  const doc: Fields = { ...(m.secrets.appId ? { appid: m.secrets.appId } : {}), mch_id: o.mchId ?? m.id, nonce_str: alnum(32), ...fields };
  // A sign over other content: verifiers must recompute, not trust.
  const sign = v2Sign(o.forge ? { ...doc, forged: '1' } : doc, m.secrets.apiKey as string, 'MD5');
  return buildWechatXml({ ...doc, sign });
}

/** Pay notifications: signed XML; acknowledged only by an XML return_code SUCCESS (Q8). No refund notifications (Q12). */
export function qqpayNoticeCodec(core: AcquirerCore<QqpayKeys>): NoticeCodec {
  const { ctx } = core;
  return {
    retryScheduleS: NOTIFY_RETRY_S,
    acknowledged(status, body) {
      if (status !== 200) return false;
      try {
        return parseQpayXml(body, 'acknowledgement').return_code === 'SUCCESS';
      } catch {
        return false;
      }
    },
    render(n: NoticeRecord) {
      const { m, t } = ctx.book.noticeSubjects(n);
      const { faults } = ctx;
      const fields = tradeFields(t);
      if (faults.tamperNotifyAmount) fields.total_fee = String(t.amount + 1);
      const body = signedXml(m, fields, { ...(faults.wrongNotifyMerchant ? { mchId: `9${m.id.slice(1)}` } : {}), forge: faults.badNotifySignature });
      return { contentType: 'text/xml; charset=utf-8', body };
    },
  };
}
