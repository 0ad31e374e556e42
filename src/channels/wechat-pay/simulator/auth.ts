import { parseAuthorization, requestMessage, rsaVerify } from '../v3-crypto.ts';
import { errors } from './errors.ts';
import type { SimState } from './state.ts';
import type { MerchantRecord } from './types.ts';

/**
 * Request authentication, in the order of the simulator check list in protocols.md §A.3:
 * header format → mchid known → serial_no → timestamp window → signature over the raw request →
 * nonce not replayed. The nonce is recorded only after the signature verified, so unsigned
 * traffic cannot fill the cache or burn a legitimate client's nonce.
 */

/** ±5 minutes, the window WeChat and its SDKs use (protocols.md §A.4, perf-reliability.md). */
export const CLOCK_SKEW_S = 300;

export interface RawRequest {
  method: string;
  /** Path + query exactly as sent (the canonical URL of §A.3). */
  url: string;
  authorization: string | undefined;
  body: string;
}

export function authenticate(req: RawRequest, state: SimState, nonces: NonceCache, nowMs: number): MerchantRecord {
  const auth = parseAuthorization(req.authorization);
  if (!auth) throw errors.signFormat();
  const merchant = state.merchants.get(auth.mchid);
  if (!merchant) throw errors.sign(`商户号${auth.mchid}未注册`);
  // Serials are hex; compare case-insensitively since SDKs differ in how they print them.
  if (auth.serial_no.toUpperCase() !== merchant.merchantSerialNo.toUpperCase()) {
    throw errors.sign('证书序列号serial_no与商户API证书不一致');
  }
  if (!/^\d{1,12}$/.test(auth.timestamp)) throw errors.sign('timestamp格式错误');
  const ts = Number(auth.timestamp);
  if (Math.abs(nowMs / 1000 - ts) > CLOCK_SKEW_S) throw errors.sign('timestamp与当前时间相差超过5分钟');
  const message = requestMessage(req.method.toUpperCase(), req.url, auth.timestamp, auth.nonce_str, req.body);
  if (!rsaVerify(message, auth.signature, state.merchantKey(merchant))) throw errors.sign('签名验证失败');
  if (!nonces.claim(`${merchant.mchid}:${auth.nonce_str}`, ts * 1000 + CLOCK_SKEW_S * 1000, nowMs)) {
    throw errors.sign('nonce_str重复（重放请求）');
  }
  return merchant;
}

/**
 * Nonces seen within the replay window. A replay must reuse the signed timestamp, so an entry can
 * be forgotten once that timestamp falls out of the ±5 min window: memory is bounded by the
 * request rate × window. The hard cap protects against a flood; eviction drops the oldest entries.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly maxEntries = 500_000) {}

  /** false when the nonce is already known and still inside its window. */
  claim(nonceKey: string, expiresAtMs: number, nowMs: number): boolean {
    this.sweep(nowMs);
    const prev = this.seen.get(nonceKey);
    if (prev !== undefined && prev > nowMs) return false;
    this.seen.delete(nonceKey);
    this.seen.set(nonceKey, expiresAtMs);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweep < 10_000) return;
    this.lastSweep = nowMs;
    for (const [k, exp] of this.seen) if (exp <= nowMs) this.seen.delete(k);
  }
}
