import { createHash } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { sendChannelRequest } from '../http.ts';
import { parseSpConfig, subAppIdForWay } from './sp-config.ts';

/**
 * Who the payer is, in WeChat's terms: the openid a JSAPI / mini-program payment needs.
 * Mini program: `wx.login()` code → `GET /sns/jscode2session` (seed 001 §2). 公众号 H5: silent
 * snsapi_base authorisation → code → `GET /sns/oauth2/access_token`. Both live on
 * api.weixin.qq.com / open.weixin.qq.com, not on the pay host, so they have their own base URLs.
 */

export const DEFAULT_OAUTH_BASE_URL = 'https://api.weixin.qq.com';
export const DEFAULT_OPEN_BASE_URL = 'https://open.weixin.qq.com';

export const wechatIdentityConfigFields: readonly ConfigField[] = [
  { name: 'liteAppSecret', label: '小程序 AppSecret', secret: true, required: false, description: 'Mini-program AppSecret: exchanges wx.login codes (jscode2session).' },
  { name: 'mpAppSecret', label: '公众号 AppSecret', secret: true, required: false, description: 'Official-account AppSecret: exchanges snsapi_base OAuth codes for openids.' },
  { name: 'oauthBaseUrl', label: 'api.weixin.qq.com base URL', secret: false, required: false, description: `Defaults to ${DEFAULT_OAUTH_BASE_URL}; sandboxes point it at the simulator.` },
  { name: 'openBaseUrl', label: 'open.weixin.qq.com base URL', secret: false, required: false, description: `Defaults to ${DEFAULT_OPEN_BASE_URL}; sandboxes point it at the simulator.` },
  { name: 'oauthReturnHosts', label: 'OAuth return hosts', secret: false, required: false, description: 'Comma-separated hosts a payer may be sent back to after OAuth (prevents open redirects).' },
];

export type WechatAppKind = 'lite' | 'mp';

export interface WechatIdentity {
  /** The WeChat appid the openid belongs to (openids differ per appid). */
  wxAppId: string;
  openid: string;
  unionid?: string;
  sessionKey?: string;
}

/**
 * The WeChat app the payer is in. A direct merchant's, or in service-provider mode (seed 003)
 * the provider's in the central scenario (中心化) and the sub-merchant's in the outsourced (外包)
 * and component (第三方) ones: openids differ per appid, and the payment must name the openid of
 * the appid the front end pays in (jeepay.md §8 #55).
 */
export function payerAppId(config: ChannelConfig, kind: WechatAppKind): string | undefined {
  const sp = parseSpConfig(config.params);
  if (sp && sp.scenario !== 'central') return subAppIdForWay(kind === 'lite' ? 'WX_LITE' : 'WX_JSAPI', sp);
  return (kind === 'lite' ? config.params.liteAppId || config.params.appId : config.params.appId) || undefined;
}

function appFor(config: ChannelConfig, kind: WechatAppKind): { appid: string; secret: string } {
  const appid = payerAppId(config, kind);
  // Outsourced: the sub-merchant app's own configuration carries its app's secret (laid over the provider's).
  const secret = kind === 'lite' ? config.secrets.liteAppSecret : config.secrets.mpAppSecret;
  if (!appid) throw new ChannelError('misconfigured', 'wxpay config: appId is missing');
  if (!secret) throw new ChannelError('misconfigured', `wxpay config: ${kind === 'lite' ? 'liteAppSecret' : 'mpAppSecret'} is needed to identify payers`);
  return { appid, secret };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await sendChannelRequest({ method: 'GET', url, headers: { accept: 'application/json' } });
  return parseIdentityAnswer(res.status, res.body);
}

function parseIdentityAnswer(status: number, text: string): Record<string, unknown> {
  const res = { status, body: text };
  if (res.status !== 200) throw new ChannelError('system', `WeChat answered HTTP ${res.status}`, { httpStatus: res.status });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new ChannelError('protocol', 'WeChat identity answer is not JSON');
  }
  if (typeof body !== 'object' || body === null) throw new ChannelError('protocol', 'WeChat identity answer is not an object');
  const b = body as Record<string, unknown>;
  // These APIs report errors as HTTP 200 with errcode ≠ 0: 40029 invalid code, 40163 code been used …
  if (typeof b.errcode === 'number' && b.errcode !== 0) throw new ChannelError('rejected', `WeChat: ${String(b.errmsg)}`, { channelCode: String(b.errcode), channelMessage: String(b.errmsg) });
  return b;
}

function oauthBase(config: ChannelConfig): string {
  return (config.params.oauthBaseUrl || DEFAULT_OAUTH_BASE_URL).replace(/\/+$/, '');
}

export async function jscode2session(config: ChannelConfig, code: string): Promise<WechatIdentity> {
  const base = oauthBase(config);
  let appid: string;
  let b: Record<string, unknown>;
  if (isComponent(config)) {
    // 第三方模式: the third party logs the user into the mini program it develops for the sub-merchant.
    appid = componentAppOf(config);
    const component = await componentAccess(config);
    b = await getJson(`${base}/sns/component/jscode2session?${new URLSearchParams({ appid, js_code: code, grant_type: 'authorization_code', ...component })}`);
  } else {
    const app = appFor(config, 'lite');
    appid = app.appid;
    b = await getJson(`${base}/sns/jscode2session?${new URLSearchParams({ appid, secret: app.secret, js_code: code, grant_type: 'authorization_code' })}`);
  }
  if (typeof b.openid !== 'string' || !b.openid) throw new ChannelError('protocol', 'jscode2session answer has no openid');
  return { wxAppId: appid, openid: b.openid, unionid: typeof b.unionid === 'string' ? b.unionid : undefined, sessionKey: typeof b.session_key === 'string' ? b.session_key : undefined };
}

export function oauthAuthorizeUrl(config: ChannelConfig, redirectUri: string, state: string): string {
  const appid = payerAppId(config, 'mp');
  if (!appid) throw new ChannelError('misconfigured', 'wxpay config: appId is missing');
  const base = (config.params.openBaseUrl || DEFAULT_OPEN_BASE_URL).replace(/\/+$/, '');
  const component: Record<string, string> = isComponent(config) ? { component_appid: config.params.componentAppId as string } : {};
  const q = new URLSearchParams({ appid, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state, ...component });
  return `${base}/connect/oauth2/authorize?${q}#wechat_redirect`;
}

export async function oauthOpenid(config: ChannelConfig, code: string): Promise<WechatIdentity> {
  const base = oauthBase(config);
  let appid: string;
  let b: Record<string, unknown>;
  if (isComponent(config)) {
    appid = payerAppId(config, 'mp') as string;
    b = await getJson(`${base}/sns/oauth2/component/access_token?${new URLSearchParams({ appid, code, grant_type: 'authorization_code', ...(await componentAccess(config)) })}`);
  } else {
    const app = appFor(config, 'mp');
    appid = app.appid;
    b = await getJson(`${base}/sns/oauth2/access_token?${new URLSearchParams({ appid, secret: app.secret, code, grant_type: 'authorization_code' })}`);
  }
  if (typeof b.openid !== 'string' || !b.openid) throw new ChannelError('protocol', 'oauth2/access_token answer has no openid');
  return { wxAppId: appid, openid: b.openid };
}

export function allowedReturnHosts(config: ChannelConfig): string[] {
  return (config.params.oauthReturnHosts ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
}

// ---- Open-platform third party (第三方平台): component_access_token, cached per component app ----

const COMPONENT_TOKEN_MARGIN_MS = 5 * 60_000;
const componentTokens = new Map<string, { token: string; expires: number }>();

function isComponent(config: ChannelConfig): boolean {
  return parseSpConfig(config.params)?.scenario === 'component';
}

function componentAppOf(config: ChannelConfig): string {
  const appid = payerAppId(config, 'lite');
  if (!appid) throw new ChannelError('misconfigured', 'wxpay config: subMchLiteAppId is missing');
  return appid;
}

/**
 * component_access_token lives 2 h; it is fetched with the verify ticket WeChat pushes to the third
 * party every 10 minutes (here: configured as componentVerifyTicket) and shared by every
 * sub-merchant the third party serves, so it is cached per (component appid, secret, ticket).
 */
async function componentAccess(config: ChannelConfig): Promise<{ component_appid: string; component_access_token: string }> {
  const componentAppid = config.params.componentAppId;
  const secret = config.secrets.componentAppSecret;
  const ticket = config.secrets.componentVerifyTicket;
  if (!componentAppid || !secret || !ticket) throw new ChannelError('misconfigured', 'wxpay config: componentAppId, componentAppSecret and componentVerifyTicket are needed to log payers in through the third party');
  const key = createHash('sha256').update(`${componentAppid}\n${secret}\n${ticket}`).digest('base64url');
  const hit = componentTokens.get(key);
  if (hit && hit.expires > Date.now()) return { component_appid: componentAppid, component_access_token: hit.token };
  const res = await sendChannelRequest({
    method: 'POST',
    url: `${oauthBase(config)}/cgi-bin/component/api_component_token`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ component_appid: componentAppid, component_appsecret: secret, component_verify_ticket: ticket }),
  });
  const b = parseIdentityAnswer(res.status, res.body);
  if (typeof b.component_access_token !== 'string' || !b.component_access_token) throw new ChannelError('protocol', 'api_component_token answer has no component_access_token');
  const ttlMs = (typeof b.expires_in === 'number' ? b.expires_in : 7200) * 1000;
  if (componentTokens.size > 1000) componentTokens.clear();
  componentTokens.set(key, { token: b.component_access_token, expires: Date.now() + ttlMs - COMPONENT_TOKEN_MARGIN_MS });
  return { component_appid: componentAppid, component_access_token: b.component_access_token };
}
