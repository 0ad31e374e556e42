/**
 * 云闪付 user authorisation for YSF_JSAPI (protocols.md §D.6.3): a page opened inside 云闪付 (or
 * another UnionPay-family app) redirects the payer to UnionPay's userAuth page, which comes back
 * to `redirectUrl` with a one-time `userAuthCode`; the merchant exchanges it for the payer's
 * `userId` and orders with it. These are the pure parts; the exchange itself is
 * UnionPayChannel.lookupYsfUser (one signed call per access mode).
 */

/**
 * UnionPay-family apps announce themselves in the User-Agent as `UnionPay/<version> <app>`
 * (云闪付: `UnionPay/1.0 CloudPay`); acquirers pass that token on as appUpIdentifier.
 */
const UA_TOKEN = /UnionPay\/([0-9.]+)\s+([A-Za-z0-9_.-]+)/;

export function isYsfUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && UA_TOKEN.test(userAgent);
}

/** `UnionPay/1.0 CloudPay` from a User-Agent, or undefined outside a UnionPay-family app. */
export function appUpIdentifier(userAgent: string | undefined): string | undefined {
  const m = userAgent ? UA_TOKEN.exec(userAgent) : null;
  return m ? `UnionPay/${m[1]} ${m[2]}` : undefined;
}

/** Where to send the payer: `<userAuthUrl>?version=1.0.0&redirectUrl=<encoded>`. */
export function userAuthRedirect(userAuthUrl: string, redirectUrl: string): string {
  const target = new URL(redirectUrl);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new RangeError('redirectUrl must be an http(s) URL');
  const u = new URL(userAuthUrl);
  u.searchParams.set('version', '1.0.0');
  u.searchParams.set('redirectUrl', target.toString());
  return u.toString();
}

/**
 * The parameters UnionPay appends to redirectUrl: `userAuthCode` and `respCode` (00 = the user
 * agreed). ASSUMPTION A5: the names as aggregator documentation quotes them.
 */
export function readUserAuthReturn(query: Record<string, string | undefined>): { userAuthCode: string } | { refused: string } {
  const code = query.userAuthCode?.trim();
  if (query.respCode !== undefined && query.respCode !== '00') return { refused: query.respCode };
  if (!code) return { refused: 'no userAuthCode' };
  return { userAuthCode: code };
}
