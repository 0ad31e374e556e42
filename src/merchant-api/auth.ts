import { ApiError } from '../domain/errors.ts';
import type { MerchantApp, TenancyService } from '../services/tenancy.ts';
import { parseSignType, type SignType, verifySignature } from './sign.ts';

export interface Authenticated {
  app: MerchantApp;
  signType: SignType;
}

/**
 * Checks a merchant request: the app exists, is enabled and belongs to mchNo; the signature
 * (over the endpoint's known fields only, like Jeepay) verifies in constant time; reqTime is
 * within the window (Jeepay checks none of this: jeepay.md §3.1 — a replay defence it lacks).
 */
export async function authenticate(body: Record<string, unknown>, signedFields: readonly string[], tenancy: TenancyService, windowSeconds: number, now = Date.now()): Promise<Authenticated> {
  const signType = parseSignType(body.signType);
  if (!signType) throw new ApiError('PARAM_INVALID', 'signType must be MD5 or HMAC-SHA256');
  const app = await tenancy.getApp(String(body.appId));
  if (!app || app.mchNo !== body.mchNo) throw new ApiError('MERCHANT_INVALID', `app ${String(body.appId)} of merchant ${String(body.mchNo)}`);
  if (!app.usable) throw new ApiError('MERCHANT_INVALID', 'the merchant or app is disabled');
  const signed: Record<string, unknown> = {};
  for (const name of signedFields) if (name !== 'sign' && body[name] !== undefined) signed[name] = body[name];
  if (!verifySignature(signed, app.appSecret, signType, String(body.sign))) throw new ApiError('SIGN_INVALID');
  const reqTime = String(body.reqTime);
  const ms = reqTime.length === 13 ? Number(reqTime) : Number(reqTime) * 1000;
  if (!Number.isFinite(ms) || Math.abs(now - ms) > windowSeconds * 1000) {
    throw new ApiError('REQ_TIME_INVALID', `reqTime ${reqTime} is more than ${windowSeconds} s away from the gateway time ${now}`);
  }
  return { app, signType };
}
