import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { startShengpaySimulator } from './index.ts';

/** `sandbox shengpay …`: serve, register, pay/cancel/fail, ledger, faults, down, release-refunds (docs/sandbox/shengpay.md). */

export const DEFAULT_SHENGPAY_SIM_PORT = 9221;

export function registerShengpaySandboxCommands(program: Command): Command {
  return registerAcquirerSandboxCommands(program, {
    name: 'shengpay',
    description: '盛付通 Shengpay simulator',
    defaultPort: DEFAULT_SHENGPAY_SIM_PORT,
    urlEnv: 'SHENGPAY_SIM_URL',
    start: startShengpaySimulator,
  });
}
