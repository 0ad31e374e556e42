import type { Command } from 'commander';
import { nonNegativeInt, positiveNumber, printJson, sandboxCall, sandboxGroup, withConn, type SandboxConn } from '../../sandbox/cli-kit.ts';
import { faultPatch } from '../../sandbox/acquirer/cli.ts';
import { startPaypalSimulator } from './index.ts';

/** `sandbox paypal …`: serve, register (client id/secret/webhook id), approve/cancel, settle a pending capture, ledger, faults, release webhooks. */

export const DEFAULT_PAYPAL_SIM_PORT = 9224;

export function registerPaypalSandboxCommands(program: Command): Command {
  const cmd = sandboxGroup(program).command('paypal').description('PayPal REST (Orders v2) simulator');
  const conn = (c: Command): Command => withConn(c, 'PAYPAL_SIM_URL', `http://127.0.0.1:${DEFAULT_PAYPAL_SIM_PORT}`);

  cmd
    .command('serve')
    .description('run a standalone simulator and print its base URL and cert URL')
    .option('--port <port>', 'listen port (0 = random)', nonNegativeInt, DEFAULT_PAYPAL_SIM_PORT)
    .option('--cert-port <port>', 'https port of the webhook cert URL (0 = random)', nonNegativeInt, 0)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--state-file <file>', 'persist apps, orders, captures, refunds and pending webhooks here')
    .option('--time-scale <n>', 'divide webhook retry delays by n', positiveNumber, 1)
    .option('--admin-token <token>', 'require this bearer token on /sandbox/v1 admin routes', process.env.SIM_ADMIN_TOKEN)
    .action(async (o: { port: number; certPort: number; host: string; stateFile?: string; timeScale: number; adminToken?: string }) => {
      const sim = await startPaypalSimulator({ port: o.port, certPort: o.certPort, host: o.host, stateFile: o.stateFile, timeScale: o.timeScale, adminToken: o.adminToken, logger: false });
      process.stdout.write(`${sim.baseUrl}\n${sim.certUrl}\n`);
      const stop = (): void => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  conn(cmd.command('register').description('create (or update) a REST app: prints client id, secret, webhook id and what the gateway config needs'))
    .option('--client-id <id>', 'keep this client id (created when unknown)')
    .option('--webhook-url <url>', 'where webhooks go, e.g. http://127.0.0.1:9216/api/pay/notify/paypal')
    .option('--name <name>', 'app name')
    .action(async (o: SandboxConn & { clientId?: string; webhookUrl?: string; name?: string }) => printJson(await sandboxCall(o, 'POST', '/sandbox/v1/apps', { clientId: o.clientId, webhookUrl: o.webhookUrl, name: o.name })));

  for (const action of ['approve', 'cancel'] as const) {
    conn(cmd.command(`${action} <approveUrlOrToken>`).description(`${action} as the sandbox buyer; prints where PayPal sends the buyer (open it to finish at the gateway)`)).action(async (target: string, o: SandboxConn) => {
      const token = /[?&]token=([^&]+)/.exec(target)?.[1] ?? target;
      printJson(await sandboxCall(o, 'POST', `/sandbox/v1/orders/${encodeURIComponent(token)}/${action}`));
    });
  }

  conn(cmd.command('settle <captureId> <outcome>').description('a PENDING capture: complete or deny (sends its webhook)')).action(async (id: string, outcome: string, o: SandboxConn) => printJson(await sandboxCall(o, 'POST', `/sandbox/v1/captures/${encodeURIComponent(id)}/${encodeURIComponent(outcome)}`)));

  conn(cmd.command('ledger').description('print orders, captures and webhooks'))
    .option('--client-id <id>', 'only this app')
    .action(async (o: SandboxConn & { clientId?: string }) => printJson(await sandboxCall(o, 'GET', `/sandbox/v1/ledger${o.clientId ? `?clientId=${encodeURIComponent(o.clientId)}` : ''}`)));

  conn(cmd.command('faults [switches...]').description('show fault switches, or set some: pendingCaptures=true declineNextCaptures=1 failNextRequests=2 responseDelayMs=15000 holdWebhooks=true')).action(async (pairs: string[], o: SandboxConn) =>
    printJson(pairs.length === 0 ? await sandboxCall(o, 'GET', '/sandbox/v1/faults') : await sandboxCall(o, 'PUT', '/sandbox/v1/faults', faultPatch(pairs))),
  );

  conn(cmd.command('release-webhooks').description('send the webhooks held by holdWebhooks=true')).action(async (o: SandboxConn) => printJson(await sandboxCall(o, 'POST', '/sandbox/v1/webhooks/release')));

  return cmd;
}
