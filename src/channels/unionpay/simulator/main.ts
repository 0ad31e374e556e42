import pino from 'pino';
import { envNumber } from '../../sandbox/cli-kit.ts';
import { DEFAULT_UNIONPAY_SIM_PORT } from './cli.ts';
import { startUnionPaySimulator } from './index.ts';

/**
 * Standalone entry: `node --import tsx src/channels/unionpay/simulator/main.ts` (benchmarks want the
 * channel off the gateway's event loop). Env: SIM_PORT (default 9220), SIM_HOST, SIM_STATE_FILE,
 * SIM_TIME_SCALE, SIM_ADMIN_TOKEN, SIM_LOG_LEVEL (default info; "silent" for none).
 */

const logger = pino({ level: process.env.SIM_LOG_LEVEL ?? 'info', redact: ['req.headers.authorization', '*.pfxBase64', '*.pfxPassword', '*.privateKeyPem'] });
const sim = await startUnionPaySimulator({
  port: envNumber('SIM_PORT', DEFAULT_UNIONPAY_SIM_PORT),
  host: process.env.SIM_HOST ?? '127.0.0.1',
  stateFile: process.env.SIM_STATE_FILE || undefined,
  timeScale: envNumber('SIM_TIME_SCALE', 1),
  adminToken: process.env.SIM_ADMIN_TOKEN || undefined,
  logger,
});
process.stdout.write(`UnionPay simulator: ${sim.baseUrl}\n`);
const stop = (signal: string): void => {
  logger.info({ signal }, 'stopping');
  sim.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
