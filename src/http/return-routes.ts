import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.ts';
import { AlipayChannel } from '../channels/alipay/channel.ts';
import { ChannelError } from '../channels/types.ts';
import { PayState } from '../domain/order-states.ts';
import { signParams } from '../merchant-api/sign.ts';
import { escapeHtml } from './html.ts';
import { compact, payOrderView } from '../merchant-api/views.ts';
import { type PayOrderRow, getPayOrder, recordEvent } from '../services/order-store.ts';

/**
 * Browser returns from a channel's cashier (Alipay PC/WAP: protocols.md §C.5 "return_url").
 * The return parameters are verified like a notification, yet trusted for nothing: a verified
 * return only makes us ask the channel at once (an open order is synced), and the merchant is
 * sent our own record of the order, signed like its notifications (jeepay.md §4 "Return URL").
 * An unverified return changes nothing and reveals nothing about the order.
 */

export const STATE_TEXT: Record<number, string> = {
  [PayState.INIT]: '订单已创建 (created)',
  [PayState.PAYING]: '支付处理中 (processing — the merchant is notified when it completes)',
  [PayState.SUCCESS]: '支付成功 (paid)',
  [PayState.FAIL]: '支付失败 (failed)',
  [PayState.REVOKED]: '已撤销 (revoked)',
  [PayState.REFUNDED]: '已退款 (refunded)',
  [PayState.CLOSED]: '订单已关闭 (closed)',
};

const esc = escapeHtml;

export function page(reply: FastifyReply, status: number, title: string, lines: string[]): FastifyReply {
  const body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:480px;margin:40px auto;padding:0 16px;color:#222}h1{font-size:20px}p{color:#555}</style></head>
<body><h1>${esc(title)}</h1>${lines.map((l) => `<p>${esc(l)}</p>`).join('')}</body></html>`;
  return reply
    .code(status)
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(body);
}

function merchantUrl(raw: string | null): URL | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The merchant's returnUrl with our record of the order appended and signed like a notification (also used by the cashier's result page). */
export function signedReturnUrl(order: PayOrderRow, secret: string): string | null {
  const target = merchantUrl(order.return_url);
  if (!target) return null;
  const payload = compact({ ...payOrderView(order), reqTime: Date.now() });
  for (const [k, v] of Object.entries(payload)) target.searchParams.set(k, String(v));
  target.searchParams.set('sign', signParams(payload, secret, 'MD5'));
  return target.toString();
}

export function registerReturnRoutes(app: FastifyInstance, gw: Gateway): void {
  app.get<{ Params: { payOrderId: string } }>('/api/pay/return/alipay/:payOrderId', { schema: { hide: true } }, async (req, reply) => {
    const order = await getPayOrder(gw.db, req.params.payOrderId);
    const channel = gw.channels.get('alipay');
    if (!order || order.if_code !== 'alipay' || !(channel instanceof AlipayChannel)) return page(reply, 404, '订单不存在 (unknown order)', []);
    const config = await gw.tenancy.getChannelConfig(order.app_id, 'alipay');
    if (!config) return page(reply, 503, '暂时无法确认支付结果 (not configured)', []);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) if (typeof v === 'string') params[k] = v;
    try {
      const r = channel.verifyReturn({ config, log: gw.log }, params);
      if (r.outTradeNo !== order.pay_order_id) throw new ChannelError('mismatch', `return names out_trade_no ${r.outTradeNo}`);
      if (r.amount !== undefined && r.amount !== order.amount) throw new ChannelError('mismatch', `return names total_amount ${r.amount} fen, order has ${order.amount}`);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      gw.log.warn({ payOrderId: order.pay_order_id, reason: err.kind, msg: err.message }, 'browser return refused');
      await recordEvent(gw.db, { orderType: 'pay', orderId: order.pay_order_id, kind: 'refused', source: 'query', detail: { via: 'return_url', reason: err.kind, message: err.message } });
      return page(reply, 400, '返回参数验证失败 (the return could not be verified)', ['请回到商户页面查询订单状态。 Please check the order on the merchant site.']);
    }
    // The browser says "paid"; only the channel's own answer may change the order.
    const current = order.state === PayState.INIT || order.state === PayState.PAYING ? await gw.payOrders.syncWithChannel(order, 'query') : order;
    if (!merchantUrl(current.return_url)) return page(reply, 200, STATE_TEXT[current.state] ?? String(current.state), [`订单号 ${current.pay_order_id}`, `商户订单号 ${current.mch_order_no}`]);
    const secret = (await gw.tenancy.getApp(current.app_id))?.appSecret;
    if (!secret) return page(reply, 503, '暂时无法返回商户 (merchant app unavailable)', []);
    return reply.code(302).header('Location', signedReturnUrl(current, secret) as string).header('Cache-Control', 'no-store').send();
  });
}
