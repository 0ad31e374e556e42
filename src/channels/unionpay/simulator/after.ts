import { acpTime, clearingDay, parseAcpTime } from '../sign.ts';
import { newQueryId, refuse, respMsg, type SimContext } from './context.ts';
import { expireIfDue, queueNotification } from './consumes.ts';
import type { AfterKind, AfterRecord, ConsumeRecord } from './types.ts';

/**
 * What can follow a consume (protocols.md §D.2, §D.4): a consume undo (31, same clearing day,
 * full amount), a refund (04, partial or full, later days too) and a reversal (冲正, for a
 * bar-code consume whose outcome the merchant never learnt). Undo and refund answer 00 =
 * "accepted"; the outcome arrives by back notification after `refundDelayMs` or by query.
 */

export interface NewAfter {
  kind: AfterKind;
  key: string;
  merId: string;
  serProvId?: string;
  orderId: string;
  txnTime: string;
  txnAmt: number;
  hash: string;
  backUrl?: string;
  reqReserved?: string;
}

function sameClearingDay(ctx: SimContext, orig: ConsumeRecord): boolean {
  const at = parseAcpTime(orig.txnTime);
  return at !== undefined && clearingDay(at) === clearingDay(ctx.now());
}

function checkOriginal(ctx: SimContext, n: NewAfter, orig: ConsumeRecord): void {
  expireIfDue(ctx, orig);
  if (orig.merId !== n.merId) throw refuse('35', respMsg('35'));
  if (orig.status !== 'SUCCESS') throw refuse('35', `${respMsg('35')} 原交易未成功`);
  const left = orig.txnAmt - orig.refunded;
  if (n.kind === 'undo') {
    if (!sameClearingDay(ctx, orig)) throw refuse('35', `${respMsg('35')} 消费撤销仅限当清算日，请发起退货`);
    if (orig.refunded > 0) throw refuse('35', `${respMsg('35')} 原交易已有退货，不能撤销`);
    if (n.txnAmt !== orig.txnAmt) throw refuse('36', `${respMsg('36')} 撤销金额须等于原交易金额`);
  } else if (n.txnAmt > left) {
    throw refuse('36', `${respMsg('36')} 可退金额 ${left}`);
  }
}

/** Accepts an undo or refund of `orig` (amount reserved at once), settled asynchronously unless `sync`. */
export function startAfter(ctx: SimContext, n: NewAfter, orig: ConsumeRecord, sync = false): { record: AfterRecord; repeat: boolean } {
  const existing = ctx.state.afterRecord(n.key);
  if (existing) {
    if (existing.params_hash !== n.hash) throw refuse('12', respMsg('12'));
    return { record: existing, repeat: true };
  }
  checkOriginal(ctx, n, orig);
  const record: AfterRecord = {
    key: n.key,
    kind: n.kind,
    merId: n.merId,
    ...(n.serProvId ? { serProvId: n.serProvId } : {}),
    orderId: n.orderId,
    txnTime: n.txnTime,
    origKey: orig.key,
    ...(orig.queryId ? { origQryId: orig.queryId } : {}),
    txnAmt: n.txnAmt,
    params_hash: n.hash,
    ...(n.backUrl ? { backUrl: n.backUrl } : {}),
    ...(n.reqReserved ? { reqReserved: n.reqReserved } : {}),
    status: 'PROCESSING',
    queryId: newQueryId(ctx.now()),
    createdAt: ctx.now(),
  };
  orig.refunded += n.txnAmt;
  ctx.state.addAfter(record);
  if (sync) settleAfter(ctx, record);
  else ctx.scheduler.at(ctx.refundDelayMs / ctx.timeScale, () => settleAfter(ctx, record));
  return { record, repeat: false };
}

/** The money moves back; the merchant hears of it at backUrl. */
export function settleAfter(ctx: SimContext, a: AfterRecord): void {
  if (a.status !== 'PROCESSING') return;
  const now = ctx.now();
  a.status = 'SUCCESS';
  a.resultCode = '00';
  a.settleDate = clearingDay(now).slice(4);
  a.doneAt = now;
  ctx.state.changed();
  if (!a.backUrl || a.serProvId) return;
  queueNotification(ctx, { format: 'acp', merId: a.merId, url: a.backUrl, orderId: a.orderId, txnType: a.kind === 'undo' ? '31' : '04', fields: { ...afterFields(a), respCode: '00', respMsg: '成功[0000000]' } });
}

/** Pending undos and refunds after a restart continue. */
export function resumeAfter(ctx: SimContext): void {
  for (const a of ctx.state.allAfter()) if (a.status === 'PROCESSING') ctx.scheduler.at(ctx.refundDelayMs / ctx.timeScale, () => settleAfter(ctx, a));
}

export function afterFields(a: AfterRecord): Record<string, string> {
  return {
    accessType: '0',
    bizType: '000000',
    currencyCode: '156',
    merId: a.merId,
    orderId: a.orderId,
    ...(a.origQryId ? { origQryId: a.origQryId } : {}),
    queryId: a.queryId,
    txnAmt: String(a.txnAmt),
    txnSubType: a.kind === 'reversal' ? '01' : '00',
    txnTime: a.txnTime,
    txnType: a.kind === 'undo' ? '31' : a.kind === 'refund' ? '04' : '99',
    ...(a.doneAt !== undefined ? { traceNo: a.queryId.slice(-6), traceTime: acpTime(a.doneAt).slice(4), settleAmt: String(a.txnAmt), settleCurrencyCode: '156', settleDate: a.settleDate ?? '' } : {}),
    ...(a.reqReserved ? { reqReserved: a.reqReserved } : {}),
  };
}

/**
 * 冲正 of a bar-code consume: one still authorising is stopped; one that went through on this
 * clearing day is undone in full. Synchronous. A consume we never heard of answers 34.
 */
export function reverseConsume(ctx: SimContext, n: NewAfter, orig: ConsumeRecord | undefined): AfterRecord {
  const existing = ctx.state.afterRecord(n.key);
  if (existing) return existing;
  if (!orig || orig.merId !== n.merId) throw refuse('34', `${respMsg('34')} 原交易`);
  expireIfDue(ctx, orig);
  if (orig.status === 'SUCCESS' && !sameClearingDay(ctx, orig)) throw refuse('35', `${respMsg('35')} 冲正仅限当清算日`);
  if (orig.status === 'SUCCESS' && orig.refunded > 0) throw refuse('35', `${respMsg('35')} 原交易已有退货`);
  const refundedNow = orig.status === 'SUCCESS' ? orig.txnAmt : 0;
  orig.status = 'REVOKED';
  orig.resultCode = orig.resultCode ?? '01';
  orig.resultMsg = '交易已冲正';
  orig.refunded += refundedNow;
  delete orig.passwordUntil;
  const record: AfterRecord = { key: n.key, kind: 'reversal', merId: n.merId, orderId: n.orderId, txnTime: n.txnTime, origKey: orig.key, ...(orig.queryId ? { origQryId: orig.queryId } : {}), txnAmt: refundedNow, params_hash: n.hash, status: 'SUCCESS', resultCode: '00', queryId: newQueryId(ctx.now()), settleDate: clearingDay(ctx.now()).slice(4), createdAt: ctx.now(), doneAt: ctx.now() };
  ctx.state.addAfter(record);
  return record;
}
