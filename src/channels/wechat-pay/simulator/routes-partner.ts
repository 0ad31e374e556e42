import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NonceCache } from './auth.ts';
import { AUTH_CODE_RE, barPay, reverseOrder } from './barcodes.ts';
import type { SimContext } from './context.ts';
import { SimError, errors } from './errors.ts';
import { canonicalJson } from './ids.ts';
import { booksOf, boundSubMerchant, checkOpenid, checkPartnerAppids, ownPartnerOrder, partnerView, type PartnerParties } from './partners.ts';
import { wx } from './routes-v3.ts';
import { BAR_REFUSALS } from './routes-v3-bar.ts';
import { closeOrder, findOrder, findOrderByTransactionId, prepareOrder, transactionView, type PrepayAnswer } from './transactions.ts';
import type { MerchantRecord, OrderRecord, PrepayEndpoint } from './types.ts';
import { OUT_TRADE_NO_RE, obj, parseJsonObject, positiveInt, str, validatePrepay } from './validate.ts';

/**
 * The v3 partner (服务商) surface: /v3/pay/partner/transactions/… (protocols.md §A.2). The caller
 * authenticates as the provider (Authorization mchid = sp_mchid); the body or query names the
 * sub-merchant. Answers use the partner shape: sp_appid, sp_mchid, sub_appid, sub_mchid and
 * payer{sp_openid, sub_openid}.
 */

type Json = Record<string, unknown>;

function spMchid(value: unknown, provider: MerchantRecord, location: 'body' | 'query'): void {
  if (typeof value !== 'string' || value === '') throw errors.param(location === 'body' ? '/sp_mchid' : 'sp_mchid', '缺少必填字段', location);
  if (value !== provider.mchid) throw errors.param(location === 'body' ? '/sp_mchid' : 'sp_mchid', '与请求头Authorization中的商户号不一致', location, value);
}

/** sp_mchid / sub_mchid / sp_appid / sub_appid of a body, with every binding checked. */
function parties(ctx: SimContext, provider: MerchantRecord, body: Json): PartnerParties {
  const spAppid = str(body, 'sp_appid', '/sp_appid', { required: true, max: 32 }) as string;
  spMchid(body.sp_mchid, provider, 'body');
  const subMchid = str(body, 'sub_mchid', '/sub_mchid', { required: true, max: 32 }) as string;
  const subAppid = str(body, 'sub_appid', '/sub_appid', { required: false, max: 32 });
  return checkPartnerAppids(ctx, provider, subMchid, spAppid, subAppid);
}

/** The payer of a JSAPI partner order: sp_openid (under sp_appid) or sub_openid (under sub_appid). */
function payerOpenid(ctx: SimContext, body: Json, p: PartnerParties): { openid: string; kind: 'sp' | 'sub' } {
  const payer = obj(body, 'payer', '/payer', true) as Json;
  const sp = str(payer, 'sp_openid', '/payer/sp_openid', { required: false, max: 128 });
  const sub = str(payer, 'sub_openid', '/payer/sub_openid', { required: false, max: 128 });
  if ((sp === undefined) === (sub === undefined)) throw errors.param('/payer', 'sp_openid和sub_openid须二选一');
  if (sub !== undefined) {
    if (p.info.sub_appid === undefined) throw errors.param('/sub_appid', '传入sub_openid时sub_appid必填');
    checkOpenid(ctx, sub, p.info.sub_appid, ['sub_openid', 'sub_appid']);
    return { openid: sub, kind: 'sub' };
  }
  checkOpenid(ctx, sp as string, p.info.sp_appid, ['sp_openid', 'sp_appid']);
  return { openid: sp as string, kind: 'sp' };
}

function prepayPartner(ctx: SimContext, provider: MerchantRecord, endpoint: PrepayEndpoint, body: Json): PrepayAnswer {
  const p = parties(ctx, provider, body);
  const payer = endpoint === 'jsapi' ? payerOpenid(ctx, body, p) : undefined;
  // The direct validator checks the rest of the body (description, amount, notify_url, scene_info…).
  const { sp_appid: _a, sp_mchid: _m, sub_appid: _sa, sub_mchid: _sm, payer: _p, ...rest } = body;
  const direct = { ...rest, appid: p.info.sp_appid, mchid: provider.mchid, ...(payer ? { payer: { openid: payer.openid } } : {}) };
  const input = { ...validatePrepay(endpoint, direct, provider, ctx.now()), partner: p.info, ...(payer ? { openid_kind: payer.kind } : {}) };
  const order = prepareOrder(ctx, booksOf(provider, p.sub), endpoint, input, canonicalJson({ endpoint, partner: body }), { api: 'v3' });
  if (order.trade_type === 'NATIVE') return { code_url: order.code_url as string };
  if (order.trade_type === 'MWEB') return { h5_url: `${ctx.baseUrl}${order.h5_path as string}` };
  return { prepay_id: order.prepay_id };
}

function queryParties(ctx: SimContext, req: FastifyRequest, provider: MerchantRecord): string {
  const q = req.query as Record<string, unknown>;
  spMchid(q.sp_mchid, provider, 'query');
  if (typeof q.sub_mchid !== 'string' || q.sub_mchid === '') throw errors.param('sub_mchid', '缺少必填参数', 'query');
  return boundSubMerchant(ctx, provider, q.sub_mchid).sub_mchid;
}

const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? '';

export function registerV3PartnerRoutes(app: FastifyInstance, ctx: SimContext, nonces: NonceCache): void {
  for (const endpoint of ['native', 'jsapi', 'app', 'h5'] as PrepayEndpoint[]) {
    app.post(`/v3/pay/partner/transactions/${endpoint}`, wx(ctx, nonces, (_req, provider, raw) => ({ status: 200, body: prepayPartner(ctx, provider, endpoint, parseJsonObject(raw)) })));
  }

  const view = (o: OrderRecord, provider: MerchantRecord) => partnerView(ctx, ownPartnerOrder(o, provider), transactionView(o));
  app.get(
    '/v3/pay/partner/transactions/out-trade-no/:out_trade_no',
    wx(ctx, nonces, (req, provider) => {
      const sub = queryParties(ctx, req, provider);
      const no = param(req, 'out_trade_no');
      if (!OUT_TRADE_NO_RE.test(no)) throw errors.param('out_trade_no', '格式错误', 'uri_template', no);
      return { status: 200, body: view(findOrder(ctx, sub, no), provider) };
    }),
  );
  app.get(
    '/v3/pay/partner/transactions/id/:transaction_id',
    wx(ctx, nonces, (req, provider) => ({ status: 200, body: view(findOrderByTransactionId(ctx, queryParties(ctx, req, provider), param(req, 'transaction_id')), provider) })),
  );
  app.post(
    '/v3/pay/partner/transactions/out-trade-no/:out_trade_no/close',
    wx(ctx, nonces, (req, provider, raw) => {
      const body = parseJsonObject(raw);
      spMchid(body.sp_mchid, provider, 'body');
      const subMchid = str(body, 'sub_mchid', '/sub_mchid', { required: true, max: 32 }) as string;
      const o = findOrder(ctx, boundSubMerchant(ctx, provider, subMchid).sub_mchid, param(req, 'out_trade_no'));
      closeOrder(ctx, ownPartnerOrder(o, provider));
      return { status: 204 };
    }),
  );

  // 付款码 for a sub-merchant; the same magic payment codes as the direct codepay (barcodes.ts).
  app.post(
    '/v3/pay/partner/transactions/codepay',
    wx(ctx, nonces, (_req, provider, raw) => {
      const body = parseJsonObject(raw);
      const p = parties(ctx, provider, body);
      const description = str(body, 'description', '/description', { required: true, max: 127 }) as string;
      const outTradeNo = str(body, 'out_trade_no', '/out_trade_no', { required: true, max: 32 }) as string;
      if (!OUT_TRADE_NO_RE.test(outTradeNo)) throw errors.param('/out_trade_no', '须为6-32位数字、大小写字母或_-|*', 'body', outTradeNo);
      const authCode = str(obj(body, 'payer', '/payer', true) as Json, 'auth_code', '/payer/auth_code', { required: true, max: 128 }) as string;
      const amount = obj(body, 'amount', '/amount', true) as Json;
      const total = positiveInt(amount, 'total', '/amount/total');
      if (amount.currency !== undefined && amount.currency !== 'CNY') throw errors.param('/amount/currency', '境内商户仅支持CNY', 'body', amount.currency);
      obj(body, 'scene_info', '/scene_info', true);
      if (!AUTH_CODE_RE.test(authCode)) throw new SimError(400, 'AUTH_CODE_INVALID', '付款码无效，请重新扫码');
      const answer = barPay(ctx, booksOf(provider, p.sub), { appid: p.info.sp_appid, description, out_trade_no: outTradeNo, amount_total: total, auth_code: authCode, fingerprint: canonicalJson({ codepay: body }), partner: p.info }, { api: 'v3' });
      if (answer.kind === 'paid') return { status: 200, body: view(answer.order, provider) };
      if (answer.kind === 'userpaying') return { status: 202, body: { trade_state: 'USERPAYING' } };
      throw (BAR_REFUSALS[answer.code] as () => SimError)();
    }),
  );
  app.post(
    '/v3/pay/partner/transactions/out-trade-no/:out_trade_no/reverse',
    wx(ctx, nonces, (req, provider, raw) => {
      const p = parties(ctx, provider, parseJsonObject(raw));
      reverseOrder(ctx, ownPartnerOrder(findOrder(ctx, p.sub.sub_mchid, param(req, 'out_trade_no')), provider));
      return { status: 204 };
    }),
  );
}
