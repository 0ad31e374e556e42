import type { FastifyInstance } from 'fastify';
import { chinaTime } from '../sign.ts';
import { sandboxBody } from '../../sandbox/kit.ts';
import { AlipayError, ErrorResponse, SANDBOX_BUYER_ID, alnum, buyerFields, invalid, type SimContext } from './context.ts';
import { errorPage } from './pages.ts';
import type { MethodCall } from './methods.ts';

/**
 * Who the buyer is (用户信息授权): the auth_code a 生活号 H5 page gets from the silent web
 * authorisation (`/oauth2/publicAppAuthorize.htm?app_id=…&scope=auth_base&redirect_uri=…`) or a
 * mini program from `my.getAuthCode`, exchanged by `alipay.system.oauth.token` for the buyer's
 * id — `open_id` for apps created after 2023, `user_id` (2088…) for older ones (jeepay.md §8
 * #123). Codes are single-use, live 5 minutes (sandbox choice) and belong to one app: anything
 * else is `isv.code-invalid`, answered as `error_response` like Alipay does.
 */

const CODE_TTL_MS = 5 * 60_000;
const KEPT = 10_000;
const SCOPES = new Set(['auth_base', 'auth_user']);

interface UserCode {
  appId: string;
  buyerId: string;
  expires: number;
  used: boolean;
}

export class UserAuthCodes {
  readonly #codes = new Map<string, UserCode>();
  readonly #refresh = new Map<string, { appId: string; buyerId: string }>();

  constructor(private readonly now: () => number) {}

  issue(appId: string, buyerId: string): string {
    if (this.#codes.size >= KEPT) for (const [c, v] of this.#codes) if (v.used || v.expires < this.now()) this.#codes.delete(c);
    const code = alnum(32);
    this.#codes.set(code, { appId, buyerId, expires: this.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** The buyer behind a code (grant_type authorization_code) or a refresh token (refresh_token). */
  redeem(appId: string, grant: string | undefined, value: string | undefined): { buyerId: string; refreshToken: string } {
    const bad = () => new ErrorResponse('40002', grant === 'refresh_token' ? 'isv.refresh-token-invalid' : 'isv.code-invalid', grant === 'refresh_token' ? '刷新令牌refresh_token无效' : '授权码code无效');
    let buyerId: string;
    if (grant === 'authorization_code') {
      const c = value ? this.#codes.get(value) : undefined;
      if (!c || c.used || c.expires < this.now() || c.appId !== appId) throw bad();
      c.used = true;
      buyerId = c.buyerId;
    } else if (grant === 'refresh_token') {
      const r = value ? this.#refresh.get(value) : undefined;
      if (!r || r.appId !== appId) throw bad();
      this.#refresh.delete(value as string);
      buyerId = r.buyerId;
    } else {
      throw invalid('isv.invalid-parameter', 'grant_type 只能为 authorization_code 或 refresh_token');
    }
    const refreshToken = `authusrB${alnum(32)}`;
    if (this.#refresh.size >= KEPT) this.#refresh.delete(this.#refresh.keys().next().value as string);
    this.#refresh.set(refreshToken, { appId, buyerId });
    return { buyerId, refreshToken };
  }
}

/** alipay.system.oauth.token (grant_type and code are common parameters, not biz_content). */
export function oauthToken(ctx: SimContext, { app, params }: MethodCall): Record<string, unknown> {
  const grant = params.grant_type;
  const { buyerId, refreshToken } = ctx.userAuth.redeem(app.appId, grant, grant === 'refresh_token' ? params.refresh_token : params.code);
  const who = buyerFields(app, buyerId, undefined);
  return {
    ...(who.buyer_open_id ? { open_id: who.buyer_open_id } : { user_id: who.buyer_id }),
    access_token: `authusrB${alnum(32)}`,
    expires_in: 1296000,
    refresh_token: refreshToken,
    re_expires_in: 2592000,
    auth_start: chinaTime(ctx.now()),
  };
}

function redirectTarget(raw: string | undefined): URL {
  try {
    const u = new URL(raw ?? '');
    if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  } catch {
    /* fall through */
  }
  throw invalid('invalid-redirect-uri', 'redirect_uri 必须是 http(s) URL');
}

export function registerUserAuthPages(app: FastifyInstance, ctx: SimContext): void {
  // Silent web authorisation: the sandbox buyer (or ?sandbox_buyer_id=2088…) is sent straight back with a code.
  app.get<{ Querystring: Record<string, string | undefined> }>('/oauth2/publicAppAuthorize.htm', async (req, reply) => {
    const q = req.query;
    try {
      const a = q.app_id ? ctx.state.apps.get(q.app_id) : undefined;
      if (!a) throw invalid('invalid-app-id', 'app_id 无效');
      const scopes = (q.scope ?? '').split(',');
      if (scopes.length === 0 || !scopes.every((s) => SCOPES.has(s))) throw invalid('invalid-scope', 'scope 只支持 auth_base、auth_user');
      const back = redirectTarget(q.redirect_uri);
      const buyerId = q.sandbox_buyer_id && /^2088[0-9]{12}$/.test(q.sandbox_buyer_id) ? q.sandbox_buyer_id : SANDBOX_BUYER_ID;
      back.searchParams.set('app_id', a.appId);
      back.searchParams.set('source', 'alipay_wallet');
      back.searchParams.set('scope', q.scope as string);
      back.searchParams.set('auth_code', ctx.userAuth.issue(a.appId, buyerId));
      if (q.state) back.searchParams.set('state', q.state);
      return reply.code(302).header('Location', back.toString()).header('Cache-Control', 'no-store').send();
    } catch (err) {
      if (!(err instanceof AlipayError)) throw err;
      return errorPage(reply, err);
    }
  });

  // my.getAuthCode() inside a mini program: a code for the app, as the payer's phone would get it.
  app.post('/sandbox/v1/auth-code', async (req, reply) => {
    const b = sandboxBody(req) ?? {};
    const appId = typeof b.app_id === 'string' ? b.app_id : '';
    if (!ctx.state.apps.has(appId)) return reply.code(404).send({ code: 'sandbox.not-found', message: `app ${appId} 不存在` });
    const buyerId = typeof b.buyer_id === 'string' && /^2088[0-9]{12}$/.test(b.buyer_id) ? b.buyer_id : SANDBOX_BUYER_ID;
    return reply.send({ auth_code: ctx.userAuth.issue(appId, buyerId) });
  });
}
