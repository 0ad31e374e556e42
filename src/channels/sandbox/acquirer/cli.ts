import { Command, InvalidArgumentError } from 'commander';
import type { AcquirerOptions } from './types.ts';

/**
 * `sandbox <channel> …` commands of an acquirer sandbox. `serve` runs a standalone simulator; the
 * others talk to a running one through its HTTP admin and payer API, so they work against another
 * process or host.
 */

export interface AcquirerCliSpec {
  /** Command name: shengpay, jdpay, abc. */
  name: string;
  description: string;
  defaultPort: number;
  /** Environment variable naming the simulator URL, e.g. SHENGPAY_SIM_URL. */
  urlEnv: string;
  start(opts: AcquirerOptions): Promise<{ baseUrl: string; close(): Promise<void> }>;
  /** Extra options of `register` turned into the request body. */
  registerOptions?: (cmd: Command) => Command;
  registerBody?: (o: Record<string, unknown>) => Record<string, unknown>;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

interface Conn {
  url: string;
  token?: string;
}

async function call(conn: Conn, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${conn.url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** `k=v` pairs of fault switches: numbers and booleans as such. */
function faultPatch(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new InvalidArgumentError(`expected name=value, got ${p}`);
    const v = p.slice(i + 1);
    out[p.slice(0, i)] = v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

export function registerAcquirerSandboxCommands(program: Command, spec: AcquirerCliSpec): Command {
  const sandbox = program.name() === 'sandbox' ? program : (program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('channel simulators (the sandbox)'));
  const cmd = sandbox.command(spec.name).description(spec.description);
  const conn = (c: Command): Command =>
    c.option('--url <url>', 'simulator base URL', process.env[spec.urlEnv] ?? `http://127.0.0.1:${spec.defaultPort}`).option('--token <token>', 'admin bearer token (or SIM_ADMIN_TOKEN)', process.env.SIM_ADMIN_TOKEN);

  cmd
    .command('serve')
    .description('run a standalone simulator and print its base URL')
    .option('--port <port>', 'listen port (0 = random)', int, spec.defaultPort)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist merchants, trades, refunds and pending notifications here')
    .option('--time-scale <n>', 'divide notification retry, password and refund delays by n', positive, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await spec.start({ port: o.port, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.baseUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  const register = conn(cmd.command('register').description('register (or update) a sandbox merchant; prints its credentials (the private key only when generated)')).option('--merchant-id <id>', 'merchant number (generated when absent)');
  (spec.registerOptions ? spec.registerOptions(register) : register).action(async (o: Conn & Record<string, unknown>) => {
    print(await call(o, 'POST', '/sandbox/v1/merchants', { merchantId: o.merchantId, ...(spec.registerBody ? spec.registerBody(o) : {}) }));
  });

  for (const action of ['pay', 'cancel', 'fail'] as const) {
    conn(cmd.command(`${action} <target>`).description(`${action} as the sandbox payer: a code or payer link printed as payData, a trade number, or an out-trade-no (with --merchant-id)`))
      .option('--merchant-id <id>', 'merchant number (needed with an out-trade-no)')
      .option('--wallet <wallet>', 'WECHAT, ALIPAY, UNIONPAY, JD or ABC (default: the first the code accepts)')
      .action(async (target: string, o: Conn & { merchantId?: string; wallet?: string }) => {
        const who = o.merchantId ? { merchant_id: o.merchantId, out_trade_no: target } : { code: target };
        print(await call(o, 'POST', `/sandbox/v1/${action}`, { ...who, ...(o.wallet ? { wallet: o.wallet } : {}) }));
      });
  }

  conn(cmd.command('ledger').description('print trades, refunds and notifications'))
    .option('--merchant-id <id>', 'only this merchant')
    .action(async (o: Conn & { merchantId?: string }) => print(await call(o, 'GET', `/sandbox/v1/ledger${o.merchantId ? `?merchant_id=${encodeURIComponent(o.merchantId)}` : ''}`)));

  conn(cmd.command('faults [switches...]').description('show fault switches, or set some: busyNextRequests=2 responseDelayMs=15000 holdRefunds=true …')).action(async (pairs: string[], o: Conn) =>
    print(pairs.length === 0 ? await call(o, 'GET', '/sandbox/v1/faults') : await call(o, 'PUT', '/sandbox/v1/faults', faultPatch(pairs))),
  );

  conn(cmd.command('down <seconds>').description('stop listening for a while: every call is refused (the "unreachable" fault)')).action(async (seconds: string, o: Conn) => print(await call(o, 'POST', '/sandbox/v1/down', { seconds: int(seconds) })));

  conn(cmd.command('release-refunds').description('complete the refunds held by holdRefunds=true')).action(async (o: Conn) => print(await call(o, 'POST', '/sandbox/v1/refunds/release')));

  return cmd;
}
