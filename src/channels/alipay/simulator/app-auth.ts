import { chinaTime } from '../sign.ts';
import { AlipayError, ErrorResponse, alnum, business, type SimContext } from './context.ts';
import type { AppAuthRecord, AppAuthView, AppRecord } from './types.ts';

/**
 * 第三方应用授权 (app-to-app authorisation) of the simulated Alipay (protocols.md §C.1; jeepay.md
 * §5.3): a merchant grants a service provider's third-party app access to its own app; the
 * provider exchanges the one-time app_auth_code for an app_auth_token
 * (`alipay.open.auth.token.app`, grant_type authorization_code), refreshes it with its
 * app_refresh_token, and passes it as the common parameter `app_auth_token` on every call it
 * makes for that merchant. The gateway then acts on the merchant's books.
 *
 * Modelled (assumptions where public docs are silent are marked in docs/sandbox/alipay.md):
 * codes are single-use and live 10 minutes; a refresh issues a new token pair and retires the
 * old ones at once; a token works only for the third-party app it was issued to.
 */

const CODE_TTL_MS = 10 * 60_000;
export const DEFAULT_TOKEN_TTL_S = 365 * 24 * 3600;
export const DEFAULT_REFRESH_TTL_S = 372 * 24 * 3600;
const CODES_KEPT = 10_000;

interface IssuedCode {
  isvAppId: string;
  authAppId: string;
  expires: number;
  used: boolean;
}

/** Methods a third-party app may call for itself; everything else needs a merchant's token. */
const PROVIDER_OWN_METHODS = new Set(['alipay.open.auth.token.app', 'alipay.open.auth.token.app.query', 'alipay.system.oauth.token']);

/** Tokens look like Alipay's: yyyyMM + "BB" + 32 hex-ish characters. */
function token(now: number, kind: 'BB' | 'BBr'): string {
  return `${chinaTime(now).slice(0, 7).replace('-', '')}${kind}${alnum(32)}`;
}

export class AppAuthBook {
  readonly #codes = new Map<string, IssuedCode>();
  readonly #byToken = new Map<string, AppAuthRecord>();
  readonly #byRefresh = new Map<string, AppAuthRecord>();

  constructor(
    private readonly now: () => number,
    private readonly ttl: { tokenS: number; refreshS: number },
    private readonly onChange: () => void,
  ) {}

  issueCode(isvAppId: string, authAppId: string): string {
    if (this.#codes.size >= CODES_KEPT) {
      for (const [c, v] of this.#codes) if (v.used || v.expires < this.now()) this.#codes.delete(c);
    }
    const code = alnum(32);
    this.#codes.set(code, { isvAppId, authAppId, expires: this.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** grant_type=authorization_code: one use, by the app the code was issued to. */
  exchange(isvAppId: string, code: string, merchant: (appId: string) => AppRecord | undefined): AppAuthRecord {
    const c = this.#codes.get(code);
    if (!c || c.used || c.expires < this.now() || c.isvAppId !== isvAppId) throw new ErrorResponse('40002', 'isv.code-invalid', '授权码code无效');
    c.used = true;
    const m = merchant(c.authAppId);
    if (!m) throw new ErrorResponse('40002', 'isv.code-invalid', '授权码code无效');
    // A new authorisation of the same pair replaces the previous one.
    for (const r of this.#byToken.values()) if (r.isv_app_id === isvAppId && r.auth_app_id === m.appId) r.status = 'invalid';
    return this.#issue(isvAppId, m.appId, m.pid, this.now());
  }

  /** grant_type=refresh_token: a new pair; the old token and refresh token stop working. */
  refresh(isvAppId: string, refreshToken: string): AppAuthRecord {
    const old = this.#byRefresh.get(refreshToken);
    if (!old || old.isv_app_id !== isvAppId || old.status !== 'valid' || old.re_expires_at < this.now()) {
      throw new ErrorResponse('40002', 'isv.refresh-token-invalid', '刷新令牌refresh_token无效');
    }
    old.status = 'invalid';
    return this.#issue(isvAppId, old.auth_app_id, old.user_id, old.auth_start);
  }

  find(appAuthToken: string): AppAuthRecord | undefined {
    return this.#byToken.get(appAuthToken);
  }

  /** Sandbox admin: set the matching authorisations' token expiry to now (refresh tokens stay valid). */
  expire(authAppId: string): number {
    let n = 0;
    for (const r of this.#byToken.values()) {
      if (r.auth_app_id === authAppId && r.status === 'valid') {
        r.expires_at = Math.min(r.expires_at, this.now() - 1);
        n += 1;
      }
    }
    this.onChange();
    return n;
  }

  revoke(authAppId: string): number {
    let n = 0;
    for (const r of this.#byToken.values()) {
      if (r.auth_app_id === authAppId && r.status === 'valid') {
        r.status = 'invalid';
        n += 1;
      }
    }
    this.onChange();
    return n;
  }

  all(): AppAuthRecord[] {
    return [...this.#byToken.values()];
  }

  restore(records: readonly AppAuthRecord[]): void {
    for (const r of records) this.#index(r);
  }

  view(isvAppId?: string): AppAuthView[] {
    return this.all()
      .filter((r) => isvAppId === undefined || r.isv_app_id === isvAppId)
      .map((r) => ({
        isv_app_id: r.isv_app_id,
        auth_app_id: r.auth_app_id,
        user_id: r.user_id,
        status: r.status === 'valid' && r.expires_at < this.now() ? 'expired' : r.status,
        expires_at: chinaTime(r.expires_at),
        re_expires_at: chinaTime(r.re_expires_at),
      }));
  }

  #issue(isvAppId: string, authAppId: string, userId: string, authStart: number): AppAuthRecord {
    const now = this.now();
    const r: AppAuthRecord = {
      app_auth_token: token(now, 'BB'),
      app_refresh_token: token(now, 'BBr'),
      isv_app_id: isvAppId,
      auth_app_id: authAppId,
      user_id: userId,
      auth_start: authStart,
      expires_at: now + this.ttl.tokenS * 1000,
      re_expires_at: now + this.ttl.refreshS * 1000,
      status: 'valid',
    };
    this.#index(r);
    this.onChange();
    return r;
  }

  #index(r: AppAuthRecord): void {
    this.#byToken.set(r.app_auth_token, r);
    this.#byRefresh.set(r.app_refresh_token, r);
  }
}

/** The token answer: top-level fields plus the newer `tokens` list (both are sent today). */
export function tokenAnswer(ctx: SimContext, r: AppAuthRecord): Record<string, unknown> {
  const fields = {
    user_id: r.user_id,
    auth_app_id: r.auth_app_id,
    app_auth_token: r.app_auth_token,
    app_refresh_token: r.app_refresh_token,
    expires_in: Math.max(0, Math.round((r.expires_at - ctx.now()) / 1000)),
    re_expires_in: Math.max(0, Math.round((r.re_expires_at - ctx.now()) / 1000)),
  };
  return { ...fields, tokens: [fields] };
}

/**
 * Whose books a call works on. Without app_auth_token: the caller's own — except a third-party
 * app, which has no trades of its own (40006). With one: the merchant's, when the token was
 * issued to this caller, is still valid and has not expired (20001, as Alipay answers).
 */
export function actingApp(ctx: SimContext, caller: AppRecord, method: string, params: Record<string, string>): { app: AppRecord; isvAppId?: string } {
  const t = params.app_auth_token;
  if (!t) {
    if (caller.isv && !PROVIDER_OWN_METHODS.has(method)) throw new AlipayError('40006', 'isv.insufficient-isv-permissions', 'ISV权限不足，建议在开发者中心检查签约是否已经生效 (a third-party app acts for merchants: pass their app_auth_token)');
    return { app: caller };
  }
  const r = ctx.appAuth.find(t);
  if (!r || r.isv_app_id !== caller.appId || r.status !== 'valid') throw new AlipayError('20001', 'aop.invalid-app-auth-token', '无效的应用授权令牌');
  if (r.expires_at < ctx.now()) throw new AlipayError('20001', 'aop.app-auth-token-time-out', '应用授权令牌已过期');
  const merchant = ctx.state.apps.get(r.auth_app_id);
  if (!merchant) throw new AlipayError('20001', 'aop.invalid-app-auth-token', '无效的应用授权令牌');
  return { app: merchant, isvAppId: caller.appId };
}

/** A trade created through a provider: seller and service-provider id must fit the authorisation. */
export function checkIsvTrade(caller: AppRecord | undefined, merchant: AppRecord, biz: Record<string, unknown>): string | undefined {
  if (biz.seller_id !== undefined && biz.seller_id !== merchant.pid) throw business('ACQ.INVALID_PARAMETER', '参数无效: seller_id 与应用授权令牌的授权商户不一致');
  const ext = biz.extend_params;
  const spid = ext && typeof ext === 'object' && !Array.isArray(ext) ? (ext as Record<string, unknown>).sys_service_provider_id : undefined;
  if (spid === undefined) return undefined;
  // Only the provider itself (its partner id) may be credited, and only on a provider's call.
  if (typeof spid !== 'string' || !/^2088[0-9]{12}$/.test(spid) || !caller?.isv || spid !== caller.pid) throw business('ACQ.INVALID_PARAMETER', '参数无效: extend_params.sys_service_provider_id');
  return spid;
}
