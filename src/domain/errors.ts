/**
 * Every error a merchant can receive. `code` is the numeric code in the `{code,msg,data,sign}`
 * envelope (0 is success, as in Jeepay; Jeepay clients only test `code === 0`). Each key is
 * listed in docs/api.md with what to do about it. Merchant-API errors are answered with HTTP
 * 200 like Jeepay (its SDKs read the envelope); only our own faults use 5xx.
 */
export const ERRORS = {
  SYSTEM_ERROR: { code: 10, http: 500, text: 'internal error; the request may be retried with the same parameters' },
  PARAM_INVALID: { code: 11, http: 200, text: 'a parameter is missing or malformed' },
  SERVICE_UNAVAILABLE: { code: 12, http: 503, text: 'the database is unreachable; retry later with the same parameters' },
  SIGN_INVALID: { code: 1001, http: 200, text: 'signature verification failed (验签失败)' },
  REQ_TIME_INVALID: { code: 1002, http: 200, text: 'reqTime is outside the accepted window or malformed' },
  MERCHANT_INVALID: { code: 1003, http: 200, text: 'unknown or disabled merchant / app, or the app does not belong to the merchant' },
  WAY_NOT_AVAILABLE: { code: 1004, http: 200, text: 'the pay way is not enabled for this app or has no configured channel' },
  ORDER_NOT_FOUND: { code: 1005, http: 200, text: 'no such order for this merchant' },
  IDEMPOTENCY_MISMATCH: { code: 1006, http: 200, text: 'mchOrderNo / mchRefundNo was already used with different parameters' },
  ORDER_STATE_INVALID: { code: 1007, http: 200, text: 'the order is not in a state that allows this operation' },
  REFUND_AMOUNT_EXCEEDED: { code: 1008, http: 200, text: 'refund amount exceeds the refundable amount' },
  ORDER_IN_PROGRESS: { code: 1009, http: 200, text: 'the same order is still being created; retry shortly with the same parameters' },
  CHANNEL_REJECTED: { code: 1010, http: 200, text: 'the payment channel refused the request' },
  CHANNEL_UNAVAILABLE: { code: 1011, http: 200, text: 'the payment channel could not be reached; nothing reached the payer' },
  REFUND_NOT_FOUND: { code: 1012, http: 200, text: 'no such refund for this merchant' },
  CURRENCY_MISMATCH: { code: 1013, http: 200, text: 'currency differs from the order currency' },
  UNAUTHORIZED: { code: 1401, http: 401, text: 'missing or wrong admin credentials' },
  NOT_FOUND: { code: 1404, http: 404, text: 'no such resource' },
  // Consoles (docs/console.md)
  LOGIN_FAILED: { code: 1402, http: 401, text: 'wrong user name or password' },
  FORBIDDEN: { code: 1403, http: 403, text: 'your role does not allow this operation' },
  CSRF_INVALID: { code: 1419, http: 403, text: 'missing or wrong CSRF token; reload the page' },
  ACCOUNT_LOCKED: { code: 1423, http: 423, text: 'too many wrong passwords; the account is locked for a while' },
} as const;

export type ErrorKey = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly key: ErrorKey;
  readonly detail: string;
  constructor(key: ErrorKey, detail?: string) {
    super(detail ? `${ERRORS[key].text}: ${detail}` : ERRORS[key].text);
    this.key = key;
    this.detail = detail ?? '';
  }
  get code(): number {
    return ERRORS[this.key].code;
  }
  get httpStatus(): number {
    return ERRORS[this.key].http;
  }
}

/** Raised when a state change is not in its transition table. A bug or a forged input — never silently applied. */
export class IllegalTransitionError extends Error {
  constructor(kind: 'pay' | 'refund', id: string, from: number, to: number) {
    super(`illegal ${kind} transition ${from} → ${to} for ${id}`);
  }
}
