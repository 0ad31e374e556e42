import { escapeHtml as esc } from '../http/html.ts';
import { PayState } from '../domain/order-states.ts';
import { type Currency, toMajorString } from '../domain/money.ts';
import type { CashierOrder, CashierRefusal } from './service.ts';
import type { PayerApp } from './payer-apps.ts';

/**
 * The cashier's phone-sized pages: server-rendered HTML, one small same-origin script
 * (./client.js) and no framework. Every value that came from a merchant, a payer or a channel is
 * escaped (subjects are merchant input: jeepay.md §9 had reflected XSS here), and the CSP admits
 * scripts from this origin only, so even a missed escape could not run injected code.
 */

export const CASHIER_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f5f7;color:#1f1f1f}
main{max-width:420px;margin:0 auto;padding:16px}.card{background:#fff;border-radius:10px;padding:20px;margin-bottom:12px;text-align:center}
.merchant{color:#666;font-size:15px}.amount{font-size:36px;font-weight:600;margin:8px 0}.subject{color:#888;font-size:13px;word-break:break-all}
.btn{display:block;box-sizing:border-box;width:100%;padding:12px;border:0;border-radius:8px;font-size:17px;text-decoration:none;margin-top:10px;cursor:pointer}
.wechat{background:#07c160;color:#fff}.alipay{background:#1677ff;color:#fff}.unionpay{background:#e60012;color:#fff}.plain{background:#eee;color:#333}
.ok{color:#07c160}.bad{color:#d4380d}.muted{color:#999;font-size:12px}.hidden{display:none}img.qr{width:200px;height:200px}ul{list-style:none;padding:0}li{margin:6px 0}`;

export function layout(title: string, body: string, data: Record<string, string> = {}): string {
  const attrs = Object.entries(data).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1,maximum-scale=1"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main id="cashier"${attrs}>${body}</main><script src="/cashier/assets/client.js" defer></script></body></html>`;
}

function header(c: CashierOrder): string {
  return `<div class="card"><div class="merchant" data-testid="merchant">${esc(c.merchantName)}</div><div class="amount" data-testid="amount">¥${esc(toMajorString({ minor: c.order.amount, currency: c.order.currency as Currency }))}</div><div class="subject">${esc(c.order.subject)}</div></div>`;
}

/** Opened in a known app: say where the payer is going, and go (the script follows the link at once). */
export function continuePage(c: CashierOrder, app: PayerApp, next: string): string {
  const body = `${header(c)}<div class="card"><a class="btn ${app.id}" id="next" href="${esc(next)}">${esc(app.name[0])}支付 · Pay with ${esc(app.name[1])}</a></div>`;
  return layout(`${app.name[0]}支付`, body, { mode: 'continue', next });
}

/** Any other browser: which apps can pay, the code to scan, and (sandbox) buttons to emulate an app. */
export function choosePage(c: CashierOrder, apps: readonly PayerApp[], qrImage: string, emulate: boolean): string {
  const names = apps.map((a) => `<li>${esc(a.name[0])} · ${esc(a.name[1])}</li>`).join('') || '<li>—</li>';
  const emulation = emulate
    ? `<div class="card"><p class="muted">沙箱：在电脑上模拟用 App 打开 · Sandbox: open as if in an app</p>${apps.map((a) => `<a class="btn ${a.id}" data-testid="emulate-${a.id}" href="?as=${a.id}">模拟${esc(a.name[0])} · Emulate ${esc(a.name[1])}</a>`).join('')}</div>`
    : '';
  const body = `${header(c)}<div class="card"><p>请使用以下 App 扫码支付<br><span class="muted">Scan this code with one of these apps</span></p><img class="qr" alt="QR" src="${esc(qrImage)}"><ul>${names}</ul></div>${emulation}`;
  return layout('扫码支付', body);
}

/** WeChat: the JSAPI parameters for WeixinJSBridge (in a data attribute: escaped, never inside a script). */
export function wechatPayPage(c: CashierOrder, payParams: string, resultUrl: string, clientToken: string, sandboxPayerUrl: string | null): string {
  const sandbox = sandboxPayerUrl ? `<a class="btn plain hidden" id="sandbox" data-testid="sandbox-payer" href="${esc(sandboxPayerUrl)}">在微信支付沙箱中付款 · Pay in the WeChat sandbox</a>` : '';
  const body = `${header(c)}<div class="card"><button class="btn wechat" id="pay" type="button">微信支付 · Pay</button>
<p class="bad hidden" id="nobridge">请在微信中打开此页面 · Open this page in WeChat</p>${sandbox}<p class="muted hidden" id="cancelled">已取消，可再次支付 · Cancelled; you may pay again</p></div>`;
  return layout('微信支付', body, { mode: 'wechat', pay: payParams, result: resultUrl, order: c.order.pay_order_id, client: clientToken });
}

const RESULT_TEXT: Record<number, [string, string, string]> = {
  [PayState.INIT]: ['等待支付', 'Waiting for payment', ''],
  [PayState.PAYING]: ['等待支付结果…', 'Waiting for the payment…', ''],
  [PayState.SUCCESS]: ['支付成功', 'Paid', 'ok'],
  [PayState.REFUNDED]: ['支付成功（已退款）', 'Paid (refunded)', 'ok'],
  [PayState.FAIL]: ['支付失败', 'Payment failed', 'bad'],
  [PayState.REVOKED]: ['已撤销', 'Revoked', 'bad'],
  [PayState.CLOSED]: ['订单已关闭', 'Order closed', 'bad'],
};

export function resultPage(c: CashierOrder, events: string | null, merchantReturn: string | null): string {
  const [zh, en, cls] = RESULT_TEXT[c.order.state] ?? ['', '', ''];
  const back = merchantReturn ? `<a class="btn plain" href="${esc(merchantReturn)}">返回商户 · Back to the merchant</a>` : '';
  const body = `${header(c)}<div class="card"><h2 class="${cls}" data-testid="result" data-state="${c.order.state}">${esc(zh)}<br><small>${esc(en)}</small></h2><p class="muted">${esc(c.order.pay_order_id)}</p>${back}</div>`;
  return layout(zh, body, events ? { mode: 'result', events } : {});
}

const REFUSAL_TEXT: Record<CashierRefusal['reason'], [string, string]> = {
  invalid: ['链接无效', 'This payment link is not valid'],
  expired: ['订单已过期', 'This order has expired'],
  'not-cashier': ['此订单不能在收银台支付', 'This order cannot be paid here'],
  'no-way': ['商户未开通此支付方式', 'The merchant does not accept this app'],
  'other-app': ['此订单已在其他 App 中发起支付，请在原 App 中完成', 'Payment was started in another app; finish it there'],
  'other-payer': ['此订单已由其他付款人发起支付', 'Another payer has started paying this order'],
  retry: ['暂时无法确认，请稍后重试', 'Could not confirm; please try again shortly'],
  channel: ['支付渠道拒绝了请求', 'The payment channel refused'],
  closed: ['订单已结束', 'This order is finished'],
};

export function refusalPage(r: CashierRefusal, c: CashierOrder | null): string {
  const [zh, en] = REFUSAL_TEXT[r.reason];
  const detail = r.reason === 'channel' || r.reason === 'other-app' ? `<p class="muted">${esc(r.message)}</p>` : '';
  return layout(zh, `${c ? header(c) : ''}<div class="card"><h2 class="bad" data-testid="refusal" data-reason="${esc(r.reason)}">${esc(zh)}<br><small>${esc(en)}</small></h2>${detail}</div>`);
}
