import { randomBytes } from 'node:crypto';
import { AcpError, SANDBOX_USER, sandboxUserId, type SimContext } from './context.ts';
import type { ConsumeRecord } from './types.ts';

/**
 * The person holding the phone: finds the consume a QR code, tn or redirect URL names, and goes
 * through 云闪付's user authorisation (userAuth → redirect back with userAuthCode; protocols.md
 * §D.6.3 — the redirect's parameter names are an ASSUMPTION, A5).
 */

export interface PayerTarget {
  qrCode?: string;
  tn?: string;
  redirectUrl?: string;
}

const notFound = (what: string): AcpError => new AcpError('34', `查无此交易: ${what}`);

/** The consume behind a QR code / redirect URL (…/qr/00010000/<token>) or a tn. */
export function consumeFor(ctx: SimContext, t: PayerTarget): ConsumeRecord {
  const url = t.qrCode ?? t.redirectUrl;
  if (url !== undefined) {
    const token = /\/qr\/00010000\/([0-9a-f]+)$/.exec(url)?.[1];
    const c = token ? ctx.state.consumeByQrToken(token) : undefined;
    if (!c) throw notFound(url);
    return c;
  }
  if (t.tn !== undefined) {
    const c = ctx.state.consumeByTn(t.tn);
    if (!c) throw notFound(`tn ${t.tn}`);
    return c;
  }
  throw new AcpError('13', 'give qrCode, tn or redirectUrl');
}

export function authorize(ctx: SimContext, redirectUrl: string, user = SANDBOX_USER): { location: string; userAuthCode: string; userId: string } {
  let target: URL;
  try {
    target = new URL(redirectUrl);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new AcpError('10', 'redirectUrl must be an http(s) URL');
  }
  const userId = sandboxUserId(user);
  const userAuthCode = randomBytes(18).toString('base64url');
  ctx.state.addAuthCode(userAuthCode, userId, ctx.now());
  target.searchParams.set('userAuthCode', userAuthCode);
  target.searchParams.set('respCode', '00');
  return { location: target.toString(), userAuthCode, userId };
}
