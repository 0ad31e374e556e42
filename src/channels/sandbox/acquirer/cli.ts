import { type Command, InvalidArgumentError } from 'commander';
import { nonNegativeInt, positiveNumber, printJson, sandboxCall, sandboxGroup, withConn, type SandboxConn } from '../cli-kit.ts';
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

/** `k=v` pairs of fault switches: numbers and booleans as such. */
export function faultPatch(pairs: string[]): Record<string, unknown> {
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
  const cmd = sandboxGroup(program).command(spec.name).description(spec.description);
  const conn = (c: Command): Command => withConn(c, spec.urlEnv, `http://127.0.0.1:${spec.defaultPort}`);

  cmd
    .command('serve')
    .description('run a standalone simulator and print its base URL')
    .option('--port <port>', 'listen port (0 = random)', nonNegativeInt, spec.defaultPort)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist merchants, trades, refunds and pending notifications here')
    .option('--time-scale <n>', 'divide notification retry, password and refund delays by n', positiveNumber, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await spec.start({ port: o.port, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.baseUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  const register = conn(cmd.command('register').description('register (or update) a sandbox merchant; prints its credentials (the private key only when generated)')).option('--merchant-id <id>', 'merchant number (generated when absent)');
  (spec.registerOptions ? spec.registerOptions(register) : register).action(async (o: SandboxConn & Record<string, unknown>) => {
    printJson(await sandboxCall(o, 'POST', '/sandbox/v1/merchants', { merchantId: o.merchantId, ...(spec.registerBody ? spec.registerBody(o) : {}) }));
  });

  for (const action of ['pay', 'cancel', 'fail'] as const) {
    conn(cmd.command(`${action} <target>`).description(`${action} as the sandbox payer: a code or payer link printed as payData, a trade number, or an out-trade-no (with --merchant-id)`))
      .option('--merchant-id <id>', 'merchant number (needed with an out-trade-no)')
      .option('--wallet <wallet>', 'WECHAT, ALIPAY, UNIONPAY, JD or ABC (default: the first the code accepts)')
      .action(async (target: string, o: SandboxConn & { merchantId?: string; wallet?: string }) => {
        const who = o.merchantId ? { merchant_id: o.merchantId, out_trade_no: target } : { code: target };
        printJson(await sandboxCall(o, 'POST', `/sandbox/v1/${action}`, { ...who, ...(o.wallet ? { wallet: o.wallet } : {}) }));
      });
  }

  conn(cmd.command('ledger').description('print trades, refunds and notifications'))
    .option('--merchant-id <id>', 'only this merchant')
    .action(async (o: SandboxConn & { merchantId?: string }) => printJson(await sandboxCall(o, 'GET', `/sandbox/v1/ledger${o.merchantId ? `?merchant_id=${encodeURIComponent(o.merchantId)}` : ''}`)));

  conn(cmd.command('faults [switches...]').description('show fault switches, or set some: busyNextRequests=2 responseDelayMs=15000 holdRefunds=true …')).action(async (pairs: string[], o: SandboxConn) =>
    printJson(pairs.length === 0 ? await sandboxCall(o, 'GET', '/sandbox/v1/faults') : await sandboxCall(o, 'PUT', '/sandbox/v1/faults', faultPatch(pairs))),
  );

  conn(cmd.command('down <seconds>').description('stop listening for a while: every call is refused (the "unreachable" fault)')).action(async (seconds: string, o: SandboxConn) => printJson(await sandboxCall(o, 'POST', '/sandbox/v1/down', { seconds: nonNegativeInt(seconds) })));

  conn(cmd.command('release-refunds').description('complete the refunds held by holdRefunds=true')).action(async (o: SandboxConn) => printJson(await sandboxCall(o, 'POST', '/sandbox/v1/refunds/release')));

  return cmd;
}
