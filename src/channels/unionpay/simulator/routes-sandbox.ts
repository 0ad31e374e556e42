import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SandboxBadRequest, applyFaultPatch, bearerTokenOk, optionalString, requireSandboxBody } from '../../sandbox/kit.ts';
import { AcpError, sandboxUserId, type SimContext } from './context.ts';
import { payConsume, scanConsume } from './consumes.ts';
import { authorize, consumeFor, type PayerTarget } from './payer.ts';
import { merchantView, providerView, registerMerchant, registerProvider, type RegisterMerchantInput, type RegisterProviderInput } from './registry.ts';
import { consumeView } from './state.ts';
import type { FaultSwitches } from './types.ts';

/**
 * The sandbox's own JSON API (not UnionPay's), shaped like the other simulators': admin routes
 * (merchants, providers, fault switches, ledger; bearer token when configured), the published
 * CA certificates, and payer routes standing in for the person holding the phone.
 */

type Json = Record<string, unknown>;

const body = requireSandboxBody;
const opt = optionalString;

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SandboxBadRequest) return reply.code(400).send({ code: 'BAD_REQUEST', message: err.message });
  if (err instanceof AcpError) {
    const status = err.respCode === '34' ? 404 : err.respCode === '10' || err.respCode === '13' ? 400 : 409;
    return reply.code(status).send({ code: err.respCode, message: err.respMsg });
  }
  throw err;
}

const FAULT_KEYS: Record<keyof FaultSwitches, 'boolean' | 'count'> = {
  duplicateNotifications: 'boolean',
  badNotifySignature: 'boolean',
  tamperNotifyAmount: 'boolean',
  wrongNotifyMerId: 'boolean',
  foreignSignCert: 'boolean',
  badResponseSignature: 'boolean',
  failNextRequests: 'count',
  responseDelayMs: 'count',
};

export function applyFaults(target: FaultSwitches, patch: Json): void {
  applyFaultPatch(target, patch, FAULT_KEYS);
}

function target(b: Json): PayerTarget {
  const t = { qrCode: opt(b, 'qrCode'), tn: opt(b, 'tn'), redirectUrl: opt(b, 'redirectUrl') };
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined));
}

export function registerSandboxRoutes(app: FastifyInstance, ctx: SimContext, adminToken: string | undefined): void {
  const admin = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (adminToken !== undefined && !bearerTokenOk(adminToken, req.headers.authorization)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'admin token required' });
    }
  };
  const guarded = (fn: (req: FastifyRequest) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return reply.send(await fn(req));
    } catch (err) {
      return fail(reply, err);
    }
  };

  app.post('/sandbox/v1/merchants', { preHandler: admin }, guarded((req) => registerMerchant(ctx, body(req) as RegisterMerchantInput)));
  app.get('/sandbox/v1/merchants', { preHandler: admin }, guarded(() => ({ merchants: [...ctx.state.merchants.values()].map((m) => merchantView(ctx, m)) })));
  app.post('/sandbox/v1/providers', { preHandler: admin }, guarded((req) => registerProvider(ctx, body(req) as RegisterProviderInput)));
  app.get('/sandbox/v1/providers', { preHandler: admin }, guarded(() => ({ providers: [...ctx.state.providers.values()].map((p) => providerView(ctx, p)) })));
  app.get('/sandbox/v1/faults', { preHandler: admin }, guarded(() => ctx.faults));
  app.put('/sandbox/v1/faults', { preHandler: admin }, guarded((req) => (applyFaults(ctx.faults, body(req)), ctx.faults)));
  app.get('/sandbox/v1/ledger', { preHandler: admin }, guarded((req) => ctx.state.ledger((req.query as Record<string, string | undefined>).merId || undefined)));

  // The published chain (acp_prod_middle.cer / acp_prod_root.cer stand-ins): public, no token.
  app.get('/sandbox/v1/certs/root.cer', async (_req, reply) => reply.type('application/x-x509-ca-cert').send(ctx.keys.material.rootCertPem));
  app.get('/sandbox/v1/certs/middle.cer', async (_req, reply) => reply.type('application/x-x509-ca-cert').send(ctx.keys.material.middleCertPem));

  app.post('/sandbox/v1/pay', guarded((req) => {
    const b = body(req);
    const user = opt(b, 'user');
    return consumeView(payConsume(ctx, consumeFor(ctx, target(b)), user ? { userId: sandboxUserId(user) } : {}));
  }));
  app.post('/sandbox/v1/scan', guarded((req) => consumeView(scanConsume(ctx, consumeFor(ctx, target(body(req)))))));
  app.post('/sandbox/v1/authorize', guarded((req) => {
    const b = body(req);
    const redirectUrl = opt(b, 'redirectUrl');
    if (!redirectUrl) throw new SandboxBadRequest('redirectUrl is required');
    return authorize(ctx, redirectUrl, opt(b, 'user'));
  }));
}
