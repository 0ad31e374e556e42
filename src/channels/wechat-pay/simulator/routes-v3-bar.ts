import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NonceCache } from './auth.ts';
import { AUTH_CODE_RE, barPay, reverseOrder } from './barcodes.ts';
import type { SimContext } from './context.ts';
import { SimError, errors } from './errors.ts';
import { canonicalJson } from './ids.ts';
import { wx } from './routes-v3.ts';
import { findOrder, transactionView } from './transactions.ts';
import { OUT_TRADE_NO_RE, obj, parseJsonObject, positiveInt, str } from './validate.ts';

/**
 * v3 付款码: POST /v3/pay/transactions/codepay and 撤销 POST …/out-trade-no/{no}/reverse
 * (protocols.md §A.2). The payer still entering the password is answered 202 with
 * `{"trade_state":"USERPAYING"}`; final refusals are 4xx with the code, a system error 500.
 */

export const BAR_REFUSALS: Record<string, () => SimError> = {
  NOTENOUGH: () => new SimError(403, 'NOT_ENOUGH', '用户账户余额不足'),
  AUTHCODEEXPIRE: () => new SimError(400, 'AUTH_CODE_EXPIRE', '二维码已过期，请用户在微信上刷新后再试'),
  SYSTEMERROR: () => new SimError(500, 'SYSTEM_ERROR', '系统超时，请查询订单状态'),
  ORDERREVERSED: () => new SimError(400, 'ORDER_REVERSED', '订单已撤销'),
  ORDERCLOSED: () => new SimError(400, 'ORDER_CLOSED', '订单已关闭'),
};

function ownMchid(body: Record<string, unknown>, mchid: string): void {
  if (typeof body.mchid !== 'string') throw errors.param('/mchid', '缺少必填字段');
  if (body.mchid !== mchid) throw errors.param('/mchid', '与请求头Authorization中的商户号不一致', 'body', body.mchid);
}

export function registerV3BarRoutes(app: FastifyInstance, ctx: SimContext, nonces: NonceCache): void {
  app.post(
    '/v3/pay/transactions/codepay',
    wx(ctx, nonces, (_req: FastifyRequest, merchant, raw) => {
      const body = parseJsonObject(raw);
      const appid = str(body, 'appid', '/appid', { required: true, max: 32 }) as string;
      ownMchid(body, merchant.mchid);
      const description = str(body, 'description', '/description', { required: true, max: 127 }) as string;
      const outTradeNo = str(body, 'out_trade_no', '/out_trade_no', { required: true, max: 32 }) as string;
      if (!OUT_TRADE_NO_RE.test(outTradeNo)) throw errors.param('/out_trade_no', '须为6-32位数字、大小写字母或_-|*', 'body', outTradeNo);
      const payer = obj(body, 'payer', '/payer', true) as Record<string, unknown>;
      const authCode = str(payer, 'auth_code', '/payer/auth_code', { required: true, max: 128 }) as string;
      const amount = obj(body, 'amount', '/amount', true) as Record<string, unknown>;
      const total = positiveInt(amount, 'total', '/amount/total');
      if (amount.currency !== undefined && amount.currency !== 'CNY') throw errors.param('/amount/currency', '境内商户仅支持CNY', 'body', amount.currency);
      obj(body, 'scene_info', '/scene_info', true);
      if (!merchant.appids.includes(appid)) throw errors.appidMismatch();
      if (!AUTH_CODE_RE.test(authCode)) throw new SimError(400, 'AUTH_CODE_INVALID', '付款码无效，请重新扫码');
      const answer = barPay(ctx, merchant, { appid, description, out_trade_no: outTradeNo, amount_total: total, auth_code: authCode, fingerprint: canonicalJson({ codepay: body }) }, { api: 'v3' });
      if (answer.kind === 'paid') return { status: 200, body: transactionView(answer.order) };
      if (answer.kind === 'userpaying') return { status: 202, body: { trade_state: 'USERPAYING' } };
      throw (BAR_REFUSALS[answer.code] as () => SimError)();
    }),
  );

  app.post(
    '/v3/pay/transactions/out-trade-no/:out_trade_no/reverse',
    wx(ctx, nonces, (req, merchant, raw) => {
      const body = parseJsonObject(raw);
      ownMchid(body, merchant.mchid);
      const appid = str(body, 'appid', '/appid', { required: true, max: 32 }) as string;
      if (!merchant.appids.includes(appid)) throw errors.appidMismatch();
      reverseOrder(ctx, findOrder(ctx, merchant.mchid, (req.params as Record<string, string>).out_trade_no ?? ''));
      return { status: 204 };
    }),
  );
}
