import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import { fromMajorString } from '../../domain/money.ts';
import { fetchChannelFile, type FetchChannelFile } from '../http.ts';
import { ChannelError } from '../types.ts';
import { parseChinaTime } from './sign.ts';

/**
 * Alipay trade bills (对账单), protocols.md §C.4: behind a 30-second URL, a zip of two GBK CSV
 * files — the detail (`…_业务明细.csv`) and the summary (`…_业务明细(汇总).csv`) — with
 * `#`-prefixed header and footer lines, a column header row and tab-padded cells. Unzipped with
 * fflate, decoded with iconv-lite, read by column name, and the two files checked against each
 * other (counts and 商家实收) before any row is believed.
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

const SUMMARY_COLUMNS = { pays: '交易订单总笔数', refunds: '退款订单总笔数', received: '商家实收（元）' } as const;

/** The 合计 line of the summary file, by column name. */
export function parseSummary(text: string): Record<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => !l.startsWith('#') && l.includes(SUMMARY_COLUMNS.pays));
  if (headerAt < 0) throw protocol('summary file has no column header row');
  const header = csvCells(lines[headerAt] as string);
  for (const name of Object.values(SUMMARY_COLUMNS)) if (!header.includes(name)) throw protocol(`summary column ${name} missing`);
  const totals = lines.slice(headerAt + 1).map(csvCells).find((cells) => cells.includes('合计'));
  if (!totals) throw protocol('summary file has no 合计 line');
  return Object.fromEntries(header.map((name, i) => [name, totals[i] ?? '']).filter(([name]) => name !== ''));
}

/** A CSV's text: UTF-8 when it is valid UTF-8 (some tools re-save bills so), else GBK as Alipay writes it. */
function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return iconv.decode(Buffer.from(bytes), 'gbk');
  }
}

/** fflate hands names without the zip UTF-8 flag over as latin1; Alipay's are GBK. */
function entryName(raw: string): string {
  return /[^\u0000-\u00ff]/.test(raw) ? raw : decodeText(Buffer.from(raw, 'latin1'));
}

const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

/** The detail and summary texts of a download: the zip Alipay sends, or a bare detail CSV. */
export function readBillArchive(bytes: Buffer): { detail: string; summary: string | undefined } {
  if (bytes.subarray(0, 4).toString('latin1') !== 'PK\u0003\u0004') return { detail: decodeText(bytes), summary: undefined };
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => f.originalSize <= MAX_ENTRY_BYTES && /\.csv$/i.test(f.name) });
  } catch (err) {
    throw protocol(`bill zip cannot be read (${(err as Error).message})`);
  }
  const files = Object.entries(entries).map(([name, data]) => ({ name: entryName(name), data }));
  const detail = files.find((f) => /业务明细\.csv$/.test(f.name));
  const summary = files.find((f) => /业务明细\(汇总\)\.csv$/.test(f.name));
  if (!detail) throw protocol(`bill zip holds no …_业务明细.csv (entries: ${files.map((f) => f.name).join(', ') || 'none'})`);
  return { detail: decodeText(detail.data), summary: summary ? decodeText(summary.data) : undefined };
}

export interface BillFile {
  rows: BillRow[];
  /** The summary file's 合计 line by column name (empty when the download had no summary file). */
  summary: Record<string, string>;
}

/** Detail rows, checked against the summary: counts of payments and refunds and the 商家实收 total. */
export function parseBillFiles(files: { detail: string; summary: string | undefined }): BillFile {
  const rows = parseBill(files.detail);
  if (files.summary === undefined) return { rows, summary: {} };
  const summary = parseSummary(files.summary);
  const count = (type: string) => String(rows.filter((r) => r.type === type).length);
  const received = rows.reduce((sum, r) => sum + r.received, 0);
  if (summary[SUMMARY_COLUMNS.pays] !== count('交易') || summary[SUMMARY_COLUMNS.refunds] !== count('退款') || signedFen(summary[SUMMARY_COLUMNS.received] ?? '', SUMMARY_COLUMNS.received) !== received) {
    throw protocol('the detail and summary files disagree (counts or 商家实收)');
  }
  return { rows, summary };
}

/** Fetches a bill_download_url (valid for about 30 s), unzips, decodes and parses it. */
export async function downloadBill(url: string, fetchFile: FetchChannelFile = fetchChannelFile): Promise<BillFile> {
  const res = await fetchFile(url);
  if (res.status !== 200) throw new ChannelError(res.status >= 500 ? 'system' : 'rejected', `alipay bill: download answered HTTP ${res.status}`, { httpStatus: res.status });
  return parseBillFiles(readBillArchive(res.body));
}
