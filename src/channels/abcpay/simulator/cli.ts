import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { startAbcSimulator } from './index.ts';

/** `sandbox abc …`: serve, register, pay/cancel/fail, ledger, faults, down (docs/sandbox/abc.md). */

export const DEFAULT_ABC_SIM_PORT = 9223;

export function registerAbcSandboxCommands(program: Command): Command {
  return registerAcquirerSandboxCommands(program, {
    name: 'abc',
    description: '中国农业银行 ABC TrustPay simulator',
    defaultPort: DEFAULT_ABC_SIM_PORT,
    urlEnv: 'ABC_SIM_URL',
    start: startAbcSimulator,
  });
}
