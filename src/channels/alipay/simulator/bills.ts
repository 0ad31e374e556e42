import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { zipSync } from 'fflate';
import iconv from 'iconv-lite';
import { yuan } from '../mapping.ts';
import { chinaTime } from '../sign.ts';
import type { SimContext } from './context.ts';

/**
 * Trade bills from the simulator's ledger (alipay.data.dataservice.bill.downloadurl.query), as
 * Alipay ships them (protocols.md §C.4): a zip holding two GBK-encoded CSV files, the detail
 * (`<PID>0156_<yyyyMMdd>_业务明细.csv`) and the summary (`…_业务明细(汇总).csv`), each with
 * Alipay's `#` header and footer lines, its column names and tab-padded id cells (so a
 * spreadsheet keeps the long ids intact); entry names are GBK too, without the zip UTF-8 flag.
 * Download links are signed and live 30 seconds.
 */

const LINK_TTL_MS = 30_000;

const HEADER = [
  '支付宝交易号', '商户订单号', '业务类型', '商品名称', '创建时间', '完成时间', '门店编号', '门店名称', '操作员', '终端号', '对方账户',
  '订单金额（元）', '商家实收（元）', '支付宝红包（元）', '集分宝（元）', '支付宝优惠（元）', '商家优惠（元）', '券核销金额（元）', '券名称',
  '商家红包消费金额（元）', '卡消费金额（元）', '退款批次号/请求号', '服务费（元）', '分润（元）', '备注',
];

function mac(ctx: SimContext, payload: string): string {
  return createHmac('sha256', ctx.billSecret).update(payload).digest('base64url');
}

export function billUrl(ctx: SimContext, appId: string, type: string, date: string): string {
  const expires = String(ctx.now() + LINK_TTL_MS);
  const q = new URLSearchParams({ app_id: appId, bill_type: type, bill_date: date, expires });
  q.set('sig', mac(ctx, q.toString()));
  return `${ctx.baseUrl}/sandbox/bills/download?${q.toString()}`;
}

/** The query of a download link, checked: signature and expiry. */
export function checkBillLink(ctx: SimContext, query: Record<string, string | undefined>): { appId: string; date: string } | 'expired' | 'invalid' {
  const { app_id: appId, bill_type: type, bill_date: date, expires, sig } = query;
  if (!appId || !type || !date || !expires || !sig) return 'invalid';
  const expected = Buffer.from(mac(ctx, new URLSearchParams({ app_id: appId, bill_type: type, bill_date: date, expires }).toString()));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
  if (ctx.now() > Number(expires)) return 'expired';
  return { appId, date };
}

function cell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Payments completed and refunds made on `date` (yyyy-MM-dd, or a month yyyy-MM), GMT+8. */
export function renderBill(ctx: SimContext, appId: string, date: string): string {
  const onDate = (ms: number | undefined): boolean => ms !== undefined && chinaTime(ms).startsWith(date);
  const rows: string[] = [];
  let count = 0;
  let pays = 0;
  let received = 0;
  let refunded = 0;
  const app = ctx.state.apps.get(appId);
  const line = (cells: string[]) => rows.push(cells.map(cell).join(','));
  const blank = (n: number) => Array.from({ length: n }, () => '');
  for (const t of ctx.state.allTrades()) {
    if (t.app_id !== appId || !onDate(t.gmt_payment) || !t.trade_no) continue;
    count += 1;
    pays += 1;
    received += t.total_amount;
    line([`${t.trade_no}\t`, `${t.out_trade_no}\t`, '交易', t.subject, chinaTime(t.gmt_create), chinaTime(t.gmt_payment as number), ...blank(4), t.buyer_logon_id ?? '',
      yuan(t.total_amount), yuan(t.total_amount), '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00', '', '0.00', '0.00', '']);
  }
  for (const r of ctx.state.allRefunds()) {
    if (r.app_id !== appId || !onDate(r.gmt_refund_pay)) continue;
    const t = ctx.state.trade(appId, r.out_trade_no);
    count += 1;
    refunded += r.refund_amount;
    line([`${r.trade_no}\t`, `${r.out_trade_no}\t`, '退款', t?.subject ?? '', chinaTime(t?.gmt_create ?? r.gmt_refund_pay), chinaTime(r.gmt_refund_pay), ...blank(4), t?.buyer_logon_id ?? '',
      `-${yuan(r.refund_amount)}`, `-${yuan(r.refund_amount)}`, '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00', `${r.out_request_no}\t`, '0.00', '0.00', r.refund_reason ?? '']);
  }
  return [
    '#支付宝业务明细查询',
    `#账号：[${app?.pid ?? ''}0156]`,
    `#起始日期：[${date}]   终止日期：[${date}]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    HEADER.join(','),
    ...rows,
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${pays}笔，商家实收共${yuan(received)}元，商家优惠共0.00元`,
    `#退款合计：${count - pays}笔，商家实收退款共-${yuan(refunded)}元，商家优惠退款共0.00元`,
    `#导出时间：[${chinaTime(ctx.now())}]`,
    '',
  ].join('\r\n');
}

const SUMMARY_HEADER = ['门店编号', '门店名称', '交易订单总笔数', '退款订单总笔数', '订单金额（元）', '商家实收（元）', '支付宝优惠（元）', '商家优惠（元）', '卡消费金额（元）', '服务费（元）', '分润（元）', '实收净额（元）'];

/** The 汇总 file: one 合计 line over the same payments and refunds as the detail file. */
export function renderSummary(ctx: SimContext, appId: string, date: string): string {
  const onDate = (ms: number | undefined): boolean => ms !== undefined && chinaTime(ms).startsWith(date);
  let pays = 0;
  let refunds = 0;
  let net = 0;
  for (const t of ctx.state.allTrades()) if (t.app_id === appId && onDate(t.gmt_payment) && t.trade_no) (pays += 1), (net += t.total_amount);
  for (const r of ctx.state.allRefunds()) if (r.app_id === appId && onDate(r.gmt_refund_pay)) (refunds += 1), (net -= r.refund_amount);
  const money = (fen: number) => (fen < 0 ? `-${yuan(-fen)}` : yuan(fen));
  return [
    '#支付宝业务汇总查询',
    `#账号：[${ctx.state.apps.get(appId)?.pid ?? ''}0156]`,
    `#起始日期：[${date}]   终止日期：[${date}]`,
    '#-----------------------------------------业务汇总列表----------------------------------------',
    SUMMARY_HEADER.join(','),
    ['', '合计', String(pays), String(refunds), money(net), money(net), '0.00', '0.00', '0.00', '0.00', '0.00', money(net)].join(','),
    '#-----------------------------------------业务汇总列表结束------------------------------------',
    `#导出时间：[${chinaTime(ctx.now())}]`,
    '',
  ].join('\r\n');
}

/**
 * fflate writes entry names as UTF-8 with the zip UTF-8 flag; Alipay's are GBK without it, the
 * classic trap for unzippers. So entries are written under random ASCII names as long as the
 * GBK bytes, which then take their place in the local and the central header.
 */
function zipGbkNamed(files: Array<[string, Uint8Array]>): Buffer {
  const swaps: Array<[Buffer, Buffer]> = [];
  const entries: Record<string, Uint8Array> = {};
  for (const [name, data] of files) {
    const gbk = iconv.encode(name, 'gbk');
    const stand = Buffer.from(randomBytes(gbk.length).toString('hex').slice(0, gbk.length).padEnd(gbk.length, 'x'), 'latin1');
    entries[stand.toString('latin1')] = data;
    swaps.push([stand, gbk]);
  }
  const zip = Buffer.from(zipSync(entries));
  for (const [stand, gbk] of swaps) {
    let at = zip.indexOf(stand);
    let n = 0;
    for (; at >= 0; at = zip.indexOf(stand, at + stand.length), n++) gbk.copy(zip, at);
    if (n !== 2) throw new Error(`bill zip: entry name seen ${n} times, expected 2`);
  }
  return zip;
}

/** The downloadable file: the zip of both GBK CSVs. */
export function billZip(ctx: SimContext, appId: string, date: string): { fileName: string; body: Buffer } {
  const base = `${ctx.state.apps.get(appId)?.pid ?? ''}0156_${date.replace(/-/g, '')}`;
  const body = zipGbkNamed([
    [`${base}_业务明细.csv`, iconv.encode(renderBill(ctx, appId, date), 'gbk')],
    [`${base}_业务明细(汇总).csv`, iconv.encode(renderSummary(ctx, appId, date), 'gbk')],
  ]);
  return { fileName: `${base}.csv.zip`, body };
}
