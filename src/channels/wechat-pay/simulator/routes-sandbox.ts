import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerTokenOk, sandboxBody } from '../../sandbox/kit.ts';
import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { merchantView, registerMerchant } from './merchants.ts';
import { registerSubMerchant } from './partners.ts';
import { merchantP12 } from './p12.ts';
import { completeRefund, findRefund } from './refunds.ts';
import { scanProduct } from './product-scan.ts';
import { cancelOrder, failOrder, findOrder, payOrder } from './transactions.ts';
import type { FaultSwitches, OrderRecord, RefundOutcome, RegisterMerchantInput, RegisterSubMerchantInput, Transaction } from './types.ts';

/**
 * The sandbox's own JSON API (not WeChat's): admin routes to set up merchants, fault switches and
 * read the ledger, and payer routes standing in for the person holding the phone. Admin routes
 * need the bearer token when one is configured; payer routes never do (anyone may "pay").
 */

type Json = Record<string, unknown>;

function body(req: FastifyRequest): Json {
  const b = sandboxBody(req);
  if (b === null) throw new SimError(400, 'BAD_REQUEST', 'body must be a JSON object');
  return b;
}

function optString(b: Json, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new SimError(400, 'BAD_REQUEST', `${name} must be a string`);
  return v;
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SimError) return reply.code(err.status).send({ code: err.code, message: err.message });
  return reply.code(500).send({ code: 'INTERNAL', message: (err as Error).message });
}

/** A form post from a sandbox page gets a redirect back to that page instead of JSON. */
function formReturn(req: FastifyRequest, b: Json): string | null {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  const target = typeof b.return_to === 'string' ? b.return_to : '/sandbox/';
  const u = new URL(target, 'http://sandbox.invalid');
  // Same-origin /sandbox/ paths only: return_to must not become an open redirect.
  if (u.origin !== 'http://sandbox.invalid' || !u.pathname.startsWith('/sandbox/')) return '/sandbox/';
  return `${u.pathname}${u.search}`;
}

function respondPayer(req: FastifyRequest, reply: FastifyReply, b: Json, run: () => Transaction): FastifyReply {
  const back = formReturn(req, b);
  try {
    const txn = run();
    if (back === null) return reply.send(txn);
    return redirectWith(reply, back, `${txn.trade_state}: ${txn.trade_state_desc}`);
  } catch (err) {
    if (back === null || !(err instanceof SimError)) return fail(reply, err);
    return redirectWith(reply, back, `${err.code}: ${err.message}`);
  }
}

function redirectWith(reply: FastifyReply, path: string, msg: string): FastifyReply {
  const u = new URL(path, 'http://sandbox.invalid');
  u.searchParams.set('msg', msg);
  return reply.code(303).header('Location', `${u.pathname}${u.search}`).send();
}

const FAULT_KEYS: Record<keyof FaultSwitches, 'boolean' | 'count'> = {
  duplicateCallbacks: 'boolean',
  probeSignatureFirst: 'boolean',
  badCallbackSignature: 'boolean',
  staleCallbackTimestamp: 'boolean',
  tamperCallbackAmount: 'boolean',
  failNextRequests: 'count',
  responseDelayMs: 'count',
  notEnoughBalanceForRefunds: 'boolean',
  holdRefunds: 'boolean',
};

export function applyFaults(target: FaultSwitches, patch: Json): void {
  for (const [k, v] of Object.entries(patch)) {
    const kind = FAULT_KEYS[k as keyof FaultSwitches];
    if (!kind) throw new SimError(400, 'BAD_REQUEST', `unknown fault switch ${k}`);
    if (kind === 'boolean' && typeof v !== 'boolean') throw new SimError(400, 'BAD_REQUEST', `${k} must be a boolean`);
    if (kind === 'count' && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      throw new SimError(400, 'BAD_REQUEST', `${k} must be a non-negative integer`);
    }
  }
  Object.assign(target, patch);
}

export function registerSandboxRoutes(app: FastifyInstance, ctx: SimContext, adminToken: string | undefined): void {
  const admin = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (adminToken !== undefined && !bearerTokenOk(adminToken, req.headers.authorization)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'admin token required' });
    }
  };

  app.post('/sandbox/v1/merchants', { preHandler: admin }, async (req, reply) => {
    try {
      const reg = registerMerchant(ctx, body(req) as RegisterMerchantInput);
      const certificate = await reg.certificate;
      const { merchantPrivateKeyPem: key, mchid } = reg.credentials;
      const p12 = certificate && key ? { merchantCertificateP12: merchantP12(certificate, key, mchid) } : {};
      return reply.send({ ...reg.credentials, merchantCertificatePem: certificate ?? null, ...p12 });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/sandbox/v1/merchants', { preHandler: admin }, async (_req, reply) =>
    reply.send({ merchants: [...ctx.state.merchants.values()].map((m) => merchantView(ctx, m)) }),
  );

  // 特约商户 onboarding (进件) under a provider registered with providerType.
  app.post('/sandbox/v1/sub-merchants', { preHandler: admin }, async (req, reply) => {
    try {
      return reply.send(registerSubMerchant(ctx, body(req) as unknown as RegisterSubMerchantInput));
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get('/sandbox/v1/sub-merchants', { preHandler: admin }, async (_req, reply) => reply.send({ subMerchants: [...ctx.state.subMerchants.values()] }));

  app.get('/sandbox/v1/faults', { preHandler: admin }, async (_req, reply) => reply.send(ctx.faults));
  app.put('/sandbox/v1/faults', { preHandler: admin }, async (req, reply) => {
    try {
      applyFaults(ctx.faults, body(req));
      return reply.send(ctx.faults);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/sandbox/v1/ledger', { preHandler: admin }, async (req, reply) => {
    const mchid = (req.query as Record<string, string | undefined>).mchid;
    return reply.send(ctx.state.ledger(mchid || undefined, ctx.baseUrl));
  });

  app.post('/sandbox/v1/refunds/:mchid/:out_refund_no/complete', { preHandler: admin }, async (req, reply) => {
    try {
      const p = req.params as { mchid: string; out_refund_no: string };
      const outcome = optString(body(req), 'outcome') ?? 'SUCCESS';
      if (outcome !== 'SUCCESS' && outcome !== 'ABNORMAL' && outcome !== 'CLOSED') {
        throw new SimError(400, 'BAD_REQUEST', 'outcome must be SUCCESS, ABNORMAL or CLOSED');
      }
      return reply.send(completeRefund(ctx, findRefund(ctx, p.mchid, p.out_refund_no), outcome as RefundOutcome));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/sandbox/v1/pay', async (req, reply) => {
    let b: Json;
    try {
      b = body(req);
    } catch (err) {
      return fail(reply, err);
    }
    return respondPayer(req, reply, b, () => {
      const codeUrl = optString(b, 'code_url');
      let order: OrderRecord | undefined;
      if (codeUrl !== undefined) {
        order = ctx.state.orderByCodeUrl(codeUrl);
        if (!order) throw new SimError(404, 'ORDER_NOT_EXIST', '二维码无效或订单不存在');
      } else {
        const mchid = optString(b, 'mchid');
        const no = optString(b, 'out_trade_no');
        if (!mchid || !no) throw new SimError(400, 'BAD_REQUEST', 'give code_url, or mchid and out_trade_no');
        order = findOrder(ctx, mchid, no);
      }
      return payOrder(ctx, order, optString(b, 'openid'));
    });
  });

  // Payer action: scan a Native 模式一 product code (calls the merchant's scan callback, then pays unless "pay": false).
  app.post('/sandbox/v1/scan-product', async (req, reply) => {
    try {
      const b = body(req);
      const codeUrl = optString(b, 'code_url');
      if (!codeUrl) throw new SimError(400, 'BAD_REQUEST', 'code_url is required');
      return reply.send(await scanProduct(ctx, codeUrl, { openid: optString(b, 'openid'), pay: b.pay !== false }));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/sandbox/v1/orders/:mchid/:out_trade_no/:action', async (req, reply) => {
    const p = req.params as { mchid: string; out_trade_no: string; action: string };
    let b: Json;
    try {
      b = body(req);
    } catch (err) {
      return fail(reply, err);
    }
    return respondPayer(req, reply, b, () => {
      const order = findOrder(ctx, p.mchid, p.out_trade_no);
      if (p.action === 'pay') return payOrder(ctx, order, optString(b, 'openid'));
      if (p.action === 'cancel') return cancelOrder(ctx, order);
      if (p.action === 'fail') return failOrder(ctx, order, optString(b, 'reason'));
      throw new SimError(404, 'NOT_FOUND', `unknown action ${p.action}; use pay, cancel or fail`);
    });
  });
}
