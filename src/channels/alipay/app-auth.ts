import { ChannelError, type Logger } from '../types.ts';
import { answerError, type AlipayClient } from './client.ts';
import type { AlipayConfig } from './config.ts';
import { parseChinaTime } from './sign.ts';

/**
 * 第三方应用授权 for service providers (protocols.md §C.1, jeepay.md §5.3): the authorisation
 * link a merchant opens, and the token calls — all made with the provider's own app (no
 * app_auth_token): `alipay.open.auth.token.app` (grant_type authorization_code or refresh_token)
 * and `alipay.open.auth.token.app.query`.
 */

export interface AppAuthGrant {
  appAuthToken: string;
  appRefreshToken: string;
  /** The merchant's app id and partner id (seller_id of its trades). */
  authAppId: string;
  userId: string;
  expiresAt: Date;
  refreshExpiresAt: Date;
}

export interface AppAuthStatus {
  valid: boolean;
  authAppId: string | undefined;
  userId: string | undefined;
  authEnd: Date | undefined;
  authMethods: string[];
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `alipay: ${message}`);
}

/** `https://openauth.alipay.com/oauth2/appToAppAuth.htm?app_id=…&redirect_uri=…&state=…` (single-app authorisation). */
export function appToAppAuthUrl(config: AlipayConfig, redirectUri: string, state: string): string {
  const q = new URLSearchParams({ app_id: config.appId, redirect_uri: redirectUri, state });
  return `${config.openAuthUrl}/oauth2/appToAppAuth.htm?${q}`;
}

const TOKEN = /^[0-9A-Za-z_-]{8,128}$/;

function seconds(v: unknown, field: string): number {
  // Documented as a string, seen as a number: accept both, never a fraction or a sign.
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^[0-9]{1,12}$/.test(s)) throw protocol(`token answer: ${field} ${JSON.stringify(v)} is not a number of seconds`);
  return Number(s);
}

/** The answer's fields, top level or (newer layout) the first of `tokens`. */
function grantOf(data: Record<string, unknown>, now: number): AppAuthGrant {
  const first = Array.isArray(data.tokens) && typeof data.tokens[0] === 'object' && data.tokens[0] !== null ? (data.tokens[0] as Record<string, unknown>) : {};
  const pick = (k: string): unknown => data[k] ?? first[k];
  const text = (k: string, re: RegExp): string => {
    const v = pick(k);
    if (typeof v !== 'string' || !re.test(v)) throw protocol(`token answer lacks a valid ${k}`);
    return v;
  };
  return {
    appAuthToken: text('app_auth_token', TOKEN),
    appRefreshToken: text('app_refresh_token', TOKEN),
    authAppId: text('auth_app_id', /^[0-9]{8,32}$/),
    userId: text('user_id', /^2088[0-9]{12}$/),
    expiresAt: new Date(now + seconds(pick('expires_in'), 'expires_in') * 1000),
    refreshExpiresAt: new Date(now + seconds(pick('re_expires_in'), 're_expires_in') * 1000),
  };
}

async function tokenCall(provider: AlipayClient, biz: Record<string, string>, log: Logger | undefined): Promise<AppAuthGrant> {
  const method = 'alipay.open.auth.token.app';
  const a = await provider.call(method, biz, log);
  if (a.code !== '10000') throw answerError(method, a);
  return grantOf(a.data, Date.now());
}

/** The app_auth_code from the authorisation redirect → the merchant's token pair. */
export function exchangeAppAuthCode(provider: AlipayClient, code: string, log?: Logger): Promise<AppAuthGrant> {
  return tokenCall(provider, { grant_type: 'authorization_code', code }, log);
}

/** A new pair before the token expires; the old refresh token is spent. */
export function refreshAppAuthToken(provider: AlipayClient, refreshToken: string, log?: Logger): Promise<AppAuthGrant> {
  return tokenCall(provider, { grant_type: 'refresh_token', refresh_token: refreshToken }, log);
}

/** What Alipay says about a token: valid or not, whose, until when. */
export async function queryAppAuthToken(provider: AlipayClient, appAuthToken: string, log?: Logger): Promise<AppAuthStatus> {
  const method = 'alipay.open.auth.token.app.query';
  const a = await provider.call(method, { app_auth_token: appAuthToken }, log);
  // An unknown or foreign token is answered with 20001, like a call using it.
  if (a.code === '20001' && a.signed) return { valid: false, authAppId: undefined, userId: undefined, authEnd: undefined, authMethods: [] };
  if (a.code !== '10000') throw answerError(method, a);
  const d = a.data;
  const end = typeof d.auth_end === 'string' ? parseChinaTime(d.auth_end) : undefined;
  return {
    valid: d.status === 'valid',
    authAppId: typeof d.auth_app_id === 'string' ? d.auth_app_id : undefined,
    userId: typeof d.user_id === 'string' ? d.user_id : undefined,
    authEnd: end === undefined ? undefined : new Date(end),
    authMethods: Array.isArray(d.auth_methods) ? d.auth_methods.filter((m): m is string => typeof m === 'string') : [],
  };
}
