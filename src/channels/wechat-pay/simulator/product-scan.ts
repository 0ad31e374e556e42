import { request } from 'undici';
import { readBizPayUrl } from '../v2-product-qr.ts';
import { declaredSignType, signV2, v2SignMatches } from '../v2-sign.ts';
import { buildWechatXml, parseWechatXml } from '../v2-xml.ts';
import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { alnum, sandboxOpenid } from './ids.ts';
import { payOrder, transactionView } from './transactions.ts';
import type { Transaction } from './types.ts';

/**
 * The payer scans a Native 模式一 product code (weixin://wxpay/bizpayurl?sign=…&product_id=…): WeChat
 * checks the code's sign, calls the merchant's 扫码回调URL with the payer's openid and the
 * product_id (signed XML), takes the prepay_id from the signed answer and lets the payer pay it.
 */

const fail = (message: string): SimError => new SimError(502, 'MERCHANT_CALLBACK_FAILED', message);

export async function scanProduct(ctx: SimContext, codeUrl: string, opts: { openid?: string; pay?: boolean } = {}): Promise<Transaction> {
  const mchId = new URLSearchParams(codeUrl.slice(codeUrl.indexOf('?') + 1)).get('mch_id') ?? '';
  const merchant = ctx.state.merchants.get(mchId);
  const code = merchant ? readBizPayUrl(codeUrl, merchant.apiKey) : undefined;
  if (!merchant || !code) throw new SimError(400, 'INVALID_CODE', '二维码无效（签名错误或商户号不存在）');
  if (!merchant.appids.includes(code.appid)) throw new SimError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
  if (!merchant.nativeCallbackUrl) throw new SimError(409, 'NO_CALLBACK_URL', '商户未配置扫码支付回调URL（nativeCallbackUrl）');
  const openid = opts.openid ?? sandboxOpenid(code.appid);
  const body = buildWechatXml(signV2({ appid: code.appid, openid, mch_id: merchant.mchid, is_subscribe: 'N', nonce_str: alnum(32), product_id: code.productId }, merchant.apiKey, 'MD5'));
  let text: string;
  try {
    const res = await request(merchant.nativeCallbackUrl, { method: 'POST', body, headers: { 'content-type': 'text/xml' }, headersTimeout: ctx.callbackTimeoutMs, bodyTimeout: ctx.callbackTimeoutMs });
    text = await res.body.text();
    if (res.statusCode !== 200) throw fail(`商户回调返回HTTP ${res.statusCode}`);
  } catch (err) {
    if (err instanceof SimError) throw err;
    throw fail(`商户回调不可达：${(err as Error).message}`);
  }
  let answer: Record<string, string>;
  try {
    answer = parseWechatXml(text);
  } catch {
    throw fail('商户回调应答不是XML');
  }
  if (answer.return_code !== 'SUCCESS') throw fail(`商户回调 return_code ${answer.return_code ?? ''} ${answer.return_msg ?? ''}`);
  const signType = declaredSignType(answer);
  if (!signType || !v2SignMatches(answer, merchant.apiKey, signType)) throw fail('商户回调应答签名错误');
  if (answer.result_code !== 'SUCCESS') throw fail(answer.err_code_des || '商户拒绝了此次下单');
  const order = answer.prepay_id ? ctx.state.orderByPrepayId(answer.prepay_id) : undefined;
  if (!order || order.mchid !== merchant.mchid || order.trade_type !== 'NATIVE') throw fail('商户回调应答的prepay_id无效');
  ctx.log.debug({ mchid: merchant.mchid, product_id: code.productId, out_trade_no: order.out_trade_no }, 'product code scanned');
  return opts.pay === false ? transactionView(order) : payOrder(ctx, order, openid);
}
