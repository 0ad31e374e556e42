import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import type { SimContext } from './context.ts';
import { rfc3339 } from './ids.ts';
import { PAGE_CSP, esc, layout, yuan } from './html.ts';
import type { OrderRecord } from './types.ts';

/**
 * The sandbox payer's phone, as web pages: a scanned code_url (Native) or an h5_url / prepay_id
 * (H5, JSAPI, APP) shows the order and Pay / Cancel / Fail buttons. Plain HTML forms post to the
 * payer routes, which redirect back here with the outcome, so the pages need no script at all.
 */

const MAX_QR_TEXT = 1024;

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Content-Security-Policy', PAGE_CSP).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

function payable(ctx: SimContext, o: OrderRecord): boolean {
  return (o.trade_state === 'NOTPAY' || o.trade_state === 'PAYERROR') && ctx.now() <= o.time_expire;
}

/** Only http(s) targets may be offered as the H5 "back to merchant" link. */
function safeRedirect(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

function orderPage(ctx: SimContext, o: OrderRecord, selfPath: string, msg?: string, redirectUrl?: string): string {
  const action = (verb: string): string => `/sandbox/v1/orders/${encodeURIComponent(o.mchid)}/${encodeURIComponent(o.out_trade_no)}/${verb}`;
  const form = (verb: string, label: string, extra = ''): string =>
    `<form method="post" action="${esc(action(verb))}"><input type="hidden" name="return_to" value="${esc(selfPath)}">${extra}<button class="${verb}" type="submit">${esc(label)}</button></form>`;
  const expired = ctx.now() > o.time_expire && (o.trade_state === 'NOTPAY' || o.trade_state === 'PAYERROR');
  const buttons = payable(ctx, o)
    ? `<div class="actions">${form('pay', '确认支付 Pay')}${form('cancel', '取消 Cancel')}${form('fail', '支付失败 Fail', '<input type="hidden" name="reason" value="沙箱模拟：银行卡扣款失败">')}</div>`
    : `<p>${expired ? '订单已超过支付截止时间，无法支付。 (expired)' : '订单当前不可支付。 (not payable)'}</p>`;
  const qr = o.code_url ? `<img class="qr" alt="QR code" src="/sandbox/qr.png?text=${esc(encodeURIComponent(o.code_url))}">` : '';
  const back = redirectUrl ? `<p><a href="${esc(redirectUrl)}">返回商户页面 (back to merchant)</a></p>` : '';
  return layout(
    `微信支付 · ${o.description}`,
    `${msg ? `<div class="msg">${esc(msg)}</div>` : ''}
<div class="card"><h1>${esc(o.description)}</h1><div class="amount">¥${esc(yuan(o.amount_total))}</div>
<p><span class="state ${esc(o.trade_state)}">${esc(o.trade_state)}</span> ${esc(o.trade_state_desc)}</p>${qr}
<dl><dt>商户号 mchid</dt><dd>${esc(o.mchid)}</dd><dt>appid</dt><dd>${esc(o.appid)}</dd>
<dt>商户订单号</dt><dd>${esc(o.out_trade_no)}</dd><dt>交易类型</dt><dd>${esc(o.trade_type)}</dd>
<dt>支付截止</dt><dd>${esc(rfc3339(o.time_expire))}</dd>${o.transaction_id ? `<dt>微信订单号</dt><dd>${esc(o.transaction_id)}</dd>` : ''}
${o.attach !== undefined ? `<dt>附加数据</dt><dd>${esc(o.attach)}</dd>` : ''}</dl></div>
<div class="card">${buttons}</div>${back}<p><a href="/sandbox/">全部订单 (all orders)</a></p>`,
  );
}

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return html(reply, 404, layout('订单不存在', `<div class="card"><h1>订单不存在 (not found)</h1><p>${esc(what)}</p><p><a href="/sandbox/">全部订单</a></p></div>`));
}

export function registerPages(app: FastifyInstance, ctx: SimContext): void {
  app.get('/sandbox/scan', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const order = q.code_url ? ctx.state.orderByCodeUrl(q.code_url) : undefined;
    if (!order) return notFound(reply, `code_url: ${q.code_url ?? ''}`);
    return html(reply, 200, orderPage(ctx, order, `/sandbox/scan?code_url=${encodeURIComponent(order.code_url as string)}`, q.msg));
  });

  app.get('/sandbox/h5', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const order = q.prepay_id ? ctx.state.orderByPrepayId(q.prepay_id) : undefined;
    if (!order) return notFound(reply, `prepay_id: ${q.prepay_id ?? ''}`);
    const redirect = safeRedirect(q.redirect_url);
    const self = `/sandbox/h5?prepay_id=${encodeURIComponent(order.prepay_id)}${redirect ? `&redirect_url=${encodeURIComponent(redirect)}` : ''}`;
    return html(reply, 200, orderPage(ctx, order, self, q.msg, redirect));
  });

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const rows = ctx.state
      .recentOrders(100)
      .map((o) => {
        const href = o.code_url ? `/sandbox/scan?code_url=${encodeURIComponent(o.code_url)}` : `/sandbox/h5?prepay_id=${encodeURIComponent(o.prepay_id)}`;
        return `<tr><td><a href="${esc(href)}">${esc(o.out_trade_no)}</a></td><td>${esc(o.mchid)}</td><td>${esc(o.description)}</td><td>¥${esc(yuan(o.amount_total))}</td><td><span class="state ${esc(o.trade_state)}">${esc(o.trade_state)}</span></td><td>${esc(rfc3339(o.create_time))}</td></tr>`;
      })
      .join('');
    return html(
      reply,
      200,
      layout(
        '微信支付沙箱',
        `<div class="card"><h1>微信支付沙箱 · recent orders</h1>${rows ? `<table><tr><th>商户订单号</th><th>mchid</th><th>描述</th><th>金额</th><th>状态</th><th>创建时间</th></tr>${rows}</table>` : '<p>暂无订单 (no orders yet)</p>'}</div>`,
      ),
    );
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);

  app.get('/sandbox/qr.png', async (req, reply) => {
    const text = (req.query as Record<string, string | undefined>).text;
    if (!text || text.length > MAX_QR_TEXT) return reply.code(400).type('text/plain').send(`text is required (≤ ${MAX_QR_TEXT} characters)`);
    const png = await QRCode.toBuffer(text, { type: 'png', margin: 2, width: 240, errorCorrectionLevel: 'M' });
    return reply.type('image/png').header('Cache-Control', 'no-store').send(png);
  });
}
