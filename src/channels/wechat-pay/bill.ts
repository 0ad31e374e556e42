import { fromMajorString } from '../../domain/money.ts';
import { ChannelError } from '../types.ts';

/**
 * WeChat trade bills (v3 tradebill, v2 downloadbill — one layout, protocols.md §B.6): UTF-8 with
 * BOM, a plain header line, data lines whose every cell starts with a backtick, then a plain
 * summary header and one backtick summary line. Columns changed over the years, so rows are read
 * by header name. Money columns are yuan with 2 decimals (fees with 5) — converted to fen with
 * integer parsing; fees stay decimal strings because they carry sub-fen precision.
 */

export const BILL_HEADER = ['交易时间', '公众账号ID', '商户号', '特约商户号', '设备号', '微信订单号', '商户订单号', '用户标识', '交易类型', '交易状态', '付款银行', '货币种类', '应结订单金额', '代金券金额', '微信退款单号', '商户退款单号', '退款金额', '充值券退款金额', '退款类型', '退款状态', '商品名称', '商户数据包', '手续费', '费率', '订单金额', '申请退款金额', '费率备注'] as const;
export const BILL_SUMMARY_HEADER = ['总交易单数', '应结订单总金额', '退款总金额', '充值券退款总金额', '手续费总金额', '订单总金额', '申请退款总金额'] as const;

export interface BillRow {
  tradeTime: string;
  appId: string;
  mchId: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  tradeType: string;
  tradeState: string; // SUCCESS | REFUND | …
  /** 应结订单金额 in fen (0 on refund lines). */
  settlementAmount: number;
  refundId: string;
  outRefundNo: string;
  /** 退款金额 in fen. */
  refundAmount: number;
  refundStatus: string;
  /** 手续费, yuan with 5 decimals, negative on refunds. */
  fee: string;
  /** 订单金额 in fen. */
  orderAmount: number;
  raw: Record<string, string>;
}

export interface ParsedBill {
  rows: BillRow[];
  summary: { count: number; settlementTotal: number; refundTotal: number; feeTotal: string; orderTotal: number; raw: Record<string, string> };
}

const cells = (line: string): string[] => line.slice(1).split(',`');
export const fen = (v: string | undefined, what: string): number => {
  if (v === undefined || v === '') return 0;
  const negative = v.startsWith('-');
  const n = fromMajorString(negative ? v.slice(1) : v, 'CNY');
  if (n === undefined) throw new ChannelError('protocol', `bill: ${what} "${v}" is not an amount`);
  return negative ? -n : n;
};

/**
 * The shared layout of WeChat bill files: BOM, a plain header, backtick data lines, a plain summary
 * header starting with `summaryFirst`, one backtick summary line. Cells are keyed by header name.
 */
export function readBillTable(text: string, summaryFirst: string, what: string): { rows: Record<string, string>[]; summary: Record<string, string> } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length < 3) throw new ChannelError('protocol', `${what}: too few lines`);
  const header = (lines[0] as string).split(',');
  const summaryAt = lines.length - 2;
  const summaryHeader = (lines[summaryAt] as string).split(',');
  if (summaryHeader[0] !== summaryFirst) throw new ChannelError('protocol', `${what}: summary header missing`);
  const rows = lines.slice(1, summaryAt).map((line) => {
    if (!line.startsWith('`')) throw new ChannelError('protocol', `${what}: data line without the backtick prefix`);
    const c = cells(line);
    return Object.fromEntries(header.map((h, i) => [h, c[i] ?? '']));
  });
  const s = cells(lines[summaryAt + 1] as string);
  return { rows, summary: Object.fromEntries(summaryHeader.map((h, i) => [h, s[i] ?? ''])) };
}

export function parseBill(text: string): ParsedBill {
  const table = readBillTable(text, '总交易单数', 'bill');
  const rows = table.rows.map((raw) => {
    return {
      tradeTime: raw['交易时间'] ?? '',
      appId: raw['公众账号ID'] ?? '',
      mchId: raw['商户号'] ?? '',
      transactionId: raw['微信订单号'] ?? '',
      outTradeNo: raw['商户订单号'] ?? '',
      openid: raw['用户标识'] ?? '',
      tradeType: raw['交易类型'] ?? '',
      tradeState: raw['交易状态'] ?? '',
      settlementAmount: fen(raw['应结订单金额'], '应结订单金额'),
      refundId: raw['微信退款单号'] === '0' ? '' : (raw['微信退款单号'] ?? ''),
      outRefundNo: raw['商户退款单号'] === '0' ? '' : (raw['商户退款单号'] ?? ''),
      refundAmount: fen(raw['退款金额'], '退款金额'),
      refundStatus: raw['退款状态'] ?? '',
      fee: raw['手续费'] ?? '0',
      orderAmount: fen(raw['订单金额'] ?? raw['应结订单金额'], '订单金额'),
      raw,
    };
  });
  const sraw = table.summary;
  return {
    rows,
    summary: {
      count: Number(sraw['总交易单数'] ?? 0),
      settlementTotal: fen(sraw['应结订单总金额'], '应结订单总金额'),
      refundTotal: fen(sraw['退款总金额'], '退款总金额'),
      feeTotal: sraw['手续费总金额'] ?? '0',
      orderTotal: fen(sraw['订单总金额'] ?? sraw['应结订单总金额'], '订单总金额'),
      raw: sraw,
    },
  };
}

/** Yuan string from fen, integer arithmetic (bills print 2 decimals). */
export function yuan(fenAmount: number): string {
  const sign = fenAmount < 0 ? '-' : '';
  const a = Math.abs(fenAmount);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** A fee of `rateBp` basis points on `fenAmount` in 1e-5 yuan units: fen × bp / 10000 fen = fen × bp / 10 units. */
export function feeUnits(fenAmount: number, rateBp: number): number {
  return Math.round((fenAmount * rateBp) / 10);
}

export function feeYuan5(fenAmount: number, rateBp: number): string {
  return yuan5(feeUnits(fenAmount, rateBp));
}

/** 1e-5 yuan units as the bill prints fees ("0.00600"). */
export function yuan5(units: number): string {
  const sign = units < 0 ? '-' : '';
  const a = Math.abs(units);
  return `${sign}${Math.floor(a / 100_000)}.${String(a % 100_000).padStart(5, '0')}`;
}

export function buildBillLine(values: readonly string[]): string {
  return `\`${values.join(',`')}`;
}
