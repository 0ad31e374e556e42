import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sandboxBody } from '../../sandbox/kit.ts';
import { registerApp } from './apps.ts';
import { AlipayError, type SimContext } from './context.ts';
import { errorPage, esc, html, layout } from './pages.ts';
import { adminGuard } from './routes-sandbox.ts';

/**
 * The merchant's side of 第三方应用授权: the page a service provider sends its merchant to
 * (`/oauth2/appToAppAuth.htm?app_id=<provider app>&redirect_uri=…&state=…`, as on
 * openauth.alipay.com), where the sandbox merchant picks the app it grants; Alipay then sends
 * the browser back to redirect_uri with `app_id`, `source=alipay_app_auth`, `app_auth_code` and
 * `state`. The same grant as JSON for tests and the CLI, and admin switches to expire or revoke.
 */

const refuse = (subCode: string, subMsg: string): AlipayError => new AlipayError('40002', subCode, subMsg);

function checkedRedirect(raw: string, registered: string | undefined): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw refuse('invalid-redirect-uri', 'redirect_uri 不是合法的 URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw refuse('invalid-redirect-uri', 'redirect_uri 必须以 http 或 https 开头');
  // Alipay only redirects to the callback address configured on the third-party app.
  if (registered !== undefined) {
    const r = new URL(registered);
    if (`${r.origin}${r.pathname}` !== `${u.origin}${u.pathname}`) throw refuse('invalid-redirect-uri', 'redirect_uri 与应用配置的授权回调地址不一致');
  }
  return u;
}

function providerApp(ctx: SimContext, isvAppId: string | undefined) {
  const isv = isvAppId ? ctx.state.apps.get(isvAppId) : undefined;
  if (!isv || !isv.isv) throw refuse('invalid-app-id', 'app_id 不存在或不是第三方应用 (not a third-party app)');
  return isv;
}

/** The merchant says yes: a one-time app_auth_code and where the browser goes with it. */
export function grantAppAuth(ctx: SimContext, input: { isvAppId: string; merchantAppId: string; redirectUri: string; state?: string }): { appAuthCode: string; redirect: string } {
  const isv = providerApp(ctx, input.isvAppId);
  const back = checkedRedirect(input.redirectUri, isv.authRedirectUri);
  if (input.state !== undefined && input.state.length > 100) throw refuse('invalid-state', 'state 最长 100 个字符');
  const merchant = ctx.state.apps.get(input.merchantAppId);
  if (!merchant || merchant.isv) throw refuse('invalid-auth-app-id', '授权的商家应用不存在');
  const code = ctx.appAuth.issueCode(isv.appId, merchant.appId);
  back.searchParams.set('app_id', isv.appId);
  back.searchParams.set('source', 'alipay_app_auth');
  back.searchParams.set('app_auth_code', code);
  if (input.state) back.searchParams.set('state', input.state);
  ctx.log.info({ isvAppId: isv.appId, authAppId: merchant.appId }, 'app authorisation granted');
  return { appAuthCode: code, redirect: back.toString() };
}

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function registerAuthPages(app: FastifyInstance, ctx: SimContext, adminToken: string | undefined): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/oauth2/appToAppAuth.htm', async (req, reply) => {
    const q = req.query;
    try {
      const isv = providerApp(ctx, q.app_id);
      checkedRedirect(q.redirect_uri ?? '', isv.authRedirectUri);
      const merchants = [...ctx.state.apps.values()].filter((a) => !a.isv);
      const options = merchants.map((m) => `<option value="${esc(m.appId)}">${esc(m.appId)} (PID ${esc(m.pid)})</option>`).join('');
      const hidden = ['app_id', 'redirect_uri', 'state'].map((k) => (q[k] !== undefined ? `<input type="hidden" name="${k}" value="${esc(q[k])}">` : '')).join('');
      const form = `<form method="post" action="/oauth2/appToAppAuth.htm">${hidden}<p><label>授权的应用 (your app): <select name="merchant_app_id">${options}<option value="new">新建沙箱商家应用 (a new sandbox merchant app)</option></select></label></p><div class="actions"><button class="pay" type="submit">确认授权 Authorise</button></div></form>`;
      return html(reply, 200, layout('支付宝 - 第三方应用授权', `<div class="card"><h1>第三方应用授权 (app authorisation)</h1><p>第三方应用 <b>${esc(isv.appId)}</b> 申请代您调用支付接口 (asks to call the payment APIs for you).</p>${form}</div>`));
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      return errorPage(reply, err);
    }
  });

  app.post('/oauth2/appToAppAuth.htm', async (req, reply) => {
    const b = sandboxBody(req) ?? {};
    try {
      let merchantAppId = s(b.merchant_app_id);
      if (!merchantAppId || merchantAppId === 'new') merchantAppId = (await registerApp(ctx, {})).appId;
      const { redirect } = grantAppAuth(ctx, { isvAppId: s(b.app_id) ?? '', merchantAppId, redirectUri: s(b.redirect_uri) ?? '', ...(s(b.state) ? { state: s(b.state) } : {}) });
      return reply.code(303).header('Location', redirect).send();
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      return errorPage(reply, err);
    }
  });

  const json = (fn: (b: Record<string, unknown>) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    const b = sandboxBody(req);
    if (b === null) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'body must be a JSON object' });
    try {
      return reply.send(await fn(b));
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      return reply.code(400).send({ code: err.subCode, message: err.subMsg });
    }
  };
  const admin = adminGuard(adminToken);

  // The merchant's consent as a call (what the page's button does), for tests and the CLI.
  app.post('/sandbox/v1/app-auth/authorize', json(async (b) => {
    const merchantAppId = s(b.merchant_app_id) ?? (await registerApp(ctx, {})).appId;
    const g = grantAppAuth(ctx, { isvAppId: s(b.app_id) ?? '', merchantAppId, redirectUri: s(b.redirect_uri) ?? '', ...(s(b.state) ? { state: s(b.state) } : {}) });
    return { app_auth_code: g.appAuthCode, redirect: g.redirect, auth_app_id: merchantAppId };
  }));
  app.post('/sandbox/v1/app-auth/expire', { preHandler: admin }, json((b) => ({ expired: ctx.appAuth.expire(s(b.auth_app_id) ?? '') })));
  app.post('/sandbox/v1/app-auth/revoke', { preHandler: admin }, json((b) => ({ revoked: ctx.appAuth.revoke(s(b.auth_app_id) ?? '') })));
  app.get<{ Querystring: { isv_app_id?: string } }>('/sandbox/v1/app-auths', { preHandler: admin }, async (req, reply) => reply.send({ app_auths: ctx.appAuth.view(req.query.isv_app_id || undefined) }));
}
