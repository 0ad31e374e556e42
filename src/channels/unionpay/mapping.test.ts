import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError } from '../types.ts';
import { parseZmLine, ZM_FIELDS } from './bill.ts';
import { parseUnionPayConfig } from './config.ts';
import { spPaymentStatus, toPaymentStatus, toRefundStatus, txnTimeOf, writeOutcome } from './mapping.ts';
import { appUpIdentifier, isYsfUserAgent, userAuthRedirect } from './ysf-user.ts';

/** Pure translations: respCode semantics, query vs notification, ids → txnTime, the ZM line layout. */

test('respCode 03/04/05 mean "query later", never failure; 00 done; anything else refused', () => {
  assert.equal(writeOutcome('00'), 'ok');
  for (const c of ['03', '04', '05']) assert.equal(writeOutcome(c), 'unknown');
  for (const c of ['01', '11', '12', '34', '65', '']) assert.equal(writeOutcome(c), 'refused');
});

test('query: respCode is the query, origRespCode the transaction; 34 = not found; notifications carry respCode', () => {
  const q = { respCode: '00', origRespCode: '00', orderId: 'P1', txnAmt: '100', currencyCode: '156', queryId: '7' };
  assert.deepEqual(toPaymentStatus(q, 'query'), { status: 'SUCCESS', outTradeNo: 'P1', amount: 100, currency: 'CNY', channelOrderNo: '7' });
  for (const c of ['03', '04', '05']) assert.equal(toPaymentStatus({ ...q, origRespCode: c }, 'query').status, 'WAITING');
  assert.deepEqual([toPaymentStatus({ ...q, origRespCode: '65', origRespMsg: '余额不足' }, 'query').status, toPaymentStatus({ ...q, origRespCode: '65' }, 'query').errCode], ['FAIL', '65']);
  assert.equal(toPaymentStatus({ respCode: '34' }, 'query').status, 'NOT_FOUND');
  assert.throws(() => toPaymentStatus({ respCode: '37' }, 'query'), (e: unknown) => e instanceof ChannelError && e.kind === 'system', 'a refused query says nothing about the payment');
  assert.throws(() => toPaymentStatus({ respCode: '00' }, 'query'), ChannelError);
  assert.throws(() => toPaymentStatus({ ...q, txnAmt: '1.00' }, 'query'), ChannelError);
  assert.equal(toPaymentStatus({ respCode: '00', txnAmt: '5' }, 'notify').status, 'SUCCESS');
  assert.equal(toRefundStatus({ respCode: '00', origRespCode: '05', orderId: 'R1' }, 'query', 'R1').status, 'PROCESSING');
  assert.deepEqual(toRefundStatus({ respCode: '00', txnAmt: '40', orderId: 'R1', queryId: '9' }, 'notify', 'R1'), { status: 'SUCCESS', outRefundNo: 'R1', refundAmount: 40, channelRefundNo: '9' });
});

test('service-provider origRespCode list (Jeepay): 00/01 paid, 02/05 waiting, 03 closed, 04 revoked, 06 failed', () => {
  assert.deepEqual(['00', '01', '02', '03', '04', '05', '06'].map(spPaymentStatus), ['SUCCESS', 'SUCCESS', 'WAITING', 'CLOSED', 'REVOKED', 'WAITING', 'FAIL']);
  assert.throws(() => spPaymentStatus('99'), ChannelError);
});

test('txnTime comes from our ids (UTC stamp → GMT+8); foreign ids are refused', () => {
  assert.equal(txnTimeOf('P2026112216300012345678'), '20261123003000');
  assert.equal(txnTimeOf('R2026112200000012345678'), '20261122080000');
  assert.throws(() => txnTimeOf('mo123'), ChannelError);
  assert.throws(() => txnTimeOf('P2026133216300012345678'), ChannelError);
});

test('ZM line layout: fields at the widths SDK samples parse, one separator byte, GBK', () => {
  assert.equal(ZM_FIELDS.length, 42);
  const values: Record<string, string> = { tradeCode: 'S22', traceNo: '123456', txnAmt: '000000001000', queryId: '712345678901234567890', orderId: 'P2026112216300012345678' };
  // subMerAbbr holds 测试 in GBK (b2e2 cad4): widths count bytes, not characters.
  const parts = ZM_FIELDS.map(([name, w]) => (name === 'subMerAbbr' ? Buffer.concat([Buffer.from([0xb2, 0xe2, 0xca, 0xd4]), Buffer.alloc(w - 4, 0x20)]) : Buffer.from((values[name] ?? '').padEnd(w, ' '))));
  const line = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from(' '), p])));
  const f = parseZmLine(line);
  assert.deepEqual([f.tradeCode, f.traceNo, f.txnAmt, f.queryId, f.orderId, f.subMerAbbr], ['S22', '123456', '000000001000', '712345678901234567890', 'P2026112216300012345678', '测试']);
  assert.equal(line.indexOf(Buffer.from('712345678901234567890')), 3 + 1 + 11 + 1 + 11 + 1 + 6 + 1 + 10 + 1 + 19 + 1 + 12 + 1 + 4 + 1 + 2 + 1, 'queryId is the 10th field');
});

test('user authorisation redirect, the 云闪付 User-Agent token, configuration errors', () => {
  const ysf = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (cordova 4.5.4) (updebug 0) (version 1015) (UnionPay/1.0 CloudPay) (clientVersion 195) (language zh_CN)';
  assert.ok(isYsfUserAgent(ysf));
  assert.equal(appUpIdentifier(ysf), 'UnionPay/1.0 CloudPay');
  assert.equal(appUpIdentifier('Mozilla/5.0 AlipayClient/10.5'), undefined);
  const u = new URL(userAuthRedirect('https://qr.95516.com/qrcGtwWeb-web/api/userAuth', 'https://shop.example/ysf?a=1&b=2'));
  assert.equal(u.searchParams.get('redirectUrl'), 'https://shop.example/ysf?a=1&b=2');
  assert.throws(() => userAuthRedirect('https://qr.95516.com/x', 'javascript:alert(1)'), RangeError);
  assert.throws(() => parseUnionPayConfig({ params: { merId: '777' }, secrets: {} }), /merId/);
  assert.throws(() => parseUnionPayConfig({ params: { merId: '777290058110048', mode: 'x' }, secrets: {} }), /mode/);
  assert.throws(() => parseUnionPayConfig({ params: { merId: '777290058110048' }, secrets: {} }), /signCertPfx is required/);
});
