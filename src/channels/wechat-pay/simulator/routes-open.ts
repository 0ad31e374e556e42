import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OpenPlatform } from './open-platform.ts';

type Query = Record<string, string | undefined>;

function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (!raw.trim()) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * WeChat login/authorisation endpoints (their real paths: api.weixin.qq.com/sns/…,
 * open.weixin.qq.com/connect/oauth2/authorize) plus a sandbox route standing in for `wx.login()`.
 * WeChat answers these with HTTP 200 and an errcode in the body, so do we.
 */
export function registerOpenPlatformRoutes(app: FastifyInstance, open: OpenPlatform): void {
  app.get('/sns/jscode2session', async (req) => open.jscode2session(req.query as Query));
  app.get('/sns/oauth2/access_token', async (req) => open.oauthAccessToken(req.query as Query));
  // Open-platform third party (第三方平台): its own token, then logins on behalf of authorised apps.
  app.post('/cgi-bin/component/api_component_token', async (req) => open.componentToken(jsonBody(req)));
  app.get('/sns/component/jscode2session', async (req) => open.componentJscode2session(req.query as Query));
  app.get('/sns/oauth2/component/access_token', async (req) => open.componentOauthAccessToken(req.query as Query));

  // snsapi_base is silent in WeChat: the browser is redirected straight back with a code.
  app.get('/connect/oauth2/authorize', async (req, reply) => {
    const q = req.query as Query;
    let target: URL;
    try {
      target = new URL(q.redirect_uri ?? '');
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return reply.code(400).type('text/plain; charset=utf-8').send('redirect_uri 参数错误');
    }
    if (q.response_type !== 'code' || (q.scope !== 'snsapi_base' && q.scope !== 'snsapi_userinfo')) return reply.code(400).type('text/plain; charset=utf-8').send('scope 参数错误或没有 scope 权限');
    const code = open.issueCode(q.appid ?? '', q.sandbox_user ?? 'sandbox-user', 'oauth');
    if (typeof code !== 'string') return reply.code(400).type('text/plain; charset=utf-8').send(code.errmsg);
    target.searchParams.set('code', code);
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    return reply.redirect(target.toString(), 302);
  });

  /** The sandbox's wx.login(): a mini-program (or a test) gets a fresh login code for a sandbox user. */
  app.post('/sandbox/v1/wx-login', async (req, reply) => {
    const b = jsonBody(req);
    const code = open.issueCode(String(b.appid ?? ''), String(b.user ?? 'sandbox-user'), 'login');
    if (typeof code !== 'string') return reply.code(400).send(code);
    return { code };
  });
  app.post('/sandbox/v1/component-apps', async (req, reply) => {
    const b = jsonBody(req);
    if (typeof b.component_appid !== 'string' || !b.component_appid) return reply.code(400).send({ code: 'PARAM_ERROR', message: 'component_appid is required' });
    const appids = Array.isArray(b.authorized_appids) ? b.authorized_appids.filter((a): a is string => typeof a === 'string') : [];
    return open.registerComponent({ componentAppid: b.component_appid, secret: typeof b.component_appsecret === 'string' ? b.component_appsecret : undefined, authorizedAppids: appids });
  });
  app.post('/sandbox/v1/open-apps', async (req, reply) => {
    const b = jsonBody(req);
    if (typeof b.appid !== 'string' || !b.appid) return reply.code(400).send({ code: 'PARAM_ERROR', message: 'appid is required' });
    return open.registerApp({ appid: b.appid, secret: typeof b.secret === 'string' ? b.secret : undefined });
  });
}
