import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock, parseClock, parsePercentPpm, parseYuan, percentOfBp, percentOfPpm, yuan } from '../../web/src/format.ts';
import { faultText, knownSkipReason, skipReason } from '../../web/src/route-text.ts';
import { type Passage, ineligibility } from '../../src/domain/routing.ts';

/**
 * The console's text ↔ integer conversions (pay passage form and table) and the routing decision
 * in words (order timeline). Pure functions of web/src, run under Node.
 */

test('money, fee rates, shares and times of day go between text and integers without floats', () => {
  assert.deepEqual(['0', '12.3', '12.34', ' 500 ', '10000.5'].map(parseYuan), [0, 1230, 1234, 50_000, 1_000_050]);
  assert.deepEqual(['12.345', '-1', '1e3', '', '0.1.2'].map(parseYuan), [null, null, null, null, null]);
  assert.deepEqual([0, 5, 1234, 1_000_050].map((n) => yuan(n)), ['0.00', '0.05', '12.34', '10000.50']);
  // 0.1 + 0.2 style drift cannot happen: 19.99 yuan is 1999 fen exactly (19.99 * 100 = 1998.9999… in floats).
  assert.equal(parseYuan('19.99'), 1999);

  assert.deepEqual(['0.38', '0', '100', '0.0001', '2.5', '0.6'].map(parsePercentPpm), [3800, 0, 1_000_000, 1, 25_000, 6000]);
  assert.deepEqual(['100.0001', '101', '0.00001', 'x', ''].map(parsePercentPpm), [null, null, null, null, null]);
  assert.deepEqual([3800, 0, 1_000_000, 1, 25_000, 100].map(percentOfPpm), ['0.38', '0', '100', '0.0001', '2.5', '0.01']);
  for (const ppm of [0, 1, 99, 3800, 6000, 123_456, 1_000_000]) assert.equal(parsePercentPpm(percentOfPpm(ppm)), ppm, `${ppm} ppm round trip`);

  assert.deepEqual([2500, 7500, 10_000, 3333].map(percentOfBp), ['25.00', '75.00', '100.00', '33.33']);

  assert.deepEqual([0, 360, 1320, 1439].map(clock), ['00:00', '06:00', '22:00', '23:59']);
  assert.deepEqual(['22:00', '6:00', '00:00', '23:59'].map(parseClock), [1320, 360, 0, 1439]);
  assert.deepEqual(['24:00', '12:60', '1200', 'noon', ''].map(parseClock), [null, null, null, null, null]);
});

test('every reason routing writes for a skipped passage reads in Chinese and English, amounts in yuan', () => {
  const p: Passage = { passageId: 1, appId: 'a', wayCode: 'WX_NATIVE', ifCode: 'wxpay', priority: 0, weight: 100, minAmount: 100, maxAmount: 50_000, dailyLimit: null, windowStart: 600, windowEnd: 660, feeRatePpm: 0, enabled: true };
  // The reasons as src/domain/routing.ts words them, so a change there fails here.
  const fromDomain = [
    ineligibility({ ...p, enabled: false }, 200, 630, false),
    ineligibility(p, 50, 630, false),
    ineligibility(p, 60_001, 630, false),
    ineligibility(p, 200, 700, false),
    ineligibility(p, 200, 630, true),
  ] as string[];
  // And as src/services/router.ts words the usability checks.
  const fromRouter = ['channel jdpay is not installed', 'channel shengpay is not configured for this app', 'daily limit 1000050 reached'];
  for (const reason of [...fromDomain, ...fromRouter]) {
    assert.ok(knownSkipReason(reason, 'zh'), `no Chinese for "${reason}"`);
    assert.ok(knownSkipReason(reason, 'en'), `no English for "${reason}"`);
  }
  assert.equal(skipReason(fromDomain[1]!, 'zh'), '金额 ¥0.50 低于单笔最低 ¥1.00');
  assert.equal(skipReason(fromDomain[2]!, 'en'), 'amount ¥600.01 above the per-order maximum ¥500.00');
  assert.equal(skipReason('daily limit 1000050 reached', 'zh'), '已达日限额 ¥10000.50');
  assert.equal(skipReason('something new', 'zh'), 'something new', 'an unknown reason is shown as sent');
  assert.equal(faultText('system', 'en'), 'channel system error (nothing reached the payer)');
  assert.equal(faultText('weird', 'zh'), 'weird');
});
