import { ChannelError } from '../types.ts';
import { configuredAppIds, type WechatPayConfig } from './config.ts';
import type { PrepayRequest, WechatWay } from './mapping.ts';
import { configuredSubAppIds, subAppIdForWay, type WechatSpConfig } from './sp-config.ts';

/**
 * API v3 in service-provider mode (protocols.md §A.2): the same operations under
 * /v3/pay/partner/transactions/…, with sp_appid / sp_mchid / sub_appid / sub_mchid instead of
 * appid / mchid and payer.sp_openid or payer.sub_openid instead of payer.openid. Requests are
 * signed with the provider's key and serial (the client's config is the provider's).
 */

const enc = encodeURIComponent;

/** The partner form of a direct prepay request; `appId` becomes the appid the payer's front end uses. */
export function toPartnerPrepay(way: WechatWay, sp: WechatSpConfig, req: PrepayRequest): PrepayRequest {
  const { appid, mchid, payer, ...rest } = req.body;
  const subAppId = subAppIdForWay(way, sp);
  const body: Record<string, unknown> = { sp_appid: appid, sp_mchid: mchid, ...(subAppId !== undefined && { sub_appid: subAppId }), sub_mchid: sp.subMchId, ...rest };
  if (payer !== undefined) {
    const openid = (payer as { openid: string }).openid;
    // 中心化: the openid is the payer's in the provider's app; otherwise in the sub-merchant's.
    body.payer = subAppId === undefined ? { sp_openid: openid } : { sub_openid: openid };
  }
  return { path: req.path.replace('/v3/pay/transactions/', '/v3/pay/partner/transactions/'), appId: subAppId ?? req.appId, body };
}

export function partnerQueryPath(config: WechatPayConfig, sp: WechatSpConfig, outTradeNo: string): string {
  return `/v3/pay/partner/transactions/out-trade-no/${enc(outTradeNo)}?sp_mchid=${enc(config.mchId)}&sub_mchid=${enc(sp.subMchId)}`;
}

export function partnerClose(config: WechatPayConfig, sp: WechatSpConfig, outTradeNo: string): { path: string; body: Record<string, unknown> } {
  return { path: `/v3/pay/partner/transactions/out-trade-no/${enc(outTradeNo)}/close`, body: { sp_mchid: config.mchId, sub_mchid: sp.subMchId } };
}

/** sp_appid / sp_mchid / sub_appid / sub_mchid of a 付款码 or 撤销 body. */
export function partnerParties(config: WechatPayConfig, sp: WechatSpConfig): Record<string, string> {
  const subAppId = subAppIdForWay('WX_BAR', sp);
  return { sp_appid: config.appId, sp_mchid: config.mchId, ...(subAppId !== undefined && { sub_appid: subAppId }), sub_mchid: sp.subMchId };
}

function mismatch(what: string, got: unknown, want: string): ChannelError {
  return new ChannelError('mismatch', `wxpay: answer names ${what} ${String(got)}, configured ${want}`);
}

/**
 * A verified partner answer or callback must name this provider and this sub-merchant, and appids
 * bound to them: a notification for another sub-merchant of the same provider (same keys!) must
 * not move this app's orders. Callbacks require the identifiers; answers are checked when present.
 */
export function checkPartnerOwner(obj: Record<string, unknown>, config: WechatPayConfig, sp: WechatSpConfig, opts: { require: boolean; appIds: boolean }): void {
  if (obj.sp_mchid !== undefined || opts.require) {
    if (obj.sp_mchid !== config.mchId) throw mismatch('sp_mchid', obj.sp_mchid, config.mchId);
  }
  if (obj.sub_mchid !== undefined || opts.require) {
    if (obj.sub_mchid !== sp.subMchId) throw mismatch('sub_mchid', obj.sub_mchid, sp.subMchId);
  }
  if (obj.mchid !== undefined) throw new ChannelError('mismatch', 'wxpay: a direct-merchant document arrived for a service-provider configuration');
  if (!opts.appIds) return;
  if (obj.sp_appid !== undefined || opts.require) {
    if (typeof obj.sp_appid !== 'string' || !configuredAppIds(config).includes(obj.sp_appid)) throw mismatch('sp_appid', obj.sp_appid, "one of the provider's appids");
  }
  if (obj.sub_appid !== undefined && obj.sub_appid !== '' && !configuredSubAppIds(sp).includes(String(obj.sub_appid))) throw mismatch('sub_appid', obj.sub_appid, "one of the sub-merchant's appids");
}
