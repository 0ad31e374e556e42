import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.ts';
import { PayState } from '../domain/order-states.ts';
import type { Gateway } from '../gateway.ts';
import { signedReturnUrl } from '../http/return-routes.ts';
import { sandboxPayerLink } from '../console/sandbox-links.ts';
import { qrToken } from '../services/pay-orders.ts';
import { CASHIER_CSP, choosePage, continuePage, refusalPage, resultPage, wechatPayPage } from './pages.ts';
import { type PayerApp, payerAppById, payerAppFromUserAgent } from './payer-apps.ts';
import { type CashierOrder, CashierRefusal } from './service.ts';
import { unionpayAuthUrl, unionpayUserId } from './unionpay.ts';

const CLIENT_JS = readFileSync(new URL('./client.js', import.meta.url), 'utf8');
type Req = FastifyRequest<{ Params: { token: string }; Querystring: Record<string, string | undefined> }>;

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', CASHIER_CSP).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').send(body);
}

const OPEN: ReadonlySet<number> = new Set([PayState.INIT, PayState.PAYING]);

/**
 * The aggregated cashier's pages (docs/api.md "QR_CASHIER"). Each route starts from the signed
 * token in its path; every redirect target is built here — an OAuth URL from the app's channel
 * configuration, a pay URL from the channel's answer, or one of these routes — never taken from
 * the request, so the cashier cannot be used as an open redirect.
 */
export function registerCashierRoutes(app: FastifyInstance, gw: Gateway): void {
  const base = `${gw.config.publicUrl}/cashier`;
  // Desktop emulation of a payer app (?as=wechat) exists only while the sandbox does.
  const emulate = gw.config.sandbox.enabled;

  const open = async (req: Req, reply: FastifyReply, run: (c: CashierOrder) => Promise<FastifyReply>): Promise<FastifyReply> => {
    let c: CashierOrder | null = null;
    try {
      c = await gw.cashier.open(req.params.token);
      if (!OPEN.has(c.order.state) && !req.url.includes('/result')) return reply.redirect(`${base}/${c.token}/result`, 303);
      return await run(c);
    } catch (err) {
      if (err instanceof CashierRefusal) return html(reply, err.status, refusalPage(err, c));
      if (err instanceof ApiError) return html(reply, 400, refusalPage(new CashierRefusal('channel', 400, err.message), c));
      throw err;
    }
  };

  app.get('/cashier/assets/client.js', { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(CLIENT_JS));

  app.get('/cashier/:token', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => {
      const available = await gw.cashier.availableApps(c.order);
      const detected: PayerApp | undefined = payerAppFromUserAgent(req.headers['user-agent']) ?? (emulate ? payerAppById(req.query.as) : undefined);
      if (detected) {
        const resolved = c.payment?.payerApp;
        if (resolved && resolved !== detected.id) throw new CashierRefusal('other-app', 409, resolved);
        if (!resolved && !available.some((a) => a.app.id === detected.id)) throw new CashierRefusal('no-way', 400, detected.id);
        return html(reply, 200, continuePage(c, detected, `${base}/${c.token}/${detected.id}${detected.identity ? '/start' : ''}`));
      }
      return html(reply, 200, choosePage(c, available.map((a) => a.app), `/api/scan/imgs/${qrToken(gw.qrKey, c.order.pay_order_id)}.png`, emulate));
    }),
  );

  // WeChat: silent snsapi_base OAuth for the payer's openid (of the app's 公众号 appid), then JSAPI.
  app.get('/cashier/:token/wechat/start', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => {
      const target = await gw.payerSessions.oauthStart(c.order.mch_no, c.order.app_id, `${base}/${c.token}/wechat`, `${gw.config.publicUrl}/api/wx/oauth/callback`, { trustedReturn: true });
      return reply.redirect(target, 302);
    }),
  );
  app.get('/cashier/:token/wechat', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => {
      if (!req.query.sessionToken) return reply.redirect(`${base}/${c.token}/wechat/start`, 302);
      const openid = gw.payerSessions.resolveOpenid(c.order.app_id, req.query.sessionToken, 'mp');
      const payment = await gw.cashier.begin(c, 'wechat', openid);
      const config = await gw.tenancy.getChannelConfig(c.order.app_id, payment.ifCode);
      const resultUrl = `${base}/${c.token}/result`;
      const sandboxPage = sandboxPayerLink(payment.ifCode, config, payment.payDataType ?? undefined, payment.payData ?? undefined);
      const sandbox = sandboxPage ? `${sandboxPage}&redirect_url=${encodeURIComponent(resultUrl)}` : null;
      return html(reply, 200, wechatPayPage(c, payment.payData ?? '{}', resultUrl, gw.confirmations.token(c.order.pay_order_id), sandbox));
    }),
  );

  // Alipay (ALI_WAP): the channel's pay URL. 云闪付 (YSF_JSAPI): user authorisation for the userId first.
  const payThere = async (reply: FastifyReply, c: CashierOrder, appId: 'alipay' | 'unionpay', payer: string | null) => {
    const payment = await gw.cashier.begin(c, appId, payer);
    const target = payUrlOf(payment.payDataType, payment.payData);
    if (!target) throw new CashierRefusal('channel', 502, `unexpected pay data ${payment.payDataType ?? ''}`);
    return reply.redirect(target, 302);
  };
  app.get('/cashier/:token/alipay', { schema: { hide: true } }, async (req: Req, reply) => open(req, reply, async (c) => payThere(reply, c, 'alipay', null)));
  app.get('/cashier/:token/unionpay/start', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => reply.redirect(await unionpayAuthUrl(gw, c.order, `${base}/${c.token}/unionpay`), 302)),
  );
  app.get('/cashier/:token/unionpay', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => {
      if (!req.query.userAuthCode && !req.query.respCode) return reply.redirect(`${base}/${c.token}/unionpay/start`, 302);
      return payThere(reply, c, 'unionpay', await unionpayUserId(gw, c.order, req.query, req.headers['user-agent']));
    }),
  );

  app.get('/cashier/:token/result', { schema: { hide: true } }, async (req: Req, reply) =>
    open(req, reply, async (c) => {
      const secret = c.order.return_url ? (await gw.tenancy.getApp(c.order.app_id))?.appSecret : undefined;
      const back = secret && !OPEN.has(c.order.state) ? signedReturnUrl(c.order, secret) : null;
      const events = OPEN.has(c.order.state) ? `/api/pay/client/events/${encodeURIComponent(c.order.pay_order_id)}?token=${encodeURIComponent(gw.confirmations.token(c.order.pay_order_id))}` : null;
      return html(reply, 200, resultPage(c, events, back));
    }),
  );
}

/** Where a payurl / ysfapp answer sends the browser: an http(s) URL from the channel, nothing else. */
function payUrlOf(type: string | null, data: string | null): string | null {
  let raw = data ?? '';
  if (type === 'ysfapp') {
    try {
      raw = String((JSON.parse(raw) as { redirectUrl?: unknown }).redirectUrl ?? '');
    } catch {
      return null;
    }
  } else if (type !== 'payurl') return null;
  try {
    const u = new URL(raw);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}
