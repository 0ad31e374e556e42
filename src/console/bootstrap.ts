import type { Gateway } from '../gateway.ts';

export interface ConsoleLogins {
  /** Present only when the account was created by this start: its password is shown this once. */
  admin: { username: string; password: string } | null;
  merchant: { username: string; password: string; mchNo: string } | null;
}

export const DEMO_MERCHANT_USER = 'demo';

/**
 * At start: the first operator admin when there is none, and an admin user of the demo merchant
 * (sandbox only). Passwords are generated, stored as scrypt hashes and returned for the banner —
 * the only time they are ever shown. `npm run cli -- console reset-password` makes new ones.
 */
export async function ensureConsoleAccounts(gw: Gateway, demoMchNo: string | null): Promise<ConsoleLogins> {
  const admin = await gw.consoleAccounts.ensureFirstAdmin();
  let merchant: ConsoleLogins['merchant'] = null;
  if (demoMchNo && (await gw.consoleAccounts.listUsers('merchant', demoMchNo)).length === 0) {
    const { password } = await gw.consoleAccounts.createUser({ realm: 'merchant', username: DEMO_MERCHANT_USER, role: 'admin', mchNo: demoMchNo });
    merchant = { username: DEMO_MERCHANT_USER, password, mchNo: demoMchNo };
  }
  return { admin, merchant };
}
