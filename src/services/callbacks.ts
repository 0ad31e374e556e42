import type { Db } from '../db/db.ts';
import { ChannelError, type CallbackReply, type InboundCallback, type Logger, type PayChannel } from '../channels/types.ts';
import { PayState, RefundState } from '../domain/order-states.ts';
import type { TenancyService } from './tenancy.ts';
import type { OrderSync } from './order-sync.ts';
import { type EventSource, getPayOrder, getRefund, recordEvent } from './order-store.ts';

export interface CallbackDeps {
  db: Db;
  tenancy: TenancyService;
  channels: ReadonlyMap<string, PayChannel>;
  sync: OrderSync;
  log: Logger;
}

const SOURCE: EventSource = 'callback';

/**
 * Channel callbacks: identified by URL (/notify/:ifCode/:orderId) so the right merchant's
 * keys are loaded before anything in the body is trusted; verified on the raw bytes by the
 * channel; then checked against the order by OrderSync. Anything refused changes nothing,
 * is logged and recorded on the order's timeline, asks the channel to retry, and schedules an
 * active query so the truth is fetched from the channel instead of from the callback.
 */
export class CallbackService {
  readonly #d: CallbackDeps;
  constructor(deps: CallbackDeps) {
    this.#d = deps;
  }

  async handle(ifCode: string, kind: 'pay' | 'refund', orderId: string, inbound: InboundCallback): Promise<CallbackReply> {
    const d = this.#d;
    const channel = d.channels.get(ifCode);
    if (!channel) return { status: 404, contentType: 'text/plain', body: 'unknown channel' };
    // Our ids are short alphanumerics; anything else (e.g. a NUL byte, which PostgreSQL refuses in
    // text and answered with a 500) cannot name an order (found by test/faults/fuzz.test.ts).
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(orderId)) return channel.nackReply('unknown order', inbound);
    const refund = kind === 'refund' ? await getRefund(d.db, orderId) : null;
    const payOrderId = kind === 'pay' ? orderId : refund?.pay_order_id;
    const order = payOrderId ? await getPayOrder(d.db, payOrderId) : null;
    if (!order || order.if_code !== ifCode || (kind === 'refund' && !refund)) {
      d.log.warn({ ifCode, kind, orderId }, 'callback for an unknown order refused');
      return channel.nackReply('unknown order', inbound);
    }
    const config = await d.tenancy.getChannelConfig(order.app_id, ifCode);
    if (!config) {
      d.log.error({ ifCode, orderId, appId: order.app_id }, 'callback for an app without channel configuration');
      return channel.nackReply('not configured', inbound);
    }
    try {
      const parsed = await channel.parseCallback({ config, log: d.log }, kind, inbound);
      if (parsed.kind !== kind) throw new ChannelError('mismatch', `a ${parsed.kind} callback arrived at the ${kind} URL`);
      const note = { kind: 'callback', source: SOURCE, detail: { eventId: parsed.eventId, status: parsed.kind === 'pay' ? parsed.payment.status : parsed.refund.status } };
      // A pay callback that changes the order records its note in the same statement as the change.
      const applied = parsed.kind === 'pay' ? await d.sync.applyPayment(orderId, parsed.payment, SOURCE, { known: order, note }) : await d.sync.applyRefund(orderId, parsed.refund, SOURCE);
      if (applied.refused) {
        await this.#queryLater(kind, orderId);
        return channel.nackReply('refused', inbound);
      }
      if (!('noted' in applied && applied.noted)) await recordEvent(d.db, { orderType: kind, orderId, ...note });
      return channel.signedAckReply ? channel.signedAckReply({ config, log: d.log }, inbound) : channel.ackReply(inbound);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      d.log.warn({ ifCode, kind, orderId, reason: err.kind, msg: err.message }, 'callback refused');
      await recordEvent(d.db, { orderType: kind, orderId, kind: 'refused', source: SOURCE, detail: { reason: err.kind, message: err.message } });
      await this.#queryLater(kind, orderId);
      return channel.nackReply(err.kind === 'bad_signature' ? 'signature verification failed' : 'refused', inbound);
    }
  }

  async #queryLater(kind: 'pay' | 'refund', orderId: string): Promise<void> {
    if (kind === 'pay') {
      await this.#d.db.query(`UPDATE pay_orders SET next_check_at = now() WHERE pay_order_id = $1 AND state IN (${PayState.INIT}, ${PayState.PAYING})`, [orderId]);
    } else {
      await this.#d.db.query(`UPDATE refund_orders SET next_check_at = now() WHERE refund_order_id = $1 AND state IN (${RefundState.INIT}, ${RefundState.REFUNDING})`, [orderId]);
    }
  }
}
