import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createSandboxApp, listenSandbox } from '../../sandbox/server.ts';
import { SnapshotWriter, readSnapshotFile } from '../../sandbox/snapshot-file.ts';
import { SandboxBadRequest, TimerSet, applyFaultPatch, bearerTokenOk, optionalString, requireSandboxBody } from '../../sandbox/kit.ts';
import type { RetryingNotifier } from '../../sandbox/notifier.ts';
import { PaypalBook, defaultPaypalFaults, paypalId, type PaypalFaults, type PaypalKeys, type PaypalSnapshot, type SimApp, type WebhookRecord } from './book.ts';
import { approveOrder, cancelUrlOf, settleCapture, SimError, type SimContext } from './engine.ts';
import { registerPaypalApi } from './api.ts';
import { registerPaypalPages } from './pages.ts';
import { eventBody, generatePaypalKeys, paypalNotifier, startCertServer, transmissionHeaders } from './webhooks.ts';

/**
 * PayPal simulator (sandbox): REST apps with client id/secret and a webhook, OAuth2, Orders v2
 * and Payments v2 on PayPal's paths and JSON, the buyer's approve page, signed webhooks with
 * retries and an https cert URL, PENDING / INSTRUMENT_DECLINED scenarios and fault switches, a
 * state file. docs/channels/paypal.md "Sandbox".
 */

export interface PaypalSimOptions {
  port?: number;
  host?: string;
  publicUrl?: string;
  /** Port of the https cert server (default: any free port). */
  certPort?: number;
  timeScale?: number;
  callbackTimeoutMs?: number;
  stateFile?: string;
  adminToken?: string;
  logger?: FastifyBaseLogger | false;
}

export interface PaypalAppCredentials {
  clientId: string;
  clientSecret: string;
  webhookId: string;
  webhookUrl: string | null;
  baseUrl: string;
  /** What the gateway's configuration needs to accept this sandbox's cert URL: its host and its TLS certificate. */
  certHost: string;
  certCa: string;
}

export interface PaypalLedger {
  orders: Array<{ id: string; client_id: string; invoice_id: string | null; status: string; amount: string; currency: string; capture_calls: number; capture: { id: string; status: string; refunded: number } | null; approve_url: string }>;
  webhooks: Array<{ id: string; event_type: string; url: string; attempts: number; delivered: boolean; held: boolean; last_status: number | null }>;
}

export interface PaypalSimulator {
  baseUrl: string;
  certUrl: string;
  faults: PaypalFaults;
  registerApp(input?: { clientId?: string; name?: string; webhookUrl?: string | null }): PaypalAppCredentials;
  buyer: { approve(tokenOrUrl: string): string; cancel(tokenOrUrl: string): string };
  settleCapture(captureId: string, outcome: 'complete' | 'deny'): void;
  /** Sends the webhooks held by faults.holdWebhooks (and stops holding). */
  releaseWebhooks(): number;
  /** Forgets every access token (PayPal revoked them): clients meet 401 invalid_token. */
  revokeTokens(): void;
  ledger(clientId?: string): PaypalLedger;
  /** Signed webhook headers for a body (tests forge variants with another id, URL or key). */
  signedHeaders(body: string, o?: { webhookId?: string; certUrl?: string; keyPem?: string; now?: number }): Record<string, string>;
  close(): Promise<void>;
}

const noLog = { debug() {}, info() {}, warn() {}, error() {} };

export async function startPaypalSimulator(opts: PaypalSimOptions = {}): Promise<PaypalSimulator> {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a positive number');
  const log = opts.logger || noLog;
  const snapshot = opts.stateFile ? await readSnapshotFile<PaypalSnapshot>(opts.stateFile, (s) => s.version === 1 && s.kind === 'paypal-simulator' && !!s.keys, 'a paypal-simulator state file (version 1)') : null;
  const keys: PaypalKeys = snapshot?.keys ?? (await generatePaypalKeys());
  let writer: SnapshotWriter<PaypalSnapshot> | null = null;
  const book = new PaypalBook(() => writer?.schedule());
  if (snapshot) book.restore(snapshot);
  const scheduler = new TimerSet();
  const faults = defaultPaypalFaults();
  const host = opts.host ?? '127.0.0.1';
  const certs = await startCertServer(keys, host, opts.certPort);
  let notifier: RetryingNotifier<WebhookRecord> | null = null;
  const held = new Set<string>();
  const ctx: SimContext = {
    book,
    faults,
    baseUrl: '',
    scheduler,
    now: () => Date.now(),
    emit(app, eventType, resourceType, resource, summary) {
      if (!app.webhookUrl) return;
      const { id, body } = eventBody(eventType, resourceType, resource, summary, ctx.now());
      book.webhooks.set(id, { id, url: app.webhookUrl, clientId: app.clientId, eventType, body, createdAt: ctx.now(), attempts: 0, delivered: false, gave_up: false, last_status: null, next_at: ctx.now(), duplicate: false });
      book.changed();
      if (faults.holdWebhooks) held.add(id);
      else notifier?.schedule(id, 0);
    },
  };
  notifier = paypalNotifier({ book, keys, certUrl: () => certs.certUrl, scheduler, now: ctx.now, timeScale, callbackTimeoutMs: opts.callbackTimeoutMs ?? 5000, log });
  if (opts.stateFile) {
    writer = new SnapshotWriter(opts.stateFile, () => book.snapshot(keys), (err) => log.error({ err: (err as Error).message, file: opts.stateFile }, 'state file write failed'));
    if (!snapshot) writer.schedule();
  }

  const registerApp: PaypalSimulator['registerApp'] = (input = {}) => {
    if (input.clientId !== undefined && !/^[\w-]{8,128}$/.test(input.clientId)) throw new SandboxBadRequest('clientId must be 8–128 letters, digits, _ or -');
    if (input.webhookUrl) {
      try {
        if (!/^https?:$/.test(new URL(input.webhookUrl).protocol)) throw new Error('scheme');
      } catch {
        throw new SandboxBadRequest('webhookUrl must be an http(s) URL');
      }
    }
    const existing = input.clientId ? book.apps.get(input.clientId) : undefined;
    const app: SimApp = existing ?? { clientId: input.clientId ?? `A${randomBytes(30).toString('base64url')}`, clientSecret: `E${randomBytes(40).toString('base64url')}`, webhookId: paypalId(17), webhookUrl: null, name: input.name ?? 'Sandbox app' };
    if (input.webhookUrl !== undefined) app.webhookUrl = input.webhookUrl || null;
    if (input.name !== undefined) app.name = input.name;
    book.apps.set(app.clientId, app);
    book.changed();
    return { clientId: app.clientId, clientSecret: app.clientSecret, webhookId: app.webhookId, webhookUrl: app.webhookUrl, baseUrl: ctx.baseUrl, certHost: new URL(certs.certUrl).hostname.replace(/^\[|\]$/g, ''), certCa: keys.tlsCertPem };
  };

  const orderOf = (tokenOrUrl: string) => {
    let token = tokenOrUrl;
    try {
      token = new URL(tokenOrUrl).searchParams.get('token') ?? tokenOrUrl;
    } catch {
      /* a bare token */
    }
    const o = book.orders.get(token);
    if (!o) throw new SandboxBadRequest(`no order ${token}`);
    return o;
  };

  const releaseWebhooks = (): number => {
    faults.holdWebhooks = false;
    const n = held.size;
    for (const id of held) notifier?.schedule(id, 0);
    held.clear();
    return n;
  };

  const ledger = (clientId?: string): PaypalLedger => ({
    orders: [...book.orders.values()]
      .filter((o) => !clientId || o.clientId === clientId)
      .map((o) => {
        const c = o.captureId ? book.captures.get(o.captureId) : undefined;
        return { id: o.id, client_id: o.clientId, invoice_id: o.unit.invoice_id ?? null, status: o.status, amount: o.unit.amount.value, currency: o.unit.amount.currency_code, capture_calls: o.captureCalls, capture: c ? { id: c.id, status: c.status, refunded: c.refundedMinor } : null, approve_url: `${ctx.baseUrl}/checkoutnow?token=${o.id}` };
      }),
    webhooks: [...book.webhooks.values()].filter((w) => !clientId || w.clientId === clientId).map((w) => ({ id: w.id, event_type: w.eventType, url: w.url, attempts: w.attempts, delivered: w.delivered, held: held.has(w.id), last_status: w.last_status })),
  });

  const app = createSandboxApp(opts.logger, log);
  registerPaypalApi(app, ctx);
  registerPaypalPages(app, ctx);
  registerSandboxRoutes(app, opts.adminToken, {
    registerApp,
    faults,
    ledger,
    releaseWebhooks,
    approve: (t) => approveOrder(ctx, orderOf(t)),
    cancel: (t) => cancelUrlOf(orderOf(t)),
    settle: (id, outcome) => {
      const c = book.captures.get(id);
      if (!c) throw new SandboxBadRequest(`no capture ${id}`);
      settleCapture(ctx, c, outcome);
    },
  });
  ctx.baseUrl = await listenSandbox(app, { host, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}) });
  notifier.resumeAll();
  log.info({ baseUrl: ctx.baseUrl, certUrl: certs.certUrl, timeScale }, 'PayPal simulator listening');

  let closed = false;
  return {
    baseUrl: ctx.baseUrl,
    certUrl: certs.certUrl,
    faults,
    registerApp,
    buyer: { approve: (t) => approveOrder(ctx, orderOf(t)), cancel: (t) => cancelUrlOf(orderOf(t)) },
    settleCapture: (id, outcome) => {
      const c = book.captures.get(id);
      if (!c) throw new Error(`no capture ${id}`);
      settleCapture(ctx, c, outcome);
    },
    releaseWebhooks,
    revokeTokens: () => book.tokens.clear(),
    ledger,
    signedHeaders: (body, o = {}) => transmissionHeaders({ keyPem: o.keyPem ?? keys.signingKeyPem, certUrl: o.certUrl ?? certs.certUrl, webhookId: o.webhookId ?? '', body, now: o.now ?? Date.now() }),
    async close() {
      if (closed) return;
      closed = true;
      scheduler.close();
      notifier?.close();
      await app.close();
      certs.server.closeAllConnections();
      await new Promise<void>((resolve) => certs.server.close(() => resolve()));
      await writer?.flush();
    },
  };
}

interface SandboxOps {
  registerApp: PaypalSimulator['registerApp'];
  faults: PaypalFaults;
  ledger: PaypalSimulator['ledger'];
  releaseWebhooks(): number;
  approve(tokenOrUrl: string): string;
  cancel(tokenOrUrl: string): string;
  settle(captureId: string, outcome: 'complete' | 'deny'): void;
}

const FAULT_SPEC = { pendingCaptures: 'boolean', declineNextCaptures: 'count', failNextRequests: 'count', responseDelayMs: 'count', holdWebhooks: 'boolean' } as const;

/** The sandbox admin API (/sandbox/v1/…), behind the admin token when one is set. */
function registerSandboxRoutes(app: FastifyInstance, adminToken: string | undefined, ops: SandboxOps): void {
  const guarded = (fn: (req: FastifyRequest, reply: FastifyReply) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (adminToken && !bearerTokenOk(adminToken, req.headers.authorization)) return reply.code(401).send({ code: 'UNAUTHORIZED', message: 'admin token required' });
    try {
      return await fn(req, reply);
    } catch (err) {
      if (err instanceof SandboxBadRequest) return reply.code(400).send({ code: 'BAD_REQUEST', message: err.message });
      if (err instanceof SimError) return reply.code(err.status).send(err.body());
      throw err;
    }
  };
  app.post('/sandbox/v1/apps', guarded((req) => {
    const b = requireSandboxBody(req);
    const webhookUrl = b.webhookUrl === null ? null : optionalString(b, 'webhookUrl');
    const clientId = optionalString(b, 'clientId');
    const name = optionalString(b, 'name');
    return ops.registerApp({ ...(clientId ? { clientId } : {}), ...(name ? { name } : {}), ...(webhookUrl !== undefined ? { webhookUrl } : {}) });
  }));
  app.get<{ Querystring: { clientId?: string } }>('/sandbox/v1/ledger', guarded((req) => ops.ledger((req.query as { clientId?: string }).clientId)));
  app.get('/sandbox/v1/faults', guarded(() => ops.faults));
  app.put('/sandbox/v1/faults', guarded((req) => {
    applyFaultPatch(ops.faults, requireSandboxBody(req), FAULT_SPEC);
    return ops.faults;
  }));
  app.post('/sandbox/v1/webhooks/release', guarded(() => ({ released: ops.releaseWebhooks() })));
  app.post<{ Params: { token: string; action: string } }>('/sandbox/v1/orders/:token/:action', guarded((req) => {
    const { token, action } = req.params as { token: string; action: string };
    if (action === 'approve') return { redirect: ops.approve(token) };
    if (action === 'cancel') return { redirect: ops.cancel(token) };
    throw new SandboxBadRequest('use approve or cancel');
  }));
  app.post<{ Params: { id: string; outcome: string } }>('/sandbox/v1/captures/:id/:outcome', guarded((req) => {
    const { id, outcome } = req.params as { id: string; outcome: string };
    if (outcome !== 'complete' && outcome !== 'deny') throw new SandboxBadRequest('use complete or deny');
    ops.settle(id, outcome);
    return { ok: true };
  }));
}
