import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAY_TRANSITIONS, PayState, REFUND_TRANSITIONS, RefundState } from './order-states.ts';
import { checkTransition, isTerminal, reachableFrom } from './state-machine.ts';

test('every pay state is reachable from INIT', () => {
  const reached = reachableFrom(PAY_TRANSITIONS, PayState.INIT);
  assert.deepEqual([...reached].sort(), Object.values(PayState).sort());
});

test('every refund state is reachable from INIT', () => {
  const reached = reachableFrom(REFUND_TRANSITIONS, RefundState.INIT);
  assert.deepEqual([...reached].sort(), Object.values(RefundState).sort());
});

test('terminal states have no exits; money states cannot go backwards', () => {
  assert.ok(isTerminal(PAY_TRANSITIONS, PayState.REFUNDED));
  assert.ok(isTerminal(PAY_TRANSITIONS, PayState.REVOKED));
  assert.ok(isTerminal(REFUND_TRANSITIONS, RefundState.SUCCESS));
  assert.ok(isTerminal(REFUND_TRANSITIONS, RefundState.FAIL));
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.SUCCESS, PayState.CLOSED), 'illegal');
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.SUCCESS, PayState.PAYING), 'illegal');
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.REFUNDED, PayState.SUCCESS), 'illegal');
  assert.equal(checkTransition(REFUND_TRANSITIONS, RefundState.SUCCESS, RefundState.FAIL), 'illegal');
});

test('duplicates are recognised as no-ops, legal moves as allowed', () => {
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.SUCCESS, PayState.SUCCESS), 'duplicate');
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.PAYING, PayState.SUCCESS), 'allowed');
  assert.equal(checkTransition(PAY_TRANSITIONS, PayState.CLOSED, PayState.SUCCESS), 'allowed', 'a late channel success must be recordable');
  assert.equal(checkTransition(REFUND_TRANSITIONS, RefundState.REFUNDING, RefundState.SUCCESS), 'allowed');
});
