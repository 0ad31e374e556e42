import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from './circuit-breakers.ts';

test('a passage opens after the threshold, half-opens for one trial, and closes on success', () => {
  let now = 0;
  const events: string[] = [];
  const b = new CircuitBreakers({
    threshold: 3,
    openMs: 1000,
    now: () => now,
    events: { tripped: (id, n) => events.push(`open ${id} after ${n}`), recovered: (id) => events.push(`closed ${id}`) },
  });
  b.failure(7, 'unavailable');
  b.failure(7, 'unavailable');
  assert.equal(b.isOpen(7), false, 'below the threshold');
  b.success(7);
  b.failure(7, 'unavailable');
  b.failure(7, 'unavailable');
  assert.equal(b.isOpen(7), false, 'a success resets the count');
  b.failure(7, 'system');
  assert.equal(b.isOpen(7), true);
  assert.deepEqual(events, ['open 7 after 3']);
  now = 1000;
  assert.equal(b.state(7), 'half-open');
  assert.equal(b.isOpen(7), false, 'one trial may go');
  assert.equal(b.isOpen(7), true, 'others wait for the trial');
  b.failure(7, 'timeout');
  assert.equal(b.isOpen(7), true, 'a failed trial reopens at once');
  assert.deepEqual(events, ['open 7 after 3', 'open 7 after 4']);
  now = 2000;
  assert.equal(b.isOpen(7), false);
  b.success(7);
  assert.equal(b.state(7), 'closed');
  assert.deepEqual(events.at(-1), 'closed 7');
  assert.deepEqual(b.snapshot(), []);
  assert.equal(b.isOpen(8), false, 'other passages are unaffected');
});
