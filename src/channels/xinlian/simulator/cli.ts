import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { startXinlianSimulator } from './index.ts';

/** `sandbox xinlian …`: serve, register, pay/cancel/fail (the buyer paying the tradeNO in Alipay), ledger, faults, down, release-refunds (docs/channels/xinlian.md). */

export const DEFAULT_XINLIAN_SIM_PORT = 9228;

export function registerXinlianSandboxCommands(program: Command): Command {
  return registerAcquirerSandboxCommands(program, {
    name: 'xinlian',
    description: '信联 Xinlian simulator (Alipay mini-program payments)',
    defaultPort: DEFAULT_XINLIAN_SIM_PORT,
    urlEnv: 'XINLIAN_SIM_URL',
    start: startXinlianSimulator,
    registerOptions: (c) => c.option('--app-id <appId>', 'application id (generated when absent)'),
    registerBody: (o) => (o.appId ? { appId: o.appId } : {}),
  });
}
