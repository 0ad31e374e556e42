import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { startJdpaySimulator } from './index.ts';

/** `sandbox jdpay …`: serve, register, pay/cancel/fail, ledger, faults, down, release-refunds (docs/sandbox/jdpay.md). */

export const DEFAULT_JDPAY_SIM_PORT = 9222;

export function registerJdpaySandboxCommands(program: Command): Command {
  return registerAcquirerSandboxCommands(program, {
    name: 'jdpay',
    description: '京东支付 JD Pay simulator',
    defaultPort: DEFAULT_JDPAY_SIM_PORT,
    urlEnv: 'JDPAY_SIM_URL',
    start: startJdpaySimulator,
  });
}
