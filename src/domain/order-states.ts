import type { TransitionTable } from './state-machine.ts';

/** Pay order states — numeric codes are the Jeepay-compatible `state`/`orderState`. */
export const PayState = {
  INIT: 0,
  PAYING: 1,
  SUCCESS: 2,
  FAIL: 3,
  REVOKED: 4,
  REFUNDED: 5,
  CLOSED: 6,
} as const;
export type PayState = (typeof PayState)[keyof typeof PayState];

/**
 * The one pay-order transition table.
 * - INIT → SUCCESS/FAIL covers channels that answer synchronously (bar-code pay).
 * - CLOSED/FAIL → SUCCESS is legal only because the channel is the source of truth for
 *   money: if WeChat confirms a payment for an order we had closed (a late callback), we
 *   must record the captured money and surface it, never hide it (Jeepay's
 *   "closed-but-notified-paid" bug, jeepay.md §6). The service flags such transitions.
 * - SUCCESS → REFUNDED when refunds reach the paid amount; partial refunds stay SUCCESS.
 */
export const PAY_TRANSITIONS: TransitionTable<PayState> = {
  [PayState.INIT]: [PayState.PAYING, PayState.SUCCESS, PayState.FAIL, PayState.CLOSED],
  [PayState.PAYING]: [PayState.SUCCESS, PayState.FAIL, PayState.CLOSED, PayState.REVOKED],
  [PayState.SUCCESS]: [PayState.REFUNDED],
  [PayState.FAIL]: [PayState.SUCCESS],
  [PayState.REVOKED]: [],
  [PayState.REFUNDED]: [],
  [PayState.CLOSED]: [PayState.SUCCESS],
};

export const PAY_STATE_NAMES: Record<PayState, string> = {
  0: 'INIT',
  1: 'PAYING',
  2: 'SUCCESS',
  3: 'FAIL',
  4: 'REVOKED',
  5: 'REFUNDED',
  6: 'CLOSED',
};

/** Refund states — Jeepay-compatible codes 0–4. */
export const RefundState = {
  INIT: 0,
  REFUNDING: 1,
  SUCCESS: 2,
  FAIL: 3,
  CLOSED: 4,
} as const;
export type RefundState = (typeof RefundState)[keyof typeof RefundState];

export const REFUND_TRANSITIONS: TransitionTable<RefundState> = {
  [RefundState.INIT]: [RefundState.REFUNDING, RefundState.SUCCESS, RefundState.FAIL, RefundState.CLOSED],
  [RefundState.REFUNDING]: [RefundState.SUCCESS, RefundState.FAIL, RefundState.CLOSED],
  [RefundState.SUCCESS]: [],
  [RefundState.FAIL]: [],
  [RefundState.CLOSED]: [],
};

export const REFUND_STATE_NAMES: Record<RefundState, string> = {
  0: 'INIT',
  1: 'REFUNDING',
  2: 'SUCCESS',
  3: 'FAIL',
  4: 'CLOSED',
};

export function isPayState(n: number): n is PayState {
  return Object.hasOwn(PAY_STATE_NAMES, n);
}
