import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { BILL_HEADER, BILL_SUMMARY_HEADER, buildBillLine, feeUnits, feeYuan5, yuan, yuan5 } from '../bill.ts';
import type { SimContext } from './context.ts';
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
  // WeChat says NO_STATEMENT_EXIST for a day without trades; the sandbox (unlike WeChat) also bills today.
  if (count === 0) throw new SimError(400, 'NO_STATEMENT_EXIST', '要查询的账单不存在');
  const plain = Buffer.from(csv, 'utf8');
  const token = randomBytes(16).toString('hex');
  let store = files.get(ctx);
  if (!store) files.set(ctx, (store = new Map()));
  const now = ctx.now();
  for (const [k, f] of store) if (f.expires < now) store.delete(k);
  store.set(token, { mchid, body: q.tar_type === 'GZIP' ? gzipSync(plain) : plain, expires: now + TOKEN_TTL_MS });
  return { hash_type: 'SHA1', hash_value: createHash('sha1').update(plain).digest('hex'), download_url: `${ctx.baseUrl}/v3/billdownload/file?token=${token}` };
}

export function billFile(ctx: SimContext, mchid: string, token: string): Buffer {
  const f = files.get(ctx)?.get(token);
  if (!f || f.expires < ctx.now() || f.mchid !== mchid) throw new SimError(400, 'INVALID_REQUEST', '下载链接已失效，请重新申请账单');
  return f.body;
}
