import { money, toMajorString } from '../../../domain/money.ts';

/**
 * Tiny server-side HTML helpers for the sandbox payer pages. Every interpolated value goes
 * through esc(): order descriptions and attach come from merchants and may contain markup.
 */

export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Fen → "12.34" by integer arithmetic (domain/money.ts), never a float division. */
export function yuan(fen: number): string {
  return toMajorString(money(fen, 'CNY'));
}

/** No external assets: styles inline, images only from this origin, forms only to this origin. */
export const PAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f2f2f2;color:#222}
main{max-width:560px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:12px}
h1{font-size:18px;margin:0 0 12px}.amount{font-size:32px;font-weight:600;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dt{color:#888}dd{margin:0;word-break:break-all}
.state{display:inline-block;padding:2px 8px;border-radius:4px;background:#eee}.SUCCESS,.REFUND{background:#d6f5dd}.CLOSED,.PAYERROR{background:#fde2e2}
.actions{display:flex;gap:8px;flex-wrap:wrap}.actions form{margin:0}
button{font-size:16px;padding:10px 20px;border:0;border-radius:6px;cursor:pointer}
.pay{background:#07c160;color:#fff}.cancel{background:#ddd}.fail{background:#fa5151;color:#fff}
.msg{padding:10px;border-radius:6px;background:#fffbe6;margin-bottom:12px}
table{width:100%;border-collapse:collapse;font-size:14px}td,th{text-align:left;padding:6px;border-bottom:1px solid #eee}
img.qr{display:block;margin:8px auto;width:240px;height:240px}.sandbox{color:#888;font-size:12px}`;

export function layout(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${bodyHtml}<p class="sandbox">Polypay 微信支付沙箱 · WeChat Pay sandbox — no real money moves.</p></main></body></html>`;
}
