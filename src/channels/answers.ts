import { ChannelError } from './types.ts';

/** Small checks of channel answers shared by the acquirer channels (盛付通, 京东支付, 农业银行). */

/** A definite refusal carrying one of these channel codes ("order not found", "already paid" …). */
export function refusedWith(err: unknown, ...codes: string[]): boolean {
  return err instanceof ChannelError && err.kind === 'rejected' && err.channelCode !== undefined && codes.includes(err.channelCode);
}

/** An answer about an order (or refund) must be about this one: an echoed identifier that differs is a mismatch. */
export function checkEcho(channel: string, fields: Readonly<Record<string, unknown>>, key: string, expected: string): void {
  const echoed = fields[key];
  if (echoed !== undefined && echoed !== expected) throw new ChannelError('mismatch', `${channel}: answer names ${key} ${String(echoed)}, expected ${expected}`);
}

/**
 * payDataType "form": an HTML form that posts itself to the channel's cashier. Every value is
 * escaped (alipay-sdk's own form escapes only quotes, so an "&amp;" in a subject would arrive
 * altered and fail the signature). `id` keeps the name merchants' pages may already look for.
 */
export function autoSubmitForm(id: string, action: string, params: ReadonlyArray<readonly [string, string]>): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inputs = params.map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  return `<form id="${id}" name="${id}" action="${esc(action)}" method="post" accept-charset="utf-8">${inputs}<input type="submit" value="ok" style="display:none"></form><script>document.forms['${id}'].submit();</script>`;
}
