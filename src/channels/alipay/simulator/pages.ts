import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { yuan } from '../mapping.ts';
import { NOTIFY_UNSIGNED, chinaTime, rsa2Sign, signContent } from '../sign.ts';
import { AlipayError, signerFor, type SimContext } from './context.ts';
import { payTrade, scanTrade } from './trades.ts';
import type { TradeRecord } from './types.ts';

/**
 * The buyer's side as web pages: the PC/WAP cashier that page.pay / wap.pay open, the page a
 * precreated qr_code leads to, and an index. Plain HTML forms post to the buttons' routes, which
 * redirect (to return_url with signed parameters, to quit_url, or back here), so no script runs.
 * Every interpolated value goes through esc(): subjects come from merchants.
 */

export function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * No external assets: inline styles and images from this origin only. Forms post here, but the
 * answer redirects to the merchant's return_url on another origin, and Chromium applies
 * form-action to that redirect too (found by test/e2e/cashier.browser.test.ts): http(s) allowed.
 */
const CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'";
const STYLE = `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f5f5;color:#222}main{max-width:560px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:12px}h1{font-size:18px;margin:0 0 12px}.amount{font-size:32px;font-weight:600;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dt{color:#888}dd{margin:0;word-break:break-all}.actions{display:flex;gap:8px;flex-wrap:wrap}.actions form{margin:0}
button{font-size:16px;padding:10px 20px;border:0;border-radius:6px;cursor:pointer}.pay{background:#1677ff;color:#fff}.cancel,.scan{background:#ddd}
.msg{padding:10px;border-radius:6px;background:#fffbe6;margin-bottom:12px}table{width:100%;border-collapse:collapse;font-size:14px}td,th{text-align:left;padding:6px;border-bottom:1px solid #eee}
img.qr{display:block;margin:8px auto;width:220px;height:220px}.sandbox{color:#888;font-size:12px}`;

export function layout(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}<p class="sandbox">Polypay 支付宝沙箱 · Alipay sandbox — no real money moves.</p></main></body></html>`;
}

export function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Content-Security-Policy', CSP).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

export function errorPage(reply: FastifyReply, e: AlipayError): FastifyReply {
  return html(reply, 400, layout('支付宝 - 错误', `<div class="card"><h1>支付遇到问题 (error)</h1><dl><dt>错误代码</dt><dd>${esc(e.subCode)}</dd><dt>错误原因</dt><dd>${esc(e.subMsg)}</dd></dl></div>`));
}

function httpUrl(value: string | undefined): URL | undefined {
  if (!value) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The signed parameters appended to return_url after a cashier payment (§C.5). */
export function returnParams(ctx: SimContext, t: TradeRecord): Record<string, string> {
  const app = ctx.state.apps.get(t.app_id);
  const signer = ctx.state.apps.get(t.isv_app_id ?? t.app_id);
  const p: Record<string, string> = {
    app_id: t.isv_app_id ?? t.app_id,
    auth_app_id: t.app_id,
    charset: 'utf-8',
    method: t.kind === 'page' ? 'alipay.trade.page.pay.return' : 'alipay.trade.wap.pay.return',
    out_trade_no: t.out_trade_no,
    seller_id: app?.pid ?? '',
    timestamp: chinaTime(ctx.now()),
    total_amount: yuan(t.total_amount),
    trade_no: t.trade_no ?? '',
    version: '1.0',
  };
  return { ...p, sign: rsa2Sign(signContent(p, NOTIFY_UNSIGNED), signerFor(ctx, signer).key), sign_type: 'RSA2' };
}

function orderCard(t: TradeRecord): string {
  return `<div class="card"><h1>${esc(t.subject)}</h1><div class="amount">¥${esc(yuan(t.total_amount))}</div><dl>
<dt>状态</dt><dd>${esc(t.status ?? 'NOT_EXIST')}</dd><dt>APPID</dt><dd>${esc(t.app_id)}</dd><dt>商户订单号</dt><dd>${esc(t.out_trade_no)}</dd>
${t.trade_no ? `<dt>支付宝交易号</dt><dd>${esc(t.trade_no)}</dd>` : ''}<dt>支付截止</dt><dd>${esc(chinaTime(t.time_expire))}</dd></dl></div>`;
}

const button = (action: string, cls: string, label: string): string => `<form method="post" action="${esc(action)}"><button class="${cls}" type="submit">${esc(label)}</button></form>`;

export function registerPages(app: FastifyInstance, ctx: SimContext): void {
  app.get<{ Params: { tradeNo: string }; Querystring: { msg?: string } }>('/sandbox/cashier/:tradeNo', async (req, reply) => {
    const t = ctx.state.tradeByNo(req.params.tradeNo);
    if (!t || (t.kind !== 'page' && t.kind !== 'wap')) return html(reply, 404, layout('交易不存在', '<div class="card"><h1>交易不存在 (not found)</h1></div>'));
    const base = `/sandbox/v1/cashier/${encodeURIComponent(t.trade_no as string)}`;
    const actions = t.status === 'WAIT_BUYER_PAY' ? `<div class="actions">${button(`${base}/pay`, 'pay', '确认付款 Pay')}${button(`${base}/cancel`, 'cancel', '取消 Cancel')}</div>` : '<p>该交易当前不可支付 (not payable)</p>';
    const title = t.kind === 'page' ? '支付宝 - 网上支付 收银台 (PC)' : '支付宝 - 手机网站支付 (WAP)';
    return html(reply, 200, layout(title, `${req.query.msg ? `<div class="msg">${esc(req.query.msg)}</div>` : ''}${orderCard(t)}<div class="card">${actions}</div>`));
  });

  app.post<{ Params: { tradeNo: string; action: string } }>('/sandbox/v1/cashier/:tradeNo/:action', async (req, reply) => {
    const t = ctx.state.tradeByNo(req.params.tradeNo);
    if (!t || (t.kind !== 'page' && t.kind !== 'wap')) return html(reply, 404, layout('交易不存在', '<div class="card"><h1>交易不存在</h1></div>'));
    const self = `/sandbox/cashier/${encodeURIComponent(t.trade_no as string)}`;
    if (req.params.action === 'cancel') {
      // Leaving the cashier does not close the trade: it stays payable until time_expire.
      const quit = httpUrl(t.quit_url);
      return quit ? reply.code(303).header('Location', quit.toString()).send() : reply.code(303).header('Location', `${self}?msg=${encodeURIComponent('已取消 (cancelled); the trade stays open until it expires')}`).send();
    }
    if (req.params.action !== 'pay') return html(reply, 404, layout('错误', '<div class="card"><h1>unknown action</h1></div>'));
    try {
      payTrade(ctx, t);
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      return reply.code(303).header('Location', `${self}?msg=${encodeURIComponent(`${err.subCode}: ${err.subMsg}`)}`).send();
    }
    const target = httpUrl(t.return_url);
    if (!target) return reply.code(303).header('Location', `${self}?msg=${encodeURIComponent('支付成功 (paid)')}`).send();
    for (const [k, v] of Object.entries(returnParams(ctx, t))) target.searchParams.set(k, v);
    return reply.code(303).header('Location', target.toString()).send();
  });

  app.get<{ Params: { token: string }; Querystring: { msg?: string } }>('/sandbox/qr/:token', async (req, reply) => {
    const t = ctx.state.tradeByQrToken(req.params.token);
    if (!t) return html(reply, 404, layout('二维码无效', '<div class="card"><h1>二维码无效 (unknown code)</h1></div>'));
    const base = `/sandbox/v1/qr/${encodeURIComponent(req.params.token)}`;
    const open = t.status === undefined || t.status === 'WAIT_BUYER_PAY';
    const actions = open ? `<div class="actions">${button(`${base}/pay`, 'pay', '扫码并付款 Scan & pay')}${t.status === undefined ? button(`${base}/scan`, 'scan', '仅扫码 Scan only') : ''}</div>` : '<p>该交易当前不可支付 (not payable)</p>';
    const img = `<img class="qr" alt="QR code" src="/sandbox/qr.png?text=${esc(encodeURIComponent(t.qr_code ?? ''))}">`;
    return html(reply, 200, layout('支付宝 - 扫码付款', `${req.query.msg ? `<div class="msg">${esc(req.query.msg)}</div>` : ''}${orderCard(t)}<div class="card">${img}${actions}</div>`));
  });

  app.post<{ Params: { token: string; action: string } }>('/sandbox/v1/qr/:token/:action', async (req, reply) => {
    const t = ctx.state.tradeByQrToken(req.params.token);
    const self = `/sandbox/qr/${encodeURIComponent(req.params.token)}`;
    if (!t) return html(reply, 404, layout('二维码无效', '<div class="card"><h1>二维码无效</h1></div>'));
    let msg: string;
    try {
      if (req.params.action === 'pay') payTrade(ctx, t);
      else if (req.params.action === 'scan') scanTrade(ctx, t);
      else throw new AlipayError('40004', 'sandbox.unknown-action', 'use pay or scan');
      msg = `${t.status}`;
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      msg = `${err.subCode}: ${err.subMsg}`;
    }
    return reply.code(303).header('Location', `${self}?msg=${encodeURIComponent(msg)}`).send();
  });

  app.get<{ Querystring: { text?: string } }>('/sandbox/qr.png', async (req, reply) => {
    const text = req.query.text;
    if (!text || text.length > 1024) return reply.code(400).type('text/plain').send('text is required (≤ 1024 characters)');
    return reply.type('image/png').header('Cache-Control', 'no-store').send(await QRCode.toBuffer(text, { type: 'png', margin: 2, width: 220 }));
  });

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const rows = ctx.state
      .recentTrades(100)
      .map((t) => {
        const href = t.qr_token ? `/sandbox/qr/${encodeURIComponent(t.qr_token)}` : t.trade_no && (t.kind === 'page' || t.kind === 'wap') ? `/sandbox/cashier/${encodeURIComponent(t.trade_no)}` : '';
        const no = href ? `<a href="${esc(href)}">${esc(t.out_trade_no)}</a>` : esc(t.out_trade_no);
        return `<tr><td>${no}</td><td>${esc(t.kind)}</td><td>${esc(t.subject)}</td><td>¥${esc(yuan(t.total_amount))}</td><td>${esc(t.status ?? 'NOT_EXIST')}</td><td>${esc(chinaTime(t.gmt_create))}</td></tr>`;
      })
      .join('');
    const table = rows ? `<table><tr><th>商户订单号</th><th>方式</th><th>商品</th><th>金额</th><th>状态</th><th>创建时间</th></tr>${rows}</table>` : '<p>暂无交易 (no trades yet)</p>';
    return html(reply, 200, layout('支付宝沙箱', `<div class="card"><h1>支付宝沙箱 · recent trades</h1>${table}</div>`));
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);
}
