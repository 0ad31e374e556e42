import { ChannelError } from '../types.ts';
import { cells, fen } from './bill.ts';

/**
 * v3 资金账单 (fund-flow bill, GET /v3/bill/fundflowbill, protocols.md §A.2 / §B.6): the same file
 * conventions as the trade bill (BOM, plain header, backtick cells, summary) with its own columns,
 * read by name: 记账时间, 微信支付业务单号, 资金流水单号, 业务名称, 业务类型, 收支类型, 收支金额(元),
 * 账户结余(元), 资金变更提交申请人, 备注, 业务凭证号. Amounts become fen.
 */

export const FUND_FLOW_HEADER = ['记账时间', '微信支付业务单号', '资金流水单号', '业务名称', '业务类型', '收支类型', '收支金额(元)', '账户结余(元)', '资金变更提交申请人', '备注', '业务凭证号'] as const;
export const FUND_FLOW_SUMMARY_HEADER = ['资金流水总笔数', '收入笔数', '收入金额', '支出笔数', '支出金额'] as const;
export const FUND_ACCOUNT_TYPES = ['BASIC', 'OPERATION', 'FEES'] as const;
export type FundAccountType = (typeof FUND_ACCOUNT_TYPES)[number];

export interface FundFlowRow {
  time: string;
  transactionId: string;
  flowNo: string;
  businessName: string;
  businessType: string;
  direction: 'IN' | 'OUT';
  /** 收支金额 in fen, positive. */
  amount: number;
  /** 账户结余 in fen. */
  balance: number;
  raw: Record<string, string>;
}

export interface FundFlowBill {
  rows: FundFlowRow[];
  summary: { count: number; inCount: number; inAmount: number; outCount: number; outAmount: number; raw: Record<string, string> };
}

function direction(v: string | undefined): 'IN' | 'OUT' {
  if (v === '收入') return 'IN';
  if (v === '支出') return 'OUT';
  throw new ChannelError('protocol', `fund-flow bill: 收支类型 "${String(v)}" is neither 收入 nor 支出`);
}

export function parseFundFlowBill(text: string): FundFlowBill {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length < 3) throw new ChannelError('protocol', 'fund-flow bill: too few lines');
  const header = (lines[0] as string).split(',');
  const summaryAt = lines.length - 2;
  const summaryHeader = (lines[summaryAt] as string).split(',');
  if (summaryHeader[0] !== '资金流水总笔数') throw new ChannelError('protocol', 'fund-flow bill: summary header missing');
  const rows = lines.slice(1, summaryAt).map((line): FundFlowRow => {
    if (!line.startsWith('`')) throw new ChannelError('protocol', 'fund-flow bill: data line without the backtick prefix');
    const c = cells(line);
    const raw = Object.fromEntries(header.map((h, i) => [h, c[i] ?? '']));
    return {
      time: raw['记账时间'] ?? '',
      transactionId: raw['微信支付业务单号'] ?? '',
      flowNo: raw['资金流水单号'] ?? '',
      businessName: raw['业务名称'] ?? '',
      businessType: raw['业务类型'] ?? '',
      direction: direction(raw['收支类型']),
      amount: fen(raw['收支金额(元)'], '收支金额'),
      balance: fen(raw['账户结余(元)'], '账户结余'),
      raw,
    };
  });
  const s = cells(lines[summaryAt + 1] as string);
  const sraw = Object.fromEntries(summaryHeader.map((h, i) => [h, s[i] ?? '']));
  return {
    rows,
    summary: {
      count: Number(sraw['资金流水总笔数'] ?? 0),
      inCount: Number(sraw['收入笔数'] ?? 0),
      inAmount: fen(sraw['收入金额'], '收入金额'),
      outCount: Number(sraw['支出笔数'] ?? 0),
      outAmount: fen(sraw['支出金额'], '支出金额'),
      raw: sraw,
    },
  };
}
