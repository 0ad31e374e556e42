import type { FastifyReply } from 'fastify';
import QRCode from 'qrcode';

/**
 * Server-side HTML for sandbox payer pages, shared by simulators: escaping, one page layout with
 * a per-channel accent colour and footer, a strict CSP (no script, no external asset), and the
 * QR image route body. Every interpolated value goes through esc(): subjects come from merchants.
 */

export function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// form-action admits http(s): Chromium applies it to the redirect after a form post too, and some
// buttons send the payer back to the merchant (云闪付's userAuth → redirectUrl; found by
// test/e2e/cashier.browser.test.ts).
export const PAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'";

const style = (accent: string): string => `body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f4f4;color:#222}main{max-width:560px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;margin-bottom:12px}h1{font-size:18px;margin:0 0 12px}.amount{font-size:32px;font-weight:600;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}dt{color:#888}dd{margin:0;word-break:break-all}.actions{display:flex;gap:8px;flex-wrap:wrap}.actions form{margin:0}
button{font-size:16px;padding:10px 20px;border:0;border-radius:6px;cursor:pointer}.pay{background:${accent};color:#fff}.other{background:#ddd}
.msg{padding:10px;border-radius:6px;background:#fffbe6;margin-bottom:12px}table{width:100%;border-collapse:collapse;font-size:14px}td,th{text-align:left;padding:6px;border-bottom:1px solid #eee}
img.qr{display:block;margin:8px auto;width:220px;height:220px}.sandbox{color:#888;font-size:12px}`;

export function sandboxPage(o: { title: string; body: string; footer: string; accent: string }): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(o.title)}</title><style>${style(o.accent)}</style></head><body><main>${o.body}<p class="sandbox">${esc(o.footer)}</p></main></body></html>`;
}

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('Content-Security-Policy', PAGE_CSP).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** A one-button form posting to `action` (buttons never need script). */
export function postButton(action: string, label: string, cls = 'pay', hidden: Record<string, string> = {}): string {
  const inputs = Object.entries(hidden).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  return `<form method="post" action="${esc(action)}">${inputs}<button class="${esc(cls)}" type="submit">${esc(label)}</button></form>`;
}

/** PNG of `text` for an `<img>`; null when the text is missing or too long to be a payment code. */
export async function qrPng(text: string | undefined): Promise<Buffer | null> {
  if (!text || text.length > 1024) return null;
  return QRCode.toBuffer(text, { type: 'png', margin: 2, width: 220 });
}
