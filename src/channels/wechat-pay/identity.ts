import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { sendChannelRequest } from '../http.ts';

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

function appFor(config: ChannelConfig, kind: WechatAppKind): { appid: string; secret: string } {
  const appid = kind === 'lite' ? config.params.liteAppId || config.params.appId : config.params.appId;
  const secret = kind === 'lite' ? config.secrets.liteAppSecret : config.secrets.mpAppSecret;
  if (!appid) throw new ChannelError('misconfigured', 'wxpay config: appId is missing');
  if (!secret) throw new ChannelError('misconfigured', `wxpay config: ${kind === 'lite' ? 'liteAppSecret' : 'mpAppSecret'} is needed to identify payers`);
  return { appid, secret };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await sendChannelRequest({ method: 'GET', url, headers: { accept: 'application/json' } });
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

export async function jscode2session(config: ChannelConfig, code: string): Promise<WechatIdentity> {
  const { appid, secret } = appFor(config, 'lite');
  const base = (config.params.oauthBaseUrl || DEFAULT_OAUTH_BASE_URL).replace(/\/+$/, '');
  const q = new URLSearchParams({ appid, secret, js_code: code, grant_type: 'authorization_code' });
  const b = await getJson(`${base}/sns/jscode2session?${q}`);
  if (typeof b.openid !== 'string' || !b.openid) throw new ChannelError('protocol', 'jscode2session answer has no openid');
  return { wxAppId: appid, openid: b.openid, unionid: typeof b.unionid === 'string' ? b.unionid : undefined, sessionKey: typeof b.session_key === 'string' ? b.session_key : undefined };
}

export function oauthAuthorizeUrl(config: ChannelConfig, redirectUri: string, state: string): string {
  const appid = config.params.appId;
  if (!appid) throw new ChannelError('misconfigured', 'wxpay config: appId is missing');
  const base = (config.params.openBaseUrl || DEFAULT_OPEN_BASE_URL).replace(/\/+$/, '');
  const q = new URLSearchParams({ appid, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state });
  return `${base}/connect/oauth2/authorize?${q}#wechat_redirect`;
}

export async function oauthOpenid(config: ChannelConfig, code: string): Promise<WechatIdentity> {
  const { appid, secret } = appFor(config, 'mp');
  const base = (config.params.oauthBaseUrl || DEFAULT_OAUTH_BASE_URL).replace(/\/+$/, '');
  const q = new URLSearchParams({ appid, secret, code, grant_type: 'authorization_code' });
  const b = await getJson(`${base}/sns/oauth2/access_token?${q}`);
  if (typeof b.openid !== 'string' || !b.openid) throw new ChannelError('protocol', 'oauth2/access_token answer has no openid');
  return { wxAppId: appid, openid: b.openid };
}

export function allowedReturnHosts(config: ChannelConfig): string[] {
  return (config.params.oauthReturnHosts ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
}
