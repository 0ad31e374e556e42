import type { FastifyInstance } from 'fastify';
import { createSandboxApp, listenSandbox } from '../server.ts';
import { SnapshotWriter, readSnapshotFile } from '../snapshot-file.ts';
import { TimerSet } from '../kit.ts';
import { AcquirerBook, tradeView, type AcquirerSnapshot } from './book.ts';
import { schedulePassword } from './barcodes.ts';
import { cancelTrade, failTrade, payTrade, payUrl, releaseRefunds, settleRefund, tradeForPayer, type AcquirerContext, type SimLog } from './engine.ts';
import type { RetryingNotifier } from '../notifier.ts';
import { acquirerNotifier, type NoticeCodec } from './notifier.ts';
import { registerAcquirerPages } from './pages.ts';
import { registerAcquirerSandboxRoutes } from './routes.ts';
import { defaultAcquirerFaults, type AcquirerFaults, type AcquirerOptions, type Ledger, type NoticeRecord, type TradeView, type Wallet } from './types.ts';

/**
 * Boots an acquirer sandbox: the channel's wire routes (its own signatures, encryption and
 * answers) on top of the shared books, payer pages, admin API, notifier with retries, state file
 * and fault switches — including "unreachable", which really stops listening so that a client
 * sees a refused connection.
 */

export interface AcquirerSpec<K> {
  /** State file kind, e.g. "shengpay-simulator". */
  kind: string;
  /** Shown on pages, e.g. "盛付通 Shengpay". */
  title: string;
  userAgent: string;
  generateKeys(): Promise<K>;
  synchronousRefunds?: boolean;
  newTradeNo(now: number): string;
  newRefundNo(now: number): string;
  codec(core: AcquirerCore<K>): NoticeCodec;
  /** The channel's API: answers its "system busy" when core.takeBusy(…) says so. */
  routes(app: FastifyInstance, core: AcquirerCore<K>): void;
  /** POST /sandbox/v1/merchants: registers (or updates) a merchant and returns its credentials. */
  registerMerchant(core: AcquirerCore<K>, input: Record<string, unknown>): Promise<object>;
}

export interface AcquirerCore<K> {
  ctx: AcquirerContext;
  keys: K;
  /** True (and counted down) when a busy switch wants this call refused. */
  takeBusy(creates: boolean): boolean;
}

export interface AcquirerServer<K> {
  baseUrl: string;
  core: AcquirerCore<K>;
  faults: AcquirerFaults;
  payer: {
    pay(target: string, o?: { wallet?: Wallet; payer?: string }): TradeView;
    cancel(target: string): TradeView;
    fail(target: string): TradeView;
  };
  ledger(merchantId?: string): Ledger;
  releaseRefunds(): number;
  /** Stops listening (connections are refused) for `ms`, or until up(). */
  down(ms?: number): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

function toSimLog(logger: AcquirerOptions['logger']): SimLog {
  return logger ? logger : { debug() {}, info() {}, warn() {}, error() {} };
}

export async function startAcquirer<K>(opts: AcquirerOptions, spec: AcquirerSpec<K>): Promise<AcquirerServer<K>> {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a positive number');
  const snapshot = opts.stateFile ? await readSnapshotFile<AcquirerSnapshot<K>>(opts.stateFile, (s) => s.version === 1 && s.kind === spec.kind && !!s.keys, `a ${spec.kind} state file (version 1)`) : null;
  const keys = snapshot?.keys ?? (await spec.generateKeys());
  let writer: SnapshotWriter<AcquirerSnapshot<K>> | null = null;
  const book = new AcquirerBook(() => writer?.schedule());
  if (snapshot) book.restore(snapshot);
  const scheduler = new TimerSet();
  const log = toSimLog(opts.logger);
  let notifier: RetryingNotifier<NoticeRecord> | null = null;
  const ctx: AcquirerContext = {
    book,
    faults: defaultAcquirerFaults(),
    log,
    timeScale,
    passwordDelayMs: opts.passwordDelayMs ?? 5000,
    refundDelayMs: opts.refundDelayMs ?? 2000,
    callbackTimeoutMs: opts.callbackTimeoutMs ?? 5000,
    baseUrl: '',
    now: () => Date.now(),
    scheduler,
    synchronousRefunds: spec.synchronousRefunds ?? false,
    newTradeNo: spec.newTradeNo,
    newRefundNo: spec.newRefundNo,
    onNotice: (id) => notifier?.schedule(id, 0),
  };
  const core: AcquirerCore<K> = {
    ctx,
    keys,
    takeBusy(creates) {
      if (ctx.faults.busyNextRequests > 0) {
        ctx.faults.busyNextRequests -= 1;
        return true;
      }
      if (!creates || ctx.faults.busyNextCreates <= 0) return false;
      ctx.faults.busyNextCreates -= 1;
      return true;
    },
  };
  notifier = acquirerNotifier(ctx, spec.codec(core), spec.userAgent);
  if (opts.stateFile) {
    writer = new SnapshotWriter(opts.stateFile, () => book.snapshot(spec.kind, keys), (err) => log.error({ err: (err as Error).message, file: opts.stateFile }, 'state file write failed'));
    if (!snapshot) writer.schedule(); // a fresh file gets the keys at once, so a restart keeps the identity
  }

  // Bodies stay raw strings: each channel verifies the exact bytes it was sent.
  const app = createSandboxApp(opts.logger, log);
  // A slow channel: the call is processed, its answer held back (the client cannot know the outcome).
  app.addHook('onSend', async (req, _reply, payload) => {
    if (!req.url.startsWith('/sandbox') && ctx.faults.responseDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.responseDelayMs));
    return payload;
  });
  spec.routes(app, core);
  registerAcquirerSandboxRoutes(app, ctx, opts.adminToken, (input) => spec.registerMerchant(core, input), {
    down: (ms) => server.down(ms),
  });
  registerAcquirerPages(app, ctx, spec.title);

  const host = opts.host ?? '127.0.0.1';
  ctx.baseUrl = await listenSandbox(app, { host, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}) });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  notifier.resumeAll();
  for (const t of book.allTrades()) if (t.status === 'PAYING') schedulePassword(ctx, t);
  for (const r of book.allRefunds()) if (r.status === 'PROCESSING') scheduler.at(ctx.refundDelayMs / timeScale, () => settleRefund(ctx, r));
  log.info({ baseUrl: ctx.baseUrl, timeScale, stateFile: opts.stateFile ?? null }, `${spec.title} simulator listening`);

  let isDown = false;
  let closed = false;
  let upTimer: NodeJS.Timeout | null = null;
  const view = (t: Parameters<typeof payUrl>[1]): TradeView => tradeView(t, payUrl(ctx, t));
  const server: AcquirerServer<K> = {
    baseUrl: ctx.baseUrl,
    core,
    faults: ctx.faults,
    payer: {
      pay: (target, o) => view(payTrade(ctx, tradeForPayer(ctx, target), o)),
      cancel: (target) => view(cancelTrade(ctx, tradeForPayer(ctx, target))),
      fail: (target) => view(failTrade(ctx, tradeForPayer(ctx, target))),
    },
    ledger: (merchantId) => book.ledger(merchantId, (t) => payUrl(ctx, t)),
    releaseRefunds: () => releaseRefunds(ctx),
    async down(ms) {
      if (isDown || closed) return;
      isDown = true;
      await new Promise<void>((resolve) => {
        app.server.close(() => resolve());
        app.server.closeAllConnections();
      });
      log.warn({ ms: ms ?? null }, 'simulator down: connections are refused');
      if (ms !== undefined) {
        upTimer = setTimeout(() => void server.up(), ms);
        upTimer.unref();
      }
    },
    async up() {
      if (!isDown || closed) return;
      if (upTimer) clearTimeout(upTimer);
      upTimer = null;
      await new Promise<void>((resolve, reject) => {
        app.server.once('error', reject);
        app.server.listen(port, host, () => {
          app.server.off('error', reject);
          resolve();
        });
      });
      isDown = false;
      log.info({}, 'simulator up again');
    },
    async close() {
      if (closed) return;
      if (isDown) await server.up();
      closed = true;
      scheduler.close();
      notifier?.close();
      await app.close();
      await writer?.flush();
    },
  };
  return server;
}
