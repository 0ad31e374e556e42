import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../src/gateway.ts';
import type { Realm, Role } from '../../src/console/rbac.ts';

export interface ConsoleAnswer {
  status: number;
  json: Record<string, unknown>;
  headers: Record<string, string | string[] | number | undefined>;
}

export const API_PREFIX: Record<Realm, string> = { operator: '/console/api', merchant: '/merchant/api' };
export const COOKIE: Record<Realm, string> = { operator: 'polypay_op', merchant: 'polypay_mch' };

/** A signed-in console user driving the API in-process (fastify inject): cookie, CSRF header, JSON. */
export class ConsoleClient {
  constructor(
    readonly app: FastifyInstance,
    readonly realm: Realm,
    public cookie: string | null,
    public csrf: string | null,
  ) {}

  async call(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ConsoleAnswer> {
    const write = method !== 'GET';
    const headers: Record<string, string> = {
      ...(this.cookie ? { cookie: `${COOKIE[this.realm]}=${this.cookie}` } : {}),
      ...(write && this.csrf ? { 'x-csrf-token': this.csrf } : {}),
      ...(write && method !== 'DELETE' ? { 'content-type': 'application/json' } : {}),
      ...extraHeaders,
    };
    const res = await this.app.inject({ method: method as 'GET', url: `${API_PREFIX[this.realm]}${path}`, headers, payload: write && method !== 'DELETE' ? JSON.stringify(body ?? {}) : undefined });
    let json: Record<string, unknown> = {};
    try {
      json = res.json();
    } catch {
      // not JSON (e.g. empty)
    }
    return { status: res.statusCode, json, headers: res.headers };
  }

  get(path: string) {
    return this.call('GET', path);
  }
  post(path: string, body?: unknown) {
    return this.call('POST', path, body);
  }
  put(path: string, body?: unknown) {
    return this.call('PUT', path, body);
  }
  patch(path: string, body?: unknown) {
    return this.call('PATCH', path, body);
  }
}

export function sessionCookie(setCookie: string | string[] | number | undefined, realm: Realm): string | null {
  const all = [setCookie ?? []].flat().map(String);
  const mine = all.find((c) => c.startsWith(`${COOKIE[realm]}=`));
  const value = mine?.split(';')[0]?.slice(COOKIE[realm].length + 1);
  return value ? value : null;
}

export async function signIn(gw: Gateway, realm: Realm, username: string, password: string): Promise<ConsoleClient> {
  const anon = new ConsoleClient(gw.http, realm, null, null);
  const r = await anon.post('/session', { username, password });
  if (r.status !== 200) throw new Error(`sign-in of ${username} failed: ${r.status} ${JSON.stringify(r.json)}`);
  return new ConsoleClient(gw.http, realm, sessionCookie(r.headers['set-cookie'], realm), String(r.json.csrfToken));
}

let n = 0;
/** A fresh user of the given realm and role, signed in. */
export async function userWithRole(gw: Gateway, realm: Realm, role: Role, mchNo?: string): Promise<ConsoleClient> {
  const username = `${realm.slice(0, 2)}${role}${Date.now() % 100000}${++n}`;
  const password = 'correct horse battery';
  await gw.consoleAccounts.createUser({ realm, username, role, mchNo, password });
  return signIn(gw, realm, username, password);
}
