import type { FastifyInstance } from 'fastify';
import { esc, postButton, sandboxPage, sendPage } from '../../sandbox/html.ts';
import { approveOrder, cancelUrlOf, SimError, type SimContext } from './engine.ts';
import type { SimOrder } from './book.ts';

/**
 * The sandbox buyer's side: PayPal's approve page (`/checkoutnow?token=`) showing the order with
 * Approve / Cancel buttons (plain forms, no script), which send the buyer on to the merchant's
 * return_url (?token=&PayerID=) or cancel_url (?token=), and a list of recent orders.
 */

const ACCENT = '#0070ba';
const page = (title: string, body: string): string => sandboxPage({ title, body, footer: 'Polypay PayPal sandbox — no real money moves.', accent: ACCENT });

function card(o: SimOrder): string {
  return `<div class="card"><h1>${esc(o.unit.description ?? 'PayPal Checkout')}</h1><div class="amount">${esc(o.unit.amount.value)} ${esc(o.unit.amount.currency_code)}</div><dl>
<dt>status</dt><dd>${esc(o.status)}</dd><dt>order</dt><dd>${esc(o.id)}</dd><dt>invoice</dt><dd>${esc(o.unit.invoice_id ?? '')}</dd></dl></div>`;
}

export function registerPaypalPages(app: FastifyInstance, ctx: SimContext): void {
  app.get<{ Querystring: { token?: string; msg?: string } }>('/checkoutnow', async (req, reply) => {
    const o = req.query.token ? ctx.book.orders.get(req.query.token) : undefined;
    if (!o) return sendPage(reply, 404, page('PayPal', '<div class="card"><h1>This checkout link is not valid.</h1></div>'));
    const base = `/checkoutnow/${encodeURIComponent(o.id)}`;
    const open = o.status === 'PAYER_ACTION_REQUIRED' || o.status === 'CREATED';
    const actions = open ? `<div class="actions">${postButton(`${base}/approve`, 'Pay Now (approve as sandbox buyer)')}${postButton(`${base}/cancel`, 'Cancel and return to merchant', 'other')}</div>` : `<p>This order is ${esc(o.status)}.</p>`;
    const msg = req.query.msg ? `<div class="msg">${esc(req.query.msg)}</div>` : '';
    return sendPage(reply, 200, page('PayPal Checkout', `${msg}${card(o)}<div class="card">${actions}</div>`));
  });

  app.post<{ Params: { id: string; action: string } }>('/checkoutnow/:id/:action', async (req, reply) => {
    const o = ctx.book.orders.get(req.params.id);
    if (!o) return sendPage(reply, 404, page('PayPal', '<div class="card"><h1>This checkout link is not valid.</h1></div>'));
    if (req.params.action === 'cancel') return reply.code(303).header('Location', cancelUrlOf(o)).send();
    if (req.params.action !== 'approve') return reply.code(404).send();
    try {
      return reply.code(303).header('Location', approveOrder(ctx, o)).send();
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      return reply.code(303).header('Location', `/checkoutnow?token=${encodeURIComponent(o.id)}&msg=${encodeURIComponent(err.description ?? err.message)}`).send();
    }
  });

  const index = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const rows = [...ctx.book.orders.values()]
      .slice(-100)
      .reverse()
      .map((o) => `<tr><td><a href="/checkoutnow?token=${esc(encodeURIComponent(o.id))}">${esc(o.id)}</a></td><td>${esc(o.unit.invoice_id ?? '')}</td><td>${esc(o.unit.amount.value)} ${esc(o.unit.amount.currency_code)}</td><td>${esc(o.status)}</td></tr>`)
      .join('');
    const table = rows ? `<table><tr><th>order</th><th>invoice</th><th>amount</th><th>status</th></tr>${rows}</table>` : '<p>No orders yet.</p>';
    return sendPage(reply, 200, page('PayPal sandbox', `<div class="card"><h1>PayPal sandbox · recent orders</h1>${table}</div>`));
  };
  app.get('/sandbox', index);
  app.get('/sandbox/', index);
}
