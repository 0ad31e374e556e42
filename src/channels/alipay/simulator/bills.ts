import { createHmac, timingSafeEqual } from 'node:crypto';
import { yuan } from '../mapping.ts';
import { chinaTime } from '../sign.ts';
import type { SimContext } from './context.ts';

/**
 * Trade bills from the simulator's ledger (alipay.data.dataservice.bill.downloadurl.query).
 * Real Alipay serves a zip of GBK CSVs; the sandbox serves the detail CSV itself, UTF-8, with
 * Alipay's `#` header and footer lines, its column names and tab-padded number cells (so a
 * spreadsheet keeps the long ids intact). Download links are signed and live 30 seconds.
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
  let received = 0;
  let refunded = 0;
  const app = ctx.state.apps.get(appId);
  const line = (cells: string[]) => rows.push(cells.map(cell).join(','));
  const blank = (n: number) => Array.from({ length: n }, () => '');
  for (const t of ctx.state.allTrades()) {
    if (t.app_id !== appId || !onDate(t.gmt_payment) || !t.trade_no) continue;
    count += 1;
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
    `#交易合计：${count}笔，商家实收：${yuan(received)}元，退款：${yuan(refunded)}元`,
    `#导出时间：[${chinaTime(ctx.now())}]`,
    '',
  ].join('\r\n');
}
