import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import iconv from 'iconv-lite';
import { ChannelError } from '../types.ts';
import { parseBillFiles, readBillArchive } from './bill.ts';

/**
 * The bill parser against a fixture made outside our code: fixtures/alipay-bill-20240315.zip was
 * written by Python's zipfile (not fflate) with the gbk codec (not iconv-lite) — GBK entry
 * names without the zip UTF-8 flag, GBK CSV bodies in Alipay's layout (see the .py beside it).
 */

const fixture = readFileSync(new URL('./fixtures/alipay-bill-20240315.zip', import.meta.url));

test('the fixture: GBK names and bodies, rows typed by column name, summary cross-checked', () => {
  const files = readBillArchive(fixture);
  assert.match(files.detail, /^#支付宝业务明细查询/);
  const bill = parseBillFiles(files);
  assert.deepEqual(
    bill.rows.map((r) => [r.tradeNo, r.outTradeNo, r.type, r.subject, r.amount, r.received, r.refundRequestNo ?? null, r.finishedAt?.toISOString()]),
    [
      ['2024031522001404330501234567', 'P2024031500000001', '交易', '咖啡, 大杯', 3250, 3250, null, '2024-03-15T01:12:09.000Z'],
      ['2024031522001404330501234999', 'P2024031500000002', '交易', '面包', 800, 800, null, '2024-03-15T02:00:30.000Z'],
      ['2024031522001404330501234567', 'P2024031500000001', '退款', '咖啡, 大杯', -1250, -1250, 'R2024031500000009', '2024-03-15T07:40:00.000Z'],
    ],
  );
  assert.equal(bill.summary['交易订单总笔数'], '2');
  assert.equal(bill.summary['实收净额（元）'], '27.83');
});

test('detail and summary that disagree are refused; a zip without a detail file is refused', () => {
  const files = readBillArchive(fixture);
  const wrong = { ...files, summary: (files.summary as string).replace(',合计,2,1,', ',合计,3,1,') };
  assert.throws(() => parseBillFiles(wrong), (e: unknown) => e instanceof ChannelError && e.kind === 'protocol' && /disagree/.test(e.message));
  const noDetail = Buffer.from(zipSync({ 'readme.csv': new Uint8Array([0x23]) }));
  assert.throws(() => readBillArchive(noDetail), /业务明细\.csv/);
  assert.throws(() => readBillArchive(Buffer.from('PK\u0003\u0004broken', 'latin1')), /cannot be read/);
});

test('a bare CSV (no zip) is read too, in GBK or UTF-8; UTF-8-flagged entry names work', () => {
  const { detail } = readBillArchive(fixture);
  assert.equal(parseBillFiles({ detail: readBillArchive(iconv.encode(detail, 'gbk')).detail, summary: undefined }).rows.length, 3);
  assert.equal(parseBillFiles(readBillArchive(Buffer.from(`\uFEFF${detail}`, 'utf8'))).rows.length, 3);
  const utf8Named = Buffer.from(zipSync({ '2088_20240315_业务明细.csv': iconv.encode(detail, 'gbk') }));
  assert.equal(parseBillFiles(readBillArchive(utf8Named)).rows[1]?.subject, '面包');
});
