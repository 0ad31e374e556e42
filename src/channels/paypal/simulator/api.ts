import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PAYPAL_PATHS } from '../protocol.ts';
import { bodyHash, paypalId, type Json, type SimApp, type SimOrder } from './book.ts';
import { SimError, amountMinor, captureOrder, captureView, invalidRequest, iso, notFound, orderView, refundCapture, refundView, unprocessable, type SimContext } from './engine.ts';

/**
 * The simulated PayPal REST API: OAuth2 client credentials, Orders v2 (create, get, capture) and
 * Payments v2 (get capture, refund, get refund), strict about credentials, tokens and bodies,
 * answering PayPal's JSON shapes and error bodies. PayPal-Request-Id: the same id with the same
 * body gets the first answer again; with another body, a refusal.
 */

const TOKEN_TTL_S = 32_400;

const same = (a: string, b: string): boolean => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function send(reply: FastifyReply, status: number, body: Json | string): FastifyReply {
  return reply.code(status).header('paypal-debug-id', randomBytes(7).toString('hex')).type('application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
}

function jsonBody(req: FastifyRequest): Json {
  const raw = typeof req.body === 'string' ? req.body : '';
  if (raw.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  } catch {
    /* below */
  }
  throw invalidRequest('MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.');
}

function httpUrl(v: unknown, field: string): string {
  try {
    const u = new URL(typeof v === 'string' ? v : '');
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
  } catch {
    /* below */
  }
  throw invalidRequest('INVALID_PARAMETER_SYNTAX', `${field} must be an absolute http(s) URL`);
}

function optionalId(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > max) throw invalidRequest('INVALID_STRING_LENGTH', `${field} must be 1–${max} characters`);
  return v;
}

export function registerPaypalApi(app: FastifyInstance, ctx: SimContext): void {
  const { book, faults } = ctx;

  app.addHook('onSend', async (req, _reply, payload) => {
    if ((req.url.startsWith('/v1/') || req.url.startsWith('/v2/')) && !req.url.startsWith(PAYPAL_PATHS.certs) && faults.responseDelayMs > 0) await new Promise((r) => setTimeout(r, faults.responseDelayMs));
    return payload;
  });

  /** Runs one REST call: the 5xx switch first, then the handler; PayPal error bodies for refusals. */
  async function run(reply: FastifyReply, fn: () => { status: number; body: Json | string }): Promise<FastifyReply> {
    if (faults.failNextRequests > 0) {
      faults.failNextRequests -= 1;
      return send(reply, 500, new SimError(500, 'INTERNAL_SERVER_ERROR', 'An internal server error has occurred.', 'INTERNAL_SERVICE_ERROR', 'An internal service error has occurred.').body());
    }
    try {
      const r = fn();
      return send(reply, r.status, r.body);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      return send(reply, err.status, err.body());
    }
  }

  function authApp(req: FastifyRequest): SimApp {
    const h = req.headers.authorization ?? '';
    const t = h.startsWith('Bearer ') ? book.tokens.get(h.slice(7)) : undefined;
    if (!t || t.expiresAt <= ctx.now()) throw new SimError(401, 'invalid_token', 'Token signature verification failed');
    const app = book.apps.get(t.clientId);
    if (!app) throw new SimError(401, 'invalid_token', 'The client of this token no longer exists');
    return app;
  }

  /** PayPal-Request-Id: one answer per (app, call, id, body); only answers that did something are kept. */
  function idempotent(req: FastifyRequest, app: SimApp, fn: () => { status: number; body: Json }): { status: number; body: Json | string } {
    const rid = req.headers['paypal-request-id'];
    if (typeof rid !== 'string' || rid === '') return fn();
    if (rid.length > 108) throw invalidRequest('INVALID_STRING_LENGTH', 'PayPal-Request-Id must be at most 108 characters');
    const key = `${app.clientId}|${req.method} ${req.url.split('?')[0]}|${rid}`;
    const hash = bodyHash(typeof req.body === 'string' ? req.body : '');
    const seen = book.idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) throw unprocessable('DUPLICATE_REQUEST_ID', 'The PayPal-Request-Id was already used with a different request body.');
      return { status: seen.status, body: seen.body };
    }
    const r = fn();
    book.idempotency.set(key, { hash, status: r.status, body: JSON.stringify(r.body) });
    return r;
  }

  const ownOrder = (app: SimApp, id: string): SimOrder => {
    const o = book.orders.get(id);
    if (!o || o.clientId !== app.clientId) throw notFound();
    return o;
  };

  app.post(PAYPAL_PATHS.token, async (req, reply) => {
    const h = req.headers.authorization ?? '';
    const [id, secret] = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8').split(':', 2) : [];
    const found = id ? book.apps.get(id) : undefined;
    if (!found || secret === undefined || !same(secret, found.clientSecret)) return send(reply, 401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
    if (new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('grant_type') !== 'client_credentials') return send(reply, 400, { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' });
    const token = `A21AA${randomBytes(32).toString('base64url')}`;
    book.tokens.set(token, { clientId: found.clientId, expiresAt: ctx.now() + TOKEN_TTL_S * 1000 });
    return send(reply, 200, { scope: 'https://uri.paypal.com/services/payments/payment openid', access_token: token, token_type: 'Bearer', app_id: `APP-${found.clientId.slice(0, 12).toUpperCase()}`, expires_in: TOKEN_TTL_S, nonce: `${iso(ctx.now())}${randomBytes(8).toString('hex')}` });
  });

  app.post(PAYPAL_PATHS.orders, (req, reply) =>
    run(reply, () => {
      const app = authApp(req);
      const body = jsonBody(req);
      return idempotent(req, app, () => {
        if (body.intent !== 'CAPTURE') throw unprocessable('UNSUPPORTED_INTENT', 'The simulator serves intent CAPTURE only.');
        const units = Array.isArray(body.purchase_units) ? (body.purchase_units as Json[]) : [];
        if (units.length !== 1) throw invalidRequest('INVALID_ARRAY_MAX_ITEMS', 'purchase_units must hold exactly one unit');
        const u = units[0] as Json;
        const { amount } = amountMinor(u.amount);
        const ctxSrc = ((body.payment_source as Json | undefined)?.paypal as Json | undefined)?.experience_context ?? body.application_context;
        const ec = (ctxSrc ?? {}) as Json;
        const invoice = optionalId(u.invoice_id, 'invoice_id', 127);
        if (invoice !== undefined && [...book.orders.values()].some((o) => o.clientId === app.clientId && o.unit.invoice_id === invoice)) throw unprocessable('DUPLICATE_INVOICE_ID', 'Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction.');
        const now = iso(ctx.now());
        const unit: SimOrder['unit'] = { reference_id: optionalId(u.reference_id, 'reference_id', 256) ?? 'default', amount };
        const custom = optionalId(u.custom_id, 'custom_id', 127);
        if (custom !== undefined) unit.custom_id = custom;
        if (invoice !== undefined) unit.invoice_id = invoice;
        if (typeof u.description === 'string') unit.description = u.description.slice(0, 127);
        const o: SimOrder = { id: paypalId(), clientId: app.clientId, status: 'PAYER_ACTION_REQUIRED', unit, returnUrl: httpUrl(ec.return_url, 'return_url'), cancelUrl: httpUrl(ec.cancel_url, 'cancel_url'), payerId: null, captureId: null, captureCalls: 0, createTime: now, updateTime: now };
        book.orders.set(o.id, o);
        book.changed();
        return { status: 201, body: orderView(ctx, o) };
      });
    }),
  );

  app.get<{ Params: { id: string } }>(`${PAYPAL_PATHS.orders}/:id`, (req, reply) => run(reply, () => ({ status: 200, body: orderView(ctx, ownOrder(authApp(req), req.params.id)) })));

  app.post<{ Params: { id: string } }>(`${PAYPAL_PATHS.orders}/:id/capture`, (req, reply) =>
    run(reply, () => {
      const app = authApp(req);
      jsonBody(req);
      const o = ownOrder(app, req.params.id);
      o.captureCalls += 1;
      book.changed();
      return idempotent(req, app, () => ({ status: 201, body: orderView(ctx, captureOrder(ctx, o)) }));
    }),
  );

  const ownCapture = (app: SimApp, id: string) => {
    const c = book.captures.get(id);
    if (!c || c.clientId !== app.clientId) throw notFound();
    return c;
  };

  app.get<{ Params: { id: string } }>('/v2/payments/captures/:id', (req, reply) => run(reply, () => ({ status: 200, body: captureView(ctx, ownCapture(authApp(req), req.params.id)) })));

  app.post<{ Params: { id: string } }>('/v2/payments/captures/:id/refund', (req, reply) =>
    run(reply, () => {
      const app = authApp(req);
      const body = jsonBody(req);
      const c = ownCapture(app, req.params.id);
      return idempotent(req, app, () => ({ status: 201, body: refundView(ctx, refundCapture(ctx, c, body)) }));
    }),
  );

  app.get<{ Params: { id: string } }>('/v2/payments/refunds/:id', (req, reply) =>
    run(reply, () => {
      const app = authApp(req);
      const r = book.refunds.get(req.params.id);
      if (!r || r.clientId !== app.clientId) throw notFound();
      return { status: 200, body: refundView(ctx, r) };
    }),
  );
}
