import { Command, InvalidArgumentError } from 'commander';
import { startWechatPaySimulator } from './index.ts';
import type { VerifyMode } from './types.ts';

/**
 * `sandbox wechat …` commands. `serve` runs a standalone simulator; the others talk to a running
 * one through its HTTP admin API, so they work against a simulator in another process or host.
 */

export const DEFAULT_SIM_URL = 'http://127.0.0.1:9217';
export const DEFAULT_SIM_PORT = 9217;

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

function verifyMode(value: string): VerifyMode {
  if (value !== 'publicKey' && value !== 'platformCert') throw new InvalidArgumentError("must be 'publicKey' or 'platformCert'");
  return value;
}

interface Conn {
  url: string;
  token?: string;
}

async function call(conn: Conn, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${conn.url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return data;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const connOptions = (cmd: Command): Command =>
  cmd
    .option('--url <url>', 'simulator base URL', process.env.SIM_URL ?? DEFAULT_SIM_URL)
    .option('--token <token>', 'admin bearer token (or SIM_ADMIN_TOKEN)', process.env.SIM_ADMIN_TOKEN);

/**
 * Adds `wechat` under `sandbox`. Accepts either the root program (creates or reuses its `sandbox`
 * command) or the `sandbox` command itself.
 */
export function registerWechatSandboxCommands(program: Command): Command {
  const sandbox =
    program.name() === 'sandbox'
      ? program
      : (program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('channel simulators (the sandbox)'));
  const wechat = sandbox.command('wechat').description('WeChat Pay API v3 simulator');

  wechat
    .command('serve')
    .description('run a standalone simulator and print its base URL')
    .option('--port <port>', 'listen port (0 = random)', int, DEFAULT_SIM_PORT)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist merchants, orders, refunds and pending callbacks here')
    .option('--time-scale <n>', 'divide callback retry and refund delays by n', positive, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await startWechatPaySimulator({ port: o.port, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.baseUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  connOptions(wechat.command('register').description('register (or update) a sandbox merchant; prints its credentials'))
    .option('--mchid <mchid>', 'merchant id (generated when absent)')
    .option('--appid <appid...>', 'appid(s) bound to the merchant')
    .option('--verify-mode <mode>', "'publicKey' or 'platformCert'", verifyMode)
    .action(async (o: Conn & { mchid?: string; appid?: string[]; verifyMode?: VerifyMode }) => {
      print(await call(o, 'POST', '/sandbox/v1/merchants', { mchid: o.mchid, appids: o.appid, verifyMode: o.verifyMode }));
    });

  connOptions(wechat.command('pay <codeUrlOrOutTradeNo>').description('pay an order as the sandbox payer'))
    .option('--mchid <mchid>', 'merchant id (needed with an out_trade_no)')
    .option('--openid <openid>', 'payer openid')
    .action(async (target: string, o: Conn & { mchid?: string; openid?: string }) => {
      const body = target.startsWith('weixin://')
        ? { code_url: target, openid: o.openid }
        : { mchid: o.mchid, out_trade_no: target, openid: o.openid };
      if (!('code_url' in body) && !o.mchid) throw new InvalidArgumentError('--mchid is required with an out_trade_no');
      print(await call(o, 'POST', '/sandbox/v1/pay', body));
    });

  connOptions(wechat.command('ledger').description('print orders, refunds and callbacks'))
    .option('--mchid <mchid>', 'only this merchant')
    .action(async (o: Conn & { mchid?: string }) => {
      print(await call(o, 'GET', `/sandbox/v1/ledger${o.mchid ? `?mchid=${encodeURIComponent(o.mchid)}` : ''}`));
    });

  return wechat;
}
