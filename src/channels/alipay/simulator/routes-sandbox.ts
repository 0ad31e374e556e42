import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerTokenOk, sandboxBody } from '../../sandbox/kit.ts';
import { appView, registerApp } from './apps.ts';
import { billZip, checkBillLink } from './bills.ts';
import { AlipayError, type SimContext } from './context.ts';
import { tradeView } from './state.ts';
import { payTrade, scanTrade } from './trades.ts';
import { payOrderString } from './verify.ts';
import type { FaultSwitches, PayerOptions, RegisterAppInput, TradeRecord } from './types.ts';

/**
 * The sandbox's own JSON API (not Alipay's), shaped like the WeChat simulator's: admin routes
 * (apps, fault switches, ledger; bearer token when configured) and payer routes standing in for
 * the person holding the phone (never authenticated: anyone may "pay").
 */

type Json = Record<string, unknown>;

class BadRequest extends Error {}

function body(req: FastifyRequest): Json {
  const b = sandboxBody(req);
  if (b === null) throw new BadRequest('body must be a JSON object');
  return b;
}

function opt(b: Json, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be a string`);
  return v;
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof BadRequest) return reply.code(400).send({ code: 'BAD_REQUEST', message: err.message });
  if (err instanceof AlipayError) {
    const status = err.subCode === 'ACQ.TRADE_NOT_EXIST' || err.subCode === 'sandbox.not-found' ? 404 : err.code === '40004' ? 409 : 400;
    return reply.code(status).send({ code: err.subCode, message: err.subMsg });
  }
  throw err;
}

const FAULT_KEYS: Record<keyof FaultSwitches, 'boolean' | 'count'> = {
  duplicateNotifications: 'boolean',
  badNotifySignature: 'boolean',
  tamperNotifyAmount: 'boolean',
  wrongNotifyAppId: 'boolean',
  badResponseSignature: 'boolean',
  failNextRequests: 'count',
  responseDelayMs: 'count',
  refundNotAllowed: 'boolean',
};

export function applyFaults(target: FaultSwitches, patch: Json): void {
  for (const [k, v] of Object.entries(patch)) {
    const kind = FAULT_KEYS[k as keyof FaultSwitches];
    if (!kind) throw new BadRequest(`unknown fault switch ${k}`);
    if (kind === 'boolean' && typeof v !== 'boolean') throw new BadRequest(`${k} must be a boolean`);
    if (kind === 'count' && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new BadRequest(`${k} must be a non-negative integer`);
  }
  Object.assign(target, patch);
}

const notFound = (what: string): AlipayError => new AlipayError('40004', 'sandbox.not-found', `${what} 不存在`);

/** The trade a payer names: a qr_code, a trade_no, or app_id + out_trade_no. */
export function tradeFor(ctx: SimContext, b: { qrCode?: string; tradeNo?: string; appId?: string; outTradeNo?: string }): TradeRecord {
  let t: TradeRecord | undefined;
  if (b.qrCode !== undefined) {
    const token = /\/sandbox\/qr\/([0-9A-Za-z]+)$/.exec(b.qrCode)?.[1];
    t = token ? ctx.state.tradeByQrToken(token) : undefined;
    if (!t) throw notFound(`二维码 ${b.qrCode}`);
  } else if (b.tradeNo !== undefined) {
    t = ctx.state.tradeByNo(b.tradeNo);
    if (!t) throw notFound(`交易 ${b.tradeNo}`);
  } else {
    if (!b.appId || !b.outTradeNo) throw new BadRequest('give qr_code, trade_no, order_string, or app_id and out_trade_no');
    t = ctx.state.trade(b.appId, b.outTradeNo);
    if (!t) throw notFound(`交易 ${b.outTradeNo}`);
  }
  return t;
}

/** preHandler of admin routes: the bearer token, when the simulator was given one. */
export function adminGuard(adminToken: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (adminToken !== undefined && !bearerTokenOk(adminToken, req.headers.authorization)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'admin token required' });
    }
  };
}

export function registerSandboxRoutes(app: FastifyInstance, ctx: SimContext, adminToken: string | undefined): void {
  const admin = adminGuard(adminToken);

  app.post('/sandbox/v1/apps', { preHandler: admin }, async (req, reply) => {
    try {
      return reply.send(await registerApp(ctx, body(req) as RegisterAppInput));
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.get('/sandbox/v1/apps', { preHandler: admin }, async (_req, reply) => reply.send({ apps: [...ctx.state.apps.values()].map((a) => appView(ctx, a)) }));

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
    const appId = (req.query as Record<string, string | undefined>).app_id;
    return reply.send(ctx.state.ledger(appId || undefined));
  });

  const payer = (action: 'pay' | 'scan') => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const b = body(req);
      const o: PayerOptions = {};
      const buyerId = opt(b, 'buyer_id');
      const buyerOpenId = opt(b, 'buyer_open_id');
      if (buyerId !== undefined) o.buyerId = buyerId;
      if (buyerOpenId !== undefined) o.buyerOpenId = buyerOpenId;
      const orderString = opt(b, 'order_string');
      if (orderString !== undefined) {
        if (action !== 'pay') throw new BadRequest('an order string can only be paid');
        return reply.send(tradeView(payOrderString(ctx, orderString, o)));
      }
      const id = { qrCode: opt(b, 'qr_code'), tradeNo: opt(b, 'trade_no'), appId: opt(b, 'app_id'), outTradeNo: opt(b, 'out_trade_no') };
      const t = tradeFor(ctx, Object.fromEntries(Object.entries(id).filter(([, v]) => v !== undefined)));
      return reply.send(tradeView(action === 'pay' ? payTrade(ctx, t, o) : scanTrade(ctx, t, o)));
    } catch (err) {
      return fail(reply, err);
    }
  };
  app.post('/sandbox/v1/pay', payer('pay'));
  app.post('/sandbox/v1/scan', payer('scan'));

  app.get('/sandbox/bills/download', async (req, reply) => {
    const link = checkBillLink(ctx, req.query as Record<string, string | undefined>);
    if (link === 'invalid') return reply.code(403).type('text/plain').send('invalid bill link');
    if (link === 'expired') return reply.code(410).type('text/plain').send('bill link expired (links live 30 s)');
    const file = billZip(ctx, link.appId, link.date);
    return reply.type('application/zip').header('Content-Disposition', `attachment; filename="${file.fileName}"`).send(file.body);
  });
}
