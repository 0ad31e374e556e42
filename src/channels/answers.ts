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
