import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../../domain/errors.ts';
import type { Gateway } from '../../gateway.ts';
import type { TenancyService } from '../../services/tenancy.ts';
import { ChannelError, type Logger } from '../types.ts';
import { type AppAuthGrant, type AppAuthStatus, appToAppAuthUrl, exchangeAppAuthCode, queryAppAuthToken, refreshAppAuthToken } from './app-auth.ts';
import { AlipayChannel } from './channel.ts';
import type { AlipayClient } from './client.ts';

/**
 * Onboarding a service provider's sub-merchant (ISV mode): the authorisation link for a
 * sub-merchant's app, the callback that exchanges the app_auth_code and stores the token pair —
 * sealed, as channel secrets of that app, which the provider's configuration lies under — and
 * the upkeep that refreshes tokens before they expire. One instance per gateway
 * (appAuthServiceFor), so refreshes of one app never race inside a process.
 */

const STATE_TTL_S = 24 * 3600; // the operator sends the link; the merchant may take a while
const IF_CODE = 'alipay';
export const CALLBACK_PATH = '/api/alipay/app-auth/callback';
/** Tokens are refreshed this long before they expire (Alipay's live 365 days). */
export const DEFAULT_REFRESH_BEFORE_MS = 30 * 24 * 3600_000;

export interface AppAuthServiceDeps {
  tenancy: TenancyService;
  channel: AlipayChannel;
  log: Logger;
  publicUrl: string;
  /** HMAC key of the state parameter. */
  key: Buffer;
}

export interface StoredAuthorisation {
  appId: string;
  authAppId: string;
  userId: string;
  expiresAt: string;
  refreshExpiresAt: string;
}

export class AlipayAppAuthService {
  readonly #d: AppAuthServiceDeps;
  readonly #refreshing = new Map<string, Promise<StoredAuthorisation>>();

  constructor(deps: AppAuthServiceDeps) {
    this.#d = deps;
  }

  /** The link a sub-merchant opens (or scans) to authorise the provider's app for its Polypay app. */
  async authorizationUrl(appId: string): Promise<{ url: string; expiresAt: string }> {
    const { provider } = await this.#provider(appId);
    const exp = Math.floor(Date.now() / 1000) + STATE_TTL_S;
    // ≤ 100 characters for app ids up to 64 (Alipay's limit on state).
    const body = `${appId}.${exp.toString(36)}`;
    const state = `${body}.${this.#mac(body)}`;
    return { url: appToAppAuthUrl(provider.config, `${this.#d.publicUrl}${CALLBACK_PATH}`, state), expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** Alipay's redirect: check the state and the provider, exchange the code, keep the token pair. */
  async complete(q: { app_id?: string; app_auth_code?: string; state?: string }): Promise<StoredAuthorisation> {
    if (!q.app_auth_code || !q.state) throw new ApiError('PARAM_INVALID', 'app_auth_code and state are required');
    const appId = this.#verifyState(q.state);
    const { provider } = await this.#provider(appId);
    if (q.app_id !== provider.config.appId) throw new ApiError('PARAM_INVALID', `the authorisation names app_id ${q.app_id ?? '(none)'}, the provider's app is ${provider.config.appId}`);
    const grant = await exchangeAppAuthCode(provider, q.app_auth_code, this.#d.log);
    const stored = await this.#store(appId, grant);
    this.#d.log.info({ appId, authAppId: grant.authAppId, expiresAt: stored.expiresAt }, 'alipay sub-merchant authorised');
    return stored;
  }

  /** A new token pair now (one refresh per app at a time in this process). */
  refresh(appId: string): Promise<StoredAuthorisation> {
    const running = this.#refreshing.get(appId);
    if (running) return running;
    const p = this.#refresh(appId).finally(() => this.#refreshing.delete(appId));
    this.#refreshing.set(appId, p);
    return p;
  }

  /** Upkeep: refreshes every sub-merchant token expiring within `beforeMs`; failures are logged and counted. */
  async refreshDue(beforeMs = DEFAULT_REFRESH_BEFORE_MS): Promise<{ refreshed: string[]; failed: string[] }> {
    const out = { refreshed: [] as string[], failed: [] as string[] };
    for (const { appId } of await this.#d.tenancy.subMerchantAppsWithConfig(IF_CODE)) {
      const own = await this.#d.tenancy.getOwnChannelConfig(appId, IF_CODE);
      const expires = Date.parse(own?.params.appAuthExpiresAt ?? '');
      if (!own?.secrets.appAuthRefreshToken || !(expires < Date.now() + beforeMs)) continue;
      try {
        await this.refresh(appId);
        out.refreshed.push(appId);
      } catch (err) {
        out.failed.push(appId);
        this.#d.log.error({ appId, err: (err as Error).message }, 'alipay app_auth_token refresh failed; the sub-merchant may need to authorise again');
      }
    }
    return out;
  }

  /** Alipay's view of the stored token (alipay.open.auth.token.app.query) next to ours. */
  async status(appId: string): Promise<AppAuthStatus & { stored: Omit<StoredAuthorisation, 'appId'> | null }> {
    const { provider } = await this.#provider(appId);
    const own = await this.#d.tenancy.getOwnChannelConfig(appId, IF_CODE);
    const token = own?.secrets.appAuthToken;
    if (!own || !token) return { valid: false, authAppId: undefined, userId: undefined, authEnd: undefined, authMethods: [], stored: null };
    const s = await queryAppAuthToken(provider, token, this.#d.log);
    const p = own.params;
    return { ...s, stored: { authAppId: p.authAppId ?? '', userId: p.sellerId ?? '', expiresAt: p.appAuthExpiresAt ?? '', refreshExpiresAt: p.appAuthRefreshExpiresAt ?? '' } };
  }

  async #refresh(appId: string): Promise<StoredAuthorisation> {
    const { provider } = await this.#provider(appId);
    const own = await this.#d.tenancy.getOwnChannelConfig(appId, IF_CODE);
    const refreshToken = own?.secrets.appAuthRefreshToken;
    if (!refreshToken) throw new ApiError('PARAM_INVALID', `app ${appId} holds no Alipay authorisation; the sub-merchant must authorise first`);
    try {
      return await this.#store(appId, await refreshAppAuthToken(provider, refreshToken, this.#d.log));
    } catch (err) {
      // Another gateway process may have spent this refresh token a moment ago: its result stands.
      const now = await this.#d.tenancy.getOwnChannelConfig(appId, IF_CODE);
      if (err instanceof ChannelError && now?.secrets.appAuthRefreshToken && now.secrets.appAuthRefreshToken !== refreshToken) return storedView(appId, now.params);
      throw err;
    }
  }

  async #store(appId: string, g: AppAuthGrant): Promise<StoredAuthorisation> {
    const params = { authAppId: g.authAppId, sellerId: g.userId, appAuthExpiresAt: g.expiresAt.toISOString(), appAuthRefreshExpiresAt: g.refreshExpiresAt.toISOString() };
    await this.#d.tenancy.setChannelConfig(appId, IF_CODE, params, { appAuthToken: g.appAuthToken, appAuthRefreshToken: g.appRefreshToken });
    return storedView(appId, params);
  }

  async #provider(appId: string): Promise<{ isvNo: string; provider: AlipayClient }> {
    const isvNo = await this.#d.tenancy.isvOfApp(appId);
    if (!isvNo) throw new ApiError('PARAM_INVALID', `app ${appId} does not belong to a service provider's sub-merchant`);
    const config = await this.#d.tenancy.getIsvChannelConfig(isvNo, IF_CODE);
    if (!config) throw new ApiError('NOT_FOUND', `service provider ${isvNo} has no Alipay configuration`);
    return { isvNo, provider: this.#d.channel.client(config) };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#d.key).update(`alipay-app-auth:${body}`).digest('base64url').slice(0, 22);
  }

  #verifyState(state: string): string {
    const dot = state.lastIndexOf('.');
    const body = state.slice(0, Math.max(0, dot));
    const given = Buffer.from(state.slice(dot + 1));
    const expected = Buffer.from(this.#mac(body));
    const [appId, exp36] = body.split('.');
    if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected) || !appId || !exp36) throw new ApiError('PARAM_INVALID', 'the authorisation state is invalid');
    if (parseInt(exp36, 36) * 1000 < Date.now()) throw new ApiError('PARAM_INVALID', 'the authorisation link has expired; ask for a new one');
    return appId;
  }
}

function storedView(appId: string, p: Record<string, string>): StoredAuthorisation {
  return { appId, authAppId: p.authAppId ?? '', userId: p.sellerId ?? '', expiresAt: p.appAuthExpiresAt ?? '', refreshExpiresAt: p.appAuthRefreshExpiresAt ?? '' };
}

const instances = new WeakMap<Gateway, AlipayAppAuthService>();

/** The gateway's one instance (routes and the refresh timer share it). */
export function appAuthServiceFor(gw: Gateway): AlipayAppAuthService | undefined {
  const channel = gw.channels.get(IF_CODE);
  if (!(channel instanceof AlipayChannel)) return undefined;
  let s = instances.get(gw);
  if (!s) {
    s = new AlipayAppAuthService({ tenancy: gw.tenancy, channel, log: gw.log, publicUrl: gw.config.publicUrl, key: createHmac('sha256', gw.config.masterKey).update('polypay/alipay-app-auth').digest() });
    instances.set(gw, s);
  }
  return s;
}

/** Periodic upkeep for `npm start`: refreshes tokens nearing expiry. Returns a stop function. */
export function startAppAuthRefresher(gw: Gateway, intervalMs = 3600_000): () => void {
  const service = appAuthServiceFor(gw);
  if (!service) return () => {};
  const timer = setInterval(() => void service.refreshDue().catch((err) => gw.log.error({ err: (err as Error).message }, 'alipay token upkeep failed')), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
