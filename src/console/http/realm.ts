import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import cookie from '@fastify/cookie';
import { ApiError, type ErrorKey } from '../../domain/errors.ts';
import { errorBody } from '../../http/envelope.ts';
import type { ConsoleAccounts, ConsoleSession } from '../accounts.ts';
import { type Realm, type RouteRoles, rolesFor } from '../rbac.ts';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession?: ConsoleSession;
  }
  interface FastifyContextConfig {
    rbacKey?: string;
  }
}

export interface RealmSettings {
  realm: Realm;
  /** /console/api or /merchant/api */
  prefix: string;
  cookieName: string;
  /** Secure cookies when the gateway is served over https (POLYPAY_PUBLIC_URL). */
  secureCookies: boolean;
  publicOrigin: string;
  accounts: ConsoleAccounts;
}

export interface ConsoleRouteRecord {
  realm: Realm;
  method: string;
  /** Full URL pattern, e.g. /console/api/orders/:payOrderId */
  url: string;
  /** The key in ROUTE_ROLES */
  key: string;
  roles: RouteRoles;
}

const registry = new WeakMap<FastifyInstance, ConsoleRouteRecord[]>();

/** Every console API route registered on this server (the RBAC test walks them). */
export function consoleRoutesOf(app: FastifyInstance): readonly ConsoleRouteRecord[] {
  return registry.get(app) ?? [];
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Refuses cross-site writes before anything else: the browser's Origin / Sec-Fetch-Site must
 * name this site, and the body must be JSON (a cross-site HTML form cannot send that without a
 * CORS preflight, which the consoles never grant). The CSRF token check comes on top of this.
 */
function assertSameSite(req: FastifyRequest, publicOrigin: string): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new ApiError('CSRF_INVALID', `cross-site request (${String(site)})`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== publicOrigin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) throw new ApiError('CSRF_INVALID', `origin ${origin} is not this console`);
  const type = String(req.headers['content-type'] ?? '');
  if (req.method !== 'DELETE' && !type.startsWith('application/json')) throw new ApiError('CSRF_INVALID', 'console writes must send application/json');
}

/**
 * One console realm (operator or merchant): cookie sessions, CSRF, and the RBAC table enforced in
 * an onRequest hook of every route — before the body is parsed or validated, so a refused caller
 * learns nothing about the route's input. Routes are registered through `register(api)`.
 */
export async function registerRealm(root: FastifyInstance, s: RealmSettings, register: (api: FastifyInstance) => void): Promise<void> {
  const records = registry.get(root) ?? [];
  registry.set(root, records);
  await root.register(async (api) => {
    // Cookie parsing only here: the merchant API hot path never pays for it.
    await api.register(cookie);
    api.addHook('onRoute', (route: RouteOptions) => {
      const path = route.url.slice(s.prefix.length) || '/';
      for (const method of [route.method].flat()) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        const roles = rolesFor(s.realm, method, path);
        // A console route missing from the table is a programming error: refuse to start.
        if (roles === undefined) throw new Error(`console route ${method} ${route.url} has no entry in src/console/rbac.ts`);
        records.push({ realm: s.realm, method, url: route.url, key: `${method} ${path}`, roles });
      }
      route.config = { ...(route.config as object), rbacKey: path };
      const guard = async (req: FastifyRequest) => authorise(req, s);
      route.onRequest = [guard, ...[route.onRequest ?? []].flat()] as RouteOptions['onRequest'];
      // Written before the answer leaves (onSend), so whoever reads the trail next sees this write in it.
      const audit = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
        if (SAFE_METHODS.has(req.method) || !req.consoleSession) return payload;
        await s.accounts.audit(req.consoleSession, `${req.method} ${path}`, Object.keys(req.params as object).length ? JSON.stringify(req.params) : null, reply.statusCode).catch(() => {});
        return payload;
      };
      route.onSend = [...[route.onSend ?? []].flat(), audit] as RouteOptions['onSend'];
    });
    api.setErrorHandler(consoleErrorHandler);
    api.addHook('onSend', async (_req, reply, payload) => {
      reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
      return payload;
    });
    register(api);
  }, { prefix: s.prefix });
}

/** The merchant API answers its errors with HTTP 200 (Jeepay's envelope); the consoles use the status codes a browser app expects. */
const CONSOLE_STATUS: Partial<Record<ErrorKey, number>> = {
  ORDER_NOT_FOUND: 404, REFUND_NOT_FOUND: 404, IDEMPOTENCY_MISMATCH: 409, ORDER_STATE_INVALID: 409, ORDER_IN_PROGRESS: 409, CHANNEL_REJECTED: 502, CHANNEL_UNAVAILABLE: 502,
};

function consoleErrorHandler(err: Error & { validation?: unknown; statusCode?: number }, _req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) {
    const status = err.httpStatus !== 200 ? err.httpStatus : (CONSOLE_STATUS[err.key] ?? 400);
    return reply.status(status).send(errorBody(err.key, err.message));
  }
  if (err.validation) return reply.status(400).send(errorBody('PARAM_INVALID', err.message));
  throw err; // the gateway's own handler: 4xx from fastify, 503 when the database is down, 500 otherwise
}

async function authorise(req: FastifyRequest, s: RealmSettings): Promise<void> {
  const path = req.routeOptions.config.rbacKey ?? '';
  const roles = rolesFor(s.realm, req.method === 'HEAD' ? 'GET' : req.method, path);
  if (roles === undefined) throw new ApiError('FORBIDDEN', 'unlisted route');
  const write = !SAFE_METHODS.has(req.method);
  if (write) assertSameSite(req, s.publicOrigin);
  if (roles === 'public') return;
  const session = await s.accounts.session(s.realm, req.cookies[s.cookieName]);
  if (!session) throw new ApiError('UNAUTHORIZED', 'sign in to the console first');
  if (write && !same(String(req.headers['x-csrf-token'] ?? ''), session.csrfToken)) throw new ApiError('CSRF_INVALID');
  if (!roles.includes(session.user.role)) throw new ApiError('FORBIDDEN', `${req.method} ${path} needs one of: ${roles.join(', ')}`);
  req.consoleSession = session;
}

export function sessionOf(req: FastifyRequest): ConsoleSession {
  if (!req.consoleSession) throw new ApiError('UNAUTHORIZED', 'sign in to the console first');
  return req.consoleSession;
}

export function setSessionCookie(reply: FastifyReply, s: RealmSettings, token: string | null): void {
  reply.setCookie(s.cookieName, token ?? '', {
    path: s.prefix,
    httpOnly: true,
    sameSite: 'strict',
    secure: s.secureCookies,
    ...(token === null ? { maxAge: 0 } : {}),
  });
}
