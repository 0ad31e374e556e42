import { X509Certificate } from 'node:crypto';
import { billFile, fundFlowBill, tradeBill } from './bills.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { aesGcmEncrypt, parseAuthorization } from '../v3-crypto.ts';
import { authenticate, type NonceCache } from './auth.ts';
import { signBody, type SimContext } from './context.ts';
import { SimError, errorBody, errors } from './errors.ts';
import { gcmNonce, requestId, rfc3339 } from './ids.ts';
import { createRefund, findRefund, refundView } from './refunds.ts';
import { closeOrder, findOrder, findOrderByTransactionId, prepay, transactionView } from './transactions.ts';
import type { MerchantRecord, PrepayEndpoint } from './types.ts';
import { OUT_TRADE_NO_RE, parseJsonObject } from './validate.ts';
import { refundBooks } from './partners.ts';

/**
 * The WeChat Pay API v3 surface (direct merchant, protocols.md §A.2). Every answer — 2xx, 204 and
 * errors — is signed over the exact bytes sent (§A.4, §G). Bodies arrive as raw strings (see the
 * content parser in server.ts) because the request signature covers the bytes, not the JSON.
 */

interface Answer {
  status: number;
  body?: unknown;
}

type Handler = (req: FastifyRequest, merchant: MerchantRecord, raw: string) => Answer;

export function sendSigned(ctx: SimContext, reply: FastifyReply, merchant: MerchantRecord | undefined, status: number, body?: unknown): FastifyReply {
  const text = body === undefined || status === 204 ? '' : JSON.stringify(body);
  reply.code(status).headers({ ...signBody(ctx, merchant, text), 'Request-ID': requestId() });
  if (status === 204) return reply.send();
  return reply.type('application/json; charset=utf-8').send(text);
}

/** The merchant named in the Authorization header, to pick the signing key for an error answer. */
export function claimedMerchant(ctx: SimContext, req: FastifyRequest): MerchantRecord | undefined {
  const auth = parseAuthorization(req.headers.authorization);
  return auth ? ctx.state.merchants.get(auth.mchid) : undefined;
}

export function sendError(ctx: SimContext, req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = err instanceof SimError ? err : errors.system();
  if (!(err instanceof SimError)) ctx.log.error({ err: (err as Error)?.message, url: req.url }, 'simulator handler failed');
  // A rejected signature is what developers debug most; say why (the reason never contains key material).
  else if (e.status === 401) ctx.log.info({ url: req.url, reason: e.message }, 'request rejected');
  else ctx.log.debug({ url: req.url, code: e.code }, 'request refused');
  return sendSigned(ctx, reply, claimedMerchant(ctx, req), e.status, errorBody(e, ctx.legacyErrorCodes));
}

export function wx(ctx: SimContext, nonces: NonceCache, handler: Handler) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      if (ctx.faults.responseDelayMs > 0) await sleep(ctx.faults.responseDelayMs);
      const raw = typeof req.body === 'string' ? req.body : '';
      const merchant = authenticate(
        { method: req.method, url: req.url, authorization: req.headers.authorization, body: raw },
        ctx.state,
        nonces,
        ctx.now(),
      );
      // Injected after authentication so a broken client still sees its SIGN_ERROR first.
      if (ctx.faults.failNextRequests > 0) {
        ctx.faults.failNextRequests -= 1;
        throw errors.system();
      }
      const answer = handler(req, merchant, raw);
      return sendSigned(ctx, reply, merchant, answer.status, answer.body);
    } catch (err) {
      return sendError(ctx, req, reply, err);
    }
  };
}

function queryMchid(req: FastifyRequest, merchant: MerchantRecord): void {
  const mchid = (req.query as Record<string, unknown>).mchid;
  if (typeof mchid !== 'string' || mchid === '') throw errors.param('mchid', '缺少必填参数', 'query');
  if (mchid !== merchant.mchid) throw errors.param('mchid', '与请求头Authorization中的商户号不一致', 'query', mchid);
}

function pathParam(req: FastifyRequest, name: string): string {
  return (req.params as Record<string, string>)[name] ?? '';
}

export function registerV3Routes(app: FastifyInstance, ctx: SimContext, nonces: NonceCache): void {
  for (const endpoint of ['native', 'jsapi', 'app', 'h5'] as PrepayEndpoint[]) {
    app.post(
      `/v3/pay/transactions/${endpoint}`,
      wx(ctx, nonces, (_req, merchant, raw) => ({ status: 200, body: prepay(ctx, merchant, endpoint, parseJsonObject(raw)) })),
    );
  }

  app.get(
    '/v3/pay/transactions/out-trade-no/:out_trade_no',
    wx(ctx, nonces, (req, merchant) => {
      queryMchid(req, merchant);
      const no = pathParam(req, 'out_trade_no');
      if (!OUT_TRADE_NO_RE.test(no)) throw errors.param('out_trade_no', '格式错误', 'uri_template', no);
      return { status: 200, body: transactionView(findOrder(ctx, merchant.mchid, no)) };
    }),
  );

  app.get(
    '/v3/pay/transactions/id/:transaction_id',
    wx(ctx, nonces, (req, merchant) => {
      queryMchid(req, merchant);
      return { status: 200, body: transactionView(findOrderByTransactionId(ctx, merchant.mchid, pathParam(req, 'transaction_id'))) };
    }),
  );

  app.post(
    '/v3/pay/transactions/out-trade-no/:out_trade_no/close',
    wx(ctx, nonces, (req, merchant, raw) => {
      const body = parseJsonObject(raw);
      if (typeof body.mchid !== 'string') throw errors.param('/mchid', '缺少必填字段');
      if (body.mchid !== merchant.mchid) throw errors.param('/mchid', '与请求头Authorization中的商户号不一致', 'body', body.mchid);
      closeOrder(ctx, findOrder(ctx, merchant.mchid, pathParam(req, 'out_trade_no')));
      return { status: 204 };
    }),
  );

  app.post(
    '/v3/refund/domestic/refunds',
    wx(ctx, nonces, (_req, merchant, raw) => {
      const body = parseJsonObject(raw);
      return { status: 200, body: createRefund(ctx, refundBooks(ctx, merchant, body.sub_mchid), body) };
    }),
  );

  app.get(
    '/v3/refund/domestic/refunds/:out_refund_no',
    wx(ctx, nonces, (req, merchant) => {
      const books = refundBooks(ctx, merchant, (req.query as Record<string, unknown>).sub_mchid);
      return { status: 200, body: refundView(findRefund(ctx, books.mchid, pathParam(req, 'out_refund_no'))) };
    }),
  );

  app.get('/v3/bill/fundflowbill', wx(ctx, nonces, (req, merchant) => ({ status: 200, body: fundFlowBill(ctx, merchant.mchid, req.query as Record<string, string | undefined>) })));
  app.get('/v3/bill/tradebill', wx(ctx, nonces, (req, merchant) => {
    const query = req.query as Record<string, string | undefined>;
    // A provider fetches one sub-merchant's bill with sub_mchid.
    return { status: 200, body: tradeBill(ctx, refundBooks(ctx, merchant, query.sub_mchid).mchid, query) };
  }));

  // The file itself: the request is signed like any call, the answer is not (protocols.md §A.2) —
  // its integrity comes from the SHA1 in the tradebill answer.
  app.get('/v3/billdownload/file', async (req, reply) => {
    try {
      const merchant = authenticate({ method: req.method, url: req.url, authorization: req.headers.authorization, body: '' }, ctx.state, nonces, ctx.now());
      const body = billFile(ctx, merchant.mchid, String((req.query as Record<string, unknown>).token ?? ''));
      return reply.type('application/octet-stream').send(body);
    } catch (err) {
      return sendError(ctx, req, reply, err);
    }
  });

  // Platform certificates, encrypted with the merchant's APIv3 key (protocols.md §A.2 and
  // vectors/wechatpay-v3-aesgcm-notify.json#certificates_response).
  app.get(
    '/v3/certificates',
    wx(ctx, nonces, (_req, merchant) => {
      return {
        status: 200,
        body: {
          // The signing certificate first, then earlier ones that are still valid (rotation overlap).
          data: [ctx.keys.material.certPem, ...(ctx.keys.material.previousCertPems ?? [])]
            .map((pem) => ({ pem, cert: new X509Certificate(pem) }))
            .filter(({ cert }) => new Date(cert.validTo).getTime() > ctx.now())
            .map(({ pem, cert }) => {
              const n = gcmNonce();
              return {
                serial_no: cert.serialNumber.toUpperCase(),
                effective_time: rfc3339(new Date(cert.validFrom).getTime()),
                expire_time: rfc3339(new Date(cert.validTo).getTime()),
                encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce: n, associated_data: 'certificate', ciphertext: aesGcmEncrypt(merchant.apiV3Key, n, 'certificate', pem) },
              };
            }),
        },
      };
    }),
  );
}
