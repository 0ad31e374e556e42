import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/db.ts';
import type { Logger } from '../channels/types.ts';
import { ApiError } from '../domain/errors.ts';
import { type WechatAppKind, type WechatIdentity, allowedReturnHosts, jscode2session, oauthAuthorizeUrl, oauthOpenid } from '../channels/wechat-pay/identity.ts';
import type { TenancyService } from './tenancy.ts';
import type { AlipayChannel } from '../channels/alipay/channel.ts';

const SESSION_TTL_MS = 2 * 3600_000;
const STATE_TTL_MS = 10 * 60_000;
const MAX_SESSION_KEYS = 100_000;

interface SessionClaims {
  a: string; // merchant app id
  k: WechatAppKind; // which WeChat app the openid belongs to
  w: string; // WeChat appid
  o: string; // openid
  e: number; // expiry, epoch ms
}

/** An OAuth returnUrl must be http(s) on a host the app allows (no open redirect). */
function checkReturnUrl(returnUrl: string, allowed: readonly string[]): void {
  let host: string;
  try {
    const u = new URL(returnUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    host = u.hostname.toLowerCase();
  } catch {
    throw new ApiError('PARAM_INVALID', 'returnUrl must be an http(s) URL');
  }
  if (!allowed.includes(host)) throw new ApiError('PARAM_INVALID', `returnUrl host ${host} is not in the app's oauthReturnHosts`);
}

interface AlipayClaims {
  a: string; // merchant app id
  k: 'ali';
  w: string; // the Alipay app the id belongs to
  o: string; // user_id (2088…) or open_id
  t: 'user_id' | 'open_id';
  e: number;
}

type AlipayBuyer = ({ buyerUserId: string } | { buyerOpenId: string }) & { alipayAppId: string };

/**
 * Payer sessions: the result of identifying a payer through WeChat (mini-program login or
 * 公众号 OAuth), handed to the client as an HMAC-signed token. The merchant passes it back as
 * channelExtra.sessionToken and the gateway puts the openid — of the right WeChat appid (the
 * "invalid openid" trap, jeepay.md §8 #55) — into the payment. WeChat's session_key stays here in
 * an expiring in-process cache; it is never returned to anyone.
 */
export class PayerSessionService {
  readonly #db: Db;
  readonly #tenancy: TenancyService;
  readonly #key: Buffer;
  readonly #log: Logger;
  readonly #sessionKeys = new Map<string, { sessionKey: string; expires: number }>();
  #alipayChannel: AlipayChannel | undefined;

  constructor(deps: { db: Db; tenancy: TenancyService; key: Buffer; log: Logger }) {
    this.#db = deps.db;
    this.#tenancy = deps.tenancy;
    this.#key = deps.key;
    this.#log = deps.log;
  }

  async miniProgramLogin(mchNo: string, appId: string, code: string): Promise<{ sessionToken: string; expiresIn: number }> {
    const config = await this.#wxConfig(mchNo, appId);
    const who = await jscode2session(config, code);
    await this.#remember(appId, who);
    if (who.sessionKey) this.#keepSessionKey(appId, who);
    return this.#issue(appId, 'lite', who);
  }

  /**
   * Step 1 of 公众号 OAuth: where to send the payer's browser. `trustedReturn`: the return URL is
   * the gateway's own (the cashier), built by the server, so the merchant's host list does not apply.
   */
  async oauthStart(mchNo: string, appId: string, returnUrl: string, callbackUrl: string, opts: { trustedReturn?: boolean } = {}): Promise<string> {
    const config = await this.#wxConfig(mchNo, appId);
    if (!opts.trustedReturn) checkReturnUrl(returnUrl, allowedReturnHosts(config));
    const state = this.#sign({ a: appId, m: mchNo, r: returnUrl, e: Date.now() + STATE_TTL_MS });
    return oauthAuthorizeUrl(config, callbackUrl, state);
  }

  /** Step 2: WeChat redirected back with a code; returns where to send the payer, with a session token. */
  async oauthFinish(code: string, state: string): Promise<string> {
    const s = this.#verify<{ a: string; m: string; r: string; e: number }>(state);
    if (!s || s.e < Date.now()) throw new ApiError('PARAM_INVALID', 'OAuth state is invalid or expired; start again');
    const config = await this.#wxConfig(s.m, s.a);
    const who = await oauthOpenid(config, code);
    await this.#remember(s.a, who);
    const { sessionToken } = this.#issue(s.a, 'mp', who);
    const back = new URL(s.r);
    back.searchParams.set('sessionToken', sessionToken);
    return back.toString();
  }

  /** The openid a payment of `way` may use, from a token issued for this merchant app. */
  resolveOpenid(appId: string, token: string, kind: WechatAppKind): string {
    const c = this.#verify<SessionClaims>(token);
    if (!c || c.e < Date.now()) throw new ApiError('PARAM_INVALID', 'channelExtra.sessionToken is invalid or expired; log the payer in again');
    if (c.a !== appId) throw new ApiError('PARAM_INVALID', 'channelExtra.sessionToken was issued to another app');
    if (c.k !== kind) throw new ApiError('PARAM_INVALID', `channelExtra.sessionToken identifies a ${c.k === 'lite' ? 'mini-program' : 'official-account'} user; this way needs a ${kind === 'lite' ? 'mini-program' : 'official-account'} openid`);
    return c.o;
  }

  /** For the gateway's own use (decrypting wx.getUserInfo data); never exposed over HTTP. */
  sessionKey(appId: string, openid: string): string | undefined {
    const hit = this.#sessionKeys.get(`${appId}/${openid}`);
    return hit && hit.expires > Date.now() ? hit.sessionKey : undefined;
  }

  // ---- Alipay (生活号 H5 / mini program): auth_code → alipay.system.oauth.token → user_id or open_id ----

  /** Mini program: the auth code from my.getAuthCode() → a payer session for ALI_LITE / ALI_JSAPI. */
  async alipayLogin(mchNo: string, appId: string, code: string): Promise<{ sessionToken: string; expiresIn: number; idType: 'user_id' | 'open_id' }> {
    const { channel, config } = await this.#aliConfig(mchNo, appId);
    return this.#issueAlipay(appId, await channel.lookupBuyer({ config, log: this.#log }, code));
  }

  /** 生活号 H5, step 1: Alipay's silent web authorisation (scope auth_base) for this app. */
  async alipayOauthStart(mchNo: string, appId: string, returnUrl: string, callbackUrl: string): Promise<string> {
    const { channel, config } = await this.#aliConfig(mchNo, appId);
    // The same field as WeChat's: a comma-separated host list in the channel configuration.
    checkReturnUrl(returnUrl, allowedReturnHosts(config));
    const state = this.#sign({ a: appId, m: mchNo, r: returnUrl, e: Date.now() + STATE_TTL_MS });
    return channel.oauthAuthorizeUrl(config, callbackUrl, state);
  }

  /** Step 2: Alipay came back with auth_code; where the payer goes next, with a session token. */
  async alipayOauthFinish(authCode: string, state: string): Promise<string> {
    const s = this.#verify<{ a: string; m: string; r: string; e: number }>(state);
    if (!s || s.e < Date.now()) throw new ApiError('PARAM_INVALID', 'OAuth state is invalid or expired; start again');
    const { channel, config } = await this.#aliConfig(s.m, s.a);
    const { sessionToken } = await this.#issueAlipay(s.a, await channel.lookupBuyer({ config, log: this.#log }, authCode));
    const back = new URL(s.r);
    back.searchParams.set('sessionToken', sessionToken);
    return back.toString();
  }

  /**
   * The buyer a session token names, for a payment through Alipay app `alipayAppId`: an open_id
   * is only meaningful to the app that obtained it, so a token from another app is refused.
   */
  resolveAlipayBuyer(token: string, alipayAppId: string): { buyerUserId: string } | { buyerOpenId: string } {
    const c = this.#verify<AlipayClaims>(token);
    if (!c || c.e < Date.now() || c.k !== 'ali') throw new ApiError('PARAM_INVALID', 'channelExtra.sessionToken is invalid or expired, or not from an Alipay login; identify the payer again');
    if (c.w !== alipayAppId) throw new ApiError('PARAM_INVALID', 'channelExtra.sessionToken identifies a buyer of another Alipay app');
    return c.t === 'user_id' ? { buyerUserId: c.o } : { buyerOpenId: c.o };
  }

  async #aliConfig(mchNo: string, appId: string) {
    const app = await this.#tenancy.getApp(appId);
    if (!app || app.mchNo !== mchNo || !app.usable) throw new ApiError('MERCHANT_INVALID', `app ${appId} of merchant ${mchNo}`);
    const config = await this.#tenancy.getChannelConfig(appId, 'alipay');
    if (!config) throw new ApiError('WAY_NOT_AVAILABLE', 'the app has no Alipay configuration');
    return { channel: this.#alipay(), config };
  }

  #alipay(): AlipayChannel {
    if (!this.#alipayChannel) throw new ApiError('WAY_NOT_AVAILABLE', 'the Alipay channel is not installed');
    return this.#alipayChannel;
  }

  /** Set where the channels are known (src/http/alipay-identity-routes.ts). */
  useAlipay(channel: AlipayChannel): void {
    this.#alipayChannel = channel;
  }

  async #issueAlipay(appId: string, who: AlipayBuyer): Promise<{ sessionToken: string; expiresIn: number; idType: 'user_id' | 'open_id' }> {
    const idType = 'buyerUserId' in who ? 'user_id' : 'open_id';
    const id = 'buyerUserId' in who ? who.buyerUserId : who.buyerOpenId;
    await this.#db.query(
      `INSERT INTO channel_users (app_id, if_code, channel_app_id, user_id) VALUES ($1, 'alipay', $2, $3)
       ON CONFLICT (app_id, if_code, channel_app_id, user_id) DO UPDATE SET last_seen_at = now()`,
      [appId, who.alipayAppId, id],
    );
    const claims: AlipayClaims = { a: appId, k: 'ali', w: who.alipayAppId, o: id, t: idType, e: Date.now() + SESSION_TTL_MS };
    this.#log.info({ appId, alipayAppId: who.alipayAppId, idType }, 'alipay payer identified');
    return { sessionToken: this.#sign(claims), expiresIn: SESSION_TTL_MS / 1000, idType };
  }

  async #wxConfig(mchNo: string, appId: string) {
    const app = await this.#tenancy.getApp(appId);
    if (!app || app.mchNo !== mchNo || !app.usable) throw new ApiError('MERCHANT_INVALID', `app ${appId} of merchant ${mchNo}`);
    const config = await this.#tenancy.getChannelConfig(appId, 'wxpay');
    if (!config) throw new ApiError('WAY_NOT_AVAILABLE', 'the app has no WeChat configuration');
    return config;
  }

  async #remember(appId: string, who: WechatIdentity): Promise<void> {
    await this.#db.query(
      `INSERT INTO channel_users (app_id, if_code, channel_app_id, user_id, union_id) VALUES ($1, 'wxpay', $2, $3, $4)
       ON CONFLICT (app_id, if_code, channel_app_id, user_id) DO UPDATE SET last_seen_at = now(), union_id = COALESCE(EXCLUDED.union_id, channel_users.union_id)`,
      [appId, who.wxAppId, who.openid, who.unionid ?? null],
    );
  }

  #keepSessionKey(appId: string, who: WechatIdentity): void {
    if (this.#sessionKeys.size >= MAX_SESSION_KEYS) {
      const now = Date.now();
      for (const [k, v] of this.#sessionKeys) if (v.expires < now) this.#sessionKeys.delete(k);
      if (this.#sessionKeys.size >= MAX_SESSION_KEYS) this.#sessionKeys.delete(this.#sessionKeys.keys().next().value as string);
    }
    this.#sessionKeys.set(`${appId}/${who.openid}`, { sessionKey: who.sessionKey as string, expires: Date.now() + SESSION_TTL_MS });
  }

  #issue(appId: string, kind: WechatAppKind, who: WechatIdentity): { sessionToken: string; expiresIn: number } {
    const claims: SessionClaims = { a: appId, k: kind, w: who.wxAppId, o: who.openid, e: Date.now() + SESSION_TTL_MS };
    this.#log.info({ appId, kind, wxAppId: who.wxAppId }, 'payer identified');
    return { sessionToken: this.#sign(claims), expiresIn: SESSION_TTL_MS / 1000 };
  }

  #sign(payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', this.#key).update(body).digest('base64url')}`;
  }

  #verify<T>(token: string): T | null {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    const expected = Buffer.from(createHmac('sha256', this.#key).update(body).digest('base64url'));
    const given = Buffer.from(token.slice(dot + 1));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
    } catch {
      return null;
    }
  }
}
