import { TimerSet } from '../../sandbox/kit.ts';
import { createSandboxApp, listenSandbox } from '../../sandbox/server.ts';
import { registerAcpRoutes } from './acp-routes.ts';
import { resumeAfter } from './after.ts';
import { AcpError, sandboxUserId, toSimLog, type SimContext } from './context.ts';
import { payConsume, schedulePassword, scanConsume } from './consumes.ts';
import { generateKeyMaterial, loadKeys } from './keys.ts';
import { createNotifier } from './notifier.ts';
import type { RetryingNotifier } from '../../sandbox/notifier.ts';
import { registerPages } from './pages.ts';
import { authorize, consumeFor } from './payer.ts';
import { SnapshotWriter, loadSnapshot } from './persistence.ts';
import { registerMerchant, registerProvider } from './registry.ts';
import { registerSandboxRoutes } from './routes-sandbox.ts';
import { registerSpRoutes } from './sp-routes.ts';
import { SimState, consumeView } from './state.ts';
import type { FaultSwitches, NotifyRecord, UnionPaySimulator, UnionPaySimulatorOptions } from './types.ts';

/**
 * UnionPay simulator (sandbox): the ACP 5.1.0 全渠道 gateway with strict certificate signatures,
 * the reconciliation file host, the 云闪付 service-provider JSON gateway (/partner) and the
 * 云闪付 user-authorisation page, with signed back notifications on a retry schedule. Its own PKI
 * issues merchant PFX files and a signing certificate chained to a published middle/root.
 * See docs/sandbox/unionpay.md.
 */

export type * from './types.ts';
export { RETRY_SCHEDULE_S } from './notifier.ts';

export function defaultFaults(): FaultSwitches {
  return { duplicateNotifications: false, badNotifySignature: false, tamperNotifyAmount: false, wrongNotifyMerId: false, foreignSignCert: false, badResponseSignature: false, failNextRequests: 0, responseDelayMs: 0 };
}

export async function startUnionPaySimulator(opts: UnionPaySimulatorOptions = {}): Promise<UnionPaySimulator> {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a positive number');
  const snapshot = opts.stateFile ? await loadSnapshot(opts.stateFile) : null;
  const keys = loadKeys(snapshot?.keys ?? (await generateKeyMaterial()));
  const log = toSimLog(opts.logger);
  let writer: SnapshotWriter | null = null;
  const state = new SimState(() => writer?.schedule());
  if (snapshot) state.restore(snapshot);
  const scheduler = new TimerSet();
  let notifier: RetryingNotifier<NotifyRecord> | null = null;
  const ctx: SimContext = {
    state,
    keys,
    faults: defaultFaults(),
    log,
    timeScale,
    passwordDelayMs: opts.passwordDelayMs ?? 5000,
    refundDelayMs: opts.refundDelayMs ?? 2000,
    callbackTimeoutMs: opts.callbackTimeoutMs ?? 5000,
    baseUrl: '',
    now: () => Date.now(),
    scheduler,
    onNotification: (id) => notifier?.schedule(id, 0),
  };
  notifier = createNotifier(ctx);
  if (opts.stateFile) {
    writer = new SnapshotWriter(opts.stateFile, () => state.snapshot(keys.material), (err) => log.error({ err: (err as Error).message, file: opts.stateFile }, 'state file write failed'));
    if (!snapshot) writer.schedule(); // a fresh file gets the PKI at once, so a restart keeps the identity
  }

  const app = createSandboxApp(opts.logger, log);
  registerAcpRoutes(app, ctx);
  registerSpRoutes(app, ctx);
  registerSandboxRoutes(app, ctx, opts.adminToken);
  registerPages(app, ctx);
  ctx.baseUrl = await listenSandbox(app, opts);
  notifier.resumeAll();
  resumeAfter(ctx);
  for (const c of state.allConsumes()) if (c.status === 'PAYING' && c.passwordUntil !== undefined) schedulePassword(ctx, c);
  log.info({ baseUrl: ctx.baseUrl, timeScale, stateFile: opts.stateFile ?? null }, 'UnionPay simulator listening');

  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AcpError) throw new Error(`${err.respCode}: ${err.respMsg}`);
      throw err;
    }
  };
  let closed = false;
  return {
    baseUrl: ctx.baseUrl,
    acpBaseUrl: ctx.baseUrl,
    spBaseUrl: `${ctx.baseUrl}/partner`,
    fileBaseUrl: `${ctx.baseUrl}/filedownload/`,
    userAuthUrl: `${ctx.baseUrl}/qrcGtwWeb-web/api/userAuth`,
    registerMerchant: (input) => registerMerchant(ctx, input).catch((err: unknown) => guard(() => { throw err; })),
    registerProvider: (input) => registerProvider(ctx, input).catch((err: unknown) => guard(() => { throw err; })),
    payer: {
      pay: (target, o = {}) => guard(() => consumeView(payConsume(ctx, consumeFor(ctx, target), o.user ? { userId: sandboxUserId(o.user) } : {}))),
      scan: (qrCode) => guard(() => consumeView(scanConsume(ctx, consumeFor(ctx, { qrCode })))),
      authorize: (redirectUrl, user) => guard(() => authorize(ctx, redirectUrl, user)),
    },
    faults: ctx.faults,
    ledger: (merId) => state.ledger(merId),
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
