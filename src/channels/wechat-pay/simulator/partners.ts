import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { digits } from './ids.ts';
import type { MerchantRecord, OrderRecord, PartnerInfo, RegisterSubMerchantInput, SubMerchantRecord, Transaction } from './types.ts';

/**
 * Service providers (服务商) and their 特约商户 (protocols.md §A.2 "Service-provider mode", seed 003).
 * A provider is a merchant account registered with a providerType; it signs every call with its
 * own key. A sub-merchant has no keys: its orders and refunds are kept in its own books (keyed by
 * sub_mchid, since out_trade_no is unique per sub-merchant) and marked with the provider that
 * placed them. What WeChat checks is modelled here: the 受理关系 (the sub-merchant is onboarded
 * under this provider), which party each appid is bound to, and which appid an openid belongs to.
 */

export function registerSubMerchant(ctx: SimContext, input: RegisterSubMerchantInput): SubMerchantRecord {
  const provider = ctx.state.merchants.get(String(input.spMchid ?? ''));
  if (!provider?.providerType) throw new SimError(400, 'INVALID_MERCHANT', `${String(input.spMchid)} is not a registered service provider (register it with providerType)`);
  if (input.subMchid !== undefined && (typeof input.subMchid !== 'string' || !/^[0-9]{6,32}$/.test(input.subMchid))) throw new SimError(400, 'INVALID_MERCHANT', 'subMchid must be 6–32 digits');
  if (input.appids !== undefined && (!Array.isArray(input.appids) || input.appids.some((a) => typeof a !== 'string' || !/^[0-9A-Za-z_]{1,32}$/.test(a)))) {
    throw new SimError(400, 'INVALID_MERCHANT', 'appids must be an array of appids');
  }
  let subMchid = input.subMchid;
  if (subMchid === undefined) do subMchid = `16${digits(8)}`; while (ctx.state.subMerchants.has(subMchid) || ctx.state.merchants.has(subMchid));
  if (ctx.state.merchants.has(subMchid)) throw new SimError(400, 'INVALID_MERCHANT', `${subMchid} is a merchant account, not a sub-merchant`);
  const existing = ctx.state.subMerchants.get(subMchid);
  if (existing && existing.sp_mchid !== provider.mchid) throw new SimError(400, 'INVALID_MERCHANT', `${subMchid} is onboarded under another provider`);
  const record: SubMerchantRecord = {
    sub_mchid: subMchid,
    sp_mchid: provider.mchid,
    appids: [...new Set([...(existing?.appids ?? []), ...(input.appids ?? [])])],
    name: input.name ?? existing?.name ?? `特约商户${subMchid}`,
    createdAt: existing?.createdAt ?? ctx.now(),
  };
  ctx.state.putSubMerchant(record);
  ctx.log.info({ sp_mchid: record.sp_mchid, sub_mchid: subMchid, appids: record.appids }, 'sandbox sub-merchant onboarded');
  return record;
}

/** The refusals, spelled like WeChat's v3 answers (their v2 spelling comes from v2-api.ts). */
export const partnerErrors = {
  notProvider: () => new SimError(403, 'NO_AUTH', '商户号不是服务商，无权调用服务商接口'),
  notBound: (sub: string) => new SimError(400, 'INVALID_REQUEST', `特约商户${sub}与服务商不存在受理关系`),
  spAppid: () => new SimError(400, 'APPID_MCHID_NOT_MATCH', 'sp_appid与sp_mchid不匹配，请检查sp_appid是否已与服务商商户号绑定'),
  subAppid: () => new SimError(400, 'APPID_MCHID_NOT_MATCH', 'sub_appid与sub_mchid不匹配，请检查sub_appid是否已与特约商户号绑定'),
  openid: (field: 'sp_openid' | 'sub_openid', appidField: 'sp_appid' | 'sub_appid') => new SimError(400, 'PARAM_ERROR', `${field}与${appidField}不匹配`),
};

/** The sub-merchant the provider acts for; refuses a sub_mchid not onboarded under it. */
export function boundSubMerchant(ctx: SimContext, provider: MerchantRecord, subMchid: string): SubMerchantRecord {
  if (!provider.providerType) throw partnerErrors.notProvider();
  const sub = ctx.state.subMerchants.get(subMchid);
  if (!sub || sub.sp_mchid !== provider.mchid) throw partnerErrors.notBound(subMchid);
  return sub;
}

/**
 * The sub-merchant's books seen as a merchant, so the shared order/refund code (keyed by mchid,
 * checking appids against `appids`) runs unchanged: its keys are the provider's, its appids the
 * ones a partner request may name as `appid` — the provider's (v2's appid is the provider's).
 */
export function booksOf(provider: MerchantRecord, sub: SubMerchantRecord): MerchantRecord {
  return { ...provider, mchid: sub.sub_mchid };
}

/** Refunds take an optional sub_mchid: with it, the provider acts on its sub-merchant's books. */
export function refundBooks(ctx: SimContext, caller: MerchantRecord, subMchid: unknown): MerchantRecord {
  if (subMchid === undefined) return caller;
  if (typeof subMchid !== 'string' || subMchid === '') throw new SimError(400, 'PARAM_ERROR', '参数错误：sub_mchid格式错误');
  return booksOf(caller, boundSubMerchant(ctx, caller, subMchid));
}

export interface PartnerParties {
  provider: MerchantRecord;
  sub: SubMerchantRecord;
  info: PartnerInfo;
}

/** Checks sp_appid / sub_appid bindings (the appids of a partner request, v2 or v3). */
export function checkPartnerAppids(ctx: SimContext, provider: MerchantRecord, subMchid: string, spAppid: string, subAppid: string | undefined): PartnerParties {
  const sub = boundSubMerchant(ctx, provider, subMchid);
  if (!provider.appids.includes(spAppid)) throw partnerErrors.spAppid();
  if (subAppid !== undefined && !sub.appids.includes(subAppid)) throw partnerErrors.subAppid();
  return { provider, sub, info: { sp_mchid: provider.mchid, sp_appid: spAppid, ...(subAppid !== undefined ? { sub_appid: subAppid } : {}) } };
}

/**
 * An openid is only meaningful with the appid it was issued for. One the sandbox's login side
 * issued for another appid is refused; one it never issued (typed by hand) is taken as given.
 */
export function checkOpenid(ctx: SimContext, openid: string, appid: string, fields: ['sp_openid' | 'sub_openid', 'sp_appid' | 'sub_appid']): void {
  const owner = ctx.open.owner(openid);
  if (owner && owner.appid !== appid) throw partnerErrors.openid(fields[0], fields[1]);
}

/** The payer's openids under sp_appid and sub_appid, as WeChat reports them on a paid partner order. */
export function partnerPayer(ctx: SimContext, o: OrderRecord): { sp_openid?: string; sub_openid?: string } | undefined {
  const p = o.partner;
  if (!p || o.payer_openid === undefined) return undefined;
  const owner = ctx.open.owner(o.payer_openid);
  if (!owner) return o.payer_openid_kind === 'sub' ? { sub_openid: o.payer_openid } : { sp_openid: o.payer_openid };
  return {
    sp_openid: ctx.open.openid(p.sp_appid, owner.user),
    ...(p.sub_appid !== undefined ? { sub_openid: ctx.open.openid(p.sub_appid, owner.user) } : {}),
  };
}

/** The partner shape of payments.Transaction: sp_/sub_ identifiers instead of appid/mchid. */
export function partnerView(ctx: SimContext, o: OrderRecord, direct: Transaction): Record<string, unknown> {
  const p = o.partner as PartnerInfo;
  const { appid: _a, mchid: _m, payer: _p, ...rest } = direct;
  const payer = partnerPayer(ctx, o);
  return {
    sp_appid: p.sp_appid,
    sp_mchid: p.sp_mchid,
    ...(p.sub_appid !== undefined ? { sub_appid: p.sub_appid } : {}),
    sub_mchid: o.mchid,
    ...rest,
    ...(payer ? { payer } : {}),
  };
}

/** A partner order is only visible to the provider that placed it, under the sub_mchid it named. */
export function ownPartnerOrder(o: OrderRecord, provider: MerchantRecord): OrderRecord {
  if (o.partner?.sp_mchid !== provider.mchid) throw new SimError(404, 'ORDER_NOT_EXIST', '订单不存在');
  return o;
}
