import { randomBytes } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import { registerApp } from './apps.ts';
import { AppAuthBook, DEFAULT_REFRESH_TTL_S, DEFAULT_TOKEN_TTL_S } from './app-auth.ts';
import { grantAppAuth, registerAuthPages } from './pages-auth.ts';
import { UserAuthCodes, registerUserAuthPages } from './user-auth.ts';
import { AlipayError, SANDBOX_BUYER_ID, toSimLog, type Scheduler, type SimContext } from './context.ts';
import { registerGatewayRoutes } from './gateway.ts';
import { generateKeyMaterial, loadKeys } from './keys.ts';
import { Notifier } from './notifier.ts';
import { registerPages } from './pages.ts';
import { SnapshotWriter, loadSnapshot } from './persistence.ts';
import { TimerSet } from '../../sandbox/kit.ts';
import { registerSandboxRoutes, tradeFor } from './routes-sandbox.ts';
import { SimState, tradeView } from './state.ts';
import { payTrade, scanTrade } from './trades.ts';
import { payOrderString } from './verify.ts';
import type { AlipaySimulator, AlipaySimulatorOptions, FaultSwitches } from './types.ts';

/**
 * Alipay gateway simulator (sandbox): the real gateway protocol — /gateway.do with strict RSA2
 * request verification, signed answers in Alipay's exact layout, the PC/WAP cashier, signed
 * notifications on Alipay's retry schedule — served locally. See docs/sandbox/alipay.md.
 */

export type * from './types.ts';
export { RETRY_SCHEDULE_S } from './notifier.ts';

export function defaultFaults(): FaultSwitches {
  return {
    duplicateNotifications: false,
    badNotifySignature: false,
    tamperNotifyAmount: false,
    wrongNotifyAppId: false,
    badResponseSignature: false,
    failNextRequests: 0,
    responseDelayMs: 0,
    refundNotAllowed: false,
  };
}

export async function startAlipaySimulator(opts: AlipaySimulatorOptions = {}): Promise<AlipaySimulator> {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a positive number');
  const snapshot = opts.stateFile ? await loadSnapshot(opts.stateFile) : null;
  const keys = loadKeys(snapshot?.keys ?? (await generateKeyMaterial()));
  const billSecret = snapshot?.billSecret ?? randomBytes(32).toString('base64url');
  const log = toSimLog(opts.logger);
  let writer: SnapshotWriter | null = null;
  const state = new SimState(() => writer?.schedule());
  if (snapshot) state.restore(snapshot);
  const scheduler = new TimerSet();
  let notifier: Notifier | null = null;
  const now = (): number => Date.now();
  const appAuth = new AppAuthBook(now, { tokenS: opts.appAuthTokenTtlSeconds ?? DEFAULT_TOKEN_TTL_S, refreshS: opts.appAuthRefreshTtlSeconds ?? DEFAULT_REFRESH_TTL_S }, () => writer?.schedule());
  if (snapshot?.appAuths) appAuth.restore(snapshot.appAuths);
  const ctx: SimContext = {
    state,
    keys,
    faults: defaultFaults(),
    log,
    timeScale,
    passwordDelayMs: opts.passwordDelayMs ?? 5000,
    callbackTimeoutMs: opts.callbackTimeoutMs ?? 5000,
    billSecret,
    baseUrl: '',
    now,
    scheduler,
    appAuth,
    userAuth: new UserAuthCodes(now),
    onNotification: (id) => notifier?.schedule(id, 0),
  };
  notifier = new Notifier(ctx);
  if (opts.stateFile) {
    writer = new SnapshotWriter(opts.stateFile, () => state.snapshot(keys.material, billSecret, appAuth.all()), (err) => log.error({ err: (err as Error).message, file: opts.stateFile }, 'state file write failed'));
    if (!snapshot) writer.schedule(); // a fresh file gets the keys at once, so a restart keeps the identity
  }

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  // Bodies stay raw strings; the gateway parses the form itself after reading the query.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  registerGatewayRoutes(app, ctx);
  registerSandboxRoutes(app, ctx, opts.adminToken);
  registerPages(app, ctx);
  registerAuthPages(app, ctx, opts.adminToken);
  registerUserAuthPages(app, ctx);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) log.error({ err: err.message, url: req.url.split('?')[0] }, 'sandbox route failed');
    return reply.code(status).send({ code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL', message: err.message });
  });

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  ctx.baseUrl = (opts.publicUrl ?? `http://${listenHost}:${port}`).replace(/\/+$/, '');
  notifier.resumeAll();
  // A bar-code payer mid-password when we stopped confirms now.
  for (const t of state.allTrades()) if (t.status === 'WAIT_BUYER_PAY' && t.password_until !== undefined) scheduler.at(Math.max(0, t.password_until - ctx.now()), () => t.password_until !== undefined && t.status === 'WAIT_BUYER_PAY' && void payTrade(ctx, t));
  log.info({ baseUrl: ctx.baseUrl, timeScale, stateFile: opts.stateFile ?? null }, 'Alipay simulator listening');

  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AlipayError) throw new Error(`${err.subCode}: ${err.subMsg}`);
      throw err;
    }
  };
  let closed = false;
  return {
    baseUrl: ctx.baseUrl,
    gatewayUrl: `${ctx.baseUrl}/gateway.do`,
    registerApp: (input) => registerApp(ctx, input),
    payer: {
      pay: (appId, outTradeNo, o) => guard(() => tradeView(payTrade(ctx, tradeFor(ctx, { appId, outTradeNo }), o))),
      payByQr: (qrCode, o) => guard(() => tradeView(payTrade(ctx, tradeFor(ctx, { qrCode }), o))),
      payOrderString: (orderString, o) => guard(() => tradeView(payOrderString(ctx, orderString, o))),
      scan: (qrCode, o) => guard(() => tradeView(scanTrade(ctx, tradeFor(ctx, { qrCode }), o))),
    },
    appAuth: {
      authorize: (input) => guard(() => grantAppAuth(ctx, input)),
      expire: (authAppId) => appAuth.expire(authAppId),
      revoke: (authAppId) => appAuth.revoke(authAppId),
      list: (isvAppId) => appAuth.view(isvAppId),
    },
    identity: {
      authCode: (appId, buyerId) => ctx.userAuth.issue(appId, buyerId ?? SANDBOX_BUYER_ID),
    },
    faults: ctx.faults,
    ledger: (appId) => state.ledger(appId),
    close: async () => {
      if (closed) return;
      closed = true;
      scheduler.close();
      notifier?.close();
      await app.close();
      await writer?.flush();
    },
  };
}
