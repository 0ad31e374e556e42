import { ChannelError, type Logger } from '../types.ts';
import { answerError, type AlipayClient } from './client.ts';
import type { AlipayConfig } from './config.ts';
import { BUYER_OPEN_ID, BUYER_USER_ID } from './mapping.ts';

/**
 * Who the buyer is, in Alipay's terms (用户信息授权): the id ALI_JSAPI / ALI_LITE need as
 * buyer_id or buyer_open_id. 生活号 H5 pages get an auth_code from the silent web authorisation
 * (publicAppAuthorize.htm, scope auth_base), mini programs from my.getAuthCode; both are
 * exchanged with alipay.system.oauth.token. In ISV mode the buyer authorises the sub-merchant's
 * app and the provider exchanges the code with that merchant's app_auth_token.
 */

/** The Alipay app a buyer id belongs to: open_ids differ per app. */
export function buyerAppId(config: AlipayConfig): string {
  return config.isv?.authAppId ?? config.appId;
}

/** `https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=…&scope=auth_base&redirect_uri=…&state=…` */
export function publicAppAuthorizeUrl(config: AlipayConfig, redirectUri: string, state: string): string {
  const q = new URLSearchParams({ app_id: buyerAppId(config), scope: 'auth_base', redirect_uri: redirectUri, state });
  return `${config.openAuthUrl}/oauth2/publicAppAuthorize.htm?${q}`;
}

/**
 * auth_code → the buyer. Apps created after 2023 receive open_id, older ones user_id — either is
 * returned, never a missing one as "undefined" (Jeepay #123). An invalid or reused code is a
 * 'rejected' ChannelError (isv.code-invalid).
 */
export async function lookupBuyer(client: AlipayClient, authCode: string, log?: Logger): Promise<({ buyerUserId: string } | { buyerOpenId: string }) & { alipayAppId: string }> {
  const method = 'alipay.system.oauth.token';
  const a = await client.call(method, undefined, log, { params: { grant_type: 'authorization_code', code: authCode } });
  if (a.code !== '10000') throw answerError(method, a);
  const alipayAppId = buyerAppId(client.config);
  const userId = a.data.user_id;
  const openId = a.data.open_id;
  if (typeof userId === 'string' && BUYER_USER_ID.test(userId)) return { buyerUserId: userId, alipayAppId };
  if (typeof openId === 'string' && BUYER_OPEN_ID.test(openId)) return { buyerOpenId: openId, alipayAppId };
  throw new ChannelError('protocol', 'alipay: oauth answer carries neither user_id nor open_id');
}
