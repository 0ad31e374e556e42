import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { GatewayConfig } from './config.ts';
import { type Db, openDb } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { CHANNELS } from './channels/registry.ts';
import type { ChannelDescriptor, PayChannel } from './channels/types.ts';
import { createLogger } from './logger.ts';
import { TenancyService } from './services/tenancy.ts';
import { PassageService } from './services/passages.ts';
import { NotificationService } from './services/notifications.ts';
import { OrderSync } from './services/order-sync.ts';
import { PayOrderService } from './services/pay-orders.ts';
import { RefundService } from './services/refunds.ts';
import { CallbackService } from './services/callbacks.ts';
import { Reconciler } from './services/reconciler.ts';
import { OrderWatch } from './services/order-watch.ts';
import { ConfirmationService } from './services/confirmations.ts';
import { PayerSessionService } from './services/payer-sessions.ts';
import { BillService } from './services/bills.ts';
import { buildHttpServer } from './http/server.ts';
import { ConsoleAccounts } from './console/accounts.ts';
import { CashierTokens } from './cashier/token.ts';
import { cashierDescriptor } from './cashier/channel.ts';
import { CashierService } from './cashier/service.ts';
import type { SandboxKeyIssuer } from './console/sandbox-keys.ts';

export interface Gateway {
  config: GatewayConfig;
  db: Db;
  log: PinoLogger;
  qrKey: Buffer;
  descriptors: ReadonlyMap<string, ChannelDescriptor>;
  channels: ReadonlyMap<string, PayChannel>;
  tenancy: TenancyService;
  passages: PassageService;
  notifications: NotificationService;
  sync: OrderSync;
  payOrders: PayOrderService;
  refunds: RefundService;
  callbacks: CallbackService;
  reconciler: Reconciler;
  watch: OrderWatch;
  confirmations: ConfirmationService;
  payerSessions: PayerSessionService;
  bills: BillService;
  consoleAccounts: ConsoleAccounts;
  cashier: CashierService;
  /** Payer pages of the running simulators, linked from the consoles (main.ts adds them). */
  sandboxPages: Array<{ name: string; url: string }>;
  /** Per channel: issues fresh simulator credentials for the console's "fill with sandbox keys" (main.ts). */
  sandboxKeys: Map<string, SandboxKeyIssuer>;
  http: FastifyInstance;
  /** Listens and starts the background workers; resolves with the bound URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** One worker pass (tests drive time explicitly). */
  tick(): Promise<void>;
}

export interface GatewayOptions {
  db?: Db;
  logger?: PinoLogger;
  descriptors?: readonly ChannelDescriptor[];
  /** false: no background loop (tests call tick()). */
  workers?: boolean;
}

/** Composition root: opens the database, applies migrations, wires services and routes. */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.logger ?? createLogger(config.logLevel);
  const db = options.db ?? (await openDb({ databaseUrl: config.databaseUrl, dataDir: `${config.dataDir}/db`, poolSize: config.poolSize }));
  await migrate(db);
  const box = new SecretBox(config.masterKey);
  // QR_CASHIER is routed like a channel (a virtual one): its links are signed with a key of this deployment.
  const cashierTokens = new CashierTokens(createHmac('sha256', config.masterKey).update('polypay/cashier').digest());
  const descriptors = new Map([...(options.descriptors ?? CHANNELS), cashierDescriptor(cashierTokens, config.publicUrl)].map((d) => [d.ifCode, d]));
  const channels = new Map([...descriptors.values()].map((d) => [d.ifCode, d.create()]));
  const tenancy = new TenancyService(db, box, descriptors);
  const passages = new PassageService(db, descriptors, log, { breakerThreshold: config.breaker.threshold, breakerOpenSeconds: config.breaker.openSeconds });
  const notifications = new NotificationService({ db, log, schedule: config.notifySchedule, secretFor: async (appId, q) => (await tenancy.getApp(appId, q))?.appSecret ?? null });
  const watch = new OrderWatch();
  const sync = new OrderSync(db, notifications, log, watch);
  const qrKey = createHmac('sha256', config.masterKey).update('polypay/qr-image').digest();
  const payerSessions = new PayerSessionService({ db, tenancy, key: createHmac('sha256', config.masterKey).update('polypay/payer-session').digest(), log });
  const payOrders = new PayOrderService({ db, tenancy, passages, channels, sync, notifications, log, publicUrl: config.publicUrl, qrKey, defaultExpireSeconds: config.defaultExpireSeconds, querySchedule: config.querySchedule, barPollSchedule: config.barPollSchedule, resolveOpenid: (appId, token, kind) => payerSessions.resolveOpenid(appId, token, kind) });
  const refunds = new RefundService({ db, channels, payOrders, sync, log, publicUrl: config.publicUrl, querySchedule: config.querySchedule });
  const callbacks = new CallbackService({ db, tenancy, channels, sync, log });
  const bills = new BillService({ db, tenancy, channels, log });
  const reconciler = new Reconciler({ db, payOrders, refunds, log, querySchedule: config.querySchedule, barPollSchedule: config.barPollSchedule, barTimeoutSeconds: config.barTimeoutSeconds });
  const confirmations = new ConfirmationService({ db, payOrders, watch, key: createHmac('sha256', config.masterKey).update('polypay/client-token').digest(), log });

  const consoleAccounts = new ConsoleAccounts(db, { ...config.console, sessionMaxSeconds: 12 * 3600 });
  const cashier = new CashierService({ db, tenancy, passages, channels, payOrders, tokens: cashierTokens, log, publicUrl: config.publicUrl, querySchedule: config.querySchedule });

  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let ticking: Promise<void> | null = null;
  const tick = async () => {
    try {
      await reconciler.runDue();
      // Not awaited: a pass lasts as long as its slowest merchant endpoint, and must not hold up the reconciler.
      void notifications.dispatchDue().catch((err) => log.error({ err: (err as Error).message }, 'notification dispatch failed'));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'worker pass failed');
    }
  };
  const loop = () => {
    if (stopped) return;
    ticking = tick().finally(() => {
      ticking = null;
      if (!stopped) timer = setTimeout(loop, config.workerIntervalMs);
    });
  };

  const gw = { config, db, log, qrKey, descriptors, channels, tenancy, passages, notifications, sync, payOrders, refunds, callbacks, reconciler, watch, confirmations, payerSessions, bills, consoleAccounts, cashier, sandboxPages: [], sandboxKeys: new Map() } as unknown as Gateway;
  gw.http = await buildHttpServer(gw, log);
  gw.tick = tick;
  gw.start = async () => {
    const url = await gw.http.listen({ port: config.port, host: config.host });
    if (options.workers !== false) {
      notifications.onWake = () => void notifications.dispatchDue().catch((err) => log.error({ err: (err as Error).message }, 'notification dispatch failed'));
      loop();
    }
    return url;
  };
  gw.stop = async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    notifications.onWake = null;
    await gw.http.close();
    if (ticking) await ticking;
    await notifications.idle();
    if (!options.db) await db.close();
  };
  return gw;
}
