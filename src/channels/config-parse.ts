import { ChannelError } from './types.ts';

/** Parsers of configuration values several channels share. */

/** An http(s) base URL without credentials, query or fragment, trailing slashes dropped. */
export function parseChannelBaseUrl(channel: string, field: string, raw: string | undefined, fallback: string): string {
  const value = raw?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ChannelError('misconfigured', `${channel} config: ${field} is not a valid URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new ChannelError('misconfigured', `${channel} config: ${field} must be an http(s) URL without credentials, query or fragment`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** An optional per-call deadline in milliseconds (100 … 120000). */
export function parseTimeoutMs(channel: string, raw: string | undefined): number | undefined {
  const t = raw?.trim();
  if (!t) return undefined;
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 100 || n > 120_000) throw new ChannelError('misconfigured', `${channel} config: timeoutMs must be an integer 100 … 120000`);
  return n;
}

/** An optional PEM value, checked by `check` (which throws on anything unreadable); never quotes the parse error, which can hold key material. */
export function parsePem(channel: string, field: string, value: string | undefined, check: (text: string) => void): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  try {
    check(text);
  } catch {
    throw new ChannelError('misconfigured', `${channel} config: ${field} is not a valid PEM`);
  }
  return text;
}
