/** JSON calls to the realm's console API with the session cookie (sent by the browser) and the CSRF token. */
export type Realm = 'operator' | 'merchant';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly errorKey: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  realm: Realm;
  get<T = Record<string, unknown>>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
  send<T = Record<string, unknown>>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  setCsrf(token: string | null): void;
  onUnauthorized: (() => void) | null;
}

export function createApi(realm: Realm): Api {
  const prefix = realm === 'operator' ? '/console/api' : '/merchant/api';
  let csrf: string | null = null;
  const api: Api = {
    realm,
    onUnauthorized: null,
    setCsrf(token) {
      csrf = token;
    },
    async get(path, query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
      return call(`${prefix}${path}${q.size ? `?${q}` : ''}`, { method: 'GET' });
    },
    async send(method, path, body) {
      const headers: Record<string, string> = { 'x-csrf-token': csrf ?? '' };
      if (method !== 'DELETE') headers['content-type'] = 'application/json';
      return call(`${prefix}${path}`, { method, headers, body: method === 'DELETE' ? undefined : JSON.stringify(body ?? {}) });
    },
  };
  async function call<T>(url: string, init: RequestInit): Promise<T> {
    const res = await fetch(url, { ...init, credentials: 'same-origin' });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      if (res.status === 401 && !url.endsWith('/session')) api.onUnauthorized?.();
      throw new ApiFailure(res.status, String(json.errorKey ?? 'HTTP_' + res.status), String(json.msg ?? res.statusText));
    }
    return json as T;
  }
  return api;
}
