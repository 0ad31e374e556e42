import { isIP } from 'node:net';
import { errors } from './errors.ts';
import { parseRfc3339 } from './ids.ts';
import type { MerchantRecord, PrepayEndpoint } from './types.ts';

/**
 * Body validation with WeChat's rules (protocols.md §A.2 prepay body, §A.7 refund body). Each
 * failure names the field as a JSON pointer, like WeChat's PARAM_ERROR detail does.
 */

type Json = Record<string, unknown>;

export const OUT_TRADE_NO_RE = /^[0-9A-Za-z_\-|*]{6,32}$/;
const OUT_REFUND_NO_RE = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const H5_TYPES = new Set(['iOS', 'Android', 'Wap']);

function chars(s: string): number {
  return [...s].length;
}

export function parseJsonObject(raw: string): Json {
  let value: unknown;
  try {
    value = raw === '' ? undefined : JSON.parse(raw);
  } catch {
    throw errors.param('', '请求体不是合法的JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw errors.param('', '请求体必须是JSON对象');
  return value as Json;
}

export function obj(parent: Json, name: string, path: string, required: boolean): Json | undefined {
  const v = parent[name];
  if (v === undefined || v === null) {
    if (required) throw errors.param(path, '缺少必填字段');
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.param(path, '必须是对象');
  return v as Json;
}

export function str(parent: Json, name: string, path: string, opts: { required: boolean; min?: number; max: number }): string | undefined {
  const v = parent[name];
  if (v === undefined || v === null) {
    if (opts.required) throw errors.param(path, '缺少必填字段');
    return undefined;
  }
  if (typeof v !== 'string') throw errors.param(path, '必须是字符串', 'body', v);
  const n = chars(v);
  if (n < (opts.min ?? 1) || n > opts.max) throw errors.param(path, `长度须在${opts.min ?? 1}到${opts.max}个字符之间`, 'body', v);
  return v;
}

export function positiveInt(parent: Json, name: string, path: string): number {
  const v = parent[name];
  if (v === undefined || v === null) throw errors.param(path, '缺少必填字段');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw errors.param(path, '必须是正整数（单位：分）', 'body', v);
  return v;
}

/**
 * notify_url: absolute URL without a query string (WeChat drops or refuses parameters). WeChat
 * demands https; the sandbox also takes http so a gateway on a developer laptop can receive.
 */
export function notifyUrl(parent: Json, path: string, required: boolean): string | undefined {
  const v = str(parent, 'notify_url', path, { required, max: 256 });
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw errors.param(path, '不是合法的URL', 'body', v);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw errors.param(path, '必须是http(s)地址', 'body', v);
  if (v.includes('?') || v.includes('#')) throw errors.param(path, '不能携带参数（不允许出现?或#）', 'body', v);
  return v;
}

export interface PrepayInput {
  appid: string;
  description: string;
  out_trade_no: string;
  time_expire?: number;
  attach?: string;
  notify_url: string;
  amount_total: number;
  openid?: string;
  /** Partner orders only. */
  openid_kind?: 'sp' | 'sub';
  partner?: import('./types.ts').PartnerInfo;
}

export function validatePrepay(endpoint: PrepayEndpoint, body: Json, merchant: MerchantRecord, nowMs: number): PrepayInput {
  const appid = str(body, 'appid', '/appid', { required: true, max: 32 }) as string;
  const mchid = str(body, 'mchid', '/mchid', { required: true, max: 32 }) as string;
  if (mchid !== merchant.mchid) throw errors.param('/mchid', '与请求头Authorization中的商户号不一致', 'body', mchid);
  const description = str(body, 'description', '/description', { required: true, max: 127 }) as string;
  const outTradeNo = str(body, 'out_trade_no', '/out_trade_no', { required: true, max: 32 }) as string;
  if (!OUT_TRADE_NO_RE.test(outTradeNo)) throw errors.param('/out_trade_no', '须为6-32位数字、大小写字母或_-|*', 'body', outTradeNo);
  const timeExpireText = str(body, 'time_expire', '/time_expire', { required: false, max: 64 });
  let timeExpire: number | undefined;
  if (timeExpireText !== undefined) {
    timeExpire = parseRfc3339(timeExpireText);
    if (timeExpire === undefined) throw errors.param('/time_expire', '须为RFC3339格式，如2018-06-08T10:34:56+08:00', 'body', timeExpireText);
    if (timeExpire <= nowMs) throw errors.param('/time_expire', '不能早于当前时间', 'body', timeExpireText);
  }
  const attach = str(body, 'attach', '/attach', { required: false, max: 128 });
  const notify = notifyUrl(body, '/notify_url', true) as string;
  const amount = obj(body, 'amount', '/amount', true) as Json;
  const total = positiveInt(amount, 'total', '/amount/total');
  const currency = amount.currency;
  if (currency !== undefined && currency !== 'CNY') throw errors.param('/amount/currency', '境内商户仅支持CNY', 'body', currency);
  if (body.support_fapiao !== undefined && typeof body.support_fapiao !== 'boolean') throw errors.param('/support_fapiao', '必须是布尔值');
  str(body, 'goods_tag', '/goods_tag', { required: false, max: 32 });
  const settle = obj(body, 'settle_info', '/settle_info', false);
  if (settle && settle.profit_sharing !== undefined && typeof settle.profit_sharing !== 'boolean') {
    throw errors.param('/settle_info/profit_sharing', '必须是布尔值');
  }
  obj(body, 'detail', '/detail', false);

  let openid: string | undefined;
  const payer = obj(body, 'payer', '/payer', endpoint === 'jsapi');
  if (endpoint === 'jsapi') openid = str(payer as Json, 'openid', '/payer/openid', { required: true, max: 128 });
  const scene = obj(body, 'scene_info', '/scene_info', endpoint === 'h5');
  if (scene) {
    const ip = str(scene, 'payer_client_ip', '/scene_info/payer_client_ip', { required: endpoint === 'h5', max: 45 });
    if (ip !== undefined && isIP(ip) === 0) throw errors.param('/scene_info/payer_client_ip', '不是合法的IP地址', 'body', ip);
  }
  if (endpoint === 'h5') {
    const h5 = obj(scene as Json, 'h5_info', '/scene_info/h5_info', true) as Json;
    const type = str(h5, 'type', '/scene_info/h5_info/type', { required: true, max: 32 }) as string;
    if (!H5_TYPES.has(type)) throw errors.param('/scene_info/h5_info/type', '须为iOS、Android或Wap', 'body', type);
  }
  // Checked after the shape so a malformed body reports PARAM_ERROR first, as WeChat does.
  if (!merchant.appids.includes(appid)) throw errors.appidMismatch();
  return { appid, description, out_trade_no: outTradeNo, time_expire: timeExpire, attach, notify_url: notify, amount_total: total, openid };
}

export interface RefundInput {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  funds_account?: string;
  refund: number;
  total: number;
}

export function validateRefund(body: Json): RefundInput {
  const transactionId = str(body, 'transaction_id', '/transaction_id', { required: false, max: 32 });
  const outTradeNo = str(body, 'out_trade_no', '/out_trade_no', { required: false, max: 32 });
  if (transactionId === undefined && outTradeNo === undefined) throw errors.param('/transaction_id', 'transaction_id与out_trade_no必须二选一');
  const outRefundNo = str(body, 'out_refund_no', '/out_refund_no', { required: true, max: 64 }) as string;
  if (!OUT_REFUND_NO_RE.test(outRefundNo)) throw errors.param('/out_refund_no', '须为1-64位数字、大小写字母或_-|*@', 'body', outRefundNo);
  const reason = str(body, 'reason', '/reason', { required: false, max: 80 });
  const notify = notifyUrl(body, '/notify_url', false);
  const fundsAccount = str(body, 'funds_account', '/funds_account', { required: false, max: 32 });
  if (fundsAccount !== undefined && fundsAccount !== 'AVAILABLE') throw errors.param('/funds_account', '仅支持AVAILABLE', 'body', fundsAccount);
  const amount = obj(body, 'amount', '/amount', true) as Json;
  const refund = positiveInt(amount, 'refund', '/amount/refund');
  const total = positiveInt(amount, 'total', '/amount/total');
  const currency = str(amount, 'currency', '/amount/currency', { required: true, max: 16 });
  if (currency !== 'CNY') throw errors.param('/amount/currency', '境内商户仅支持CNY', 'body', currency);
  const from = amount.from;
  if (from !== undefined) {
    if (!Array.isArray(from)) throw errors.param('/amount/from', '必须是数组');
    let sum = 0;
    from.forEach((item: unknown, i) => {
      const it = (item && typeof item === 'object' ? item : {}) as Json;
      if (it.account !== 'AVAILABLE' && it.account !== 'UNAVAILABLE') throw errors.param(`/amount/from/${i}/account`, '须为AVAILABLE或UNAVAILABLE');
      sum += positiveInt(it, 'amount', `/amount/from/${i}/amount`);
    });
    if (from.length > 0 && sum !== refund) throw errors.param('/amount/from', '出资账户金额之和须等于退款金额');
  }
  if (refund > total) throw errors.param('/amount/refund', '退款金额不能大于订单金额', 'body', refund);
  return { transaction_id: transactionId, out_trade_no: outTradeNo, out_refund_no: outRefundNo, reason, notify_url: notify, funds_account: fundsAccount, refund, total };
}
