import type { ConfigField } from '../types.ts';
import { misconfigured, optionalIdent, requiredIdent } from './config.ts';
import type { WechatWay } from './mapping.ts';

/**
 * Service-provider (服务商) mode on the `wxpay` channel (seed 003, protocols.md §A.2 / §B.1). The
 * provider's fields (mchId = sp_mchid, appId = sp_appid, its keys and certificates) live in the
 * provider's configuration (isv_channel_configs); a sub-merchant app's own configuration adds
 * subMchId and, depending on the business scenario, its own appids. The effective configuration
 * is the two laid over each other (services/tenancy.ts), so a config with subMchId is a partner one.
 *
 * The scenario decides which WeChat app the payer is in — the appid the front end must call
 * wx.requestPayment / getBrandWCPayRequest with, and that the paySign covers — and so which
 * openid the order carries:
 *   central    中心化: the provider's own app → sp_appid, payer.sp_openid
 *   outsourced 外包:   the sub-merchant's app, developed by the provider → sub_appid, payer.sub_openid
 *   component  第三方: the sub-merchant's app, developed through an open-platform third party;
 *                      the mini-program login goes through the third party (component) → sub_appid, sub_openid
 */

export type SpScenario = 'central' | 'outsourced' | 'component';
export const SP_SCENARIOS: readonly SpScenario[] = ['central', 'outsourced', 'component'];
export type ProviderType = 'normal' | 'bank';
export const PROVIDER_TYPES: readonly ProviderType[] = ['normal', 'bank'];

export const wechatSpConfigFields: readonly ConfigField[] = [
  { name: 'providerType', label: '服务商类型', secret: false, required: false, description: "Service provider only: normal (普通服务商, default) or bank (银行服务商). Set on the provider's configuration.", options: PROVIDER_TYPES },
  { name: 'channelId', label: '渠道号 channel_id', secret: false, required: false, description: 'Bank service provider, API v2: the 渠道号 sent as channel_id on unifiedorder and micropay.' },
  { name: 'subMchId', label: '特约商户号 sub_mchid', secret: false, required: false, description: "Sub-merchant of a service provider: its sub_mchid. Its presence makes the configuration a partner (服务商) one.", requiredForSubMerchant: true },
  { name: 'spScenario', label: '业务场景', secret: false, required: false, description: 'Sub-merchant: central (中心化, provider appid + sp_openid, default), outsourced (外包, sub-merchant appid + sub_openid) or component (第三方, sub-merchant appid through an open-platform third party).', options: SP_SCENARIOS },
  { name: 'subMchAppId', label: '特约商户 AppID sub_appid', secret: false, required: false, description: "Sub-merchant's own official-account (or mobile-app) appid, sent as sub_appid in the outsourced and component scenarios." },
  { name: 'subMchLiteAppId', label: '特约商户小程序 AppID', secret: false, required: false, description: "Sub-merchant's own mini-program appid: sub_appid for WX_LITE (falls back to subMchAppId)." },
  { name: 'componentAppId', label: '第三方平台 component_appid', secret: false, required: false, description: 'Component scenario: the open-platform third party that develops the sub-merchant mini program; payer login runs through it.' },
  { name: 'componentAppSecret', label: '第三方平台 component_appsecret', secret: true, required: false, description: "Component scenario: the third party's appsecret." },
  { name: 'componentVerifyTicket', label: 'component_verify_ticket', secret: true, required: false, description: 'Component scenario: the latest verify ticket WeChat pushed to the third party (fetching component_access_token needs it).' },
];

export interface WechatSpConfig {
  providerType: ProviderType;
  /** Bank providers, API v2. */
  channelId: string | undefined;
  subMchId: string;
  scenario: SpScenario;
  subAppId: string | undefined;
  subLiteAppId: string | undefined;
}

/** undefined for a direct merchant; throws misconfigured for an inconsistent partner configuration. */
export function parseSpConfig(params: Record<string, string>): WechatSpConfig | undefined {
  const typeRaw = params.providerType?.trim() || undefined;
  if (typeRaw !== undefined && !(PROVIDER_TYPES as readonly string[]).includes(typeRaw)) throw misconfigured('providerType', `must be one of ${PROVIDER_TYPES.join(', ')}`);
  const subMchId = optionalIdent(params, 'subMchId');
  if (subMchId === undefined) {
    // A provider's own configuration takes no payments: payments are always for a sub-merchant.
    if (typeRaw !== undefined) throw misconfigured('subMchId', "is required: a service provider's configuration pays only for a sub-merchant app");
    return undefined;
  }
  if (!/^[0-9]+$/.test(subMchId)) throw misconfigured('subMchId', 'must be digits');
  const scenarioRaw = params.spScenario?.trim() || 'central';
  if (!(SP_SCENARIOS as readonly string[]).includes(scenarioRaw)) throw misconfigured('spScenario', `must be one of ${SP_SCENARIOS.join(', ')}`);
  const scenario = scenarioRaw as SpScenario;
  const subAppId = optionalIdent(params, 'subMchAppId');
  const subLiteAppId = optionalIdent(params, 'subMchLiteAppId');
  if (scenario !== 'central' && subAppId === undefined && subLiteAppId === undefined) throw misconfigured('subMchAppId', `(or subMchLiteAppId) is required in the ${scenario} scenario: the payer pays in the sub-merchant's app`);
  if (scenario === 'component') requiredIdent(params, 'componentAppId');
  const providerType = (typeRaw ?? 'normal') as ProviderType;
  const channelId = optionalIdent(params, 'channelId');
  if (channelId !== undefined && !/^[0-9]+$/.test(channelId)) throw misconfigured('channelId', 'must be digits');
  return { providerType, channelId, subMchId, scenario, subAppId, subLiteAppId };
}

/** sub_appid for a way, or undefined in the central scenario (the payer is in the provider's app). */
export function subAppIdForWay(way: WechatWay | 'WX_BAR', sp: WechatSpConfig): string | undefined {
  if (sp.scenario === 'central') return undefined;
  return way === 'WX_LITE' ? (sp.subLiteAppId ?? sp.subAppId) : (sp.subAppId ?? sp.subLiteAppId);
}

/** Every sub appid of the sub-merchant (what a callback's sub_appid may name). */
export function configuredSubAppIds(sp: WechatSpConfig): string[] {
  return [sp.subAppId, sp.subLiteAppId].filter((v): v is string => v !== undefined);
}
