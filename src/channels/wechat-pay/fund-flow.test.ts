import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBillLine } from './bill.ts';
import { FUND_FLOW_HEADER, FUND_FLOW_SUMMARY_HEADER, parseFundFlowBill } from './fund-flow.ts';

test('fund-flow bill: parsed by column name (any order), yuan to fen, 收入/支出 to IN/OUT; malformed refused', () => {
  const header = [...FUND_FLOW_HEADER].reverse();
  const line = (cells: string[]) => buildBillLine([...cells].reverse());
  const text = `\uFEFF${[header.join(','), line(['2026-11-22 10:00:00', '4200001', 'F1', '交易', '交易', '收入', '12.34', '12.34', '系统', '', 'P1']), line(['2026-11-22 10:00:00', '4200001', 'F2', '扣除交易手续费', '扣除交易手续费', '支出', '0.07', '12.27', '系统', '', 'P1']), FUND_FLOW_SUMMARY_HEADER.join(','), buildBillLine(['2', '1', '12.34', '1', '0.07'])].join('\r\n')}\r\n`;
  const bill = parseFundFlowBill(text);
  assert.deepEqual(bill.rows.map((r) => [r.flowNo, r.direction, r.amount, r.balance]), [['F1', 'IN', 1234, 1234], ['F2', 'OUT', 7, 1227]]);
  assert.deepEqual([bill.summary.count, bill.summary.inAmount, bill.summary.outAmount], [2, 1234, 7]);
  assert.throws(() => parseFundFlowBill(text.replace('收入', '进账')), /收支类型/);
  assert.throws(() => parseFundFlowBill(text.replace('资金流水总笔数', 'x')), /summary/);
});
