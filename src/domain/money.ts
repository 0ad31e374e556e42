/**
 * Money is an integer count of the currency's minor unit plus an ISO-4217 code.
 * Amounts cross the JSON edge as safe integers (JSON cannot carry bigint) and are
 * stored as int8; nothing in the gateway ever multiplies by 100 or uses a float.
 */
export const CURRENCY_EXPONENT = {
  CNY: 2,
  HKD: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  JPY: 0,
  KRW: 0,
  KWD: 3,
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENT;

export interface Money {
  readonly minor: number;
  readonly currency: Currency;
}

/** Merchants (Jeepay) send currency in lower case ("cny"); we store the ISO upper-case code. */
export function parseCurrency(input: string): Currency | undefined {
  const code = input.trim().toUpperCase();
  return Object.hasOwn(CURRENCY_EXPONENT, code) ? (code as Currency) : undefined;
}

/** Accepts a positive safe integer given as a number or a canonical decimal string ("100", never "1e2" or "1.0"). */
export function parseMinorAmount(input: unknown): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input > 0 ? input : undefined;
  }
  if (typeof input === 'string' && /^[1-9][0-9]{0,15}$/.test(input)) {
    const n = Number(input);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

export function money(minor: number, currency: Currency): Money {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`amount must be a non-negative safe integer, got ${minor}`);
  return { minor, currency };
}

/**
 * Renders an amount in major units as a decimal string using integer arithmetic only
 * (Alipay "12.34", PayPal "12.34"/"1234" for JPY). 1234 CNY → "12.34", 5 CNY → "0.05".
 */
export function toMajorString(amount: Money): string {
  const exp = CURRENCY_EXPONENT[amount.currency];
  if (exp === 0) return String(amount.minor);
  const digits = String(amount.minor).padStart(exp + 1, '0');
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** Parses a major-unit decimal string ("12.34") into minor units without floats; undefined if malformed or over-precise. */
export function fromMajorString(value: string, currency: Currency): number | undefined {
  const exp = CURRENCY_EXPONENT[currency];
  const m = /^(0|[1-9][0-9]{0,14})(?:\.([0-9]+))?$/.exec(value);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  if (frac.length > exp) return undefined;
  const n = Number(m[1] + frac.padEnd(exp, '0'));
  return Number.isSafeInteger(n) ? n : undefined;
}
