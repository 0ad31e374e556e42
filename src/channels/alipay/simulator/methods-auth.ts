import { chinaTime } from '../sign.ts';
import { tokenAnswer } from './app-auth.ts';
import { AlipayError, invalid, type SimContext } from './context.ts';
import { str, type Biz } from './trades.ts';
import type { AppRecord } from './types.ts';

/**
 * Gateway methods of the authorisation family: 第三方应用授权 tokens for service providers
 * (`alipay.open.auth.token.app`, `….query`). Business fields only; the gateway signs the answer.
 */

export interface AuthCall {
  /** Whose books (the merchant's when an app_auth_token was passed). */
  app: AppRecord;
  /** The app that signed the request. */
  caller: AppRecord;
  biz: Biz;
  params: Record<string, string>;
}

/** What an authorisation lets the provider call (shown by the query; the sandbox grants the payment set). */
const AUTH_METHODS = [
  'alipay.trade.precreate', 'alipay.trade.create', 'alipay.trade.pay', 'alipay.trade.app.pay', 'alipay.trade.page.pay', 'alipay.trade.wap.pay',
  'alipay.trade.query', 'alipay.trade.close', 'alipay.trade.cancel', 'alipay.trade.refund', 'alipay.trade.fastpay.refund.query',
  'alipay.data.dataservice.bill.downloadurl.query', 'alipay.system.oauth.token',
];

function providerOnly(caller: AppRecord): void {
  if (!caller.isv) throw new AlipayError('40006', 'isv.insufficient-isv-permissions', 'ISV权限不足: 仅第三方应用可调用 (only third-party apps hold app authorisations)');
}

/** alipay.open.auth.token.app: app_auth_code → token pair, or refresh_token → a new pair. */
export function openAuthToken(ctx: SimContext, { caller, biz }: AuthCall): Record<string, unknown> {
  providerOnly(caller);
  const grant = str(biz, 'grant_type');
  if (grant === 'authorization_code') {
    const code = str(biz, 'code');
    if (!code) throw new AlipayError('40001', 'isv.missing-code', '缺少必选参数 code');
    return tokenAnswer(ctx, ctx.appAuth.exchange(caller.appId, code, (id) => ctx.state.apps.get(id)));
  }
  if (grant === 'refresh_token') {
    const refresh = str(biz, 'refresh_token');
    if (!refresh) throw new AlipayError('40001', 'isv.missing-refresh-token', '缺少必选参数 refresh_token');
    return tokenAnswer(ctx, ctx.appAuth.refresh(caller.appId, refresh));
  }
  throw invalid('isv.invalid-grant-type', 'grant_type 只能为 authorization_code 或 refresh_token');
}

/** alipay.open.auth.token.app.query: who authorised, until when, and whether it still holds. */
export function openAuthTokenQuery(ctx: SimContext, { caller, biz }: AuthCall): Record<string, unknown> {
  providerOnly(caller);
  const t = str(biz, 'app_auth_token', { required: true }) as string;
  const r = ctx.appAuth.find(t);
  if (!r || r.isv_app_id !== caller.appId) throw new AlipayError('20001', 'aop.invalid-app-auth-token', '无效的应用授权令牌');
  const live = r.status === 'valid' && r.expires_at >= ctx.now();
  return {
    user_id: r.user_id,
    auth_app_id: r.auth_app_id,
    expires_in: Math.max(0, Math.round((r.expires_at - ctx.now()) / 1000)),
    auth_methods: AUTH_METHODS,
    auth_start: chinaTime(r.auth_start),
    auth_end: chinaTime(r.expires_at),
    status: live ? 'valid' : 'invalid',
  };
}
