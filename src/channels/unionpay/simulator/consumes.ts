import { randomBytes } from 'node:crypto';
import { acpTime, clearingDay } from '../sign.ts';
import { SANDBOX_USER, digits, newQueryId, refuse, respMsg, sandboxUserId, type SimContext } from './context.ts';
import type { ConsumeKind, ConsumeRecord, NotifyRecord } from './types.ts';

/**
 * Consumes (消费) of the simulated UnionPay: created by 申码 (QR), 被扫 (the payer's code), the
 * app control (tn) or the service-provider gateway; paid by the sandbox payer; expired lazily at
 * payTimeout; every final outcome notified to backUrl (protocols.md §D.5).
 */

export const acpKey = (merId: string, orderId: string, txnTime: string): string => `acp|${merId}|${orderId}|${txnTime}`;
export const spKey = (merId: string, orderNo: string): string => `sp|${merId}|${orderNo}`;

/** Magic payer codes (docs/sandbox/unionpay.md): 19 digits starting 62, like 云闪付 付款码. */
export type BarOutcome = 'success' | 'password' | 'password_forever' | 'insufficient' | 'system_error_paid';

export function barOutcome(code: string): BarOutcome {
  if (!/^\d{19}$/.test(code)) throw refuse('10', `${respMsg('10')} 付款码须为19位数字`);
  if (!code.startsWith('62')) throw refuse('61', respMsg('61'));
  if (code.startsWith('6210')) return 'password';
  if (code.startsWith('6220')) return 'password_forever';
  if (code.startsWith('6280')) return 'system_error_paid';
  if (code.startsWith('6290')) return 'insufficient';
  return 'success';
}

export interface NewConsume {
  kind: ConsumeKind;
  merId: string;
  serProvId?: string;
  orderId: string;
  txnTime: string;
  txnAmt: number;
  currencyCode: string;
  hash: string;
  backUrl?: string;
  frontUrl?: string;
  reqReserved?: string;
  orderDesc?: string;
  payTimeout?: number;
  userId?: string;
}

const DEFAULT_TIMEOUT_MS = 2 * 3600 * 1000;

/** Creates the consume or returns the one these exact parameters created before; other parameters under the same id are a duplicate (12). */
export function openConsume(ctx: SimContext, key: string, n: NewConsume): { consume: ConsumeRecord; repeat: boolean } {
  const existing = ctx.state.consume(key);
  if (existing) {
    if (existing.params_hash !== n.hash) throw refuse('12', respMsg('12'));
    return { consume: existing, repeat: true };
  }
  const c: ConsumeRecord = {
    key,
    kind: n.kind,
    merId: n.merId,
    ...(n.serProvId ? { serProvId: n.serProvId } : {}),
    orderId: n.orderId,
    txnTime: n.txnTime,
    txnAmt: n.txnAmt,
    currencyCode: n.currencyCode,
    params_hash: n.hash,
    ...(n.backUrl ? { backUrl: n.backUrl } : {}),
    ...(n.frontUrl ? { frontUrl: n.frontUrl } : {}),
    ...(n.reqReserved ? { reqReserved: n.reqReserved } : {}),
    ...(n.orderDesc ? { orderDesc: n.orderDesc } : {}),
    ...(n.userId ? { userId: n.userId } : {}),
    payTimeout: n.payTimeout ?? ctx.now() + DEFAULT_TIMEOUT_MS,
    status: 'WAITING',
    refunded: 0,
    createdAt: ctx.now(),
  };
  if (n.kind === 'qr' || n.kind === 'jsapi' || n.kind === 'sp_jsapi') {
    c.qrToken = randomBytes(12).toString('hex');
    // UnionPay QR payloads are https URLs (qr.95516.com/00010000/…) that 云闪付 opens itself.
    c.qrCode = `${ctx.baseUrl}/qr/00010000/${c.qrToken}`;
  }
  if (n.kind === 'app') c.tn = `${acpTime(ctx.now()).slice(2)}${digits(9)}`;
  ctx.state.addConsume(c);
  return { consume: c, repeat: false };
}

/** Unpaid consumes end at payTimeout (checked whenever one is touched). */
export function expireIfDue(ctx: SimContext, c: ConsumeRecord): void {
  if ((c.status === 'WAITING' || c.status === 'PAYING') && ctx.now() > c.payTimeout) {
    const touched = c.status === 'PAYING';
    c.status = touched ? 'FAILED' : 'CLOSED';
    c.resultCode = '01';
    c.resultMsg = '交易失败: 支付超时';
    delete c.passwordUntil;
    ctx.state.changed();
  }
}

function payable(ctx: SimContext, c: ConsumeRecord): void {
  expireIfDue(ctx, c);
  if (c.status === 'SUCCESS') throw refuse('12', '订单已支付');
  if (c.status !== 'WAITING' && c.status !== 'PAYING') throw refuse('35', `订单不可支付 (${c.status})`);
}

/** The payer pays: the consume succeeds, gets its queryId, trace and clearing day, and is notified. */
export function payConsume(ctx: SimContext, c: ConsumeRecord, o: { userId?: string; code?: string } = {}): ConsumeRecord {
  payable(ctx, c);
  // In the app, the payer is whoever holds it: by default the user the order was made for.
  const payer = o.userId ?? (o.code ? undefined : (c.userId ?? sandboxUserId(SANDBOX_USER)));
  if (c.userId && payer && payer !== c.userId) throw refuse('35', '该订单属于另一位云闪付用户');
  const now = ctx.now();
  c.status = 'SUCCESS';
  c.resultCode = '00';
  c.resultMsg = 'success';
  c.queryId = newQueryId(now);
  c.traceNo = c.queryId.slice(-6);
  c.traceTime = acpTime(now).slice(4);
  c.settleDate = clearingDay(now).slice(4);
  c.paidAt = now;
  if (payer) c.payerUserId = payer;
  if (o.code) c.payerCode = o.code;
  delete c.passwordUntil;
  ctx.state.index(c);
  ctx.state.changed();
  notifyConsume(ctx, c);
  ctx.log.debug({ merId: c.merId, orderId: c.orderId, queryId: c.queryId }, 'consume paid');
  return c;
}

export function failConsume(ctx: SimContext, c: ConsumeRecord, code: string): void {
  c.status = 'FAILED';
  c.resultCode = code;
  c.resultMsg = respMsg(code);
  delete c.passwordUntil;
  ctx.state.changed();
}

/** The payer scanned (or the password prompt is up): authorising, not paid yet. */
export function scanConsume(ctx: SimContext, c: ConsumeRecord): ConsumeRecord {
  payable(ctx, c);
  c.status = 'PAYING';
  ctx.state.changed();
  return c;
}

/** Bar-code consume (被扫) with the payer's code; `password` outcomes settle later. */
export function barConsume(ctx: SimContext, c: ConsumeRecord, code: string): BarOutcome {
  const outcome = barOutcome(code);
  c.payerCode = code;
  if (outcome === 'success' || outcome === 'system_error_paid') payConsume(ctx, c, { code });
  else if (outcome === 'insufficient') failConsume(ctx, c, '65');
  else {
    scanConsume(ctx, c);
    if (outcome === 'password') {
      c.passwordUntil = ctx.now() + ctx.passwordDelayMs / ctx.timeScale;
      schedulePassword(ctx, c);
    }
  }
  return outcome;
}

export function schedulePassword(ctx: SimContext, c: ConsumeRecord): void {
  if (c.passwordUntil === undefined) return;
  ctx.scheduler.at(Math.max(0, c.passwordUntil - ctx.now()), () => {
    if (c.passwordUntil !== undefined && c.status === 'PAYING') payConsume(ctx, c, { code: c.payerCode ?? '' });
  });
}

/** Queues a notification and hands it to the notifier. */
export function queueNotification(ctx: SimContext, n: Pick<NotifyRecord, 'format' | 'merId' | 'url' | 'orderId' | 'txnType' | 'fields'>): void {
  const id = `${n.format}${digits(20)}`;
  ctx.state.addNotification({ id, ...n, created_at: ctx.now(), attempts: 0, delivered: false, gave_up: false, last_status: null, next_at: ctx.now(), duplicate: ctx.faults.duplicateNotifications });
  ctx.onNotification(id);
}

/** The back notification of a paid consume: ACP form fields, or the service-provider gateway's JSON. */
export function notifyConsume(ctx: SimContext, c: ConsumeRecord): void {
  if (!c.backUrl) return;
  if (c.serProvId) {
    const fields: Record<string, string> = { serProvId: c.serProvId, merId: c.merId, orderNo: c.orderId, orderTime: c.txnTime, txnAmt: String(c.txnAmt), currencyCode: c.currencyCode, transIndex: c.queryId ?? '', respCode: '00', respMsg: '成功', payTime: acpTime(c.paidAt ?? ctx.now()) };
    queueNotification(ctx, { format: 'sp', merId: c.merId, url: c.backUrl, orderId: c.orderId, txnType: '01', fields });
    return;
  }
  queueNotification(ctx, { format: 'acp', merId: c.merId, url: c.backUrl, orderId: c.orderId, txnType: '01', fields: { ...consumeFields(c), respCode: '00', respMsg: '成功[0000000]' } });
}

/** What answers, notifications and queries say about a consume. */
export function consumeFields(c: ConsumeRecord): Record<string, string> {
  const sub = c.kind === 'bar' ? '06' : c.kind === 'qr' || c.kind === 'jsapi' ? '07' : '01';
  return {
    accessType: '0',
    bizType: '000000',
    currencyCode: c.currencyCode,
    merId: c.merId,
    orderId: c.orderId,
    txnAmt: String(c.txnAmt),
    txnSubType: sub,
    txnTime: c.txnTime,
    txnType: '01',
    ...(c.queryId ? { queryId: c.queryId, traceNo: c.traceNo ?? '', traceTime: c.traceTime ?? '', settleAmt: String(c.txnAmt), settleCurrencyCode: c.currencyCode, settleDate: c.settleDate ?? '' } : {}),
    ...(c.reqReserved ? { reqReserved: c.reqReserved } : {}),
  };
}
