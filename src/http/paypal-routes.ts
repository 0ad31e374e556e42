import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway.ts';
import { PayState } from '../domain/order-states.ts';
import { getPayOrder, recordEvent } from '../services/order-store.ts';
import { webhookOrderRef } from '../channels/paypal/mapping.ts';
import { EVENTS, RETURN_PATH, WEBHOOK_PATH } from '../channels/paypal/protocol.ts';
import { inbound } from './notify-routes.ts';
import { STATE_TEXT, page, signedReturnUrl } from './return-routes.ts';

/**
 * PayPal's two gateway routes (docs/channels/paypal.md P5, P8). The buyer's return from the
 * approve page only makes us ask PayPal — the query captures an approved order — and then sends
 * the buyer on to the merchant with our signed record. The webhook URL is one per gateway (PayPal
 * has no per-order notification URL): the event's custom_id / invoice_id (unverified, routing
 * only) names the order, whose app's keys then verify it through the normal callback path.
 */

const isOpen = (state: number): boolean => state === PayState.INIT || state === PayState.PAYING;

export function registerPaypalRoutes(app: FastifyInstance, gw: Gateway): void {
  app.get<{ Params: { payOrderId: string }; Querystring: { token?: string; cancel?: string } }>(`${RETURN_PATH}:payOrderId`, { schema: { hide: true } }, async (req, reply) => {
    const order = await getPayOrder(gw.db, req.params.payOrderId);
    if (!order || order.if_code !== 'paypal') return page(reply, 404, '订单不存在 (unknown order)', []);
    if (req.query.token !== undefined && order.channel_order_no !== null && req.query.token !== order.channel_order_no) {
      await recordEvent(gw.db, { orderType: 'pay', orderId: order.pay_order_id, kind: 'refused', source: 'query', detail: { via: 'return_url', reason: 'mismatch', message: `token ${req.query.token} is not this order's PayPal order` } });
      return page(reply, 400, '返回参数不符 (the return names another PayPal order)', ['请回到商户页面查询订单状态。 Please check the order on the merchant site.']);
    }
    // The return is a hint, never a proof: only PayPal's own answer (after the capture) changes the order.
    const current = isOpen(order.state) && req.query.cancel === undefined ? await gw.payOrders.syncWithChannel(order, 'query') : order;
    const secret = (await gw.tenancy.getApp(current.app_id))?.appSecret;
    const target = secret ? signedReturnUrl(current, secret) : null;
    if (!target) return page(reply, 200, STATE_TEXT[current.state] ?? String(current.state), [`订单号 ${current.pay_order_id}`, `商户订单号 ${current.mch_order_no}`]);
    return reply.code(302).header('Location', target).header('Cache-Control', 'no-store').send();
  });

  app.post(WEBHOOK_PATH, { schema: { hide: true } }, async (req, reply) => {
    const event = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const ref = webhookOrderRef(event);
    // An event type we do not act on (or one naming no order of ours) changes nothing: acknowledged, so PayPal stops sending it.
    if (!ref) return reply.status(200).type('text/plain').send('');
    if (event.event_type === EVENTS.approved) {
      // An approval of an order no longer open must not be captured (a closed order's buyer keeps their money).
      const order = await getPayOrder(gw.db, ref.id);
      if (order && order.if_code === 'paypal' && !isOpen(order.state)) return reply.status(200).type('text/plain').send('');
    }
    const r = await gw.callbacks.handle('paypal', ref.kind, ref.id, inbound(req));
    return reply.status(r.status).type(r.contentType ?? 'text/plain').send(r.body);
  });
}
