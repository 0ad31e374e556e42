import { createHmac, randomBytes } from 'node:crypto';

/**
 * The user-identity side of WeChat that payments depend on (seed 001 §2): mini-program login
 * (`wx.login` code → `jscode2session`) and 公众号 web authorisation (snsapi_base code →
 * `sns/oauth2/access_token`). Codes are single-use and live 5 minutes, as WeChat documents;
 * an openid is stable per (appid, user) and differs between appids, a unionid is per user.
 * App registrations live in memory (they are re-registered at every gateway start).
 */

const CODE_TTL_MS = 5 * 60_000;

export interface OpenApp {
  appid: string;
  secret: string;
}

interface IssuedCode {
  appid: string;
  user: string;
  kind: 'login' | 'oauth';
  expires: number;
  used: boolean;
}

/** An open-platform third party (第三方平台) that develops mini programs on behalf of their owners. */
export interface ComponentApp {
  component_appid: string;
  component_appsecret: string;
  /** Pushed by WeChat to the third party every 10 minutes; here handed out by the sandbox admin API. */
  component_verify_ticket: string;
  /** Appids whose owners authorised this third party (授权方). */
  authorized_appids: string[];
}

export interface OpenPlatformError {
  errcode: number;
  errmsg: string;
}

export class OpenPlatform {
  readonly #apps = new Map<string, OpenApp>();
  readonly #codes = new Map<string, IssuedCode>();
  readonly #idKey = randomBytes(32);
  readonly #now: () => number;
  /** openid → the appid and user it was issued for, so the pay side can refuse an openid of another appid. */
  readonly #owners = new Map<string, { appid: string; user: string }>();
  readonly #components = new Map<string, ComponentApp>();
  readonly #componentTokens = new Map<string, { component_appid: string; expires: number }>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  registerApp(input: { appid: string; secret?: string }): OpenApp {
    const existing = this.#apps.get(input.appid);
    const app = { appid: input.appid, secret: input.secret ?? existing?.secret ?? randomBytes(16).toString('hex') };
    this.#apps.set(app.appid, app);
    return app;
  }

  /** What `wx.login()` (mini program) or the silent snsapi_base redirect hands the client. */
  issueCode(appid: string, user: string, kind: 'login' | 'oauth'): string | OpenPlatformError {
    if (!this.#apps.has(appid)) return { errcode: 40013, errmsg: 'invalid appid' };
    this.#sweep();
    const code = randomBytes(16).toString('hex');
    this.#codes.set(code, { appid, user, kind, expires: this.#now() + CODE_TTL_MS, used: false });
    return code;
  }

  openid(appid: string, user: string): string {
    const openid = `o${createHmac('sha256', this.#idKey).update(`${appid}\n${user}`).digest('base64url').slice(0, 27)}`;
    if (this.#owners.size < 1_000_000) this.#owners.set(openid, { appid, user });
    return openid;
  }

  /** Who an openid issued by this sandbox belongs to; undefined for an openid it never issued. */
  owner(openid: string): { appid: string; user: string } | undefined {
    return this.#owners.get(openid);
  }

  registerComponent(input: { componentAppid: string; secret?: string; authorizedAppids?: string[] }): ComponentApp {
    const existing = this.#components.get(input.componentAppid);
    const app: ComponentApp = {
      component_appid: input.componentAppid,
      component_appsecret: input.secret ?? existing?.component_appsecret ?? randomBytes(16).toString('hex'),
      component_verify_ticket: existing?.component_verify_ticket ?? `ticket@@@${randomBytes(24).toString('base64url')}`,
      authorized_appids: [...new Set([...(existing?.authorized_appids ?? []), ...(input.authorizedAppids ?? [])])],
    };
    this.#components.set(app.component_appid, app);
    // An authorised mini program must exist to issue login codes; its own secret is never needed here.
    for (const appid of app.authorized_appids) if (!this.#apps.has(appid)) this.registerApp({ appid });
    return app;
  }

  /** POST /cgi-bin/component/api_component_token */
  componentToken(b: Record<string, unknown>): Record<string, unknown> {
    const app = typeof b.component_appid === 'string' ? this.#components.get(b.component_appid) : undefined;
    if (!app) return { errcode: 40013, errmsg: 'invalid appid' };
    if (b.component_appsecret !== app.component_appsecret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    if (b.component_verify_ticket !== app.component_verify_ticket) return { errcode: 61006, errmsg: 'component ticket is invalid' };
    const token = randomBytes(24).toString('base64url');
    this.#componentTokens.set(token, { component_appid: app.component_appid, expires: this.#now() + 7200_000 });
    return { component_access_token: token, expires_in: 7200 };
  }

  /** GET /sns/component/jscode2session: the third party logs a user into a mini program it develops. */
  componentJscode2session(q: Record<string, string | undefined>): Record<string, unknown> {
    const checked = this.#componentExchange(q, 'login');
    if ('errcode' in checked) return { ...checked };
    return { openid: this.openid(checked.appid, checked.user), session_key: randomBytes(16).toString('base64'), unionid: this.unionid(checked.user) };
  }

  /** GET /sns/oauth2/component/access_token: 公众号 web authorisation done by the third party. */
  componentOauthAccessToken(q: Record<string, string | undefined>): Record<string, unknown> {
    const checked = this.#componentExchange(q, 'oauth');
    if ('errcode' in checked) return { ...checked };
    return { access_token: randomBytes(24).toString('base64url'), expires_in: 7200, refresh_token: randomBytes(24).toString('base64url'), openid: this.openid(checked.appid, checked.user), scope: 'snsapi_base' };
  }

  #componentExchange(q: Record<string, string | undefined>, kind: 'login' | 'oauth'): IssuedCode | OpenPlatformError {
    const token = q.component_access_token ? this.#componentTokens.get(q.component_access_token) : undefined;
    if (!token || token.component_appid !== q.component_appid) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
    if (token.expires < this.#now()) return { errcode: 42001, errmsg: 'access_token expired' };
    const component = this.#components.get(token.component_appid) as ComponentApp;
    if (!q.appid || !component.authorized_appids.includes(q.appid)) return { errcode: 61003, errmsg: 'component is not authorized by this account' };
    return this.#redeem(q.appid, kind === 'login' ? q.js_code : q.code, kind, q.grant_type);
  }

  unionid(user: string): string {
    return `u${createHmac('sha256', this.#idKey).update(`union\n${user}`).digest('base64url').slice(0, 27)}`;
  }

  /** GET /sns/jscode2session */
  jscode2session(q: Record<string, string | undefined>): Record<string, unknown> {
    const checked = this.#exchange(q, 'login');
    if ('errcode' in checked) return { ...checked };
    return { openid: this.openid(checked.appid, checked.user), session_key: randomBytes(16).toString('base64'), unionid: this.unionid(checked.user) };
  }

  /** GET /sns/oauth2/access_token */
  oauthAccessToken(q: Record<string, string | undefined>): Record<string, unknown> {
    const checked = this.#exchange(q, 'oauth');
    if ('errcode' in checked) return { ...checked };
    return { access_token: randomBytes(24).toString('base64url'), expires_in: 7200, refresh_token: randomBytes(24).toString('base64url'), openid: this.openid(checked.appid, checked.user), scope: 'snsapi_base' };
  }

  #exchange(q: Record<string, string | undefined>, kind: 'login' | 'oauth'): IssuedCode | OpenPlatformError {
    const code = kind === 'login' ? q.js_code : q.code;
    if (q.grant_type !== 'authorization_code') return { errcode: 40002, errmsg: 'invalid grant_type' };
    const app = q.appid ? this.#apps.get(q.appid) : undefined;
    if (!app) return { errcode: 40013, errmsg: 'invalid appid' };
    if (q.secret !== app.secret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    return this.#redeem(app.appid, code, kind, q.grant_type);
  }

  #redeem(appid: string, code: string | undefined, kind: 'login' | 'oauth', grantType: string | undefined): IssuedCode | OpenPlatformError {
    if (grantType !== 'authorization_code') return { errcode: 40002, errmsg: 'invalid grant_type' };
    const issued = code ? this.#codes.get(code) : undefined;
    if (!issued || issued.appid !== appid || issued.kind !== kind || issued.expires < this.#now()) return { errcode: 40029, errmsg: 'invalid code' };
    if (issued.used) return { errcode: 40163, errmsg: 'code been used' };
    issued.used = true;
    return issued;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [code, c] of this.#codes) if (c.expires < now - CODE_TTL_MS) this.#codes.delete(code);
  }
}
