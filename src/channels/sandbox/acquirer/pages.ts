import type { FastifyInstance, FastifyReply } from 'fastify';
import { money, toMajorString } from '../../../domain/money.ts';
import { esc, postButton, qrPng, sandboxPage, sendPage } from '../html.ts';
import { cancelTrade, expireIfDue, failTrade, payTrade, payUrl, type AcquirerContext } from './engine.ts';
import { SimRefusal, type TradeRecord, type Wallet } from './types.ts';

/**
 * The payer's side as web pages: every code or cashier link of an acquirer sandbox leads to
 * `/sandbox/pay/{token}`, which shows the order, its QR code and one button per wallet that may
 * pay it (一码多扫), plus Cancel and Fail. Plain HTML forms post to the buttons' routes, which
 * redirect (to the merchant's return URL after a payment, or back here), so no script runs.
 * Every interpolated value goes through esc(): subjects come from merchants.
 */

const WALLET_NAMES: Record<Wallet, string> = { WECHAT: '微信 WeChat', ALIPAY: '支付宝 Alipay', UNIONPAY: '云闪付 UnionPay', JD: '京东 JD', ABC: '农行掌银 ABC', QQ: 'QQ钱包 QQ Wallet', ICBC: '工行 e支付/手机银行 ICBC' };
const ACCENT = '#1677ff';
const yuanText = (fen: number): string => toMajorString(money(fen, 'CNY'));

const page = (title: string, sandbox: string, body: string): string => sandboxPage({ title, body, footer: `Polypay ${sandbox} sandbox — no real money moves.`, accent: ACCENT });

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
  return `<div class="card"><h1>${esc(t.subject)}</h1><div class="amount">¥${esc(yuanText(t.amount))}</div><dl>
<dt>状态 status</dt><dd>${esc(t.status)}</dd><dt>商户号</dt><dd>${esc(t.merchantId)}</dd><dt>商户订单号</dt><dd>${esc(t.outTradeNo)}</dd>
<dt>交易号</dt><dd>${esc(t.tradeNo)}</dd><dt>产品</dt><dd>${esc(t.product)}</dd>${t.paidWith ? `<dt>付款方式</dt><dd>${esc(WALLET_NAMES[t.paidWith])}</dd>` : ''}</dl></div>`;
}

export function registerAcquirerPages(app: FastifyInstance, ctx: AcquirerContext, title: string): void {
  app.get<{ Params: { token: string }; Querystring: { msg?: string } }>('/sandbox/pay/:token', async (req, reply) => {
    const t = ctx.book.tradeByToken(req.params.token);
    if (!t) return sendPage(reply, 404, page('二维码无效', title, '<div class="card"><h1>二维码无效 (unknown code)</h1></div>'));
    expireIfDue(ctx, t);
    const base = `/sandbox/v1/page/${encodeURIComponent(t.token)}`;
    const open = t.status === 'CREATED' || t.status === 'PAYING';
    const pays = t.wallets.map((w) => postButton(`${base}/pay/${w}`, `${WALLET_NAMES[w]} 付款 Pay`)).join('');
    const actions = open ? `<div class="actions">${pays}${postButton(`${base}/cancel/-`, '取消 Cancel', 'other')}${postButton(`${base}/fail/-`, '失败 Fail', 'other')}</div>` : '<p>该订单当前不可支付 (not payable)</p>';
    const img = `<img class="qr" alt="QR code" src="/sandbox/qr.png?text=${esc(encodeURIComponent(payUrl(ctx, t)))}">`;
    return sendPage(reply, 200, page(`${title} - 收银台`, title, `${req.query.msg ? `<div class="msg">${esc(req.query.msg)}</div>` : ''}${orderCard(t)}<div class="card">${img}${actions}</div>`));
  });

  app.post<{ Params: { token: string; action: string; wallet: string } }>('/sandbox/v1/page/:token/:action/:wallet', async (req, reply) => {
    const t = ctx.book.tradeByToken(req.params.token);
    if (!t) return sendPage(reply, 404, page('二维码无效', title, '<div class="card"><h1>二维码无效</h1></div>'));
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
    const png = await qrPng(req.query.text);
    if (!png) return reply.code(400).type('text/plain').send('text is required (≤ 1024 characters)');
    return reply.type('image/png').header('Cache-Control', 'no-store').send(png);
  });

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const rows = ctx.book
      .recentTrades(100)
      .map((t) => `<tr><td><a href="/sandbox/pay/${esc(encodeURIComponent(t.token))}">${esc(t.outTradeNo)}</a></td><td>${esc(t.product)}</td><td>${esc(t.subject)}</td><td>¥${esc(yuanText(t.amount))}</td><td>${esc(t.status)}</td></tr>`)
      .join('');
    const table = rows ? `<table><tr><th>商户订单号</th><th>产品</th><th>商品</th><th>金额</th><th>状态</th></tr>${rows}</table>` : '<p>暂无交易 (no trades yet)</p>';
    return sendPage(reply, 200, page(title, title, `<div class="card"><h1>${esc(title)} · recent trades</h1>${table}</div>`));
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);
}
