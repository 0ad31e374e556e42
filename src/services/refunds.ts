import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';
import { newOrderId } from '../domain/ids.ts';
import { parseCurrency } from '../domain/money.ts';
import { PayState, RefundState } from '../domain/order-states.ts';
import { ChannelError, type Logger, type PayChannel, type RefundInput, type RefundStatus } from '../channels/types.ts';
import type { MerchantApp } from './tenancy.ts';
import type { OrderSync } from './order-sync.ts';
import { type PayOrderRow, type RefundOrderRow, getPayOrder, getRefund, lockPayOrder, recordEvent } from './order-store.ts';
import { type PayOrderService, hashRequest, toChannelInput } from './pay-orders.ts';

export interface RefundRequest {
  payOrderId?: string;
  mchOrderNo?: string;
  mchRefundNo: string;
  refundAmount: number;
  currency: string;
  refundReason: string;
  clientIp?: string;
  notifyUrl?: string;
  channelExtra?: string;
  extParam?: string;
}

export interface RefundDeps {
  db: Db;
  channels: ReadonlyMap<string, PayChannel>;
  payOrders: PayOrderService;
  sync: OrderSync;
  log: Logger;
  publicUrl: string;
  querySchedule: readonly number[];
}

/**
 * Refunds. The amount is reserved on the pay order (`refund_pending`) in the same
 * transaction that inserts the refund, under the order's row lock, with a CHECK constraint
 * behind it: Σ(refunded + in flight) ≤ paid holds under any concurrency. The channel is
 * called after commit with our refund id as its idempotency key (out_refund_no).
 */
export class RefundService {
  readonly #d: RefundDeps;
  constructor(deps: RefundDeps) {
    this.#d = deps;
  }

  async refund(app: MerchantApp, req: RefundRequest): Promise<RefundOrderRow> {
    const d = this.#d;
    const order = await d.payOrders.findByMerchant(app, { payOrderId: req.payOrderId, mchOrderNo: req.mchOrderNo });
    if (!order) throw new ApiError('ORDER_NOT_FOUND', req.payOrderId ?? req.mchOrderNo);
    const currency = parseCurrency(req.currency);
    if (!currency) throw new ApiError('PARAM_INVALID', `unsupported currency "${req.currency}"`);
    if (currency !== order.currency) throw new ApiError('CURRENCY_MISMATCH', `order ${order.pay_order_id} is in ${order.currency.toLowerCase()}`);
    const requestHash = hashRequest({ ...req, payOrderId: order.pay_order_id, mchOrderNo: undefined, currency });

    const existing = await this.#findByMchRefundNo(app, req.mchRefundNo);
    if (existing) return this.#repeat(existing, requestHash);

    const refundOrderId = newOrderId('R');
    const created = await d.db.transaction(async (tx) => {
      const locked = (await lockPayOrder(tx, order.pay_order_id)) as PayOrderRow;
      if (locked.state !== PayState.SUCCESS) throw new ApiError('ORDER_STATE_INVALID', `order ${order.pay_order_id} is in state ${locked.state}; only paid (2) orders can be refunded`);
      const refundable = locked.amount - locked.refund_amount - locked.refund_pending;
      if (req.refundAmount > refundable) throw new ApiError('REFUND_AMOUNT_EXCEEDED', `refundable now: ${refundable} (paid ${locked.amount}, refunded ${locked.refund_amount}, in flight ${locked.refund_pending})`);
      const r = await tx.query<RefundOrderRow>(
        `INSERT INTO refund_orders (refund_order_id, pay_order_id, mch_no, app_id, mch_refund_no, if_code, way_code, pay_amount, refund_amount, currency, refund_reason,
                                    client_ip, notify_url, channel_extra, ext_param, request_hash, next_check_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now() + interval '60 seconds')
         ON CONFLICT (mch_no, mch_refund_no) DO NOTHING RETURNING *`,
        [refundOrderId, locked.pay_order_id, app.mchNo, app.appId, req.mchRefundNo, locked.if_code, locked.way_code, locked.amount, req.refundAmount, currency, req.refundReason,
          req.clientIp ?? null, req.notifyUrl ?? null, req.channelExtra ?? null, req.extParam ?? null, requestHash],
      );
      const row = r.rows[0];
      if (!row) return null; // a concurrent request with the same mchRefundNo won
      await tx.query(`UPDATE pay_orders SET refund_pending = refund_pending + $2, updated_at = now() WHERE pay_order_id = $1`, [locked.pay_order_id, req.refundAmount]);
      await recordEvent(tx, { orderType: 'refund', orderId: refundOrderId, kind: 'created', source: 'api', to: RefundState.INIT, detail: { payOrderId: locked.pay_order_id, refundAmount: req.refundAmount } });
      return row;
    });
    if (!created) {
      const winner = await this.#findByMchRefundNo(app, req.mchRefundNo);
      if (!winner) throw new ApiError('ORDER_IN_PROGRESS', 'retry shortly');
      return this.#repeat(winner, requestHash);
    }

    const channel = d.channels.get(order.if_code);
    let status: RefundStatus;
    try {
      if (!channel) throw new ChannelError('misconfigured', `channel ${order.if_code} is not installed`);
      status = await channel.refund(await d.payOrders.channelContext(order), toChannelInput(order, d.publicUrl), refundInput(created, d.publicUrl));
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      status = refundStatusFromError(err);
      if (status.status === 'PROCESSING') d.log.warn({ refundOrderId, kind: err.kind }, 'refund outcome unknown; will query');
    }
    const firstCheck = new Date(Date.now() + (d.querySchedule[0] ?? 10) * 1000);
    const applied = await d.sync.applyRefund(refundOrderId, status, 'api');
    const refund = applied.refund ?? created;
    if (refund.state === RefundState.REFUNDING || refund.state === RefundState.INIT) {
      await d.db.query(`UPDATE refund_orders SET next_check_at = $2 WHERE refund_order_id = $1`, [refundOrderId, firstCheck]);
    }
    return (await getRefund(d.db, refundOrderId)) ?? refund;
  }

  #repeat(existing: RefundOrderRow, requestHash: string): RefundOrderRow {
    if (existing.request_hash !== requestHash) throw new ApiError('IDEMPOTENCY_MISMATCH', `mchRefundNo ${existing.mch_refund_no} was used for refund ${existing.refund_order_id} with different parameters`);
    return existing;
  }

  async #findByMchRefundNo(app: MerchantApp, mchRefundNo: string): Promise<RefundOrderRow | null> {
    const r = await this.#d.db.query<RefundOrderRow>(`SELECT * FROM refund_orders WHERE mch_no = $1 AND mch_refund_no = $2`, [app.mchNo, mchRefundNo]);
    return r.rows[0] ?? null;
  }

  async query(app: MerchantApp, ids: { refundOrderId?: string; mchRefundNo?: string }, sync: boolean): Promise<RefundOrderRow> {
    const r = ids.refundOrderId
      ? await this.#d.db.query<RefundOrderRow>(`SELECT * FROM refund_orders WHERE refund_order_id = $1 AND mch_no = $2`, [ids.refundOrderId, app.mchNo])
      : await this.#d.db.query<RefundOrderRow>(`SELECT * FROM refund_orders WHERE mch_no = $1 AND mch_refund_no = $2`, [app.mchNo, ids.mchRefundNo]);
    const refund = r.rows[0];
    if (!refund) throw new ApiError('REFUND_NOT_FOUND', ids.refundOrderId ?? ids.mchRefundNo);
    if (sync && (refund.state === RefundState.INIT || refund.state === RefundState.REFUNDING)) return this.syncWithChannel(refund, 'query');
    return refund;
  }

  /**
   * `orphanAfterMs`: an INIT refund this old that the channel has never heard of never reached
   * it (a crash between our commit and the channel call) — fail it and release the amount.
   */
  async syncWithChannel(refund: RefundOrderRow, source: 'query' | 'reconcile', orphanAfterMs?: number): Promise<RefundOrderRow> {
    const d = this.#d;
    const order = await getPayOrder(d.db, refund.pay_order_id);
    const channel = d.channels.get(refund.if_code);
    if (!order || !channel) return refund;
    try {
      let status = await channel.queryRefund(await d.payOrders.channelContext(order), toChannelInput(order, d.publicUrl), refundInput(refund, d.publicUrl));
      // REFUNDING too (fault suite, test/faults/money-concurrency): a refund whose call got a 5xx
      // or lost its answer is REFUNDING with an unknown outcome; if the channel still has never
      // heard of it long after the call ended, it never got there — without this it stayed
      // REFUNDING forever and kept its amount reserved, blocking every later refund of the order.
      if (status.status === 'NOT_FOUND' && orphanAfterMs !== undefined && (refund.state === RefundState.INIT || refund.state === RefundState.REFUNDING) && Date.now() - refund.created_at.getTime() >= orphanAfterMs) {
        status = { status: 'FAIL', errCode: 'NOT_SENT', errMsg: 'the refund never reached the channel' };
      }
      return (await d.sync.applyRefund(refund.refund_order_id, status, source)).refund ?? refund;
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      d.log.warn({ refundOrderId: refund.refund_order_id, kind: err.kind, msg: err.message }, 'channel refund query failed');
      return refund;
    }
  }
}

export function refundInput(refund: RefundOrderRow, publicUrl: string): RefundInput {
  return {
    refundOrderId: refund.refund_order_id,
    refundAmount: refund.refund_amount,
    payAmount: refund.pay_amount,
    currency: refund.currency as RefundInput['currency'],
    reason: refund.refund_reason,
    notifyUrl: `${publicUrl}/api/refund/notify/${refund.if_code}/${refund.refund_order_id}`,
    channelRefundNo: refund.channel_order_no,
  };
}

/** A refund the channel may have received stays open (PROCESSING) for the reconciler; a definite refusal fails it. */
function refundStatusFromError(err: ChannelError): RefundStatus {
  const unknown = err.kind === 'timeout' || err.kind === 'system' || err.kind === 'bad_signature' || err.kind === 'protocol' || err.kind === 'mismatch';
  if (unknown) return { status: 'PROCESSING' };
  return { status: 'FAIL', errCode: err.channelCode ?? err.kind.toUpperCase(), errMsg: err.channelMessage ?? err.message };
}
