import { newNonce } from '../../domain/ids.ts';
import { ChannelError } from '../types.ts';
import { declaredSignType, v2Sign, v2SignMatches, type V2SignType } from './v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from './v2-xml.ts';

/**
 * Native 模式一 (扫码支付一, protocols.md §B.5): a static, signed product code
 * `weixin://wxpay/bizpayurl?sign=…&appid=…&mch_id=…&product_id=…&time_stamp=…&nonce_str=…`. When a
 * payer scans it, WeChat calls the merchant's 扫码回调URL with appid, openid, mch_id, product_id
 * (signed XML); the merchant places a NATIVE unifiedorder and answers the prepay_id (signed XML).
 * It is an API v2 product: everything here is signed with the v2 API key.
 */

export const PRODUCT_ID_RE = /^[0-9A-Za-z_-]{1,32}$/;

export function bizPayUrl(args: { appid: string; mchId: string; productId: string; apiKey: string; timeStamp: string; nonceStr?: string }): string {
  const params = { appid: args.appid, mch_id: args.mchId, product_id: args.productId, time_stamp: args.timeStamp, nonce_str: args.nonceStr ?? newNonce(32) };
  const sign = v2Sign(params, args.apiKey, 'MD5');
  const q = new URLSearchParams({ sign, ...params });
  return `weixin://wxpay/bizpayurl?${q.toString()}`;
}

/** The signed parameters of a product code, or undefined when it is not one (or the sign does not verify with apiKey). */
export function readBizPayUrl(url: string, apiKey: string): { appid: string; mchId: string; productId: string } | undefined {
  if (!url.startsWith('weixin://wxpay/bizpayurl?')) return undefined;
  const q = Object.fromEntries(new URLSearchParams(url.slice(url.indexOf('?') + 1)));
  if (!q.appid || !q.mch_id || !q.product_id || !q.time_stamp || !q.nonce_str || !v2SignMatches(q, apiKey, 'MD5')) return undefined;
  return { appid: q.appid, mchId: q.mch_id, productId: q.product_id };
}

export interface ScanCallback {
  appid: string;
  mchId: string;
  openid: string;
  productId: string;
}

/** Verifies and reads WeChat's scan callback. Throws ChannelError bad_signature / protocol. */
export function parseScanCallback(body: string, apiKey: string): ScanCallback {
  let doc: Record<string, string>;
  try {
    doc = parseWechatXml(body);
  } catch (err) {
    if (err instanceof XmlFormatError) throw new ChannelError('protocol', `wxpay 模式一: callback is not a v2 XML document (${err.message})`);
    throw err;
  }
  const signType = declaredSignType(doc);
  if (!signType || !v2SignMatches(doc, apiKey, signType)) throw new ChannelError('bad_signature', 'wxpay 模式一: scan callback sign does not verify');
  const { appid, mch_id: mchId, openid, product_id: productId } = doc;
  if (!appid || !mchId || !openid || !productId) throw new ChannelError('protocol', 'wxpay 模式一: scan callback lacks appid, mch_id, openid or product_id');
  return { appid, mchId, openid, productId };
}

/** The merchant's answer: prepay_id on success, result_code FAIL + err_code_des (shown to the payer) otherwise. */
export function scanReply(args: { appid: string; mchId: string; apiKey: string; signType?: V2SignType } & ({ prepayId: string } | { error: string })): string {
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    appid: args.appid,
    mch_id: args.mchId,
    nonce_str: newNonce(32),
    ...('prepayId' in args ? { prepay_id: args.prepayId, result_code: 'SUCCESS' } : { result_code: 'FAIL', err_code_des: args.error }),
  };
  return buildWechatXml({ ...fields, sign: v2Sign(fields, args.apiKey, args.signType ?? 'MD5') });
}
