import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatAcpKv, parseAcpTime } from '../sign.ts';
import { afterFields, reverseConsume, startAfter } from './after.ts';
import { billFile } from './bills.ts';
import { AcpError, refuse, respMsg, type SimContext } from './context.ts';
import { acpKey, barConsume, consumeFields, expireIfDue, openConsume } from './consumes.ts';
import { checkAmount, checkOrderId, checkUrl, format, need, signAsUnionPay, verifyAcpRequest } from './acp-protocol.ts';
import type { AfterRecord, ConsumeRecord, MerchantRecord } from './types.ts';

/**
 * The ACP 5.1.0 全渠道 endpoints (protocols.md §D.1–D.4): form requests in, `k=v&…` answers out,
 * every answer signed by UnionPay's certificate (signPubKeyCert). One server serves what
 * production spreads over gateway.95516.com and filedownload.95516.com.
 */

type Params = Record<string, string>;
type Answer = Record<string, string>;

const ECHO = ['bizType', 'txnType', 'txnSubType', 'accessType', 'merId', 'orderId', 'txnTime'] as const;

function echo(p: Params): Answer {
  const out: Answer = {};
  for (const k of ECHO) if (p[k]) out[k] = p[k];
  return out;
}

const ok = (extra: Answer = {}): Answer => ({ respCode: '00', respMsg: respMsg('00'), ...extra });
const code = (c: string, extra: Answer = {}): Answer => ({ respCode: c, respMsg: respMsg(c), ...extra });

function fingerprint(p: Params): string {
  return JSON.stringify(Object.keys(p).filter((k) => k !== 'signature').sort().map((k) => [k, p[k]]));
}

function payTimeout(p: Params): number | undefined {
  if (!p.payTimeout) return undefined;
  const ms = parseAcpTime(p.payTimeout);
  format(ms !== undefined, 'payTimeout 格式 yyyyMMddHHmmss');
  return ms;
}

/** The consume a request opens: 申码, 被扫 or the app control. */
function open(ctx: SimContext, m: MerchantRecord, p: Params, kind: 'qr' | 'jsapi' | 'bar' | 'app'): { consume: ConsumeRecord; repeat: boolean } {
  need(p, 'orderId', 'txnAmt', 'currencyCode', 'backUrl', 'channelType');
  format(p.currencyCode === '156', 'currencyCode 仅支持 156');
  format(p.channelType === '07' || p.channelType === '08', 'channelType 07/08');
  const timeout = payTimeout(p);
  return openConsume(ctx, acpKey(m.merId, checkOrderId(p.orderId), p.txnTime as string), {
    kind,
    merId: m.merId,
    orderId: p.orderId as string,
    txnTime: p.txnTime as string,
    txnAmt: checkAmount(p.txnAmt),
    currencyCode: '156',
    hash: fingerprint(p),
    backUrl: checkUrl(p.backUrl, 'backUrl'),
    ...(p.frontUrl ? { frontUrl: p.frontUrl } : {}),
    ...(p.reqReserved ? { reqReserved: p.reqReserved } : {}),
    ...(p.orderDesc ? { orderDesc: p.orderDesc } : {}),
    ...(timeout !== undefined ? { payTimeout: timeout } : {}),
    ...(p.userId ? { userId: p.userId } : {}),
  });
}

/** A bar-code consume's state as the synchronous answer reports it. */
function barAnswer(c: ConsumeRecord, systemError: boolean): Answer {
  if (systemError) return code('03');
  if (c.status === 'SUCCESS') return ok(consumeFields(c));
  if (c.status === 'PAYING') return code('05');
  return code(c.resultCode ?? '01');
}

function after(ctx: SimContext, m: MerchantRecord, p: Params, kind: 'undo' | 'refund'): Answer {
  need(p, 'orderId', 'txnAmt', 'origQryId', 'backUrl');
  const orig = ctx.state.consumeByQueryId(p.origQryId as string);
  if (!orig || orig.merId !== m.merId) throw refuse('35', `${respMsg('35')} origQryId`);
  const { record } = startAfter(ctx, { kind, key: acpKey(m.merId, checkOrderId(p.orderId), p.txnTime as string), merId: m.merId, orderId: p.orderId as string, txnTime: p.txnTime as string, txnAmt: checkAmount(p.txnAmt), hash: fingerprint(p), backUrl: checkUrl(p.backUrl, 'backUrl'), ...(p.reqReserved ? { reqReserved: p.reqReserved } : {}) }, orig);
  return ok({ origQryId: p.origQryId as string, queryId: record.queryId, txnAmt: String(record.txnAmt) });
}

function backTrans(ctx: SimContext, m: MerchantRecord, p: Params): Answer {
  const op = `${p.txnType}/${p.txnSubType}`;
  format(p.bizType === '000000', 'bizType 须为 000000');
  switch (op) {
    case '01/07':
      return ok({ qrCode: open(ctx, m, p, p.userId ? 'jsapi' : 'qr').consume.qrCode as string });
    case '01/06': {
      need(p, 'qrNo');
      const { consume, repeat } = open(ctx, m, p, 'bar');
      if (repeat) return barAnswer(consume, false);
      return barAnswer(consume, barConsume(ctx, consume, p.qrNo as string) === 'system_error_paid');
    }
    case '31/00':
      return after(ctx, m, p, 'undo');
    case '04/00':
      return after(ctx, m, p, 'refund');
    case '99/01': {
      need(p, 'orderId', 'origOrderId', 'origTxnTime');
      const orig = ctx.state.consume(acpKey(m.merId, p.origOrderId as string, p.origTxnTime as string));
      const r = reverseConsume(ctx, { kind: 'reversal', key: acpKey(m.merId, checkOrderId(p.orderId), p.txnTime as string), merId: m.merId, orderId: p.orderId as string, txnTime: p.txnTime as string, txnAmt: 0, hash: fingerprint(p) }, orig);
      return ok({ queryId: r.queryId });
    }
    default:
      throw refuse('10', `${respMsg('10')} 不支持的交易 txnType=${p.txnType} txnSubType=${p.txnSubType}`);
  }
}

function appTrans(ctx: SimContext, m: MerchantRecord, p: Params): Answer {
  format(p.txnType === '01' && p.txnSubType === '01' && p.bizType === '000000', '控件支付须为 txnType=01 txnSubType=01 bizType=000000');
  return ok({ tn: open(ctx, m, p, 'app').consume.tn as string });
}

/** What a query says about a transaction: respCode is the query's own outcome, origRespCode the transaction's. */
function queryAnswer(subject: ConsumeRecord | AfterRecord): Answer {
  if ('kind' in subject && (subject.kind === 'undo' || subject.kind === 'refund' || subject.kind === 'reversal')) {
    const a = subject as AfterRecord;
    const orig = a.status === 'SUCCESS' ? '00' : a.status === 'PROCESSING' ? '05' : (a.resultCode ?? '01');
    return ok({ ...afterFields(a), origRespCode: orig, origRespMsg: respMsg(orig) });
  }
  const c = subject as ConsumeRecord;
  const orig = c.status === 'SUCCESS' || (c.status === 'REVOKED' && c.queryId) ? '00' : c.status === 'PAYING' ? '05' : (c.resultCode ?? '01');
  return ok({ ...consumeFields(c), origRespCode: orig, origRespMsg: c.status === 'REVOKED' ? '交易已冲正' : respMsg(orig) });
}

function queryTrans(ctx: SimContext, m: MerchantRecord, p: Params): Answer {
  format(p.txnType === '00' && p.txnSubType === '00', '查询须为 txnType=00 txnSubType=00');
  need(p, 'orderId');
  const key = acpKey(m.merId, p.orderId as string, p.txnTime as string);
  const c = ctx.state.consume(key);
  if (c) {
    expireIfDue(ctx, c);
    // A code nobody scanned (or a tn never opened) is not a transaction at UnionPay yet.
    if (c.status === 'WAITING' || c.status === 'CLOSED') throw refuse('34', respMsg('34'));
    return queryAnswer(c);
  }
  const a = ctx.state.afterRecord(key);
  if (a) return queryAnswer(a);
  throw refuse('34', respMsg('34'));
}

/** ASSUMPTION (docs/channels/unionpay.md, A6): userAuthCode → userId for direct merchants; no public ACP interface was found. */
function userIdTrans(ctx: SimContext, _m: MerchantRecord, p: Params): Answer {
  need(p, 'userAuthCode');
  const userId = ctx.state.redeemAuthCode(p.userAuthCode as string, ctx.now());
  if (!userId) return code('01', { respMsg: '交易失败: userAuthCode 无效或已使用' });
  return ok({ userId, ...(p.appUpIdentifier ? { appUpIdentifier: p.appUpIdentifier } : {}) });
}

function fileTrans(ctx: SimContext, m: MerchantRecord, p: Params): Answer {
  format(p.txnType === '76' && p.txnSubType === '01' && p.bizType === '000000', '文件下载须为 txnType=76 txnSubType=01 bizType=000000');
  need(p, 'settleDate', 'fileType');
  format(/^\d{4}$/.test(p.settleDate as string) && p.fileType === '00', 'settleDate MMDD, fileType 00');
  const file = billFile(ctx, m.merId, p.settleDate as string);
  if (!file) return code('98', { respMsg: '文件不存在[9800098]' });
  return ok({ settleDate: p.settleDate as string, fileType: '00', fileName: file.fileName, fileContent: file.fileContent });
}

type Route = (ctx: SimContext, m: MerchantRecord, p: Params) => Answer;
const WRITES = new Set<Route>([backTrans, appTrans]);

export function registerAcpRoutes(app: FastifyInstance, ctx: SimContext): void {
  const handle = (route: Route) => async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p: Params = {};
    for (const [k, v] of new URLSearchParams(typeof req.body === 'string' ? req.body : '')) p[k] = v;
    let answer: Answer;
    try {
      const merchant = verifyAcpRequest(ctx, p, { transaction: route !== userIdTrans });
      if (WRITES.has(route) && ctx.faults.failNextRequests > 0) {
        ctx.faults.failNextRequests -= 1;
        answer = code('03');
      } else answer = route(ctx, merchant, p);
    } catch (err) {
      if (!(err instanceof AcpError)) throw err;
      ctx.log.info({ merId: p.merId, orderId: p.orderId, respCode: err.respCode }, 'acp request refused');
      answer = { respCode: err.respCode, respMsg: err.respMsg };
    }
    const signed = signAsUnionPay(ctx, { ...echo(p), ...answer }, { tamper: ctx.faults.badResponseSignature });
    if (ctx.faults.responseDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.responseDelayMs));
    return reply.code(200).header('Cache-Control', 'no-store').type('text/plain;charset=UTF-8').send(formatAcpKv(signed));
  };
  app.post('/gateway/api/backTransReq.do', handle(backTrans));
  app.post('/gateway/api/appTransReq.do', handle(appTrans));
  app.post('/gateway/api/queryTrans.do', handle(queryTrans));
  app.post('/gateway/api/userIdTrans.do', handle(userIdTrans));
  app.post('/filedownload/', handle(fileTrans));
}
