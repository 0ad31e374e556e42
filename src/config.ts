import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

/**
 * Gateway configuration: environment variables, optionally a JSON file named by
 * POLYPAY_CONFIG (environment wins). Validated once at start; every problem is reported
 * together with the variable to fix. Documented in docs/configuration.md.
 */
export interface GatewayConfig {
  port: number;
  host: string;
  /** Base URL channels use to reach us (callbacks) and merchants see in links. */
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  masterKey: Buffer;
  masterKeySource: 'env' | 'file' | 'generated';
  adminToken: string;
  adminTokenSource: 'env' | 'file' | 'generated';
  reqTimeWindowSeconds: number;
  defaultExpireSeconds: number;
  /** Delays between merchant-notification attempts, in seconds. */
  notifySchedule: number[];
  /** Active query of unconfirmed orders: delays in seconds after the order reaches the channel. */
  querySchedule: number[];
  /** Bar-code pay: how often to ask while the payer enters the password, and when to give up and reverse. */
  barPollSchedule: number[];
  barTimeoutSeconds: number;
  workerIntervalMs: number;
  logLevel: string;
  sandbox: { enabled: boolean; port: number; host: string; timeScale: number; alipayPort: number; unionpayPort: number; shengpayPort: number; jdpayPort: number; abcPort: number; paypalPort: number; qqpayPort: number; qqpayApiPort: number; icbcPort: number; xinlianPort: number };
  demo: { mchNo?: string; appId?: string; appSecret?: string };
  poolSize: number;
  /** Operator and merchant consoles (docs/console.md). */
  console: { maxFailedLogins: number; lockoutSeconds: number; sessionIdleSeconds: number };
  /** Pay passages: consecutive channel faults that open a passage's circuit breaker, and for how long. */
  breaker: { threshold: number; openSeconds: number };
}

/** WeChat-like: 15 attempts over ~24 h (Jeepay gives up after 7.5 min, jeepay.md §4). */
export const DEFAULT_NOTIFY_SCHEDULE = [0, 15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
export const DEFAULT_QUERY_SCHEDULE = [10, 20, 30, 60, 120, 300, 600, 1800, 3600];
/** WeChat's 付款码 guidance: poll every few seconds for about 30 s, then reverse (撤销). */
export const DEFAULT_BAR_POLL_SCHEDULE = [3, 3, 3, 3, 3, 5, 5, 5, 5, 5];

export class ConfigError extends Error {}

type Source = Record<string, string | undefined>;

export function loadConfig(env: Source = process.env): GatewayConfig {
  const fileVars = env.POLYPAY_CONFIG ? readConfigFile(env.POLYPAY_CONFIG) : {};
  const get = (name: string): string | undefined => {
    const v = env[name] ?? fileVars[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return def;
    }
    return n;
  };
  const list = (name: string, def: number[]): number[] => {
    const raw = get(name);
    if (raw === undefined) return def;
    const parts = raw.split(',').map((s) => Number(s.trim()));
    if (parts.length === 0 || parts.some((n) => !Number.isFinite(n) || n < 0)) {
      problems.push(`${name} must be a comma-separated list of non-negative seconds, got "${raw}"`);
      return def;
    }
    return parts;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return def;
  };

  const port = int('PORT', 9216, 0, 65535);
  const host = get('HOST') ?? '127.0.0.1';
  const dataDir = resolve(get('POLYPAY_DATA_DIR') ?? './data');
  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push(`DATABASE_URL must start with postgres:// or postgresql://`);
  const production = get('NODE_ENV') === 'production';

  const master = resolveSecret(get('POLYPAY_MASTER_KEY'), dataDir, 'master.key', () => randomBytes(32).toString('base64'), production, 'POLYPAY_MASTER_KEY', problems);
  const masterKey = Buffer.from(master.value, 'base64');
  if (masterKey.length !== 32) problems.push('POLYPAY_MASTER_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  const admin = resolveSecret(get('POLYPAY_ADMIN_TOKEN'), dataDir, 'admin.token', () => randomBytes(24).toString('base64url'), production, 'POLYPAY_ADMIN_TOKEN', problems);

  const publicUrl = (get('POLYPAY_PUBLIC_URL') ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl)) problems.push('POLYPAY_PUBLIC_URL must be an http(s) URL');

  const config: GatewayConfig = {
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir,
    masterKey,
    masterKeySource: master.source,
    adminToken: admin.value,
    adminTokenSource: admin.source,
    reqTimeWindowSeconds: int('POLYPAY_REQ_TIME_WINDOW_SECONDS', 300, 1, 86_400),
    defaultExpireSeconds: int('POLYPAY_DEFAULT_EXPIRE_SECONDS', 7200, 60, 86_400 * 30),
    notifySchedule: list('POLYPAY_NOTIFY_SCHEDULE', DEFAULT_NOTIFY_SCHEDULE),
    querySchedule: list('POLYPAY_QUERY_SCHEDULE', DEFAULT_QUERY_SCHEDULE),
    barPollSchedule: list('POLYPAY_BAR_POLL_SCHEDULE', DEFAULT_BAR_POLL_SCHEDULE),
    barTimeoutSeconds: int('POLYPAY_BAR_TIMEOUT_SECONDS', 45, 5, 600),
    workerIntervalMs: int('POLYPAY_WORKER_INTERVAL_MS', 1000, 10, 60_000),
    logLevel: get('LOG_LEVEL') ?? 'info',
    sandbox: {
      enabled: bool('POLYPAY_SANDBOX', !production),
      port: int('POLYPAY_SANDBOX_PORT', 9217, 0, 65535),
      host: get('POLYPAY_SANDBOX_HOST') ?? '127.0.0.1',
      timeScale: int('POLYPAY_SANDBOX_TIME_SCALE', 1, 1, 1_000_000),
      alipayPort: int('POLYPAY_SANDBOX_ALIPAY_PORT', 9218, 0, 65535),
      unionpayPort: int('POLYPAY_SANDBOX_UNIONPAY_PORT', 9220, 0, 65535),
      shengpayPort: int('POLYPAY_SANDBOX_SHENGPAY_PORT', 9221, 0, 65535),
      jdpayPort: int('POLYPAY_SANDBOX_JDPAY_PORT', 9222, 0, 65535),
      abcPort: int('POLYPAY_SANDBOX_ABC_PORT', 9223, 0, 65535),
      paypalPort: int('POLYPAY_SANDBOX_PAYPAL_PORT', 9224, 0, 65535),
      qqpayPort: int('POLYPAY_SANDBOX_QQPAY_PORT', 9225, 0, 65535),
      qqpayApiPort: int('POLYPAY_SANDBOX_QQPAY_API_PORT', 9226, 0, 65535),
      icbcPort: int('POLYPAY_SANDBOX_ICBC_PORT', 9227, 0, 65535),
      xinlianPort: int('POLYPAY_SANDBOX_XINLIAN_PORT', 9228, 0, 65535),
    },
    demo: { mchNo: get('POLYPAY_DEMO_MCH_NO'), appId: get('POLYPAY_DEMO_APP_ID'), appSecret: get('POLYPAY_DEMO_APP_SECRET') },
    poolSize: int('POLYPAY_DB_POOL_SIZE', 10, 1, 200),
    console: {
      maxFailedLogins: int('POLYPAY_CONSOLE_MAX_FAILED_LOGINS', 5, 1, 100),
      lockoutSeconds: int('POLYPAY_CONSOLE_LOCKOUT_SECONDS', 900, 1, 7 * 86_400),
      sessionIdleSeconds: int('POLYPAY_CONSOLE_SESSION_IDLE_SECONDS', 1800, 60, 7 * 86_400),
    },
    breaker: { threshold: int('POLYPAY_BREAKER_THRESHOLD', 5, 1, 1000), openSeconds: int('POLYPAY_BREAKER_OPEN_SECONDS', 30, 1, 86_400) },
  };
  if (config.demo.appId && !/^[0-9A-Za-z_-]{4,64}$/.test(config.demo.appId)) problems.push('POLYPAY_DEMO_APP_ID must be 4–64 characters of [0-9A-Za-z_-]');
  if (config.demo.appSecret && config.demo.appSecret.length < 16) problems.push('POLYPAY_DEMO_APP_SECRET must be at least 16 characters');
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}

function readConfigFile(path: string): Source {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`POLYPAY_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`POLYPAY_CONFIG: ${path} must hold a JSON object of VARIABLE: value`);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
}

/**
 * Development convenience: a secret not given in the environment is generated once and kept
 * in the data dir (mode 0600), so restarts can still decrypt. Production must pass it in.
 */
function resolveSecret(value: string | undefined, dataDir: string, file: string, generate: () => string, production: boolean, name: string, problems: string[]): { value: string; source: 'env' | 'file' | 'generated' } {
  if (value) return { value, source: 'env' };
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), source: 'file' };
  if (production) {
    problems.push(`${name} is required when NODE_ENV=production`);
    return { value: generate(), source: 'generated' };
  }
  mkdirSync(dataDir, { recursive: true });
  const fresh = generate();
  writeFileSync(path, `${fresh}\n`, { mode: 0o600 });
  return { value: fresh, source: 'generated' };
}
