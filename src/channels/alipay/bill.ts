import { fromMajorString } from '../../domain/money.ts';
import { sendChannelRequest, type SendChannelRequest } from '../http.ts';
import { ChannelError } from '../types.ts';
import { parseChinaTime } from './sign.ts';

/**
 * Alipay trade bills (对账单). Real Alipay serves a zip of GBK CSV files (`…_业务明细.csv`,
 * `…_业务明细(汇总).csv`) behind a 30-second URL (protocols.md §C.4, secondary). This parser
 * reads the detail CSV itself — `#`-prefixed header and footer lines, a column header row,
 * tab-padded cells — which is what the sandbox serves (UTF-8, not zipped; see
 * docs/sandbox/alipay.md). Unzipping and GBK-decoding a production download are refused with a
 * clear error until a zip dependency is worth adding.
 */

export interface BillRow {
  tradeNo: string;
  outTradeNo: string;
  /** 交易 (payment) or 退款 (refund). */
  type: string;
  subject: string;
  createdAt: Date | undefined;
  finishedAt: Date | undefined;
  /** 订单金额 in fen; negative on refund rows. */
  amount: number;
  /** 商家实收 in fen; negative on refund rows. */
  received: number;
  /** 退款批次号/请求号: our refund id on refund rows. */
  refundRequestNo: string | undefined;
}

function protocol(message: string): ChannelError {
  return new ChannelError('protocol', `alipay bill: ${message}`);
}

/** Signed yuan → fen, without floats. */
function signedFen(value: string, column: string): number {
  const v = value.trim();
  const negative = v.startsWith('-');
  const n = fromMajorString(negative ? v.slice(1) : v, 'CNY');
  if (n === undefined) throw protocol(`${column} "${value}" is not an amount`);
  return negative ? -n : n;
}

/** One CSV line (RFC 4180 quoting); cells lose Alipay's tab padding. */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

const COLUMNS = {
  tradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  type: '业务类型',
  subject: '商品名称',
  createdAt: '创建时间',
  finishedAt: '完成时间',
  amount: '订单金额（元）',
  received: '商家实收（元）',
  refundRequestNo: '退款批次号/请求号',
} as const;

export function parseBill(text: string): BillRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => !l.startsWith('#') && l.includes(COLUMNS.tradeNo));
  if (headerAt < 0) throw protocol('no column header row');
  const header = csvCells(lines[headerAt] as string);
  const index = Object.fromEntries(Object.entries(COLUMNS).map(([k, name]) => [k, header.indexOf(name)])) as Record<keyof typeof COLUMNS, number>;
  for (const [k, i] of Object.entries(index)) if (i < 0) throw protocol(`column ${COLUMNS[k as keyof typeof COLUMNS]} missing`);
  const rows: BillRow[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (line.startsWith('#')) break; // "#----业务明细列表结束----" and the summary footer
    if (line.trim() === '') continue;
    const cells = csvCells(line);
    const cell = (k: keyof typeof COLUMNS): string => cells[index[k]] ?? '';
    const time = (k: 'createdAt' | 'finishedAt'): Date | undefined => {
      const ms = parseChinaTime(cell(k));
      return ms === undefined ? undefined : new Date(ms);
    };
    rows.push({
      tradeNo: cell('tradeNo'),
      outTradeNo: cell('outTradeNo'),
      type: cell('type'),
      subject: cell('subject'),
      createdAt: time('createdAt'),
      finishedAt: time('finishedAt'),
      amount: signedFen(cell('amount'), COLUMNS.amount),
      received: signedFen(cell('received'), COLUMNS.received),
      refundRequestNo: cell('refundRequestNo') || undefined,
    });
  }
  return rows;
}

/** Fetches a bill_download_url (valid for about 30 s) and parses it. */
export async function downloadBill(url: string, send: SendChannelRequest = sendChannelRequest): Promise<BillRow[]> {
  const res = await send({ method: 'GET', url, headers: { Accept: 'text/csv, application/octet-stream' } });
  if (res.status !== 200) throw new ChannelError(res.status >= 500 ? 'system' : 'rejected', `alipay bill: download answered HTTP ${res.status}`, { httpStatus: res.status });
  if (/zip/i.test(res.headers['content-type'] ?? '')) throw protocol('zipped bill files are not supported yet (see docs/sandbox/alipay.md)');
  if (/gbk|gb2312|gb18030/i.test(res.headers['content-type'] ?? '')) throw protocol('GBK bill files are not supported yet (see docs/sandbox/alipay.md)');
  return parseBill(res.body);
}
