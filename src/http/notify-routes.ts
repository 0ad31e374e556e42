import type { FastifyInstance, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { Gateway } from '../gateway.ts';
import { verifyQrToken } from '../services/pay-orders.ts';
import { getPayOrder } from '../services/order-store.ts';

export function inbound(req: FastifyRequest) {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return { headers, rawBody: req.rawBody ?? Buffer.alloc(0), query: req.query as Record<string, string>, path: req.url.split('?')[0] };
}

/** Channel callbacks (the order id in the URL selects the merchant keys) and QR images. */
export function registerNotifyRoutes(app: FastifyInstance, gw: Gateway): void {
  const hide = { hide: true };
  app.post<{ Params: { ifCode: string; orderId: string } }>('/api/pay/notify/:ifCode/:orderId', { schema: hide }, async (req, reply) => {
    const r = await gw.callbacks.handle(req.params.ifCode, 'pay', req.params.orderId, inbound(req));
    return reply.status(r.status).type(r.contentType ?? 'text/plain').send(r.body);
  });
  app.post<{ Params: { ifCode: string; orderId: string } }>('/api/refund/notify/:ifCode/:orderId', { schema: hide }, async (req, reply) => {
    const r = await gw.callbacks.handle(req.params.ifCode, 'refund', req.params.orderId, inbound(req));
    return reply.status(r.status).type(r.contentType ?? 'text/plain').send(r.body);
  });
  app.get<{ Params: { token: string } }>('/api/scan/imgs/:token', { schema: { tags: ['Merchant API'], summary: 'QR image of an order\'s code URL (payDataType codeImgUrl)' } }, async (req, reply) => {
    const id = verifyQrToken(gw.qrKey, req.params.token.replace(/\.png$/, ''));
    const order = id ? await getPayOrder(gw.db, id) : null;
    if (!order || !order.pay_data || !(order.pay_data_type === 'codeUrl' || order.pay_data_type === 'payurl')) return reply.status(404).send({ code: 1404, msg: 'no such QR image' });
    const png = await QRCode.toBuffer(order.pay_data, { type: 'png', margin: 2, width: 300 });
    return reply.type('image/png').header('cache-control', 'private, max-age=300').send(png);
  });
}
