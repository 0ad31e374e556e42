import type { Command } from 'commander';
import { registerAcquirerSandboxCommands } from '../../sandbox/acquirer/cli.ts';
import { printJson } from '../../sandbox/cli-kit.ts';
import { startQqpaySimulator } from './index.ts';

/** `sandbox qqpay …`: serve, register, pay/cancel/fail, codes, ledger, faults, down, release-refunds (docs/sandbox/qqpay.md). */

export const DEFAULT_QQPAY_SIM_PORT = 9225;
export const DEFAULT_QQPAY_SIM_API_PORT = 9226;

/** MICROPAY payment codes of the sandbox: the last four digits choose the outcome (acquirer/barcodes.ts). */
export const QQPAY_SANDBOX_CODES = {
  paid: '910000000000000001',
  passwordThenPaid: '910000000000009991',
  passwordNeverConfirmed: '910000000000009992',
  declined: '910000000000009993',
  paidButSystemError: '910000000000009994',
} as const;

export function registerQqpaySandboxCommands(program: Command): Command {
  const cmd = registerAcquirerSandboxCommands(program, {
    name: 'qqpay',
    description: 'QQ钱包 QPay simulator',
    defaultPort: DEFAULT_QQPAY_SIM_PORT,
    urlEnv: 'QQPAY_SIM_URL',
    start: (o) => startQqpaySimulator({ ...o, apiPort: o.port === 0 ? 0 : DEFAULT_QQPAY_SIM_API_PORT }),
  });
  cmd
    .command('codes')
    .description('print the sandbox payment codes for MICROPAY (channelExtra {"authCode":"…"}): paid, password pending, declined …')
    .action(() => printJson(QQPAY_SANDBOX_CODES));
  return cmd;
}
