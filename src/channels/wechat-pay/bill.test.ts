import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { feeYuan5, parseBill, yuan } from './bill.ts';

const vector = JSON.parse(readFileSync(new URL('./fixtures/wechatpay-bill-format.json', import.meta.url), 'utf8')) as { csv_text: string; expected: { rows: number; header_count: number; first_row_out_trade_no: string; refund_row_trade_state: string; summary: Record<string, string> } };

test('parses the bill vector (BOM, backtick cells, summary) into typed rows in fen', () => {
  const bill = parseBill(vector.csv_text);
  assert.equal(bill.rows.length, vector.expected.rows);
  assert.equal(Object.keys(bill.rows[0]?.raw ?? {}).length, vector.expected.header_count);
  assert.equal(bill.rows[0]?.outTradeNo, vector.expected.first_row_out_trade_no);
  assert.equal(bill.rows[0]?.settlementAmount, 100);
  assert.equal(bill.rows[1]?.settlementAmount, 250);
  const refund = bill.rows[2];
  assert.equal(refund?.tradeState, vector.expected.refund_row_trade_state);
  assert.equal(refund?.refundAmount, 50);
  assert.equal(refund?.outRefundNo, 'REF0001');
  assert.equal(refund?.fee, '-0.00300');
  assert.deepEqual(bill.summary.raw, vector.expected.summary);
  assert.deepEqual([bill.summary.count, bill.summary.settlementTotal, bill.summary.refundTotal, bill.summary.orderTotal], [3, 350, 50, 350]);
});

test('money helpers stay integral', () => {
  assert.equal(yuan(1), '0.01');
  assert.equal(yuan(-250), '-2.50');
  assert.equal(feeYuan5(100, 60), '0.00600');
  assert.equal(feeYuan5(-50, 60), '-0.00300');
  assert.throws(() => parseBill('x\n`1\n'), /too few lines|summary/);
});
