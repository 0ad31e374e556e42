import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Passage, chinaDay, chinaMinuteOfDay, feeAmount, inWindow, isChannelFault, mayFailOver, planRoute, weightedOrder } from './routing.ts';

const passage = (id: number, over: Partial<Passage> = {}): Passage => ({
  passageId: id, appId: 'app1', wayCode: 'WX_NATIVE', ifCode: `ch${id}`, priority: 0, weight: 100,
  minAmount: null, maxAmount: null, dailyLimit: null, windowStart: null, windowEnd: null, feeRatePpm: 0, enabled: true, ...over,
});
const NOON_CHINA = new Date('2026-12-01T04:00:00Z');

test('fee: amount × rate rounded half up in integer arithmetic', () => {
  assert.equal(feeAmount(1001, 3800), 4); // 3.8038 fen
  assert.equal(feeAmount(100, 2500), 0); // 0.25 fen
  assert.equal(feeAmount(200, 2500), 1); // 0.5 fen rounds up
  assert.equal(feeAmount(100, 0), 0);
  assert.equal(feeAmount(Number.MAX_SAFE_INTEGER, 1_000_000), Number.MAX_SAFE_INTEGER); // no overflow: BigInt
  assert.equal(feeAmount(9_007_199_254_740_991, 6000), 54_043_195_528_446); // exact, where a float product would not be
  assert.throws(() => feeAmount(1.5, 10), RangeError);
  assert.throws(() => feeAmount(100, 1_000_001), RangeError);
});

test('China time: minute of day and calendar day at UTC+8', () => {
  assert.equal(chinaMinuteOfDay(NOON_CHINA), 12 * 60);
  assert.equal(chinaDay(new Date('2026-12-01T16:30:00Z')), '2026-12-02'); // 00:30 in Beijing
  assert.equal(chinaDay(new Date('2026-12-01T15:59:00Z')), '2026-12-01');
});

test('time windows, including one that wraps midnight', () => {
  assert.equal(inWindow({ windowStart: null, windowEnd: null }, 5), true);
  assert.equal(inWindow({ windowStart: 540, windowEnd: 1080 }, 600), true); // 09:00–18:00
  assert.equal(inWindow({ windowStart: 540, windowEnd: 1080 }, 1080), false);
  assert.equal(inWindow({ windowStart: 1320, windowEnd: 360 }, 30), true); // 22:00–06:00
  assert.equal(inWindow({ windowStart: 1320, windowEnd: 360 }, 720), false);
});

test('weighted order is deterministic per order and follows the weights', () => {
  const ps = [passage(1, { weight: 300 }), passage(2, { weight: 100 })];
  assert.deepEqual(weightedOrder(ps, 'P1').map((p) => p.passageId), weightedOrder(ps, 'P1').map((p) => p.passageId));
  let firsts = 0;
  for (let i = 0; i < 10_000; i++) if (weightedOrder(ps, `P2026${i}`)[0]?.passageId === 1) firsts++;
  assert.ok(firsts > 7200 && firsts < 7800, `passage 1 first in ${firsts} of 10,000 (expected ~7,500)`);
  // Removing a passage leaves the others' relative order unchanged (rendezvous hashing).
  const three = [passage(1), passage(2), passage(3)];
  for (let i = 0; i < 200; i++) {
    const full = weightedOrder(three, `O${i}`).map((p) => p.passageId).filter((id) => id !== 3);
    assert.deepEqual(weightedOrder(three.slice(0, 2), `O${i}`).map((p) => p.passageId), full);
  }
});

test('plan: priority first, then weight; ineligible passages are skipped with a reason', () => {
  const ps = [
    passage(1, { priority: 1 }),
    passage(2, { priority: 0, maxAmount: 500 }),
    passage(3, { priority: 0, minAmount: 10_000 }),
    passage(4, { priority: 0, enabled: false }),
    passage(5, { priority: 0, windowStart: 0, windowEnd: 60 }),
    passage(6, { priority: 2 }),
  ];
  const small = planRoute(ps, 100, 'P1', NOON_CHINA, (id) => id === 6);
  assert.deepEqual(small.candidates.map((p) => p.passageId), [2, 1]);
  assert.deepEqual(Object.fromEntries(small.skipped.map((s) => [s.passageId, s.reason])), {
    3: 'amount 100 below the passage minimum 10000',
    4: 'passage disabled',
    5: "outside the passage's time window",
    6: 'circuit breaker open after repeated channel failures',
  });
  const large = planRoute(ps, 20_000, 'P1', NOON_CHINA, () => false);
  assert.deepEqual(large.candidates.map((p) => p.passageId), [3, 1, 6]);
});

test('failover only when nothing can have reached the payer', () => {
  assert.equal(mayFailOver('unavailable', false), true);
  assert.equal(mayFailOver('unavailable', true), true);
  assert.equal(mayFailOver('misconfigured', false), true);
  assert.equal(mayFailOver('system', false), true);
  assert.equal(mayFailOver('system', true), false, 'a bar-code payment may have been charged');
  for (const kind of ['timeout', 'rejected', 'bad_signature', 'mismatch', 'protocol']) assert.equal(mayFailOver(kind, false), false, kind);
  assert.deepEqual(['unavailable', 'system', 'timeout', 'rejected', 'misconfigured'].filter(isChannelFault), ['unavailable', 'system', 'timeout']);
});
