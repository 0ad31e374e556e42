import { Command, InvalidArgumentError } from 'commander';
import { startAlipaySimulator } from './index.ts';

/**
 * `sandbox alipay …` commands. `serve` runs a standalone simulator; the others talk to a running
 * one through its HTTP admin and payer API, so they work against another process or host.
 */

export const DEFAULT_ALIPAY_SIM_PORT = 9218;
export const DEFAULT_ALIPAY_SIM_URL = `http://127.0.0.1:${DEFAULT_ALIPAY_SIM_PORT}`;

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

async function call(conn: Conn, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
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

const conn = (cmd: Command): Command =>
  cmd.option('--url <url>', 'simulator base URL', process.env.ALIPAY_SIM_URL ?? DEFAULT_ALIPAY_SIM_URL).option('--token <token>', 'admin bearer token (or SIM_ADMIN_TOKEN)', process.env.SIM_ADMIN_TOKEN);

/** Adds `alipay` under `sandbox` (the root program or the `sandbox` command itself). */
export function registerAlipaySandboxCommands(program: Command): Command {
  const sandbox = program.name() === 'sandbox' ? program : (program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('channel simulators (the sandbox)'));
  const alipay = sandbox.command('alipay').description('Alipay gateway simulator');

  alipay
    .command('serve')
    .description('run a standalone simulator and print its base URL')
    .option('--port <port>', 'listen port (0 = random)', int, DEFAULT_ALIPAY_SIM_PORT)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist apps, trades, refunds and pending notifications here')
    .option('--time-scale <n>', 'divide notification retry delays and the password delay by n', positive, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await startAlipaySimulator({ port: o.port, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.gatewayUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  conn(alipay.command('register').description('register (or update) a sandbox app; prints its credentials (the private key only when generated)'))
    .option('--app-id <appId>', '16-digit app id (generated when absent)')
    .option('--cert', 'certificate mode (公钥证书) instead of public-key mode')
    .option('--user-id', 'an app from before 2023: buyers appear as buyer_id (2088…), not open_id')
    .option('--isv', "a service provider's third-party app (acts for merchants with their app_auth_token)")
    .action(async (o: Conn & { appId?: string; cert?: boolean; userId?: boolean; isv?: boolean }) => {
      print(await call(o, 'POST', '/sandbox/v1/apps', { appId: o.appId, mode: o.cert ? 'cert' : 'publicKey', openId: !o.userId, ...(o.isv ? { isv: true } : {}) }));
    });

  conn(alipay.command('authorize <link>').description("as a sandbox merchant, authorise a provider: open the appToAppAuth.htm link the gateway gave you; prints the redirect (open it to finish)"))
    .option('--merchant-app-id <appId>', 'the merchant app to authorise (a new one when absent)')
    .action(async (link: string, o: Conn & { merchantAppId?: string }) => {
      const q = new URL(link).searchParams;
      print(await call(o, 'POST', '/sandbox/v1/app-auth/authorize', { app_id: q.get('app_id'), redirect_uri: q.get('redirect_uri'), state: q.get('state') ?? undefined, merchant_app_id: o.merchantAppId }));
    });

  conn(alipay.command('pay <target>').description('pay as the sandbox buyer: a qr_code URL, an APP order string, or an out_trade_no (with --app-id)'))
    .option('--app-id <appId>', 'app id (needed with an out_trade_no)')
    .option('--buyer-id <id>', 'pay as this 2088… buyer')
    .action(async (target: string, o: Conn & { appId?: string; buyerId?: string }) => {
      const who = o.buyerId ? { buyer_id: o.buyerId } : {};
      const body = /\/sandbox\/qr\//.test(target)
        ? { qr_code: target, ...who }
        : target.includes('method=alipay.trade.app.pay')
          ? { order_string: target, ...who }
          : /^\d{28}$/.test(target)
            ? { trade_no: target, ...who }
            : { app_id: o.appId, out_trade_no: target, ...who };
      if ('out_trade_no' in body && !o.appId) throw new InvalidArgumentError('--app-id is required with an out_trade_no');
      print(await call(o, 'POST', '/sandbox/v1/pay', body));
    });

  conn(alipay.command('ledger').description('print trades, refunds and notifications'))
    .option('--app-id <appId>', 'only this app')
    .action(async (o: Conn & { appId?: string }) => print(await call(o, 'GET', `/sandbox/v1/ledger${o.appId ? `?app_id=${encodeURIComponent(o.appId)}` : ''}`)));

  return alipay;
}
