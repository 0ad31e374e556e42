import { REQUEST_UNSIGNED, parseChinaTime, rsa2Verify, signContent } from '../sign.ts';
import { actingApp } from './app-auth.ts';
import { AlipayError, invalid, missing, type SimContext } from './context.ts';
import { APP_METHODS, METHODS, PAGE_METHODS } from './methods.ts';
import { type Biz, OUT_TRADE_NO, amount, existingFor, fingerprint, materialize, newTrade, payTrade } from './trades.ts';
import type { AppRecord, PayerOptions, TradeKind, TradeRecord } from './types.ts';

/**
 * Request verification, as strict as the real gateway (protocols.md §C.1–C.2, §C.6): common
 * parameters present and well-formed, a known app, the certificate SNs of a certificate-mode app,
 * and the RSA2 signature over every parameter but `sign`, empty values dropped.
 */

export interface Verified {
  app: AppRecord;
  method: string;
  biz: Biz;
}

/** isv.invalid-app-id is answered unsigned: without an app there is no key mode to sign in. */
export class UnsignedError extends AlipayError {}

export function isKnownMethod(method: string): boolean {
  return Object.hasOwn(METHODS, method) || PAGE_METHODS.has(method) || APP_METHODS.has(method);
}

export function verifyRequest(ctx: SimContext, params: Record<string, string>): Verified {
  if (!params.app_id) throw missing('isv.missing-app-id', 'app_id');
  const app = ctx.state.apps.get(params.app_id);
  if (!app) throw new UnsignedError('40002', 'isv.invalid-app-id', '无效的AppID参数');
  const method = params.method;
  if (!method) throw missing('isv.missing-method', 'method');
  if (!isKnownMethod(method)) throw invalid('isv.invalid-method', '不存在的方法名');
  if (!params.sign) throw missing('isv.missing-signature', 'sign');
  if (!params.sign_type) throw missing('isv.missing-signature-type', 'sign_type');
  if (params.sign_type !== 'RSA2') throw invalid('isv.invalid-signature-type', '无效的签名类型 (沙箱应用仅支持 RSA2)');
  if (params.charset !== undefined && params.charset.toLowerCase() !== 'utf-8') throw invalid('isv.invalid-charset', '字符集错误 (沙箱仅支持 utf-8)');
  if (!params.timestamp) throw missing('isv.missing-timestamp', 'timestamp');
  // Format only: alipay-sdk stamps the host's local time, so a skew check would refuse every UTC host.
  if (parseChinaTime(params.timestamp) === undefined) throw invalid('isv.invalid-timestamp', '非法的时间戳参数 (yyyy-MM-dd HH:mm:ss)');
  if (!params.version) throw missing('isv.missing-version', 'version');
  if (params.version !== '1.0') throw invalid('isv.invalid-version', '非法的版本号');
  if (params.format !== undefined && params.format.toUpperCase() !== 'JSON') throw invalid('isv.invalid-format', '无效的数据格式');
  if (app.mode === 'cert') {
    if (!params.app_cert_sn) throw missing('isv.missing-app-cert-sn', 'app_cert_sn');
    if (params.app_cert_sn !== app.appCertSn) throw invalid('isv.invalid-app-cert-sn', '应用公钥证书序列号不匹配');
    if (!params.alipay_root_cert_sn) throw missing('isv.missing-alipay-root-cert-sn', 'alipay_root_cert_sn');
    if (params.alipay_root_cert_sn !== ctx.keys.rootCertSn) throw invalid('isv.invalid-alipay-root-cert-sn', '支付宝根证书序列号不匹配');
  }
  const content = signContent(params, REQUEST_UNSIGNED);
  if (!rsa2Verify(content, params.sign, ctx.state.appKey(app))) {
    // Alipay echoes the content it verified: the fastest way for a developer to find the difference.
    throw invalid('isv.invalid-signature', `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content}`);
  }
  return { app, method, biz: parseBiz(params.biz_content) };
}

function parseBiz(raw: string | undefined): Biz {
  if (raw === undefined || raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalid('isv.invalid-parameter', 'biz_content 不是合法的 JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('isv.invalid-parameter', 'biz_content 必须是 JSON 对象');
  return v as Biz;
}

/**
 * page.pay / wap.pay opened in the buyer's browser, and APP order strings submitted by the
 * Alipay app: verified like any request, then the trade exists (WAIT_BUYER_PAY).
 */
export function openClientTrade(ctx: SimContext, params: Record<string, string>, expect: 'page' | 'app'): TradeRecord {
  const { app: caller, method, biz } = verifyRequest(ctx, params);
  if (expect === 'page' ? !PAGE_METHODS.has(method) : !APP_METHODS.has(method)) throw invalid('isv.invalid-method', `${method} 不能以此方式调用`);
  const { app } = actingApp(ctx, caller, method, params);
  const kind: TradeKind = method === 'alipay.trade.page.pay' ? 'page' : method === 'alipay.trade.wap.pay' ? 'wap' : 'app';
  // Validate before touching the books (amount, out_trade_no).
  amount(biz, 'total_amount');
  if (typeof biz.out_trade_no !== 'string' || !OUT_TRADE_NO.test(biz.out_trade_no)) throw new AlipayError('40004', 'ACQ.INVALID_PARAMETER', '参数无效: out_trade_no');
  const hash = fingerprint(kind, biz, { notify_url: params.notify_url, return_url: params.return_url });
  let t = existingFor(ctx, app, biz, hash);
  if (!t) {
    t = newTrade(ctx, app, kind, biz, params, hash, caller);
    ctx.state.addTrade(t);
  }
  materialize(ctx, t);
  return t;
}

export function payOrderString(ctx: SimContext, orderString: string, o: PayerOptions = {}): TradeRecord {
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(orderString)) params[k] = v;
  return payTrade(ctx, openClientTrade(ctx, params, 'app'), o);
}
