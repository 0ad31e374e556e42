import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Cashier links: `/cashier/<payOrderId>.<expiry>.<mac>`. The MAC (HMAC-SHA256 under a key derived
 * from the deployment's master key) binds the order id to its expiry, so a link can be neither
 * forged nor pointed at another order, and it dies with the order. Jeepay used one AES key
 * hard-coded in its source for the same purpose (jeepay.md §9): anyone could mint tokens.
 * The token carries no URL: where the payer goes next is always decided by the server.
 */
export class CashierTokens {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('cashier key must be at least 32 bytes');
    this.#key = key;
  }

  sign(payOrderId: string, expiresAt: Date): string {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    return `${payOrderId}.${exp}.${this.#mac(payOrderId, exp)}`;
  }

  /** The order id and expiry of a genuine token (expired or not), or null. */
  verify(token: string): { payOrderId: string; expiresAt: Date } | null {
    const m = /^([0-9A-Za-z_-]{1,64})\.(\d{1,12})\.([0-9A-Za-z_-]{43})$/.exec(token);
    if (!m) return null;
    const [, payOrderId, expText, mac] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(this.#mac(payOrderId, Number(expText)));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return { payOrderId, expiresAt: new Date(Number(expText) * 1000) };
  }

  #mac(payOrderId: string, exp: number): string {
    return createHmac('sha256', this.#key).update(`cashier\n${payOrderId}\n${exp}`).digest('base64url');
  }
}
