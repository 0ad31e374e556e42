import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { BILL_HEADER, BILL_SUMMARY_HEADER, buildBillLine, feeUnits, feeYuan5, yuan, yuan5 } from '../bill.ts';
import type { SimContext } from './context.ts';
import { FUND_FLOW_HEADER, FUND_FLOW_SUMMARY_HEADER } from '../fund-flow.ts';
import { SimError } from './errors.ts';
import type { LedgerOrder, LedgerRefund } from './types.ts';

/**
 * Trade bills generated from the simulator's own ledger, in WeChat's layout (protocols.md §B.6):
 * one line per payment on its success day, one per refund on its success day. The sandbox
 * charges a 0.60 % fee. Download links are single-merchant tokens valid for 30 s, like WeChat's.
 */
const FEE_BP = 60;
const TOKEN_TTL_MS = 30_000;

interface StoredFile {
  mchid: string;
  body: Buffer;
  expires: number;
}
const files = new WeakMap<SimContext, Map<string, StoredFile>>();

/** China date (yyyy-MM-dd) and time of an RFC 3339 +08:00 timestamp the ledger prints. */
function cst(rfc: string): { date: string; time: string } {
  return { date: rfc.slice(0, 10), time: `${rfc.slice(0, 10)} ${rfc.slice(11, 19)}` };
}

export function billCsv(ctx: SimContext, mchid: string, billDate: string, billType: 'ALL' | 'SUCCESS' | 'REFUND'): { csv: string; count: number } {
  const ledger = ctx.state.ledger(mchid, ctx.baseUrl);
  const orders = new Map<string, LedgerOrder>(ledger.orders.map((o) => [o.out_trade_no, o]));
  const lines: Array<{ time: string; cells: string[] }> = [];
  let settlement = 0;
  let refunds = 0;
  let feeTotalUnits = 0;
  if (billType !== 'REFUND') {
    for (const o of ledger.orders) {
      if (!o.success_time || cst(o.success_time).date !== billDate) continue;
      const fee = feeYuan5(o.amount_total, FEE_BP);
      settlement += o.amount_total;
      feeTotalUnits += feeUnits(o.amount_total, FEE_BP);
      lines.push({ time: cst(o.success_time).time, cells: [cst(o.success_time).time, o.appid, o.mchid, '0', '', o.transaction_id ?? '', o.out_trade_no, '', o.trade_type, 'SUCCESS', 'OTHERS', 'CNY', yuan(o.amount_total), '0.00', '0', '0', '0.00', '0.00', '', '', o.description, '', fee, '0.60%', yuan(o.amount_total), '0.00', ''] });
    }
  }
  if (billType !== 'SUCCESS') {
    for (const r of ledger.refunds as LedgerRefund[]) {
      if (r.status !== 'SUCCESS' || !r.success_time || cst(r.success_time).date !== billDate) continue;
      const o = orders.get(r.out_trade_no);
      refunds += r.amount_refund;
      feeTotalUnits += feeUnits(-r.amount_refund, FEE_BP);
      lines.push({ time: cst(r.success_time).time, cells: [cst(r.success_time).time, o?.appid ?? '', mchid, '0', '', r.transaction_id, r.out_trade_no, '', o?.trade_type ?? '', 'REFUND', 'OTHERS', 'CNY', '0.00', '0.00', r.refund_id, r.out_refund_no, yuan(r.amount_refund), '0.00', 'ORIGINAL', 'SUCCESS', o?.description ?? '', '', feeYuan5(-r.amount_refund, FEE_BP), '0.60%', '0.00', yuan(r.amount_refund), ''] });
    }
  }
  lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const feeTotal = yuan5(feeTotalUnits);
  const body = [BILL_HEADER.join(','), ...lines.map((l) => buildBillLine(l.cells)), BILL_SUMMARY_HEADER.join(','), buildBillLine([String(lines.length), yuan(settlement), yuan(refunds), '0.00', feeTotal, yuan(settlement), yuan(refunds)])];
  return { csv: `\uFEFF${body.join('\r\n')}\r\n`, count: lines.length };
}

/** GET /v3/bill/tradebill: the answer names a download link and the SHA1 of the (decompressed) file. */
export function tradeBill(ctx: SimContext, mchid: string, q: Record<string, string | undefined>): Record<string, string> {
  const date = q.bill_date ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new SimError(400, 'PARAM_ERROR', 'bill_date 格式错误，应为 yyyy-MM-dd');
  const type = (q.bill_type ?? 'ALL') as 'ALL' | 'SUCCESS' | 'REFUND';
  if (!['ALL', 'SUCCESS', 'REFUND'].includes(type)) throw new SimError(400, 'PARAM_ERROR', 'bill_type 取值错误');
  if (q.tar_type !== undefined && q.tar_type !== 'GZIP') throw new SimError(400, 'PARAM_ERROR', 'tar_type 取值错误');
  const { csv, count } = billCsv(ctx, mchid, date, type);
  return billAnswer(ctx, mchid, csv, count, q.tar_type === 'GZIP');
}

/** Keeps a generated file behind a short-lived token and answers its link and SHA1. */
function billAnswer(ctx: SimContext, mchid: string, csv: string, count: number, gzip: boolean): Record<string, string> {
  // WeChat says NO_STATEMENT_EXIST for a day without entries; the sandbox (unlike WeChat) also bills today.
  if (count === 0) throw new SimError(400, 'NO_STATEMENT_EXIST', '要查询的账单不存在');
  const plain = Buffer.from(csv, 'utf8');
  const token = randomBytes(16).toString('hex');
  let store = files.get(ctx);
  if (!store) files.set(ctx, (store = new Map()));
  const now = ctx.now();
  for (const [k, f] of store) if (f.expires < now) store.delete(k);
  store.set(token, { mchid, body: gzip ? gzipSync(plain) : plain, expires: now + TOKEN_TTL_MS });
  return { hash_type: 'SHA1', hash_value: createHash('sha1').update(plain).digest('hex'), download_url: `${ctx.baseUrl}/v3/billdownload/file?token=${token}` };
}

export function billFile(ctx: SimContext, mchid: string, token: string): Buffer {
  const f = files.get(ctx)?.get(token);
  // A provider downloads the bills of its sub-merchants too.
  if (!f || f.expires < ctx.now() || (f.mchid !== mchid && ctx.state.accountOf(f.mchid)?.mchid !== mchid)) throw new SimError(400, 'INVALID_REQUEST', '下载链接已失效，请重新申请账单');
  return f.body;
}

/**
 * GET /v3/bill/fundflowbill: the basic account's (基本账户) money movements of a day from the
 * ledger — each payment in (交易), its fee out (扣除交易手续费, rounded to the fen), each refund out
 * (退款) — with the running balance. The sandbox keeps no operation or fees account: those are empty.
 */
export function fundFlowBill(ctx: SimContext, mchid: string, q: Record<string, string | undefined>): Record<string, string> {
  const date = q.bill_date ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new SimError(400, 'PARAM_ERROR', 'bill_date 格式错误，应为 yyyy-MM-dd');
  const account = q.account_type ?? 'BASIC';
  if (!['BASIC', 'OPERATION', 'FEES'].includes(account)) throw new SimError(400, 'PARAM_ERROR', 'account_type 取值错误');
  if (q.tar_type !== undefined && q.tar_type !== 'GZIP') throw new SimError(400, 'PARAM_ERROR', 'tar_type 取值错误');
  const ledger = ctx.state.ledger(mchid, ctx.baseUrl);
  const moves: Array<{ time: string; txn: string; name: string; type: string; dir: '收入' | '支出'; fen: number; voucher: string }> = [];
  if (account === 'BASIC') {
    for (const o of ledger.orders) {
      if (!o.success_time || cst(o.success_time).date !== date) continue;
      const time = cst(o.success_time).time;
      moves.push({ time, txn: o.transaction_id ?? '', name: '交易', type: '交易', dir: '收入', fen: o.amount_total, voucher: o.out_trade_no });
      const feeFen = Math.round(feeUnits(o.amount_total, FEE_BP) / 1000);
      if (feeFen > 0) moves.push({ time, txn: o.transaction_id ?? '', name: '扣除交易手续费', type: '扣除交易手续费', dir: '支出', fen: feeFen, voucher: o.out_trade_no });
    }
    for (const r of ledger.refunds) {
      if (r.status !== 'SUCCESS' || !r.success_time || cst(r.success_time).date !== date) continue;
      moves.push({ time: cst(r.success_time).time, txn: r.refund_id, name: '退款', type: '退款', dir: '支出', fen: r.amount_refund, voucher: r.out_refund_no });
    }
  }
  moves.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  let balance = 0;
  let inCount = 0;
  let inFen = 0;
  let outFen = 0;
  const lines = moves.map((m, i) => {
    balance += m.dir === '收入' ? m.fen : -m.fen;
    if (m.dir === '收入') {
      inCount += 1;
      inFen += m.fen;
    } else outFen += m.fen;
    return buildBillLine([m.time, m.txn, `${date.replaceAll('-', '')}${String(i + 1).padStart(12, '0')}`, m.name, m.type, m.dir, yuan(m.fen), yuan(balance), '系统', '', m.voucher]);
  });
  const body = [FUND_FLOW_HEADER.join(','), ...lines, FUND_FLOW_SUMMARY_HEADER.join(','), buildBillLine([String(moves.length), String(inCount), yuan(inFen), String(moves.length - inCount), yuan(outFen)])];
  return billAnswer(ctx, mchid, `\uFEFF${body.join('\r\n')}\r\n`, moves.length, q.tar_type === 'GZIP');
}
