import pino from 'pino';
import { DEFAULT_SIM_PORT } from './cli.ts';
import { startWechatPaySimulator } from './index.ts';

/**
 * Standalone entry: `node --import tsx src/channels/wechat-pay/simulator/main.ts`. Runs the
 * simulator in its own process (benchmarks need the channel off the gateway's event loop).
 * Env: SIM_PORT (default 9217), SIM_HOST, SIM_STATE_FILE, SIM_PERSIST_LEDGER (false: keys and
 * merchants only), SIM_TIME_SCALE, SIM_ADMIN_TOKEN,
 * SIM_LOG_LEVEL (default info; "silent" for none).
 */

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${raw}`);
  return n;
}

const logger = pino({
  level: process.env.SIM_LOG_LEVEL ?? 'info',
  // Belt and braces: nothing in the simulator logs keys, but never let a header or key slip out.
  redact: ['req.headers.authorization', '*.privateKeyPem', '*.merchantPrivateKeyPem', '*.apiV3Key'],
});

const sim = await startWechatPaySimulator({
  port: envNumber('SIM_PORT', DEFAULT_SIM_PORT),
  host: process.env.SIM_HOST ?? '127.0.0.1',
  stateFile: process.env.SIM_STATE_FILE || undefined,
  persistLedger: process.env.SIM_PERSIST_LEDGER !== 'false',
  timeScale: envNumber('SIM_TIME_SCALE', 1),
  adminToken: process.env.SIM_ADMIN_TOKEN || undefined,
  logger,
});
process.stdout.write(`WeChat Pay simulator: ${sim.baseUrl}\n`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  sim.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err: (err as Error).message }, 'close failed');
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
