import { endTrade, payTrade, type AcquirerContext } from './engine.ts';
import { SimRefusal, type TradeRecord, type Wallet } from './types.ts';

/**
 * Bar-code pay (付款码) in the acquirer sandboxes: which wallet a payer's code belongs to (by
 * the published prefixes, jeepay.md §3.5; QQ 钱包: 18 digits starting 91, docs/channels/qqpay.md) and the sandbox's magic outcomes, chosen by the
 * code's last four digits so that every wallet's code format can carry them:
 *
 *   …9991  the payer enters a password; paid after passwordDelayMs / timeScale
 *   …9992  the payer enters a password and never confirms (the gateway's poll-then-reverse path)
 *   …9993  declined: insufficient balance
 *   …9994  paid, but the answer is the channel's "system error" (outcome unknown: query)
 *   other  paid at once
 */

export type BarOutcome = 'PAID' | 'PASSWORD' | 'PASSWORD_FOREVER' | 'DECLINED' | 'PAID_BUT_SYSTEM_ERROR';

export function walletOfCode(code: string): Wallet | undefined {
  if (/^1[0-5]\d{16}$/.test(code)) return 'WECHAT';
  if (/^(2[5-9]|30)\d{14,22}$/.test(code)) return 'ALIPAY';
  if (/^62\d{17}$/.test(code)) return 'UNIONPAY';
  if (/^91\d{16}$/.test(code)) return 'QQ';
  return undefined;
}

const MAGIC: Record<string, BarOutcome> = { '9991': 'PASSWORD', '9992': 'PASSWORD_FOREVER', '9993': 'DECLINED', '9994': 'PAID_BUT_SYSTEM_ERROR' };

export function barOutcome(code: string): BarOutcome {
  return MAGIC[code.slice(-4)] ?? 'PAID';
}

/**
 * Runs a bar-code payment on a fresh trade. The wallet must be one the trade accepts.
 * Returns the outcome; the trade's status says where it stands.
 */
export function barPay(ctx: AcquirerContext, t: TradeRecord, authCode: string): BarOutcome {
  const wallet = walletOfCode(authCode);
  if (!wallet || !t.wallets.includes(wallet)) throw new SimRefusal('BAR_INVALID', `payment code ${authCode} is not valid for this product`);
  t.attrs.authCode = authCode;
  const outcome = barOutcome(authCode);
  if (outcome === 'DECLINED') {
    endTrade(ctx, t, 'FAILED');
    return outcome;
  }
  if (outcome === 'PAID' || outcome === 'PAID_BUT_SYSTEM_ERROR') {
    payTrade(ctx, t, { wallet });
    return outcome;
  }
  t.status = 'PAYING';
  t.attrs.barWallet = wallet;
  if (outcome === 'PASSWORD') {
    t.passwordUntil = ctx.now() + ctx.passwordDelayMs / ctx.timeScale;
    schedulePassword(ctx, t);
  }
  ctx.book.changed();
  return outcome;
}

/** The payer confirms the password when the time comes (also after a restart). */
export function schedulePassword(ctx: AcquirerContext, t: TradeRecord): void {
  if (t.passwordUntil === undefined) return;
  ctx.scheduler.at(Math.max(0, t.passwordUntil - ctx.now()), () => {
    if (t.status !== 'PAYING' || t.passwordUntil === undefined) return;
    payTrade(ctx, t, { wallet: (t.attrs.barWallet as Wallet | undefined) ?? t.wallets[0] });
  });
}
