/**
 * China time (GMT+8, no DST since 1991) in the compact formats of 盛付通, 京东支付 and 农业银行,
 * whatever the server's own time zone.
 */

const OFFSET_MS = 8 * 3600 * 1000;

/** yyyyMMddHHmmss */
export function compactChinaTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError('invalid time');
  return new Date(ms + OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/** yyyyMMddHHmmss → Date; undefined when malformed or not a real date (2024-02-30). */
export function parseCompactChinaTime(value: string): Date | undefined {
  if (!/^\d{14}$/.test(value)) return undefined;
  const ms = Date.UTC(Number(value.slice(0, 4)), Number(value.slice(4, 6)) - 1, Number(value.slice(6, 8)), Number(value.slice(8, 10)), Number(value.slice(10, 12)), Number(value.slice(12, 14))) - OFFSET_MS;
  return Number.isNaN(ms) || compactChinaTime(ms) !== value ? undefined : new Date(ms);
}

/** yyyy/MM/dd and HH:mm:ss (农业银行 TrustPay). */
export function slashedChinaDateTime(ms: number): { date: string; time: string } {
  const iso = new Date(ms + OFFSET_MS).toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, '/'), time: iso.slice(11, 19) };
}
