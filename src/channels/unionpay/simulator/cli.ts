import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { nonNegativeInt as int, positiveNumber as positive, printJson as print, sandboxCall as call, sandboxGroup, withConn, type SandboxConn as Conn } from '../../sandbox/cli-kit.ts';
import { startUnionPaySimulator } from './index.ts';

/**
 * `sandbox unionpay …` commands. `serve` runs a standalone simulator; the others talk to a running
 * one through its HTTP admin and payer API, so they work against another process or host.
 */

export const DEFAULT_UNIONPAY_SIM_PORT = 9220;
export const DEFAULT_UNIONPAY_SIM_URL = `http://127.0.0.1:${DEFAULT_UNIONPAY_SIM_PORT}`;

const conn = (cmd: Command): Command => withConn(cmd, 'UNIONPAY_SIM_URL', DEFAULT_UNIONPAY_SIM_URL);

/** Writes the PFX of an answer to a file when asked, and leaves it out of what is printed. */
function withPfx(answer: unknown, out: string | undefined): unknown {
  const a = answer as { pfxBase64?: string };
  if (out && a.pfxBase64) {
    writeFileSync(out, Buffer.from(a.pfxBase64, 'base64'), { mode: 0o600 });
    return { ...a, pfxBase64: `(written to ${out})` };
  }
  return a;
}

/** The payer's target from what they "scanned" or were given: a QR code / redirect URL, or a tn. */
function target(value: string): Record<string, string> {
  return /^https?:\/\//.test(value) ? { qrCode: value } : /^\d{21}$/.test(value) ? { tn: value } : (() => {
    throw new InvalidArgumentError('give a QR code or redirect URL (http…), or a 21-digit tn');
  })();
}

/** Adds `unionpay` under `sandbox` (the root program or the `sandbox` command itself). */
export function registerUnionPaySandboxCommands(program: Command): Command {
  const up = sandboxGroup(program).command('unionpay').description('云闪付 / UnionPay simulator (ACP 全渠道 + service-provider gateway)');

  up.command('serve')
    .description('run a standalone simulator and print its base URL')
    .option('--port <port>', 'listen port (0 = random)', int, DEFAULT_UNIONPAY_SIM_PORT)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist the PKI, merchants, orders and pending notifications here')
    .option('--time-scale <n>', 'divide notification retries, the password delay and refund settlement by n', positive, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await startUnionPaySimulator({ port: o.port, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.baseUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  conn(up.command('register').description('register a sandbox merchant (merId + signing certificate); prints credentials, the PFX only when issued'))
    .option('--mer-id <merId>', '15-digit merchant number (generated when absent)')
    .option('--renew', 'issue a new signing certificate')
    .option('--pfx-out <file>', 'write the PFX there instead of printing it')
    .action(async (o: Conn & { merId?: string; renew?: boolean; pfxOut?: string }) => print(withPfx(await call(o, 'POST', '/sandbox/v1/merchants', { merId: o.merId, renew: o.renew }), o.pfxOut)));

  conn(up.command('provider').description('register a 云闪付 service provider (or add a sub-merchant to one)'))
    .option('--ser-prov-id <id>', 'service provider id (generated when absent)')
    .option('--mer-id <merId>', 'sub-merchant number to add')
    .option('--pfx-out <file>', 'write the PFX there instead of printing it')
    .action(async (o: Conn & { serProvId?: string; merId?: string; pfxOut?: string }) => print(withPfx(await call(o, 'POST', '/sandbox/v1/providers', { serProvId: o.serProvId, merId: o.merId }), o.pfxOut)));

  conn(up.command('pay <target>').description('pay as the sandbox 云闪付 user: a QR code or YSF_JSAPI redirectUrl (payData), or a tn (UP_APP / YSF_LITE)'))
    .option('--user <name>', 'pay as another sandbox user')
    .action(async (t: string, o: Conn & { user?: string }) => print(await call(o, 'POST', '/sandbox/v1/pay', { ...target(t), ...(o.user ? { user: o.user } : {}) })));

  conn(up.command('scan <qrCode>').description('scan a QR code without paying (the payer is authorising: origRespCode 05)')).action(async (qrCode: string, o: Conn) =>
    print(await call(o, 'POST', '/sandbox/v1/scan', { qrCode })),
  );

  conn(up.command('authorize <redirectUrl>').description('云闪付 user authorisation: prints the redirect (with userAuthCode) the payer would follow'))
    .option('--user <name>', 'authorise as another sandbox user')
    .action(async (redirectUrl: string, o: Conn & { user?: string }) => print(await call(o, 'POST', '/sandbox/v1/authorize', { redirectUrl, ...(o.user ? { user: o.user } : {}) })));

  conn(up.command('ledger').description('print consumes, refunds/undos and notifications'))
    .option('--mer-id <merId>', 'only this merchant')
    .action(async (o: Conn & { merId?: string }) => print(await call(o, 'GET', `/sandbox/v1/ledger${o.merId ? `?merId=${encodeURIComponent(o.merId)}` : ''}`)));

  return up;
}
