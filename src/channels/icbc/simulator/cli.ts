import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { startIcbcSimulator } from './index.ts';

/** `sandbox icbc …`: serve, register, pay/cancel/fail (the payer approving in 工行 e支付 / 手机银行), ledger, faults, down (docs/channels/icbc.md). */

export const DEFAULT_ICBC_SIM_PORT = 9227;

export function registerIcbcSandboxCommands(program: Command): Command {
  return registerAcquirerSandboxCommands(program, {
    name: 'icbc',
    description: '工商银行 ICBC API 开放平台 simulator',
    defaultPort: DEFAULT_ICBC_SIM_PORT,
    urlEnv: 'ICBC_SIM_URL',
    start: startIcbcSimulator,
    registerOptions: (c) => c.option('--app-id <appId>', 'app id (generated when absent)'),
    registerBody: (o) => (o.appId ? { appId: o.appId } : {}),
  });
}
