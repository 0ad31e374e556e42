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

export interface OpenPlatformError {
  errcode: number;
  errmsg: string;
}

export class OpenPlatform {
  readonly #apps = new Map<string, OpenApp>();
  readonly #codes = new Map<string, IssuedCode>();
  readonly #idKey = randomBytes(32);
  readonly #now: () => number;

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
    return `o${createHmac('sha256', this.#idKey).update(`${appid}\n${user}`).digest('base64url').slice(0, 27)}`;
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
    const issued = code ? this.#codes.get(code) : undefined;
    if (!issued || issued.appid !== app.appid || issued.kind !== kind || issued.expires < this.#now()) return { errcode: 40029, errmsg: 'invalid code' };
    if (issued.used) return { errcode: 40163, errmsg: 'code been used' };
    issued.used = true;
    return issued;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [code, c] of this.#codes) if (c.expires < now - CODE_TTL_MS) this.#codes.delete(code);
  }
}
