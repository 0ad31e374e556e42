import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAcpTime } from '../sign.ts';
import { startAfter } from './after.ts';
import { AcpError, refuse, respMsg, type SimContext } from './context.ts';
import { barConsume, expireIfDue, openConsume, spKey } from './consumes.ts';
import { checkOrderId, checkUrl, format, signAsGateway, verifySpRequest } from './acp-protocol.ts';
import type { ConsumeRecord } from './types.ts';

/**
 * The 云闪付 service-provider JSON gateway (protocols.md §D.6.2; production host
 * partner.95516.com, here under /partner): serProvId + merId, JSON bodies signed with the
 * provider's certificate key, JSON answers signed with the gateway key. Paths, fields and
 * origRespCode values follow jeequan/jeepay's ysfpay channel; what Jeepay does not show is an
 * ASSUMPTION listed in docs/channels/unionpay.md (A9–A12).
 */

type Body = Record<string, unknown>;

const str = (b: Body, k: string): string | undefined => (typeof b[k] === 'string' && b[k] !== '' ? (b[k] as string) : typeof b[k] === 'number' ? String(b[k]) : undefined);

function required(b: Body, ...names: string[]): void {
  for (const n of names) if (str(b, n) === undefined) throw refuse('13', `${respMsg('13')} ${n}`);
}

function amount(b: Body, k: string): number {
  const v = str(b, k);
  format(v !== undefined && /^[1-9][0-9]{0,11}$/.test(v), `${k} 以分为单位的正整数`);
  return Number(v);
}

const ok = (extra: Body = {}): Body => ({ respCode: '00', respMsg: '成功', ...extra });

function open(ctx: SimContext, merId: string, serProvId: string, b: Body, kind: 'sp_jsapi' | 'sp_bar'): { consume: ConsumeRecord; repeat: boolean } {
  required(b, 'orderNo', 'orderTime', 'txnAmt');
  format(parseAcpTime(str(b, 'orderTime') as string) !== undefined, 'orderTime 格式 yyyyMMddHHmmss');
  format((str(b, 'currencyCode') ?? '156') === '156', 'currencyCode 仅支持 156');
  const { signature: _s, ...rest } = b;
  return openConsume(ctx, spKey(merId, checkOrderId(str(b, 'orderNo'), 'orderNo')), {
    kind,
    merId,
    serProvId,
    orderId: str(b, 'orderNo') as string,
    txnTime: str(b, 'orderTime') as string,
    txnAmt: amount(b, 'txnAmt'),
    currencyCode: '156',
    hash: JSON.stringify(Object.entries(rest).sort(([x], [y]) => (x < y ? -1 : 1))),
    ...(str(b, 'backUrl') ? { backUrl: checkUrl(str(b, 'backUrl'), 'backUrl') } : {}),
    ...(str(b, 'orderInfo') ? { orderDesc: str(b, 'orderInfo') as string } : {}),
    ...(str(b, 'userId') ? { userId: str(b, 'userId') as string } : {}),
  });
}

/** Jeepay's origRespCode list: 00 paid, 01 转入退款, 02 unpaid, 03 closed, 04 revoked (付款码), 05 paying, 06 failed. */
function origRespCode(c: ConsumeRecord): string {
  if (c.status === 'SUCCESS') return c.refunded > 0 ? '01' : '00';
  return { WAITING: '02', CLOSED: '03', REVOKED: '04', PAYING: '05', FAILED: '06' }[c.status];
}

function unifiedorder(ctx: SimContext, merId: string, serProvId: string, b: Body): Body {
  const type = str(b, 'orderType');
  if (type !== 'upJs') throw refuse('32', `${respMsg('32')} 沙箱仅开通 orderType=upJs (wechatJs/alipayJs 未开通)`);
  required(b, 'backUrl', 'userId');
  const { consume } = open(ctx, merId, serProvId, b, 'sp_jsapi');
  return ok({ orderNo: consume.orderId, txnAmt: String(consume.txnAmt), payData: JSON.stringify({ redirectUrl: consume.qrCode }) });
}

function micropay(ctx: SimContext, merId: string, serProvId: string, b: Body): Body {
  if (str(b, 'orderType') !== 'unionpay') throw refuse('32', `${respMsg('32')} 沙箱仅开通 orderType=unionpay`);
  required(b, 'authCode', 'termId');
  const { consume, repeat } = open(ctx, merId, serProvId, b, 'sp_bar');
  const outcome = repeat ? undefined : barConsume(ctx, consume, str(b, 'authCode') as string);
  if (outcome === 'system_error_paid') return { respCode: '99', respMsg: '系统异常，请查询订单' };
  if (consume.status === 'SUCCESS') return ok({ orderNo: consume.orderId, txnAmt: String(consume.txnAmt), transIndex: consume.queryId });
  if (consume.status === 'PAYING') return { respCode: '02', respMsg: '用户支付中' };
  throw refuse(consume.resultCode ?? '01', consume.resultMsg ?? respMsg('01'));
}

function find(ctx: SimContext, merId: string, b: Body, field = 'orderNo'): ConsumeRecord {
  required(b, field);
  const c = ctx.state.consume(spKey(merId, str(b, field) as string));
  if (!c) throw refuse('34', respMsg('34'));
  expireIfDue(ctx, c);
  return c;
}

function queryOrder(ctx: SimContext, merId: string, _p: string, b: Body): Body {
  const c = find(ctx, merId, b);
  const orig = origRespCode(c);
  return ok({ orderNo: c.orderId, txnAmt: String(c.txnAmt), origRespCode: orig, origRespMsg: orig === '00' ? '支付成功' : orig, ...(c.queryId ? { transIndex: c.queryId } : {}) });
}

function closeOrder(ctx: SimContext, merId: string, _p: string, b: Body): Body {
  const c = find(ctx, merId, b);
  if (c.status === 'SUCCESS') throw refuse('35', '订单已支付，不能关闭');
  if (c.status === 'WAITING') c.status = 'CLOSED';
  else if (c.status === 'PAYING') c.status = 'REVOKED'; // a 付款码 order mid-password is revoked (origRespCode 04)
  delete c.passwordUntil;
  ctx.state.changed();
  return ok({ orderNo: c.orderId });
}

function refund(ctx: SimContext, merId: string, serProvId: string, b: Body): Body {
  required(b, 'orderNo', 'origOrderNo', 'txnAmt', 'origTxnAmt');
  const orig = find(ctx, merId, b, 'origOrderNo');
  if (amount(b, 'origTxnAmt') !== orig.txnAmt) throw refuse('36', `${respMsg('36')} origTxnAmt`);
  const key = `sp|${merId}|${checkOrderId(str(b, 'orderNo'), 'orderNo')}`;
  const { signature: _s, ...rest } = b;
  startAfter(ctx, { kind: 'refund', key, merId, serProvId, orderId: str(b, 'orderNo') as string, txnTime: str(b, 'orderTime') ?? '', txnAmt: amount(b, 'txnAmt'), hash: JSON.stringify(Object.entries(rest).sort(([x], [y]) => (x < y ? -1 : 1))) }, orig, true);
  return ok({ orderNo: str(b, 'orderNo'), origOrderNo: orig.orderId, txnAmt: str(b, 'txnAmt') });
}

function refundQuery(ctx: SimContext, merId: string, _p: string, b: Body): Body {
  required(b, 'orderNo');
  const a = ctx.state.afterRecord(`sp|${merId}|${str(b, 'orderNo')}`);
  if (!a) throw refuse('34', respMsg('34'));
  const orig = a.status === 'SUCCESS' ? '00' : a.status === 'FAILED' ? '01' : '02';
  return ok({ orderNo: a.orderId, txnAmt: String(a.txnAmt), origRespCode: orig, origRespMsg: orig });
}

/** ASSUMPTION (docs/channels/unionpay.md, A6): userAuthCode → userId on the provider gateway. */
function userId(ctx: SimContext, _m: string, _p: string, b: Body): Body {
  required(b, 'userAuthCode');
  const id = ctx.state.redeemAuthCode(str(b, 'userAuthCode') as string, ctx.now());
  if (!id) return { respCode: '01', respMsg: 'userAuthCode 无效或已使用' };
  return ok({ userId: id });
}

type Route = (ctx: SimContext, merId: string, serProvId: string, b: Body) => Body;
const WRITES = new Set<Route>([unifiedorder, micropay, refund]);

export function registerSpRoutes(app: FastifyInstance, ctx: SimContext): void {
  const handle = (route: Route) => async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let body: Body = {};
    let answer: Body;
    try {
      try {
        const parsed: unknown = JSON.parse(typeof req.body === 'string' ? req.body : '');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Body;
        else throw new Error('not an object');
      } catch {
        throw refuse('10', `${respMsg('10')} 请求须为 JSON 对象`);
      }
      const { provider, merId } = verifySpRequest(ctx, body);
      if (WRITES.has(route) && ctx.faults.failNextRequests > 0) {
        ctx.faults.failNextRequests -= 1;
        answer = { respCode: '99', respMsg: '系统繁忙，请稍后查询' };
      } else answer = route(ctx, merId, provider.serProvId, body);
    } catch (err) {
      if (!(err instanceof AcpError)) throw err;
      answer = { respCode: err.respCode, respMsg: err.respMsg };
    }
    const out = signAsGateway(ctx, { serProvId: str(body, 'serProvId') ?? '', merId: str(body, 'merId') ?? '', ...answer }, { tamper: ctx.faults.badResponseSignature });
    if (ctx.faults.responseDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.responseDelayMs));
    return reply.code(200).header('Cache-Control', 'no-store').type('application/json;charset=UTF-8').send(JSON.stringify(out));
  };
  const base = '/partner/gateway/api/pay';
  app.post(`${base}/unifiedorder`, handle(unifiedorder));
  app.post(`${base}/micropay`, handle(micropay));
  app.post(`${base}/queryOrder`, handle(queryOrder));
  app.post(`${base}/closeOrder`, handle(closeOrder));
  app.post(`${base}/refund`, handle(refund));
  app.post(`${base}/refundQuery`, handle(refundQuery));
  app.post(`${base}/userId`, handle(userId));
}
