import type { SimContext } from './context.ts';
import { booksOf, partnerPayer } from './partners.ts';
import type { MerchantRecord, OrderRecord, PartnerInfo, SubMerchantRecord } from './types.ts';
import { V2Error } from './v2-api.ts';

/**
 * API v2 in service-provider mode (protocols.md §B.1: sub_appid, sub_mch_id, sub_openid on the
 * same endpoints): mch_id / appid / the API key and certificate are the provider's, sub_mch_id
 * names the 特约商户. The v2 spellings of the refusals partners.ts models for v3.
 */

type Fields = Record<string, string>;

export interface V2Partner {
  /** The provider: signs the answer, owns the key. */
  signer: MerchantRecord;
  /** The sub-merchant's books, under which orders and refunds are kept. */
  books: MerchantRecord;
  sub: SubMerchantRecord;
  subAppid: string | undefined;
}

/** undefined for a direct-merchant call (no sub_mch_id); otherwise the checked parties. */
export function v2Partner(ctx: SimContext, provider: MerchantRecord, fields: Fields): V2Partner | undefined {
  const subMchid = fields.sub_mch_id;
  if (subMchid === undefined || subMchid === '') {
    if (fields.sub_appid) throw new V2Error('LACK_PARAMS', '缺少参数sub_mch_id');
    return undefined;
  }
  if (!provider.providerType) throw new V2Error('NOAUTH', '商户号不是服务商，不能传sub_mch_id');
  const sub = ctx.state.subMerchants.get(subMchid);
  if (!sub || sub.sp_mchid !== provider.mchid) throw new V2Error('PARAM_ERROR', 'sub_mch_id与mch_id不匹配（不存在受理关系）');
  const subAppid = fields.sub_appid || undefined;
  if (subAppid !== undefined && !sub.appids.includes(subAppid)) throw new V2Error('PARAM_ERROR', 'sub_appid和sub_mch_id不匹配');
  // 银行服务商 (assumption, docs/sandbox/wechat-pay.md): orders carry the bank's 渠道号 as channel_id.
  if (provider.providerType === 'bank' && provider.channelId !== undefined && fields.channel_id !== provider.channelId) {
    throw new V2Error(fields.channel_id ? 'PARAM_ERROR' : 'LACK_PARAMS', fields.channel_id ? 'channel_id与银行服务商不匹配' : '缺少参数channel_id');
  }
  return { signer: provider, books: booksOf(provider, sub), sub, subAppid };
}

export function v2PartnerInfo(p: V2Partner, appid: string): PartnerInfo {
  return { sp_mchid: p.signer.mchid, sp_appid: appid, ...(p.subAppid !== undefined ? { sub_appid: p.subAppid } : {}) };
}

/** JSAPI payer of a partner unifiedorder: openid (under appid) or sub_openid (under sub_appid). */
export function v2PartnerOpenid(ctx: SimContext, p: V2Partner, fields: Fields): { openid: string; kind: 'sp' | 'sub' } {
  const { openid, sub_openid: subOpenid } = fields;
  if (!openid === !subOpenid) throw new V2Error(openid ? 'PARAM_ERROR' : 'LACK_PARAMS', 'openid和sub_openid须二选一');
  if (subOpenid) {
    if (p.subAppid === undefined) throw new V2Error('LACK_PARAMS', '传sub_openid时须传sub_appid');
    const owner = ctx.open.owner(subOpenid);
    if (owner && owner.appid !== p.subAppid) throw new V2Error('PARAM_ERROR', 'sub_openid和sub_appid不匹配');
    return { openid: subOpenid, kind: 'sub' };
  }
  const owner = ctx.open.owner(openid as string);
  if (owner && owner.appid !== fields.appid) throw new V2Error('PARAM_ERROR', 'appid和openid不匹配');
  return { openid: openid as string, kind: 'sp' };
}

/** The partner fields every signed v2 answer echoes. */
export function v2PartnerEcho(p: V2Partner | undefined): Fields {
  if (!p) return {};
  return { sub_mch_id: p.sub.sub_mchid, ...(p.subAppid !== undefined ? { sub_appid: p.subAppid } : {}) };
}

/** A partner order's payer in a v2 trade answer: openid under appid, sub_openid under sub_appid. */
export function v2PartnerTradeFields(ctx: SimContext, o: OrderRecord): Fields {
  const payer = o.partner ? partnerPayer(ctx, o) : undefined;
  if (!payer) return {};
  const f: Fields = {};
  if (payer.sp_openid) f.openid = payer.sp_openid;
  if (payer.sub_openid) f.sub_openid = payer.sub_openid;
  return f;
}
