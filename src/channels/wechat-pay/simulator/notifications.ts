import { aesGcmEncrypt } from '../v3-crypto.ts';
import type { SimContext } from './context.ts';
import { eventId, gcmNonce, rfc3339 } from './ids.ts';
import type { CallbackRecord, MerchantRecord } from './types.ts';

/**
 * Builds a notification exactly as protocols.md §A.5 describes: the resource is AES-256-GCM
 * encrypted with the merchant's APIv3 key, associated_data = original_type, a 12-char nonce.
 * The body is built once; every delivery attempt re-signs the same bytes with a fresh
 * timestamp and nonce (perf-reliability.md "every retry carries a fresh timestamp").
 */

export interface NotificationInput {
  url: string;
  eventType: 'TRANSACTION.SUCCESS' | 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED';
  summary: string;
  originalType: 'transaction' | 'refund';
  resource: object;
  outTradeNo: string;
  outRefundNo?: string;
}

export function enqueueCallback(ctx: SimContext, merchant: MerchantRecord, n: NotificationInput): CallbackRecord {
  const now = ctx.now();
  let id = eventId(now);
  while (ctx.state.callbacks.has(id)) id = eventId(now);
  const nonce = gcmNonce();
  return enqueueBody(ctx, merchant, id, n, JSON.stringify({
    id,
    create_time: rfc3339(now),
    resource_type: 'encrypt-resource',
    event_type: n.eventType,
    summary: n.summary,
    resource: {
      original_type: n.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: aesGcmEncrypt(merchant.apiV3Key, nonce, n.originalType, JSON.stringify(n.resource)),
      associated_data: n.originalType,
      nonce,
    },
  }));
}

/** Queues a callback whose body is final: v3 JSON (signed per attempt) or a v2 XML document (signed inside). */
export function enqueueBody(
  ctx: SimContext,
  merchant: MerchantRecord,
  id: string,
  n: Pick<NotificationInput, 'url' | 'outTradeNo' | 'outRefundNo'> & { eventType: string },
  body: string,
  format?: 'v2',
): CallbackRecord {
  const now = ctx.now();
  const record: CallbackRecord = {
    id,
    mchid: merchant.mchid,
    url: n.url,
    event_type: n.eventType,
    body,
    out_trade_no: n.outTradeNo,
    ...(n.outRefundNo !== undefined ? { out_refund_no: n.outRefundNo } : {}),
    created_at: now,
    attempts: 0,
    delivered: false,
    gave_up: false,
    last_status: null,
    next_at: now,
    probe_first: format ? false : ctx.faults.probeSignatureFirst,
    duplicate: ctx.faults.duplicateCallbacks,
    ...(format ? { format } : {}),
  };
  ctx.state.addCallback(record);
  ctx.onCallbackCreated(id);
  return record;
}
