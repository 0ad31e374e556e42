import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * WeChat Pay API v2 signatures (protocols.md §B.2, vectors/wechatpay-v2.json): drop `sign` and
 * empty values, sort keys by code unit, `k=v&…`, append `&key=API_KEY`, then upper-case hex of
 * MD5 or of HMAC-SHA256 keyed with the API key (the `&key=` suffix is in the HMAC input too).
 * About ten lines of node:crypto: no library does this without also bringing its transport.
 */

export type V2SignType = 'MD5' | 'HMAC-SHA256';
export const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256'];

export function isV2SignType(value: unknown): value is V2SignType {
  return value === 'MD5' || value === 'HMAC-SHA256';
}

export function v2SignString(params: Record<string, string | undefined>): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k] as string}`)
    .join('&');
}

export function v2Sign(params: Record<string, string | undefined>, apiKey: string, signType: V2SignType): string {
  const message = `${v2SignString(params)}&key=${apiKey}`;
  const digest = signType === 'MD5' ? createHash('md5').update(message, 'utf8') : createHmac('sha256', apiKey).update(message, 'utf8');
  return digest.digest('hex').toUpperCase();
}

/** The algorithm a signed v2 document declares: `sign_type`, MD5 when absent (protocols.md §B.2). */
export function declaredSignType(params: Record<string, string | undefined>): V2SignType | undefined {
  const t = params.sign_type;
  if (t === undefined || t === '') return 'MD5';
  return isV2SignType(t) ? t : undefined;
}

/** Constant-time comparison of a received sign with the expected one (case-insensitive hex). */
export function v2SignMatches(params: Record<string, string | undefined>, apiKey: string, signType: V2SignType): boolean {
  const received = params.sign;
  if (typeof received !== 'string' || received === '') return false;
  const expected = Buffer.from(v2Sign(params, apiKey, signType), 'utf8');
  const got = Buffer.from(received.toUpperCase(), 'utf8');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Returns the params with `sign` (and `sign_type` unless MD5, whose declaration is optional) added. */
export function signV2(params: Record<string, string | undefined>, apiKey: string, signType: V2SignType): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') out[k] = v;
  if (signType !== 'MD5') out.sign_type = signType;
  out.sign = v2Sign(out, apiKey, signType);
  return out;
}

/** v2 JSAPI / mini-program pay parameters (protocols.md §B.5): paySign over exactly these five camelCase keys. */
export function v2JsapiPayParams(appId: string, timeStamp: string, nonceStr: string, prepayId: string, apiKey: string, signType: V2SignType): Record<string, string> {
  const params = { appId, timeStamp, nonceStr, package: `prepay_id=${prepayId}`, signType };
  return { ...params, paySign: v2Sign(params, apiKey, signType) };
}

/**
 * v2 APP pay parameters: sign over the six lowercase keys. WeChat's APP SDK checks this sign
 * with MD5 unless the merchant enabled HMAC (the request carries no sign_type), so MD5 is the default.
 */
export function v2AppPayParams(appid: string, partnerid: string, prepayid: string, noncestr: string, timestamp: string, apiKey: string, signType: V2SignType = 'MD5'): Record<string, string> {
  const params = { appid, partnerid, prepayid, package: 'Sign=WXPay', noncestr, timestamp };
  return { ...params, sign: v2Sign(params, apiKey, signType) };
}

/** The AES-256-ECB key of refund notifications: the 32 lower-case hex characters of md5(API key), as ASCII bytes. */
function reqInfoKey(apiKey: string): Buffer {
  return Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'ascii');
}

/** Decrypts `req_info` of a v2 refund notification (base64 → AES-256-ECB, PKCS#7). Throws on a wrong key or padding. */
export function decryptReqInfo(reqInfo: string, apiKey: string): string {
  const decipher = createDecipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
  return Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()]).toString('utf8');
}

export function encryptReqInfo(plaintext: string, apiKey: string): string {
  const cipher = createCipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}
