/** An integer count of 1/10^places printed as a decimal, with integer arithmetic: (1234, 2) → "12.34". */
function decimalText(units: number, places: number): string {
  const n = Math.trunc(units);
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const scale = 10 ** places;
  return `${sign}${Math.trunc(abs / scale)}.${String(abs % scale).padStart(places, '0')}`;
}

/** "12.3" with places 2 → 1230; null when not a non-negative decimal with at most `places` decimals. */
function parseDecimal(text: string, places: number, maxIntegerDigits: number): number | null {
  const m = new RegExp(`^\\s*(\\d{1,${maxIntegerDigits}})(?:\\.(\\d{1,${places}}))?\\s*$`).exec(text);
  if (!m) return null;
  return Number(m[1]) * 10 ** places + Number((m[2] ?? '').padEnd(places, '0'));
}

/** Money arrives as integer minor units (fen); it is printed and parsed as text, never through floats. */
export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '';
  return decimalText(fen, 2);
}

/** "12.3" → 1230 fen; null when not an amount with at most two decimals. */
export function parseYuan(text: string): number | null {
  return parseDecimal(text, 2, 9);
}

/** A fee rate stored in parts per million as a percentage without trailing zeros: 3800 → "0.38", 1_000_000 → "100". */
export function percentOfPpm(ppm: number): string {
  return decimalText(ppm, 4).replace(/\.?0+$/, '');
}

/** "0.38" (%) → 3800 ppm; null when not a percentage from 0 to 100 with at most four decimals. */
export function parsePercentPpm(text: string): number | null {
  const ppm = parseDecimal(text, 4, 3);
  return ppm !== null && ppm <= 1_000_000 ? ppm : null;
}

/** Basis points (1/100 %) as a percentage: 2500 → "25.00". */
export function percentOfBp(bp: number): string {
  return decimalText(bp, 2);
}

/** Minute of the (China-time) day → "HH:mm". */
export function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** "HH:mm" (or "H:mm") → minute of the day 0…1439; null when not a time of day. */
export function parseClock(text: string): number | null {
  const m = /^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function dateTime(value: unknown): string {
  if (!value) return '';
  const d = new Date(String(value));
  if (Number.isNaN(d.getTime())) return String(value);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function newReference(prefix: string): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${prefix}${Date.now()}${rand}`;
}
