import { ChannelError, type ChannelFundFlowRow } from '../types.ts';
import { fen, readBillTable } from './bill.ts';

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

/** One movement; the channel contract's row shape (channelOrderNo = 微信支付业务单号). */
export type FundFlowRow = ChannelFundFlowRow;

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
  const table = readBillTable(text, '资金流水总笔数', 'fund-flow bill');
  const rows = table.rows.map(
    (raw): FundFlowRow => ({
      time: raw['记账时间'] ?? '',
      channelOrderNo: raw['微信支付业务单号'] ?? '',
      flowNo: raw['资金流水单号'] ?? '',
      businessName: raw['业务名称'] ?? '',
      businessType: raw['业务类型'] ?? '',
      direction: direction(raw['收支类型']),
      amount: fen(raw['收支金额(元)'], '收支金额'),
      balance: fen(raw['账户结余(元)'], '账户结余'),
      raw,
    }),
  );
  const sraw = table.summary;
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
