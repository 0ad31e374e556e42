import { randomBytes, randomInt } from 'node:crypto';
import type { Scheduler } from '../kit.ts';
import { compactChinaTime } from '../../china-time.ts';
import type { AcquirerBook } from './book.ts';
import { SimRefusal, type AcquirerFaults, type NoticeRecord, type RefundRecord, type TradeRecord, type Wallet } from './types.ts';

/**
 * Trade and refund lifecycle of an acquirer sandbox: creation (idempotent per out-trade-no),
 * the payer's actions, bar-code outcomes, close, revoke (撤销), refunds and the notifications
 * each change triggers. Protocol-neutral: the channel's routes translate wire calls into these
 * and SimRefusal reasons into their own error codes.
 */

export interface SimLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AcquirerContext {
  book: AcquirerBook;
  faults: AcquirerFaults;
  log: SimLog;
  timeScale: number;
  passwordDelayMs: number;
  refundDelayMs: number;
  callbackTimeoutMs: number;
  /** Filled once the server listens. */
  baseUrl: string;
  now(): number;
  scheduler: Scheduler;
  /** Refunds succeed in the answer (ABC) instead of PROCESSING, then a notification. */
  synchronousRefunds: boolean;
  /** The channel's trade and refund numbers. */
  newTradeNo(now: number): string;
  newRefundNo(now: number): string;
  onNotice(id: string): void;
}

export const DEFAULT_TRADE_TTL_MS = 2 * 3600 * 1000;

export function digits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return out.slice(0, n);
}


export function payUrl(ctx: AcquirerContext, t: TradeRecord): string {
  return `${ctx.baseUrl}/sandbox/pay/${t.token}`;
}

export interface NewTrade {
  merchantId: string;
  outTradeNo: string;
  product: string;
  wallets: Wallet[];
  amount: number;
  currency: string;
  subject: string;
  expiresAt?: number;
  notifyUrl?: string;
  returnUrl?: string;
  attrs?: Record<string, string>;
  /** The creating request's business fields: a repeat must carry the same ones. */
  fingerprint: string;
}

/** Creates a trade, or returns the one a repeat of the same request created. */
export function openTrade(ctx: AcquirerContext, input: NewTrade): { trade: TradeRecord; repeat: boolean } {
  const existing = findTrade(ctx, input.merchantId, input.outTradeNo);
  if (existing) {
    if (existing.status === 'SUCCESS') throw new SimRefusal('PAID', `order ${input.outTradeNo} is already paid`);
    if (existing.status === 'CLOSED' || existing.status === 'REVOKED' || existing.status === 'FAILED') throw new SimRefusal('CLOSED', `order ${input.outTradeNo} is closed`);
    if (existing.paramsHash !== input.fingerprint) throw new SimRefusal('INCONSISTENT', `order ${input.outTradeNo} was created with other parameters`);
    return { trade: existing, repeat: true };
  }
  const now = ctx.now();
  let tradeNo = ctx.newTradeNo(now);
  while (ctx.book.tradeByNo(tradeNo)) tradeNo = ctx.newTradeNo(now);
  const t: TradeRecord = {
    merchantId: input.merchantId,
    outTradeNo: input.outTradeNo,
    tradeNo,
    product: input.product,
    wallets: input.wallets,
    amount: input.amount,
    currency: input.currency,
    subject: input.subject,
    status: 'CREATED',
    paramsHash: input.fingerprint,
    token: randomBytes(12).toString('base64url'),
    createdAt: now,
    expiresAt: input.expiresAt ?? now + DEFAULT_TRADE_TTL_MS,
    refunded: 0,
    attrs: input.attrs ?? {},
  };
  if (input.notifyUrl) t.notifyUrl = input.notifyUrl;
  if (input.returnUrl) t.returnUrl = input.returnUrl;
  ctx.book.addTrade(t);
  return { trade: t, repeat: false };
}

/** Ends a trade that will never be paid (closed, failed, revoked). */
export function endTrade(ctx: AcquirerContext, t: TradeRecord, status: 'CLOSED' | 'FAILED' | 'REVOKED'): TradeRecord {
  t.status = status;
  t.closedAt = ctx.now();
  delete t.passwordUntil;
  ctx.book.changed();
  return t;
}

/** Unpaid trades close at their expiry (checked whenever one is touched). */
export function expireIfDue(ctx: AcquirerContext, t: TradeRecord): void {
  if ((t.status === 'CREATED' || t.status === 'PAYING') && ctx.now() > t.expiresAt) endTrade(ctx, t, 'CLOSED');
}

export function findTrade(ctx: AcquirerContext, merchantId: string, outTradeNo: string): TradeRecord | undefined {
  const t = ctx.book.trade(merchantId, outTradeNo);
  if (t) expireIfDue(ctx, t);
  return t;
}

export function requireTrade(ctx: AcquirerContext, merchantId: string, outTradeNo: string): TradeRecord {
  const t = findTrade(ctx, merchantId, outTradeNo);
  if (!t) throw new SimRefusal('NOT_FOUND', `order ${outTradeNo} does not exist`);
  return t;
}

/** The trade a payer names: any text holding its payer link or token, the channel's trade number, an app link naming it (`orderId=`) or mini-program payData. */
export function tradeForPayer(ctx: AcquirerContext, target: string): TradeRecord {
  const token = /\/sandbox\/pay\/([0-9A-Za-z_-]{16})/.exec(target)?.[1] ?? (/^[0-9A-Za-z_-]{16}$/.test(target) ? target : undefined);
  // …or the payData of a mini-program payment: {"alipayTradeNo":"…"} (what my.tradePay takes).
  const named = /[?&](?:orderId|tradeNo)=([0-9A-Za-z_-]+)/.exec(target)?.[1] ?? /"alipayTradeNo"\s*:\s*"([0-9A-Za-z_-]+)"/.exec(target)?.[1];
  const t = (token ? ctx.book.tradeByToken(token) : undefined) ?? ctx.book.tradeByNo(target) ?? (named ? ctx.book.tradeByNo(named) : undefined);
  if (!t) throw new SimRefusal('NOT_FOUND', `no trade for ${target}`);
  expireIfDue(ctx, t);
  return t;
}

function payable(t: TradeRecord): void {
  if (t.status === 'SUCCESS') throw new SimRefusal('PAID', 'the order is already paid');
  if (t.status !== 'CREATED' && t.status !== 'PAYING') throw new SimRefusal('NOT_PAYABLE', `the order is ${t.status.toLowerCase()}`);
}

export const SANDBOX_PAYER: Record<Wallet, string> = {
  WECHAT: 'oSandboxPayer000000000000001',
  ALIPAY: '2088102177846880',
  UNIONPAY: 'up_sandbox_payer_0001',
  JD: 'jd_sandbox_payer_0001',
  ABC: 'abc_sandbox_payer_0001',
  QQ: 'qq_sandbox_payer_0001',
  ICBC: 'icbc_sandbox_payer_0001',
};

/** The payer pays with a wallet the trade accepts (the first one unless named). */
export function payTrade(ctx: AcquirerContext, t: TradeRecord, o: { wallet?: Wallet; payer?: string } = {}): TradeRecord {
  expireIfDue(ctx, t);
  payable(t);
  const wallet = o.wallet ?? t.wallets[0] ?? 'WECHAT';
  if (!t.wallets.includes(wallet)) throw new SimRefusal('WALLET_NOT_ACCEPTED', `this code cannot be paid with ${wallet}`);
  t.status = 'SUCCESS';
  t.paidWith = wallet;
  t.payer = o.payer ?? t.attrs.payer ?? SANDBOX_PAYER[wallet];
  t.paidAt = ctx.now();
  delete t.passwordUntil;
  ctx.book.changed();
  notifyPayment(ctx, t);
  ctx.log.debug({ merchantId: t.merchantId, outTradeNo: t.outTradeNo, wallet }, 'trade paid');
  return t;
}

/** The payer gives up: the order closes. */
export function cancelTrade(ctx: AcquirerContext, t: TradeRecord): TradeRecord {
  expireIfDue(ctx, t);
  payable(t);
  return endTrade(ctx, t, 'CLOSED');
}

/** The payment fails at the payer's bank. */
export function failTrade(ctx: AcquirerContext, t: TradeRecord): TradeRecord {
  expireIfDue(ctx, t);
  payable(t);
  return endTrade(ctx, t, 'FAILED');
}

/** The merchant closes an unpaid trade; closing a closed one is a no-op. */
export function closeTrade(ctx: AcquirerContext, t: TradeRecord): TradeRecord {
  expireIfDue(ctx, t);
  if (t.status === 'SUCCESS') throw new SimRefusal('PAID', 'the order is paid and cannot be closed');
  return t.status === 'CREATED' || t.status === 'PAYING' ? endTrade(ctx, t, 'CLOSED') : t;
}

/** 撤销: an unpaid trade closes for good, a paid one is refunded in full first. */
export function revokeTrade(ctx: AcquirerContext, t: TradeRecord): TradeRecord {
  expireIfDue(ctx, t);
  if (t.status === 'SUCCESS' && t.refunded < t.amount) t.refunded = t.amount;
  return t.status === 'REVOKED' ? t : endTrade(ctx, t, 'REVOKED');
}

export function notifyPayment(ctx: AcquirerContext, t: TradeRecord): void {
  if (t.notifyUrl) enqueueNotice(ctx, { merchantId: t.merchantId, kind: 'pay', outTradeNo: t.outTradeNo, url: t.notifyUrl });
}

export function enqueueNotice(ctx: AcquirerContext, n: Pick<NoticeRecord, 'merchantId' | 'kind' | 'outTradeNo' | 'url'> & { outRefundNo?: string }): void {
  const now = ctx.now();
  const id = `${compactChinaTime(now)}${digits(12)}`;
  ctx.book.addNotice({ ...n, id, createdAt: now, attempts: 0, delivered: false, gave_up: false, next_at: now, last_status: null, duplicate: ctx.faults.duplicateNotifications });
  ctx.onNotice(id);
}

export interface RefundRequest {
  outRefundNo: string;
  amount: number;
  reason?: string;
  notifyUrl?: string;
}

/** A refund of a paid trade: idempotent per out-refund-no; completes later unless synchronous. */
export function refundTrade(ctx: AcquirerContext, t: TradeRecord, req: RefundRequest): RefundRecord {
  const existing = ctx.book.refund(t.merchantId, req.outRefundNo);
  if (existing) {
    if (existing.outTradeNo !== t.outTradeNo || existing.amount !== req.amount) throw new SimRefusal('REFUND_INCONSISTENT', `refund ${req.outRefundNo} was requested with other parameters`);
    return existing;
  }
  if (t.status !== 'SUCCESS') throw new SimRefusal('NOT_REFUNDABLE', `the order is ${t.status.toLowerCase()}, not paid`);
  if (req.amount < 1 || req.amount > t.amount - t.refunded) throw new SimRefusal('REFUND_EXCEEDS', `refund ${req.amount} exceeds the refundable ${t.amount - t.refunded}`);
  const now = ctx.now();
  const r: RefundRecord = { merchantId: t.merchantId, outTradeNo: t.outTradeNo, outRefundNo: req.outRefundNo, refundNo: ctx.newRefundNo(now), amount: req.amount, status: 'PROCESSING', createdAt: now };
  if (req.reason) r.reason = req.reason;
  if (req.notifyUrl) r.notifyUrl = req.notifyUrl;
  t.refunded += req.amount;
  ctx.book.addRefund(r);
  if (ctx.synchronousRefunds) settleRefund(ctx, r);
  else if (!ctx.faults.holdRefunds) ctx.scheduler.at(ctx.refundDelayMs / ctx.timeScale, () => settleRefund(ctx, r));
  return r;
}

/** The refund's money moves (or fails, with the failRefunds switch, which gives the amount back). */
export function settleRefund(ctx: AcquirerContext, r: RefundRecord): void {
  if (r.status !== 'PROCESSING') return;
  const t = ctx.book.trade(r.merchantId, r.outTradeNo);
  r.status = ctx.faults.failRefunds ? 'FAILED' : 'SUCCESS';
  r.doneAt = ctx.now();
  if (r.status === 'FAILED' && t) t.refunded -= r.amount;
  ctx.book.changed();
  if (r.notifyUrl) enqueueNotice(ctx, { merchantId: r.merchantId, kind: 'refund', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo, url: r.notifyUrl });
}

/** Releases refunds held by the holdRefunds switch. */
export function releaseRefunds(ctx: AcquirerContext): number {
  let n = 0;
  for (const r of ctx.book.allRefunds()) {
    if (r.status === 'PROCESSING') {
      settleRefund(ctx, r);
      n += 1;
    }
  }
  return n;
}
