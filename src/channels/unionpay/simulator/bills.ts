import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { TRADE_CODE, ZM_FIELDS } from '../bill.ts';
import { acpTime, clearingDay } from '../sign.ts';
import type { SimContext } from './context.ts';
import type { AfterRecord, ConsumeRecord } from './types.ts';

/**
 * The reconciliation file (txnType 76) from the simulator's ledger: one zip holding the ZM file
 * of a merchant's clearing day, DEFLATE-compressed and base64-encoded as fileContent. Fee: 0.60 %
 * of each consume, rounded to the fen (a sandbox figure). Every value here is ASCII, so the file
 * reads the same as GBK (UnionPay's encoding) and UTF-8.
 */

const FEE_PER_MILLE = 6;

function field(name: string, width: number, value: string): string {
  const numeric = name === 'txnAmt' || name === 'traceNo';
  const v = value.slice(0, width);
  return numeric ? v.padStart(width, '0') : v.padEnd(width, ' ');
}

function line(values: Record<string, string>): string {
  return ZM_FIELDS.map(([name, width]) => field(name, width, values[name] ?? '')).join(' ');
}

const mark = (sign: 'C' | 'D', fen: number): string => `${sign}${String(fen).padStart(12, '0')}`;

function consumeLine(c: ConsumeRecord): string {
  const fee = Math.round((c.txnAmt * FEE_PER_MILLE) / 1000);
  return line({
    tradeCode: TRADE_CODE.consume,
    acqInsCode: '00000000000',
    sendInsCode: '00000000000',
    traceNo: c.traceNo ?? '',
    txnTime: c.traceTime ?? '',
    txnAmt: String(c.txnAmt),
    queryId: c.queryId ?? '',
    orderId: c.orderId,
    merFee: mark('D', fee),
    settleAmt: mark('C', c.txnAmt),
    txnType: '01',
    txnSubType: c.kind === 'bar' ? '06' : c.kind === 'app' ? '01' : '07',
    bizType: '000000',
    merId: c.merId,
    settleNetAmt: mark('C', c.txnAmt - fee),
  });
}

function afterLine(a: AfterRecord): string {
  return line({
    tradeCode: a.kind === 'refund' ? TRADE_CODE.refund : TRADE_CODE.undo,
    acqInsCode: '00000000000',
    sendInsCode: '00000000000',
    traceNo: a.queryId.slice(-6),
    txnTime: acpTime(a.doneAt ?? a.createdAt).slice(4),
    txnAmt: String(a.txnAmt),
    queryId: a.queryId,
    orderId: a.orderId,
    merFee: mark('C', 0),
    settleAmt: mark('D', a.txnAmt),
    txnType: a.kind === 'refund' ? '04' : a.kind === 'undo' ? '31' : '99',
    txnSubType: '00',
    bizType: '000000',
    origQryId: a.origQryId ?? '',
    merId: a.merId,
    settleNetAmt: mark('D', a.txnAmt),
  });
}

/** null when the merchant has nothing on that clearing day (the gateway then answers 98). */
export function billFile(ctx: SimContext, merId: string, settleDate: string): { fileName: string; fileContent: string } | null {
  const lines: string[] = [];
  for (const c of ctx.state.allConsumes()) {
    if (c.merId === merId && !c.serProvId && c.queryId && c.settleDate === settleDate) lines.push(consumeLine(c));
  }
  for (const a of ctx.state.allAfter()) {
    if (a.merId === merId && !a.serProvId && a.status === 'SUCCESS' && a.txnAmt > 0 && a.settleDate === settleDate) lines.push(afterLine(a));
  }
  if (lines.length === 0) return null;
  // The year is not in the request (settleDate is MMDD): the latest such date up to today.
  const today = clearingDay(ctx.now());
  const year = settleDate <= today.slice(4) ? today.slice(0, 4) : String(Number(today.slice(0, 4)) - 1);
  const yyMMdd = `${year.slice(2)}${settleDate}`;
  const zip = zipSync({ [`INN${yyMMdd}88ZM_${merId}`]: new TextEncoder().encode(`${lines.join('\r\n')}\r\n`) });
  return { fileName: `${merId}_${year}${settleDate}.zip`, fileContent: deflateSync(zip).toString('base64') };
}
