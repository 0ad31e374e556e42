import type { FastifyInstance, FastifyReply } from 'fastify';
import { esc, postButton, qrPng, sandboxPage, sendPage } from '../../sandbox/html.ts';
import { yuan } from '../mapping.ts';
import { AcpError, type SimContext } from './context.ts';
import { expireIfDue, payConsume, scanConsume } from './consumes.ts';
import { authorize } from './payer.ts';
import type { ConsumeRecord } from './types.ts';

/**
 * The payer's side as web pages: what opening a UnionPay QR code shows in 云闪付 (also the
 * YSF_JSAPI redirect target), the app control a tn opens, the 云闪付 user-authorisation page,
 * and an index of recent orders. Plain forms post to the buttons' routes, which redirect back.
 */

const page = (title: string, body: string): string => sandboxPage({ title, body, footer: 'Polypay 云闪付 / 银联沙箱 · UnionPay sandbox — no real money moves.', accent: '#e60012' });
const notFoundPage = (reply: FastifyReply, what: string): FastifyReply => sendPage(reply, 404, page('订单不存在', `<div class="card"><h1>${esc(what)}</h1></div>`));

function card(c: ConsumeRecord): string {
  return `<div class="card"><h1>${esc(c.orderDesc ?? '云闪付订单')}</h1><div class="amount">¥${esc(yuan(c.txnAmt))}</div><dl>
<dt>状态</dt><dd>${esc(c.status)}</dd><dt>商户号</dt><dd>${esc(c.merId)}</dd><dt>订单号</dt><dd>${esc(c.orderId)}</dd>
${c.queryId ? `<dt>查询流水号</dt><dd>${esc(c.queryId)}</dd>` : ''}${c.userId ? `<dt>云闪付用户</dt><dd>${esc(c.userId)}</dd>` : ''}</dl></div>`;
}

const msgBox = (msg: string | undefined): string => (msg ? `<div class="msg">${esc(msg)}</div>` : '');

function act(ctx: SimContext, c: ConsumeRecord, action: string): string {
  try {
    if (action === 'pay') payConsume(ctx, c);
    else if (action === 'scan') scanConsume(ctx, c);
    else return 'unknown action';
    return c.status;
  } catch (err) {
    if (!(err instanceof AcpError)) throw err;
    return `${err.respCode}: ${err.respMsg}`;
  }
}

export function registerPages(app: FastifyInstance, ctx: SimContext): void {
  app.get<{ Params: { token: string }; Querystring: { msg?: string } }>('/qr/00010000/:token', async (req, reply) => {
    const c = ctx.state.consumeByQrToken(req.params.token);
    if (!c) return notFoundPage(reply, '二维码无效 (unknown code)');
    expireIfDue(ctx, c);
    const base = `/sandbox/v1/qr/${encodeURIComponent(req.params.token)}`;
    const open = c.status === 'WAITING' || c.status === 'PAYING';
    const buttons = open ? `<div class="actions">${postButton(`${base}/pay`, '付款 Pay')}${c.kind === 'qr' && c.status === 'WAITING' ? postButton(`${base}/scan`, '仅扫码 Scan only', 'other') : ''}</div>` : '<p>该订单当前不可支付 (not payable)</p>';
    const img = c.kind === 'qr' ? `<img class="qr" alt="QR code" src="/sandbox/qr.png?text=${esc(encodeURIComponent(c.qrCode ?? ''))}">` : '';
    return sendPage(reply, 200, page('云闪付 - 付款', `${msgBox(req.query.msg)}${card(c)}<div class="card">${img}${buttons}</div>`));
  });
  app.post<{ Params: { token: string; action: string } }>('/sandbox/v1/qr/:token/:action', async (req, reply) => {
    const c = ctx.state.consumeByQrToken(req.params.token);
    if (!c) return notFoundPage(reply, '二维码无效');
    const msg = act(ctx, c, req.params.action);
    return reply.code(303).header('Location', `/qr/00010000/${encodeURIComponent(req.params.token)}?msg=${encodeURIComponent(msg)}`).send();
  });

  app.get<{ Params: { tn: string }; Querystring: { msg?: string } }>('/sandbox/app/:tn', async (req, reply) => {
    const c = ctx.state.consumeByTn(req.params.tn);
    if (!c) return notFoundPage(reply, 'tn 无效 (unknown tn)');
    expireIfDue(ctx, c);
    const buttons = c.status === 'WAITING' || c.status === 'PAYING' ? `<div class="actions">${postButton(`/sandbox/v1/app/${encodeURIComponent(c.tn as string)}/pay`, '确认付款 Pay')}</div>` : '<p>该订单当前不可支付 (not payable)</p>';
    return sendPage(reply, 200, page('银联支付控件 (tn)', `${msgBox(req.query.msg)}${card(c)}<div class="card"><dl><dt>tn</dt><dd>${esc(c.tn)}</dd></dl>${buttons}</div>`));
  });
  app.post<{ Params: { tn: string; action: string } }>('/sandbox/v1/app/:tn/:action', async (req, reply) => {
    const c = ctx.state.consumeByTn(req.params.tn);
    if (!c) return notFoundPage(reply, 'tn 无效');
    const msg = act(ctx, c, req.params.action);
    return reply.code(303).header('Location', `/sandbox/app/${encodeURIComponent(req.params.tn)}?msg=${encodeURIComponent(msg)}`).send();
  });

  // 云闪付 user authorisation (production: https://qr.95516.com/qrcGtwWeb-web/api/userAuth?version=1.0.0&redirectUrl=…).
  app.get<{ Querystring: { version?: string; redirectUrl?: string } }>('/qrcGtwWeb-web/api/userAuth', async (req, reply) => {
    const target = req.query.redirectUrl ?? '';
    const body = `<div class="card"><h1>云闪付 授权 (authorise)</h1><p>商户请求获取您的云闪付用户标识。The merchant asks for your 云闪付 user id.</p><dl><dt>redirectUrl</dt><dd>${esc(target)}</dd></dl></div>
<div class="card actions">${postButton('/qrcGtwWeb-web/api/userAuth/allow', '同意 Allow', 'pay', { redirectUrl: target })}</div>`;
    return sendPage(reply, 200, page('云闪付 - 授权', body));
  });
  app.post('/qrcGtwWeb-web/api/userAuth/allow', async (req, reply) => {
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    try {
      return reply.code(302).header('Location', authorize(ctx, form.get('redirectUrl') ?? '', form.get('user') ?? undefined).location).send();
    } catch (err) {
      if (!(err instanceof AcpError)) throw err;
      return sendPage(reply, 400, page('云闪付 - 授权失败', `<div class="card"><h1>${esc(err.respMsg)}</h1></div>`));
    }
  });

  app.get<{ Querystring: { text?: string } }>('/sandbox/qr.png', async (req, reply) => {
    const png = await qrPng(req.query.text);
    if (!png) return reply.code(400).type('text/plain').send('text is required (≤ 1024 characters)');
    return reply.type('image/png').header('Cache-Control', 'no-store').send(png);
  });

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const rows = ctx.state
      .recentConsumes(100)
      .map((c) => {
        const href = c.qrToken ? `/qr/00010000/${encodeURIComponent(c.qrToken)}` : c.tn ? `/sandbox/app/${encodeURIComponent(c.tn)}` : '';
        const id = href ? `<a href="${esc(href)}">${esc(c.orderId)}</a>` : esc(c.orderId);
        return `<tr><td>${id}</td><td>${esc(c.kind)}</td><td>${esc(c.merId)}</td><td>¥${esc(yuan(c.txnAmt))}</td><td>${esc(c.status)}</td><td>${esc(c.txnTime)}</td></tr>`;
      })
      .join('');
    const table = rows ? `<table><tr><th>订单号</th><th>方式</th><th>商户号</th><th>金额</th><th>状态</th><th>交易时间</th></tr>${rows}</table>` : '<p>暂无订单 (no orders yet)</p>';
    return sendPage(reply, 200, page('云闪付 / 银联沙箱', `<div class="card"><h1>云闪付 / 银联沙箱 · recent orders</h1>${table}</div>`));
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);
}
