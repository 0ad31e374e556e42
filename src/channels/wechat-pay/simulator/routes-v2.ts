import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { declaredSignType, v2Sign, v2SignMatches, type V2SignType } from '../v2-sign.ts';
import { XmlFormatError, buildWechatXml, parseWechatXml } from '../v2-xml.ts';
import type { SimContext } from './context.ts';
import { alnum } from './ids.ts';
import { clientCertificate } from './tls-front.ts';
import type { MerchantRecord, OrderRecord } from './types.ts';
import { v2Partner, v2PartnerEcho, v2PartnerInfo, v2PartnerTradeFields, type V2Partner } from './v2-partner.ts';
import { V2Error, closeV2Order, fen, findV2Order, need, refundQueryV2, refundV2, requireBoundAppid, unifiedOrder, v2ErrorOf, v2TradeFields } from './v2-api.ts';
import { AUTH_CODE_RE, barPay, reverseOrder } from './barcodes.ts';
import { canonicalJson } from './ids.ts';
import { billCsv } from './bills.ts';
import { gzipSync } from 'node:zlib';

/**
 * The WeChat Pay API v2 surface (protocols.md §B): XML in, XML out, always HTTP 200. The layers
 * answer in the order a client must read them (seed 004): a message WeChat cannot accept gets
 * return_code FAIL with a reason and no sign; an accepted one is signed with the request's
 * sign_type and says result_code SUCCESS or FAIL + err_code. /secapi paths also demand the
 * merchant API certificate over TLS (mutual TLS, tls-front.ts).
 */

type Fields = Record<string, string>;
export interface V2Call {
  /** Whose books the call acts on: the merchant, or in partner mode its sub-merchant's. */
  merchant: MerchantRecord;
  /** Who signed the request and signs the answer (the provider in partner mode). */
  signer: MerchantRecord;
  fields: Fields;
  signType: V2SignType;
  partner?: V2Partner;
}

/** A call naming sub_mch_id acts on the sub-merchant's books (V2Error when the parties do not fit). */
function withPartner(ctx: SimContext, call: V2Call): V2Call {
  const p = v2Partner(ctx, call.signer, call.fields);
  return p ? { ...call, merchant: p.books, partner: p } : call;
}

function tradeFields(ctx: SimContext, o: OrderRecord): Fields {
  return { ...v2TradeFields(o), ...v2PartnerTradeFields(ctx, o) };
}
type Handler = (call: V2Call) => Fields;

class ReturnFail extends Error {}

function sendXml(reply: FastifyReply, fields: Fields): FastifyReply {
  return reply.code(200).type('text/xml; charset=utf-8').send(buildWechatXml(fields));
}

/** Authenticates a v2 message; throws ReturnFail (return_code FAIL) for what WeChat refuses before reading the business fields. */
export function authenticateV2(ctx: SimContext, req: FastifyRequest, needsCert: boolean): V2Call {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (raw.trim() === '') throw new ReturnFail('post数据为空');
  let fields: Fields;
  try {
    fields = parseWechatXml(raw);
  } catch (err) {
    if (err instanceof XmlFormatError) throw new ReturnFail('XML格式错误');
    throw err;
  }
  const merchant = fields.mch_id ? ctx.state.merchants.get(fields.mch_id) : undefined;
  if (!merchant) throw new ReturnFail(fields.mch_id ? '商户号mch_id不存在' : '缺少参数mch_id');
  if (needsCert) {
    const cert = clientCertificate(req.raw.socket);
    // The certificate must be this merchant's API certificate, issued by the sandbox CA.
    if (!cert || cert.serial !== merchant.merchantSerialNo.toUpperCase() || cert.subjectCn !== merchant.mchid) throw new ReturnFail('证书不存在或与商户号不匹配，请使用商户API证书发起请求');
  }
  if (!fields.nonce_str) throw new ReturnFail('缺少参数nonce_str');
  const signType = declaredSignType(fields);
  if (!signType) throw new ReturnFail('sign_type参数错误，仅支持MD5和HMAC-SHA256');
  if (!fields.sign) throw new ReturnFail('缺少参数sign');
  if (!v2SignMatches(fields, merchant.apiKey, signType)) throw new ReturnFail('签名错误');
  return { merchant, signer: merchant, fields, signType };
}

/** Signs an answer with the request's algorithm; like WeChat's, it does not declare sign_type. */
export function signedAnswer(call: V2Call, business: Fields): Fields {
  const answer: Fields = { return_code: 'SUCCESS', return_msg: 'OK', appid: call.fields.appid ?? '', mch_id: call.signer.mchid, ...v2PartnerEcho(call.partner), nonce_str: alnum(32), ...business };
  if (answer.appid === '') delete answer.appid;
  return { ...answer, sign: v2Sign(answer, call.signer.apiKey, call.signType) };
}

export function v2Route(ctx: SimContext, handler: Handler, opts: { cert?: boolean } = {}) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (ctx.faults.responseDelayMs > 0) await sleep(ctx.faults.responseDelayMs);
    let call: V2Call;
    try {
      call = authenticateV2(ctx, req, opts.cert === true);
    } catch (err) {
      if (!(err instanceof ReturnFail)) throw err;
      ctx.log.info({ url: req.url, reason: err.message }, 'v2 request rejected');
      return sendXml(reply, { return_code: 'FAIL', return_msg: err.message });
    }
    let business: Fields;
    try {
      if (ctx.faults.failNextRequests > 0) {
        ctx.faults.failNextRequests -= 1;
        throw new V2Error('SYSTEMERROR', '系统超时，请用相同参数重新调用');
      }
      const acting = withPartner(ctx, call);
      call = acting;
      business = { result_code: 'SUCCESS', ...handler(acting) };
    } catch (err) {
      const e = v2ErrorOf(err);
      if (!e) throw err;
      ctx.log.debug({ url: req.url, code: e.errCode }, 'v2 request refused');
      business = { result_code: 'FAIL', err_code: e.errCode, err_code_des: e.message };
    }
    return sendXml(reply, signedAnswer(call, business));
  };
}

export function registerV2Routes(app: FastifyInstance, ctx: SimContext): void {
  const dialect = (c: V2Call) => ({ api: 'v2' as const, signType: c.signType });
  app.post('/pay/unifiedorder', v2Route(ctx, (c) => unifiedOrder(ctx, c.merchant, c.fields, dialect(c), c.partner)));
  app.post(
    '/pay/orderquery',
    v2Route(ctx, (c) => {
      requireBoundAppid(c.merchant, c.fields.appid);
      return tradeFields(ctx, findV2Order(ctx, c.merchant, c.fields));
    }),
  );
  app.post(
    '/pay/closeorder',
    v2Route(ctx, (c) => {
      requireBoundAppid(c.merchant, c.fields.appid);
      return closeV2Order(ctx, c.merchant, c.fields);
    }),
  );
  app.post(
    '/secapi/pay/refund',
    v2Route(
      ctx,
      (c) => {
        requireBoundAppid(c.merchant, c.fields.appid);
        return refundV2(ctx, c.merchant, c.fields, dialect(c));
      },
      { cert: true },
    ),
  );
  app.post(
    '/pay/refundquery',
    v2Route(ctx, (c) => {
      requireBoundAppid(c.merchant, c.fields.appid);
      return refundQueryV2(ctx, c.merchant, c.fields);
    }),
  );
}

/** 付款码 (micropay) and 撤销 (reverse, mutual TLS). */
export function registerV2BarRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.post(
    '/pay/micropay',
    v2Route(ctx, (c) => {
      const f = c.fields;
      need(f, 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'auth_code');
      const appid = requireBoundAppid(c.merchant, f.appid);
      if (!AUTH_CODE_RE.test(f.auth_code as string)) throw new V2Error('AUTH_CODE_INVALID', '付款码无效，请重新扫码');
      if (!/^[0-9A-Za-z_\-|*@]{1,32}$/.test(f.out_trade_no as string)) throw new V2Error('PARAM_ERROR', 'out_trade_no格式错误');
      const { nonce_str: _n, sign: _s, ...params } = f;
      const answer = barPay(
        ctx,
        c.merchant,
        { appid, description: f.body as string, out_trade_no: f.out_trade_no as string, amount_total: fen(f, 'total_fee'), auth_code: f.auth_code as string, fingerprint: canonicalJson({ v2bar: params }), ...(c.partner ? { partner: v2PartnerInfo(c.partner, appid) } : {}) },
        { api: 'v2', signType: c.signType },
      );
      if (answer.kind === 'paid') return tradeFields(ctx, answer.order);
      if (answer.kind === 'userpaying') throw new V2Error('USERPAYING', '需要用户输入支付密码');
      throw new V2Error(answer.code, answer.message);
    }),
  );
  app.post(
    '/secapi/pay/reverse',
    v2Route(
      ctx,
      (c) => {
        requireBoundAppid(c.merchant, c.fields.appid);
        reverseOrder(ctx, findV2Order(ctx, c.merchant, c.fields));
        return { recall: 'N' };
      },
      { cert: true },
    ),
  );
}

/**
 * 下载对账单 (protocols.md §B.6): the answer is the bill file itself — CSV, or its GZIP with
 * tar_type=GZIP — and an XML return_code FAIL only for errors (a day without trades: "No Bill Exist").
 */
export function registerV2BillRoute(app: FastifyInstance, ctx: SimContext): void {
  app.post('/pay/downloadbill', async (req, reply) => {
    const failXml = (msg: string, code: string) => sendXml(reply, { return_code: 'FAIL', return_msg: msg, error_code: code });
    let call: V2Call;
    try {
      call = authenticateV2(ctx, req, false);
    } catch (err) {
      if (!(err instanceof ReturnFail)) throw err;
      return sendXml(reply, { return_code: 'FAIL', return_msg: err.message });
    }
    const f = call.fields;
    try {
      // A provider downloads one sub-merchant's bill by naming sub_mch_id.
      call = withPartner(ctx, call);
      requireBoundAppid(call.merchant, f.appid);
    } catch (err) {
      return failXml(err instanceof V2Error && err.errCode !== 'APPID_MCHID_NOT_MATCH' ? err.message : 'appid和mch_id不匹配', '20001');
    }
    if (!/^\d{8}$/.test(f.bill_date ?? '')) return failXml('invalid bill_date', '20001');
    const type = f.bill_type ?? 'ALL';
    if (type !== 'ALL' && type !== 'SUCCESS' && type !== 'REFUND') return failXml('invalid bill_type', '20001');
    if (f.tar_type !== undefined && f.tar_type !== 'GZIP') return failXml('invalid tar_type', '20001');
    const d = f.bill_date as string;
    const { csv, count } = billCsv(ctx, call.merchant.mchid, `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`, type);
    if (count === 0) return failXml('No Bill Exist', '20002');
    const plain = Buffer.from(csv, 'utf8');
    return f.tar_type === 'GZIP' ? reply.type('application/octet-stream').send(gzipSync(plain)) : reply.type('text/plain; charset=utf-8').send(plain);
  });
}
