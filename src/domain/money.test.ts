import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromMajorString, parseCurrency, parseMinorAmount, toMajorString } from './money.ts';

test('minor amounts: only positive safe integers, canonical strings', () => {
  assert.equal(parseMinorAmount(100), 100);
  assert.equal(parseMinorAmount('100'), 100);
  for (const bad of [0, -1, 1.5, '1.0', '01', '1e2', ' 1', Number.MAX_SAFE_INTEGER + 1, '99999999999999999', null, {}]) assert.equal(parseMinorAmount(bad), undefined, String(bad));
});

test('major-unit strings use the currency exponent, never floats', () => {
  assert.equal(toMajorString({ minor: 1234, currency: 'CNY' }), '12.34');
  assert.equal(toMajorString({ minor: 5, currency: 'CNY' }), '0.05');
  assert.equal(toMajorString({ minor: 1234, currency: 'JPY' }), '1234');
  assert.equal(toMajorString({ minor: 1234, currency: 'KWD' }), '1.234');
  assert.equal(fromMajorString('12.34', 'CNY'), 1234);
  assert.equal(fromMajorString('0.1', 'CNY'), 10);
  assert.equal(fromMajorString('1.005', 'CNY'), undefined);
  assert.equal(fromMajorString('12', 'JPY'), 12);
  assert.equal(fromMajorString('12.5', 'JPY'), undefined);
  // 0.1 + 0.2 style float bugs cannot occur: 1.10 + 2.20 in minor units is exact.
  assert.equal((fromMajorString('1.10', 'CNY') ?? 0) + (fromMajorString('2.20', 'CNY') ?? 0), 330);
});

test('currency codes: case-insensitive ISO, unknown refused', () => {
  assert.equal(parseCurrency('cny'), 'CNY');
  assert.equal(parseCurrency('XXX'), undefined);
  assert.equal(parseCurrency('__proto__'), undefined);
});
