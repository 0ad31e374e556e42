import pino, { type Logger } from 'pino';

/** Every path where a secret could appear is redacted; secrets are never logged, even at debug. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'authorization',
  '*.appSecret',
  '*.apiClientKey',
  '*.apiV3Key',
  '*.secrets',
  '*.privateKey',
  '*.merchantPrivateKeyPem',
  '*.sign',
  'appSecret',
  'secrets',
  'apiV3Key',
  'apiClientKey',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[secret]' }, base: { svc: 'polypay' } }, destination);
}
