import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { cancelTrade, expireIfDue, failTrade, payTrade, payUrl, type AcquirerContext } from './engine.ts';
import { SimRefusal, type TradeRecord, type Wallet } from './types.ts';

/**
 * The payer's side as web pages: every code or cashier link of an acquirer sandbox leads to
 * `/sandbox/pay/{token}`, which shows the order, its QR code and one button per wallet that may
 * pay it (一码多扫), plus Cancel and Fail. Plain HTML forms post to the buttons' routes, which
 * redirect (to the merchant's return URL after a payment, or back here), so no script runs.
 * Every interpolated value goes through esc(): subjects come from merchants.
 */

export function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const STYLE = `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f5f5;color:#222}main{max-width:560px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:12px}h1{font-size:18px;margin:0 0 12px}.amount{font-size:32px;font-weight:600;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dt{color:#888}dd{margin:0;word-break:break-all}.actions{display:flex;gap:8px;flex-wrap:wrap}.actions form{margin:0}
button{font-size:16px;padding:10px 20px;border:0;border-radius:6px;cursor:pointer;background:#1677ff;color:#fff}button.other{background:#ddd;color:#222}
.msg{padding:10px;border-radius:6px;background:#fffbe6;margin-bottom:12px}table{width:100%;border-collapse:collapse;font-size:14px}td,th{text-align:left;padding:6px;border-bottom:1px solid #eee}
img.qr{display:block;margin:8px auto;width:220px;height:220px}.sandbox{color:#888;font-size:12px}`;

const WALLET_NAMES: Record<Wallet, string> = { WECHAT: '微信 WeChat', ALIPAY: '支付宝 Alipay', UNIONPAY: '云闪付 UnionPay', JD: '京东 JD', ABC: '农行掌银 ABC' };

function layout(title: string, sandbox: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}<p class="sandbox">Polypay ${esc(sandbox)} sandbox — no real money moves.</p></main></body></html>`;
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Content-Security-Policy', CSP).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
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

function orderCard(t: TradeRecord): string {
  return `<div class="card"><h1>${esc(t.subject)}</h1><div class="amount">¥${esc((t.amount / 100).toFixed(2))}</div><dl>
<dt>状态 status</dt><dd>${esc(t.status)}</dd><dt>商户号</dt><dd>${esc(t.merchantId)}</dd><dt>商户订单号</dt><dd>${esc(t.outTradeNo)}</dd>
<dt>交易号</dt><dd>${esc(t.tradeNo)}</dd><dt>产品</dt><dd>${esc(t.product)}</dd>${t.paidWith ? `<dt>付款方式</dt><dd>${esc(WALLET_NAMES[t.paidWith])}</dd>` : ''}</dl></div>`;
}

const button = (action: string, label: string, cls = ''): string => `<form method="post" action="${esc(action)}"><button${cls ? ` class="${cls}"` : ''} type="submit">${esc(label)}</button></form>`;

export function registerAcquirerPages(app: FastifyInstance, ctx: AcquirerContext, title: string): void {
  app.get<{ Params: { token: string }; Querystring: { msg?: string } }>('/sandbox/pay/:token', async (req, reply) => {
    const t = ctx.book.tradeByToken(req.params.token);
    if (!t) return html(reply, 404, layout('二维码无效', title, '<div class="card"><h1>二维码无效 (unknown code)</h1></div>'));
    expireIfDue(ctx, t);
    const base = `/sandbox/v1/page/${encodeURIComponent(t.token)}`;
    const open = t.status === 'CREATED' || t.status === 'PAYING';
    const pays = t.wallets.map((w) => button(`${base}/pay/${w}`, `${WALLET_NAMES[w]} 付款 Pay`)).join('');
    const actions = open ? `<div class="actions">${pays}${button(`${base}/cancel/-`, '取消 Cancel', 'other')}${button(`${base}/fail/-`, '失败 Fail', 'other')}</div>` : '<p>该订单当前不可支付 (not payable)</p>';
    const img = `<img class="qr" alt="QR code" src="/sandbox/qr.png?text=${esc(encodeURIComponent(payUrl(ctx, t)))}">`;
    return html(reply, 200, layout(`${title} - 收银台`, title, `${req.query.msg ? `<div class="msg">${esc(req.query.msg)}</div>` : ''}${orderCard(t)}<div class="card">${img}${actions}</div>`));
  });

  app.post<{ Params: { token: string; action: string; wallet: string } }>('/sandbox/v1/page/:token/:action/:wallet', async (req, reply) => {
    const t = ctx.book.tradeByToken(req.params.token);
    if (!t) return html(reply, 404, layout('二维码无效', title, '<div class="card"><h1>二维码无效</h1></div>'));
    const self = `/sandbox/pay/${encodeURIComponent(t.token)}`;
    let msg: string;
    try {
      const { action, wallet } = req.params;
      if (action === 'pay') payTrade(ctx, t, { wallet: wallet as Wallet });
      else if (action === 'cancel') cancelTrade(ctx, t);
      else if (action === 'fail') failTrade(ctx, t);
      else throw new SimRefusal('NOT_PAYABLE', 'use pay, cancel or fail');
      msg = t.status;
    } catch (err) {
      if (!(err instanceof SimRefusal)) throw err;
      msg = `${err.reason}: ${err.message}`;
    }
    const back = t.status === 'SUCCESS' ? httpUrl(t.returnUrl) : undefined;
    return reply.code(303).header('Location', back ? back.toString() : `${self}?msg=${encodeURIComponent(msg)}`).send();
  });

  app.get<{ Querystring: { text?: string } }>('/sandbox/qr.png', async (req, reply) => {
    const text = req.query.text;
    if (!text || text.length > 1024) return reply.code(400).type('text/plain').send('text is required (≤ 1024 characters)');
    return reply.type('image/png').header('Cache-Control', 'no-store').send(await QRCode.toBuffer(text, { type: 'png', margin: 2, width: 220 }));
  });

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const rows = ctx.book
      .recentTrades(100)
      .map((t) => `<tr><td><a href="/sandbox/pay/${esc(encodeURIComponent(t.token))}">${esc(t.outTradeNo)}</a></td><td>${esc(t.product)}</td><td>${esc(t.subject)}</td><td>¥${esc((t.amount / 100).toFixed(2))}</td><td>${esc(t.status)}</td></tr>`)
      .join('');
    const table = rows ? `<table><tr><th>商户订单号</th><th>产品</th><th>商品</th><th>金额</th><th>状态</th></tr>${rows}</table>` : '<p>暂无交易 (no trades yet)</p>';
    return html(reply, 200, layout(title, title, `<div class="card"><h1>${esc(title)} · recent trades</h1>${table}</div>`));
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);
}
