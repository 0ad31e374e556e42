import { request } from 'undici';
import { type SignType, signParams, verifySignature } from './sign.ts';

export interface MerchantCredentials {
  baseUrl: string;
  mchNo: string;
  appId: string;
  appSecret: string;
  signType?: SignType;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  code: number;
  msg: string;
  errorKey?: string;
  data?: T;
  sign?: string;
}

/**
 * A minimal merchant SDK: signs requests like a Jeepay client and verifies the answer's sign.
 * Used by the CLI, the tests and the benchmark — the same code path a merchant would write.
 */
export class MerchantClient {
  readonly #c: MerchantCredentials;
  constructor(credentials: MerchantCredentials) {
    this.#c = credentials;
  }

  signedBody(fields: Record<string, unknown>, reqTime = Date.now()): Record<string, unknown> {
    const signType = this.#c.signType ?? 'MD5';
    const body: Record<string, unknown> = { ...fields, mchNo: this.#c.mchNo, appId: this.#c.appId, reqTime: String(reqTime), version: '1.0', signType };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    body.sign = signParams(body, this.#c.appSecret, signType);
    return body;
  }

  async call<T = Record<string, unknown>>(path: string, fields: Record<string, unknown>, form = false): Promise<ApiAnswer<T>> {
    const body = this.signedBody(fields);
    const res = await request(`${this.#c.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
      body: form ? new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString() : JSON.stringify(body),
    });
    const answer = (await res.body.json()) as ApiAnswer<T>;
    if (answer.code === 0 && answer.data) {
      if (!answer.sign || !verifySignature(answer.data as Record<string, unknown>, this.#c.appSecret, this.#c.signType ?? 'MD5', answer.sign)) {
        throw new Error(`answer signature does not verify for ${path}`);
      }
    }
    return answer;
  }

  unifiedOrder(fields: Record<string, unknown>) {
    return this.call('/api/pay/unifiedOrder', fields);
  }
  query(fields: Record<string, unknown>) {
    return this.call('/api/pay/query', fields);
  }
  close(fields: Record<string, unknown>) {
    return this.call('/api/pay/close', fields);
  }
  refund(fields: Record<string, unknown>) {
    return this.call('/api/refund/refundOrder', fields);
  }
  refundQuery(fields: Record<string, unknown>) {
    return this.call('/api/refund/query', fields);
  }
}
