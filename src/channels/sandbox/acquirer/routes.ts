import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SandboxBadRequest, applyFaultPatch, bearerTokenOk, optionalString, requireSandboxBody } from '../kit.ts';
import { tradeView } from './book.ts';
import { RegistrationError } from './merchants.ts';
import { cancelTrade, failTrade, payTrade, payUrl, releaseRefunds, tradeForPayer, type AcquirerContext } from './engine.ts';
import { SimRefusal, WALLETS, type AcquirerFaults, type TradeRecord, type Wallet } from './types.ts';

/**
 * The sandbox's own JSON API (not the channel's), shaped like the WeChat and Alipay simulators':
 * admin routes (merchants, fault switches, ledger, held refunds, downtime; bearer token when
 * configured) and payer routes standing in for the person holding the phone (never
 * authenticated: anyone may "pay").
 */

type Json = Record<string, unknown>;
const body = requireSandboxBody;
const opt = optionalString;

export function walletOf(value: string | undefined): Wallet | undefined {
  if (value === undefined) return undefined;
  const w = value.toUpperCase();
  if (!(WALLETS as readonly string[]).includes(w)) throw new SandboxBadRequest(`wallet must be one of ${WALLETS.join(', ')}`);
  return w as Wallet;
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SandboxBadRequest || err instanceof RegistrationError) return reply.code(400).send({ code: 'BAD_REQUEST', message: err.message });
  if (err instanceof SimRefusal) return reply.code(err.reason === 'NOT_FOUND' ? 404 : 409).send({ code: err.reason, message: err.message });
  throw err;
}

const FAULT_KEYS: Record<keyof AcquirerFaults, 'boolean' | 'count'> = {
  busyNextRequests: 'count',
  busyNextCreates: 'count',
  responseDelayMs: 'count',
  badNotifySignature: 'boolean',
  tamperNotifyAmount: 'boolean',
  wrongNotifyMerchant: 'boolean',
  duplicateNotifications: 'boolean',
  holdRefunds: 'boolean',
  failRefunds: 'boolean',
};

/** The trade a payer names: a payer link / code / token / trade number, or merchant_id + out_trade_no. */
function payerTrade(ctx: AcquirerContext, b: Json): TradeRecord {
  const target = opt(b, 'code') ?? opt(b, 'trade_no');
  if (target !== undefined) return tradeForPayer(ctx, target);
  const merchantId = opt(b, 'merchant_id');
  const outTradeNo = opt(b, 'out_trade_no');
  if (!merchantId || !outTradeNo) throw new SandboxBadRequest('give code (the payer link or QR content), trade_no, or merchant_id and out_trade_no');
  const t = ctx.book.trade(merchantId, outTradeNo);
  if (!t) throw new SimRefusal('NOT_FOUND', `order ${outTradeNo} does not exist`);
  return t;
}

export function adminGuard(adminToken: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (adminToken !== undefined && !bearerTokenOk(adminToken, req.headers.authorization)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'admin token required' });
    }
  };
}

export function registerAcquirerSandboxRoutes(
  app: FastifyInstance,
  ctx: AcquirerContext,
  adminToken: string | undefined,
  registerMerchant: (input: Json) => Promise<object>,
  control: { down(ms?: number): Promise<void> },
): void {
  const admin = adminGuard(adminToken);
  const guarded = (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await fn(req, reply);
    } catch (err) {
      return fail(reply, err);
    }
  };

  app.post('/sandbox/v1/merchants', { preHandler: admin }, guarded(async (req, reply) => reply.send(await registerMerchant(body(req)))));
  app.get('/sandbox/v1/merchants', { preHandler: admin }, async (_req, reply) =>
    reply.send({ merchants: [...ctx.book.merchants.values()].map((m) => ({ merchantId: m.id, name: m.name, createdAt: new Date(m.createdAt).toISOString() })) }),
  );
  app.get('/sandbox/v1/faults', { preHandler: admin }, async (_req, reply) => reply.send(ctx.faults));
  app.put(
    '/sandbox/v1/faults',
    { preHandler: admin },
    guarded(async (req, reply) => {
      applyFaultPatch(ctx.faults, body(req), FAULT_KEYS);
      return reply.send(ctx.faults);
    }),
  );
  app.get('/sandbox/v1/ledger', { preHandler: admin }, async (req, reply) => {
    const merchantId = (req.query as Record<string, string | undefined>).merchant_id;
    return reply.send(ctx.book.ledger(merchantId || undefined, (t) => payUrl(ctx, t)));
  });
  app.post('/sandbox/v1/refunds/release', { preHandler: admin }, async (_req, reply) => reply.send({ released: releaseRefunds(ctx) }));
  // Answered first, then the listener closes: the caller learns when it comes back.
  app.post(
    '/sandbox/v1/down',
    { preHandler: admin },
    guarded(async (req, reply) => {
      const seconds = body(req).seconds;
      if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 1 || seconds > 3600) throw new SandboxBadRequest('seconds must be an integer 1…3600');
      setTimeout(() => void control.down(seconds * 1000), 50).unref();
      return reply.send({ down: true, upAt: new Date(ctx.now() + 50 + seconds * 1000).toISOString() });
    }),
  );

  const payer = (action: 'pay' | 'cancel' | 'fail') =>
    guarded(async (req, reply) => {
      const b = body(req);
      const t = payerTrade(ctx, b);
      const wallet = walletOf(opt(b, 'wallet'));
      const payerId = opt(b, 'payer');
      const done = action === 'pay' ? payTrade(ctx, t, { ...(wallet ? { wallet } : {}), ...(payerId ? { payer: payerId } : {}) }) : action === 'cancel' ? cancelTrade(ctx, t) : failTrade(ctx, t);
      return reply.send(tradeView(done, payUrl(ctx, done)));
    });
  app.post('/sandbox/v1/pay', payer('pay'));
  app.post('/sandbox/v1/cancel', payer('cancel'));
  app.post('/sandbox/v1/fail', payer('fail'));
}
