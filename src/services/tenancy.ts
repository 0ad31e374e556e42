import type { Db, Queryable } from '../db/db.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import { ApiError } from '../domain/errors.ts';
import { newAppId, newAppSecret, newMchNo } from '../domain/ids.ts';
import type { ChannelConfig, ChannelDescriptor } from '../channels/types.ts';

export interface MerchantApp {
  appId: string;
  mchNo: string;
  appSecret: string;
  usable: boolean; // merchant and app both enabled
}

const ISV_NO = /^[0-9A-Za-z_-]{2,32}$/;

interface CacheEntry<T> {
  value: T;
  expires: number;
}

/**
 * Merchants, their apps and per-app channel configuration (pay ways: passages.ts). Secrets are
 * sealed with the master key before they touch the database and are never returned by
 * list/get methods. Hot lookups (every merchant request) are cached for a few seconds;
 * admin writes invalidate this process's cache, other processes see changes within the TTL.
 */
export class TenancyService {
  readonly #db: Db;
  readonly #box: SecretBox;
  readonly #channels: ReadonlyMap<string, ChannelDescriptor>;
  readonly #appCache = new Map<string, CacheEntry<MerchantApp | null>>();
  readonly #configCache = new Map<string, CacheEntry<ChannelConfig | null>>();
  readonly #isvCache = new Map<string, CacheEntry<ChannelConfig | null>>();
  readonly #ttlMs: number;

  constructor(db: Db, box: SecretBox, channels: ReadonlyMap<string, ChannelDescriptor>, ttlMs = 5000) {
    this.#db = db;
    this.#box = box;
    this.#channels = channels;
    this.#ttlMs = ttlMs;
  }

  async createMerchant(input: { mchNo?: string; name: string; shortName?: string }): Promise<{ mchNo: string; created: boolean }> {
    const mchNo = input.mchNo ?? newMchNo();
    if (!/^[0-9A-Za-z_-]{2,32}$/.test(mchNo)) throw new ApiError('PARAM_INVALID', 'mchNo must be 2–32 characters of [0-9A-Za-z_-]');
    if (!input.name.trim()) throw new ApiError('PARAM_INVALID', 'name is required');
    const r = await this.#db.query(`INSERT INTO merchants (mch_no, name, short_name) VALUES ($1, $2, $3) ON CONFLICT (mch_no) DO NOTHING`, [mchNo, input.name, input.shortName ?? input.name]);
    return { mchNo, created: r.rowCount === 1 };
  }

  async createApp(input: { mchNo: string; appId?: string; appSecret?: string; name?: string }): Promise<{ appId: string; appSecret: string; created: boolean }> {
    const appId = input.appId ?? newAppId();
    const appSecret = input.appSecret ?? newAppSecret();
    if (!/^[0-9A-Za-z_-]{4,64}$/.test(appId)) throw new ApiError('PARAM_INVALID', 'appId must be 4–64 characters of [0-9A-Za-z_-]');
    if (appSecret.length < 16) throw new ApiError('PARAM_INVALID', 'appSecret must be at least 16 characters');
    const merchant = await this.#db.query(`SELECT 1 FROM merchants WHERE mch_no = $1`, [input.mchNo]);
    if (merchant.rows.length === 0) throw new ApiError('NOT_FOUND', `merchant ${input.mchNo}`);
    const existing = await this.#db.query<{ mch_no: string }>(`SELECT mch_no FROM merchant_apps WHERE app_id = $1`, [appId]);
    if (existing.rows[0]) {
      if (existing.rows[0].mch_no !== input.mchNo) throw new ApiError('PARAM_INVALID', `appId ${appId} belongs to another merchant`);
      return { appId, appSecret: '', created: false };
    }
    await this.#db.query(`INSERT INTO merchant_apps (app_id, mch_no, name, app_secret_enc) VALUES ($1, $2, $3, $4)`, [appId, input.mchNo, input.name ?? '', this.#box.seal(appSecret, `app:${appId}`)]);
    this.#appCache.delete(appId);
    return { appId, appSecret, created: true };
  }

  /** Replaces the app secret (shown once to the caller). */
  async rotateAppSecret(appId: string, appSecret = newAppSecret()): Promise<string> {
    const r = await this.#db.query(`UPDATE merchant_apps SET app_secret_enc = $2 WHERE app_id = $1`, [appId, this.#box.seal(appSecret, `app:${appId}`)]);
    if (r.rowCount === 0) throw new ApiError('NOT_FOUND', `app ${appId}`);
    this.#appCache.delete(appId);
    return appSecret;
  }

  /** `q` lets a caller inside a transaction read through it (PGlite has one connection: an outside query would wait forever). */
  async getApp(appId: string, q: Queryable = this.#db): Promise<MerchantApp | null> {
    const hit = this.#appCache.get(appId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const r = await q.query<{ app_id: string; mch_no: string; app_secret_enc: string; app_state: number; mch_state: number }>(
      `SELECT a.app_id, a.mch_no, a.app_secret_enc, a.state AS app_state, m.state AS mch_state
         FROM merchant_apps a JOIN merchants m ON m.mch_no = a.mch_no WHERE a.app_id = $1`,
      [appId],
    );
    const row = r.rows[0];
    const value = row ? { appId: row.app_id, mchNo: row.mch_no, appSecret: this.#box.open(row.app_secret_enc, `app:${row.app_id}`), usable: row.app_state === 1 && row.mch_state === 1 } : null;
    this.#appCache.set(appId, { value, expires: Date.now() + this.#ttlMs });
    return value;
  }

  async setChannelConfig(appId: string, ifCode: string, params: Record<string, string>, secrets: Record<string, string>): Promise<void> {
    const descriptor = this.#channels.get(ifCode);
    if (!descriptor) throw new ApiError('PARAM_INVALID', `unknown channel ${ifCode}`);
    const known = new Map(descriptor.configFields.map((f) => [f.name, f]));
    for (const name of [...Object.keys(params), ...Object.keys(secrets)]) {
      if (!known.has(name)) throw new ApiError('PARAM_INVALID', `channel ${ifCode} has no parameter ${name}`);
    }
    for (const name of Object.keys(params)) if (known.get(name)?.secret) throw new ApiError('PARAM_INVALID', `${name} is a secret: send it in secrets`);
    if ((await this.#db.query(`SELECT 1 FROM merchant_apps WHERE app_id = $1`, [appId])).rows.length === 0) throw new ApiError('NOT_FOUND', `app ${appId}`);
    // Secrets are write-only: fields omitted from this call keep their stored value.
    const current = await this.#readConfig(this.#db, appId, ifCode);
    const mergedSecrets = { ...(current?.secrets ?? {}), ...secrets };
    const mergedParams = { ...(current?.params ?? {}), ...params };
    // A sub-merchant's required fields may come from its service provider.
    const provider = await this.#providerConfig(this.#db, appId, ifCode);
    const has = (f: { name: string; secret: boolean }): boolean => Boolean(f.secret ? (mergedSecrets[f.name] ?? provider?.secrets[f.name]) : (mergedParams[f.name] ?? provider?.params[f.name]));
    const missing = descriptor.configFields.filter((f) => (f.required && !has(f)) || (provider && f.requiredForSubMerchant && !(f.secret ? mergedSecrets[f.name] : mergedParams[f.name]))).map((f) => f.name);
    if (missing.length > 0) throw new ApiError('PARAM_INVALID', `channel ${ifCode} needs ${missing.join(', ')}`);
    await this.#db.query(
      `INSERT INTO channel_configs (app_id, if_code, params, secrets_enc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (app_id, if_code) DO UPDATE SET params = EXCLUDED.params, secrets_enc = EXCLUDED.secrets_enc, updated_at = now()`,
      [appId, ifCode, JSON.stringify(mergedParams), this.#box.seal(JSON.stringify(mergedSecrets), `channel:${appId}:${ifCode}`)],
    );
    this.#configCache.delete(`${appId}/${ifCode}`);
  }

  async getChannelConfig(appId: string, ifCode: string): Promise<ChannelConfig | null> {
    const key = `${appId}/${ifCode}`;
    const hit = this.#configCache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await this.#overProvider(appId, ifCode, await this.#readConfig(this.#db, appId, ifCode));
    this.#configCache.set(key, { value, expires: Date.now() + this.#ttlMs });
    return value;
  }

  /** For operators: parameters in clear, secrets only as masks. */
  async describeChannelConfigs(appId: string): Promise<Array<{ ifCode: string; params: Record<string, string>; secrets: Record<string, string> }>> {
    const r = await this.#db.query<{ if_code: string }>(`SELECT if_code FROM channel_configs WHERE app_id = $1 ORDER BY if_code`, [appId]);
    const out = [];
    for (const row of r.rows) {
      const cfg = await this.#readConfig(this.#db, appId, row.if_code);
      if (cfg) out.push({ ifCode: row.if_code, params: cfg.params, secrets: Object.fromEntries(Object.entries(cfg.secrets).map(([k, v]) => [k, SecretBox.mask(v)])) });
    }
    return out;
  }

  async listMerchants(): Promise<Array<Record<string, unknown>>> {
    const r = await this.#db.query(
      `SELECT m.mch_no AS "mchNo", m.name, m.short_name AS "shortName", m.type, m.state, m.created_at AS "createdAt",
              COALESCE((SELECT json_agg(a.app_id ORDER BY a.created_at) FROM merchant_apps a WHERE a.mch_no = m.mch_no), '[]'::json) AS "appIds"
         FROM merchants m ORDER BY m.created_at`,
    );
    return r.rows;
  }

  async listApps(mchNo?: string): Promise<Array<Record<string, unknown>>> {
    const r = await this.#db.query(
      `SELECT a.app_id AS "appId", a.mch_no AS "mchNo", a.name, a.state, a.created_at AS "createdAt",
              COALESCE((SELECT json_object_agg(w.way_code, w.if_codes) FROM (SELECT way_code, json_agg(if_code ORDER BY priority, passage_id) AS if_codes FROM pay_passages WHERE app_id = a.app_id AND state = 1 GROUP BY way_code) w), '{}'::json) AS "ways"
         FROM merchant_apps a WHERE ($1::text IS NULL OR a.mch_no = $1) ORDER BY a.created_at`,
      [mchNo ?? null],
    );
    return r.rows;
  }

  // ---- Service providers (服务商, ISV): credentials per (isvNo, ifCode); sub-merchants (type 2) use them ----

  /** Creates or updates a provider's configuration for one channel (secrets write-only, merged like setChannelConfig). */
  async setIsvChannelConfig(isvNo: string, ifCode: string, params: Record<string, string>, secrets: Record<string, string>, name?: string): Promise<void> {
    if (!ISV_NO.test(isvNo)) throw new ApiError('PARAM_INVALID', 'isvNo must be 2–32 characters of [0-9A-Za-z_-]');
    const descriptor = this.#channels.get(ifCode);
    if (!descriptor) throw new ApiError('PARAM_INVALID', `unknown channel ${ifCode}`);
    const known = new Map(descriptor.configFields.map((f) => [f.name, f]));
    for (const n of [...Object.keys(params), ...Object.keys(secrets)]) if (!known.has(n)) throw new ApiError('PARAM_INVALID', `channel ${ifCode} has no parameter ${n}`);
    for (const n of Object.keys(params)) if (known.get(n)?.secret) throw new ApiError('PARAM_INVALID', `${n} is a secret: send it in secrets`);
    const current = await this.#readIsvConfig(isvNo, ifCode, true);
    const mergedParams = { ...(current?.params ?? {}), ...params };
    const mergedSecrets = { ...(current?.secrets ?? {}), ...secrets };
    await this.#db.query(
      `INSERT INTO isv_channel_configs (isv_no, if_code, name, params, secrets_enc) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (isv_no, if_code) DO UPDATE SET name = COALESCE(NULLIF($3, ''), isv_channel_configs.name), params = EXCLUDED.params, secrets_enc = EXCLUDED.secrets_enc, updated_at = now()`,
      [isvNo, ifCode, name ?? '', JSON.stringify(mergedParams), this.#box.seal(JSON.stringify(mergedSecrets), `isv:${isvNo}:${ifCode}`)],
    );
    // Every sub-merchant's merged configuration may have changed.
    this.#configCache.clear();
    this.#isvCache.delete(`${isvNo}/${ifCode}`);
  }

  async getIsvChannelConfig(isvNo: string, ifCode: string): Promise<ChannelConfig | null> {
    const key = `${isvNo}/${ifCode}`;
    const hit = this.#isvCache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await this.#readIsvConfig(isvNo, ifCode, false);
    this.#isvCache.set(key, { value, expires: Date.now() + this.#ttlMs });
    return value;
  }

  /** Providers with their channels: parameters in clear, secrets masked. */
  async listIsvs(): Promise<Array<{ isvNo: string; ifCode: string; name: string; state: number; params: Record<string, string>; secrets: Record<string, string>; subMerchants: number }>> {
    const r = await this.#db.query<{ isv_no: string; if_code: string; name: string; state: number }>(`SELECT isv_no, if_code, name, state FROM isv_channel_configs ORDER BY isv_no, if_code`);
    const out = [];
    for (const row of r.rows) {
      const cfg = await this.#readIsvConfig(row.isv_no, row.if_code, true);
      const n = await this.#db.query<{ n: number }>(`SELECT count(*)::int AS n FROM merchants WHERE type = 2 AND isv_no = $1`, [row.isv_no]);
      out.push({ isvNo: row.isv_no, ifCode: row.if_code, name: row.name, state: row.state, params: cfg?.params ?? {}, secrets: Object.fromEntries(Object.entries(cfg?.secrets ?? {}).map(([k, v]) => [k, SecretBox.mask(v)])), subMerchants: n.rows[0]?.n ?? 0 });
    }
    return out;
  }

  /** A merchant served through a provider (Jeepay's type 2); the type cannot change later. */
  async createSubMerchant(input: { mchNo?: string; name: string; shortName?: string; isvNo: string }): Promise<{ mchNo: string; created: boolean }> {
    const known = await this.#db.query(`SELECT 1 FROM isv_channel_configs WHERE isv_no = $1`, [input.isvNo]);
    if (known.rows.length === 0) throw new ApiError('NOT_FOUND', `service provider ${input.isvNo}`);
    const mchNo = input.mchNo ?? newMchNo();
    if (!/^[0-9A-Za-z_-]{2,32}$/.test(mchNo)) throw new ApiError('PARAM_INVALID', 'mchNo must be 2–32 characters of [0-9A-Za-z_-]');
    if (!input.name.trim()) throw new ApiError('PARAM_INVALID', 'name is required');
    const r = await this.#db.query(`INSERT INTO merchants (mch_no, name, short_name, type, isv_no) VALUES ($1, $2, $3, 2, $4) ON CONFLICT (mch_no) DO NOTHING`, [mchNo, input.name, input.shortName ?? input.name, input.isvNo]);
    if (r.rowCount === 0) {
      const m = await this.#db.query<{ type: number; isv_no: string | null }>(`SELECT type, isv_no FROM merchants WHERE mch_no = $1`, [mchNo]);
      if (m.rows[0]?.type !== 2 || m.rows[0]?.isv_no !== input.isvNo) throw new ApiError('PARAM_INVALID', `merchant ${mchNo} exists and is not a sub-merchant of ${input.isvNo}`);
    }
    return { mchNo, created: r.rowCount === 1 };
  }

  /** The provider of an app's merchant, or null for a normal merchant. */
  async isvOfApp(appId: string, q: Queryable = this.#db): Promise<string | null> {
    const r = await q.query<{ isv_no: string | null }>(`SELECT m.isv_no FROM merchant_apps a JOIN merchants m ON m.mch_no = a.mch_no WHERE a.app_id = $1 AND m.type = 2`, [appId]);
    return r.rows[0]?.isv_no ?? null;
  }

  /** Apps of sub-merchants that have their own configuration row for a channel (e.g. token upkeep). */
  async subMerchantAppsWithConfig(ifCode: string): Promise<Array<{ appId: string; isvNo: string }>> {
    const r = await this.#db.query<{ app_id: string; isv_no: string }>(
      `SELECT c.app_id, m.isv_no FROM channel_configs c JOIN merchant_apps a ON a.app_id = c.app_id JOIN merchants m ON m.mch_no = a.mch_no
        WHERE c.if_code = $1 AND c.state = 1 AND m.type = 2 AND m.isv_no IS NOT NULL ORDER BY c.app_id`,
      [ifCode],
    );
    return r.rows.map((row) => ({ appId: row.app_id, isvNo: row.isv_no }));
  }

  /** The app's own configuration only (not laid over its provider's): what an authorisation flow updates. */
  async getOwnChannelConfig(appId: string, ifCode: string): Promise<ChannelConfig | null> {
    return this.#readConfig(this.#db, appId, ifCode);
  }

  async #providerConfig(q: Queryable, appId: string, ifCode: string): Promise<ChannelConfig | null> {
    const isvNo = await this.isvOfApp(appId, q);
    return isvNo ? this.getIsvChannelConfig(isvNo, ifCode) : null;
  }

  /** A sub-merchant's configuration is its provider's with its own fields on top; without a usable provider it has none. */
  async #overProvider(appId: string, ifCode: string, own: ChannelConfig | null): Promise<ChannelConfig | null> {
    if (!own) return null;
    const isvNo = await this.isvOfApp(appId);
    if (!isvNo) return own;
    const provider = await this.getIsvChannelConfig(isvNo, ifCode);
    if (!provider) return null;
    return { params: { ...provider.params, ...own.params }, secrets: { ...provider.secrets, ...own.secrets } };
  }

  async #readIsvConfig(isvNo: string, ifCode: string, includeDisabled: boolean): Promise<ChannelConfig | null> {
    const r = await this.#db.query<{ params: Record<string, string>; secrets_enc: string; state: number }>(`SELECT params, secrets_enc, state FROM isv_channel_configs WHERE isv_no = $1 AND if_code = $2`, [isvNo, ifCode]);
    const row = r.rows[0];
    if (!row || (row.state !== 1 && !includeDisabled)) return null;
    return { params: row.params, secrets: JSON.parse(this.#box.open(row.secrets_enc, `isv:${isvNo}:${ifCode}`)) as Record<string, string> };
  }

  async #readConfig(q: Queryable, appId: string, ifCode: string): Promise<ChannelConfig | null> {
    const r = await q.query<{ params: Record<string, string>; secrets_enc: string; state: number }>(`SELECT params, secrets_enc, state FROM channel_configs WHERE app_id = $1 AND if_code = $2`, [appId, ifCode]);
    const row = r.rows[0];
    if (!row || row.state !== 1) return null;
    return { params: row.params, secrets: JSON.parse(this.#box.open(row.secrets_enc, `channel:${appId}:${ifCode}`)) as Record<string, string> };
  }
}
