import { isIP } from 'node:net';
import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { canonicalJson, cstDateTime, cstDigits } from './ids.ts';
import { createRefund } from './refunds.ts';
import { closeOrder, prepareOrder } from './transactions.ts';
import type { ApiDialect, MerchantRecord, OrderRecord, PrepayEndpoint, RefundRecord, RefundStatus } from './types.ts';
import type { PrepayInput } from './validate.ts';
import { v2PartnerInfo, v2PartnerOpenid, type V2Partner } from './v2-partner.ts';

/**
 * The business half of the API v2 surface (protocols.md §B.3): each function takes the verified
 * request fields and returns the answer's business fields, or throws V2Error (result_code FAIL).
 * Orders and refunds live in the same books as v3's, so one merchant can use both APIs.
 */

type Fields = Record<string, string>;

export class V2Error extends Error {
  constructor(
    readonly errCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'V2Error';
  }
}

/** v3-shaped refusals of the shared domain code, in their v2 spelling. */
const V2_CODES: Record<string, string> = {
  ORDER_NOT_EXIST: 'ORDERNOTEXIST',
  ORDER_CLOSED: 'ORDERCLOSED',
  NOT_ENOUGH: 'NOTENOUGH',
  SYSTEM_ERROR: 'SYSTEMERROR',
  PARAM_ERROR: 'PARAM_ERROR',
};

export function v2ErrorOf(err: unknown): V2Error | undefined {
  if (err instanceof V2Error) return err;
  if (err instanceof SimError) return new V2Error(V2_CODES[err.code] ?? err.code, err.message);
  return undefined;
}

const OUT_TRADE_NO_RE = /^[0-9A-Za-z_\-|*@]{1,32}$/;
const TRADE_TYPES: Record<string, PrepayEndpoint> = { NATIVE: 'native', JSAPI: 'jsapi', APP: 'app', MWEB: 'h5' };

export function need(fields: Fields, ...names: string[]): void {
  const missing = names.filter((n) => fields[n] === undefined || fields[n] === '');
  if (missing.length > 0) throw new V2Error('LACK_PARAMS', `缺少参数${missing.join(',')}`);
}

export function fen(fields: Fields, name: string): number {
  const v = fields[name] ?? '';
  if (!/^[1-9][0-9]{0,11}$/.test(v)) throw new V2Error('PARAM_ERROR', `${name}须为正整数（单位：分）`);
  return Number(v);
}

/** yyyyMMddHHmmss, China time. */
export function parseCstTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - 8 * 3600 * 1000;
  return Number.isNaN(ms) ? undefined : ms;
}

export function requireBoundAppid(merchant: MerchantRecord, appid: string | undefined): string {
  if (!appid) throw new V2Error('LACK_PARAMS', '缺少参数appid');
  if (!merchant.appids.includes(appid)) throw new V2Error('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
  return appid;
}

function notifyUrl(fields: Fields): string {
  const v = fields.notify_url ?? '';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new V2Error('PARAM_ERROR', 'notify_url不是合法的URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new V2Error('PARAM_ERROR', 'notify_url须为http(s)地址');
  if (v.includes('?')) throw new V2Error('PARAM_ERROR', 'notify_url不能携带参数');
  return v;
}

/** unifiedorder: checks, then the order shared with v3 (same prepay_id on an identical repeat). */
export function unifiedOrder(ctx: SimContext, merchant: MerchantRecord, fields: Fields, dialect: ApiDialect, partner?: V2Partner): Fields {
  need(fields, 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type');
  const endpoint = TRADE_TYPES[fields.trade_type as string];
  if (!endpoint) throw new V2Error('PARAM_ERROR', 'trade_type须为JSAPI、NATIVE、APP或MWEB');
  if (endpoint === 'jsapi' && !partner) need(fields, 'openid');
  if (endpoint === 'native') need(fields, 'product_id');
  if (endpoint === 'h5') need(fields, 'scene_info');
  const outTradeNo = fields.out_trade_no as string;
  if (!OUT_TRADE_NO_RE.test(outTradeNo)) throw new V2Error('PARAM_ERROR', 'out_trade_no须为32位以内数字、字母或_-|*@');
  if ([...(fields.body as string)].length > 128) throw new V2Error('PARAM_ERROR', 'body不能超过128个字符');
  if (fields.fee_type !== undefined && fields.fee_type !== 'CNY') throw new V2Error('PARAM_ERROR', 'fee_type仅支持CNY');
  if (isIP(fields.spbill_create_ip as string) === 0) throw new V2Error('PARAM_ERROR', 'spbill_create_ip不是合法的IP地址');
  let timeExpire: number | undefined;
  if (fields.time_expire) {
    timeExpire = parseCstTime(fields.time_expire);
    if (timeExpire === undefined) throw new V2Error('PARAM_ERROR', 'time_expire须为yyyyMMddHHmmss');
    if (timeExpire <= ctx.now()) throw new V2Error('PARAM_ERROR', 'time_expire不能早于当前时间');
  }
  const appid = requireBoundAppid(merchant, fields.appid);
  const payer = endpoint === 'jsapi' && partner ? v2PartnerOpenid(ctx, partner, fields) : undefined;
  const input: PrepayInput = {
    appid,
    description: fields.body as string,
    out_trade_no: outTradeNo,
    time_expire: timeExpire,
    attach: fields.attach,
    notify_url: notifyUrl(fields),
    amount_total: fen(fields, 'total_fee'),
    openid: endpoint === 'jsapi' ? (payer?.openid ?? fields.openid) : undefined,
    ...(partner ? { partner: v2PartnerInfo(partner, appid), ...(payer ? { openid_kind: payer.kind } : {}) } : {}),
  };
  const { nonce_str: _n, sign: _s, ...params } = fields;
  const order = prepareOrder(ctx, merchant, endpoint, input, canonicalJson({ v2: params }), dialect);
  const answer: Fields = { trade_type: fields.trade_type as string, prepay_id: order.prepay_id };
  if (order.code_url) answer.code_url = order.code_url;
  if (order.h5_path) answer.mweb_url = `${ctx.baseUrl}${order.h5_path}`;
  return answer;
}

export function findV2Order(ctx: SimContext, merchant: MerchantRecord, fields: Fields): OrderRecord {
  if (!fields.transaction_id && !fields.out_trade_no) throw new V2Error('LACK_PARAMS', 'transaction_id和out_trade_no须二选一');
  const o = fields.transaction_id ? ctx.state.orderByTransactionId(fields.transaction_id) : ctx.state.order(merchant.mchid, fields.out_trade_no as string);
  if (!o || o.mchid !== merchant.mchid) throw new V2Error('ORDERNOTEXIST', '此交易订单号不存在');
  return o;
}

/** The trade fields of orderquery (and of a micropay success). */
export function v2TradeFields(o: OrderRecord): Fields {
  const paid = o.transaction_id !== undefined;
  const f: Fields = {
    trade_state: o.trade_state,
    trade_state_desc: o.trade_state_desc,
    out_trade_no: o.out_trade_no,
    total_fee: String(o.amount_total),
    fee_type: o.currency,
  };
  if (o.attach !== undefined) f.attach = o.attach;
  if (paid) {
    Object.assign(f, { transaction_id: o.transaction_id as string, trade_type: o.trade_type, bank_type: 'OTHERS', is_subscribe: 'N', cash_fee: String(o.amount_total) });
    if (o.payer_openid) f.openid = o.payer_openid;
    if (o.success_time !== undefined) f.time_end = cstDigits(o.success_time);
  }
  return f;
}

export function closeV2Order(ctx: SimContext, merchant: MerchantRecord, fields: Fields): Fields {
  need(fields, 'out_trade_no');
  const o = findV2Order(ctx, merchant, { out_trade_no: fields.out_trade_no as string });
  if (o.trade_state === 'CLOSED') throw new V2Error('ORDERCLOSED', '订单已关闭');
  closeOrder(ctx, o);
  return {};
}

export function refundV2(ctx: SimContext, merchant: MerchantRecord, fields: Fields, dialect: ApiDialect): Fields {
  need(fields, 'out_refund_no', 'total_fee', 'refund_fee');
  if (!fields.transaction_id && !fields.out_trade_no) throw new V2Error('LACK_PARAMS', 'transaction_id和out_trade_no须二选一');
  if (fields.refund_fee_type !== undefined && fields.refund_fee_type !== 'CNY') throw new V2Error('PARAM_ERROR', 'refund_fee_type仅支持CNY');
  const body: Record<string, unknown> = {
    ...(fields.transaction_id ? { transaction_id: fields.transaction_id } : { out_trade_no: fields.out_trade_no }),
    out_refund_no: fields.out_refund_no,
    ...(fields.refund_desc ? { reason: fields.refund_desc } : {}),
    ...(fields.notify_url ? { notify_url: notifyUrl(fields) } : {}),
    amount: { refund: fen(fields, 'refund_fee'), total: fen(fields, 'total_fee'), currency: 'CNY' },
  };
  let view;
  try {
    view = createRefund(ctx, merchant, body, dialect);
  } catch (err) {
    if (err instanceof SimError && err.code === 'RESOURCE_NOT_EXISTS') throw new V2Error('ORDERNOTEXIST', '订单不存在');
    throw err;
  }
  return {
    transaction_id: view.transaction_id,
    out_trade_no: view.out_trade_no,
    out_refund_no: view.out_refund_no,
    refund_id: view.refund_id,
    refund_fee: String(view.amount.refund),
    settlement_refund_fee: String(view.amount.refund),
    total_fee: String(view.amount.total),
    settlement_total_fee: String(view.amount.total),
    fee_type: 'CNY',
    cash_fee: String(view.amount.total),
    cash_refund_fee: String(view.amount.refund),
  };
}

const V2_REFUND_STATUS: Record<RefundStatus, string> = { PROCESSING: 'PROCESSING', SUCCESS: 'SUCCESS', ABNORMAL: 'CHANGE', CLOSED: 'REFUNDCLOSE' };


export function refundQueryV2(ctx: SimContext, merchant: MerchantRecord, fields: Fields): Fields {
  let refunds: RefundRecord[];
  let order: OrderRecord | undefined;
  if (fields.out_refund_no || fields.refund_id) {
    const r = fields.out_refund_no
      ? ctx.state.refund(merchant.mchid, fields.out_refund_no)
      : [...ctx.state.allRefunds()].find((x) => x.mchid === merchant.mchid && x.refund_id === fields.refund_id);
    refunds = r ? [r] : [];
    order = r ? ctx.state.order(merchant.mchid, r.out_trade_no) : undefined;
  } else {
    if (!fields.transaction_id && !fields.out_trade_no) throw new V2Error('LACK_PARAMS', 'out_refund_no、refund_id、transaction_id、out_trade_no须四选一');
    order = findV2Order(ctx, merchant, fields);
    refunds = order.refund_nos.map((no) => ctx.state.refund(merchant.mchid, no)).filter((r): r is RefundRecord => r !== undefined);
  }
  if (refunds.length === 0 || !order) throw new V2Error('REFUNDNOTEXIST', '退款订单查询失败');
  const answer: Fields = {
    transaction_id: order.transaction_id ?? '',
    out_trade_no: order.out_trade_no,
    total_fee: String(order.amount_total),
    cash_fee: String(order.amount_total),
    refund_count: String(refunds.length),
  };
  refunds.forEach((r, n) => {
    answer[`out_refund_no_${n}`] = r.out_refund_no;
    answer[`refund_id_${n}`] = r.refund_id;
    answer[`refund_channel_${n}`] = 'ORIGINAL';
    answer[`refund_fee_${n}`] = String(r.amount_refund);
    answer[`refund_status_${n}`] = V2_REFUND_STATUS[r.status];
    answer[`refund_account_${n}`] = 'REFUND_SOURCE_UNSETTLED_FUNDS';
    answer[`refund_recv_accout_${n}`] = '支付用户零钱';
    if (r.success_time !== undefined) answer[`refund_success_time_${n}`] = cstDateTime(r.success_time);
  });
  return answer;
}
