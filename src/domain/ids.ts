import { randomBytes, randomInt } from 'node:crypto';

/**
 * Order ids: prefix + UTC yyyyMMddHHmmss + 8 random digits (P20261122103000xxxxxxxx).
 * Sortable by time for operators, 23 chars (fits WeChat's 32-char out_trade_no), no
 * coordination between gateway processes needed.
 */
export function newOrderId(prefix: 'P' | 'R', now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const rand = String(randomInt(0, 100_000_000)).padStart(8, '0');
  return `${prefix}${stamp}${rand}`;
}

/** Merchant numbers look like Jeepay's: M + 13 digits. */
export function newMchNo(): string {
  return `M${Date.now()}${String(randomInt(0, 1000)).padStart(3, '0')}`.slice(0, 17);
}

/** App ids are 24 hex characters (Jeepay's ObjectId shape). */
export function newAppId(): string {
  return randomBytes(12).toString('hex');
}

/** App secrets: 64 chars of [A-Za-z0-9]; the merchant signing key. */
export function newAppSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(64);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export function newNonce(length = 32): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length).toUpperCase();
}
