import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadPrivateKey, loadPublicKey } from './v3-crypto.ts';
import { parseSpConfig, type WechatSpConfig } from './sp-config.ts';

/**
 * WeChat Pay v3 direct-merchant (普通商户) configuration. The two key-distribution modes are
 * described in protocols.md §A.4: `publicKey` (微信支付公钥, PUB_KEY_ID_…, what new merchants
 * get) and `platformCert` (平台证书 fetched from /v3/certificates).
 */

export type VerifyMode = 'publicKey' | 'platformCert';
export const VERIFY_MODES: readonly VerifyMode[] = ['publicKey', 'platformCert'];
export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';

export const wechatPayConfigFields: readonly ConfigField[] = [
  { name: 'mchId', label: '商户号 mchid', secret: false, required: true, description: 'WeChat Pay merchant id (digits).' },
  { name: 'appId', label: 'AppID', secret: false, required: true, description: 'Official-account (公众号) appid; the default appid for every way.' },
  { name: 'liteAppId', label: '小程序 AppID', secret: false, required: false, description: 'Mini-program appid used for WX_LITE; falls back to appId.' },
  { name: 'appAppId', label: '移动应用 AppID', secret: false, required: false, description: 'Mobile-app appid used for WX_APP; falls back to appId.' },
  { name: 'merchantSerialNo', label: '商户API证书序列号', secret: false, required: false, description: 'API v3 (required there): serial number (hex) of the merchant API certificate; sent as serial_no in Authorization.' },
  {
    name: 'verifyMode',
    label: '验签方式',
    secret: false,
    required: false,
    description: 'publicKey (微信支付公钥, default) or platformCert (平台证书 downloaded from /v3/certificates).',
    options: VERIFY_MODES,
  },
  { name: 'wxpayPublicKeyId', label: '微信支付公钥ID', secret: false, required: false, description: 'PUB_KEY_ID_… identifier; required when verifyMode=publicKey.' },
  { name: 'wxpayPublicKey', label: '微信支付公钥', secret: false, required: false, description: 'WeChat Pay public key (PEM); required when verifyMode=publicKey. Public, not a secret.' },
  { name: 'baseUrl', label: 'API base URL', secret: false, required: false, description: `Defaults to ${DEFAULT_BASE_URL}; sandboxes point it at the simulator.` },
  { name: 'apiClientKey', label: '商户API私钥 apiclient_key.pem', secret: true, required: false, description: 'Merchant API private key (PKCS#8 PEM). API v3 (required): signs requests and client pay params. API v2: the key of the API certificate for /secapi calls (refund, reverse).' },
  { name: 'apiV3Key', label: 'APIv3密钥', secret: true, required: false, description: 'API v3 (required there): 32-character APIv3 key that decrypts notifications and platform certificates.' },
];

export interface WechatPayConfig {
  mchId: string;
  appId: string;
  liteAppId: string | undefined;
  appAppId: string | undefined;
  merchantSerialNo: string;
  verifyMode: VerifyMode;
  wxpayPublicKeyId: string | undefined;
  /** Parsed once here: re-parsing a PEM per call costs about three times the signature itself. */
  wxpayPublicKey: KeyObject | undefined;
  /** No trailing slash; may carry a path prefix. */
  baseUrl: string;
  merchantPrivateKey: KeyObject;
  apiV3Key: string;
  /** Service-provider mode: mchId/appId/keys are the provider's, this names the sub-merchant. */
  sp: WechatSpConfig | undefined;
}

export function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `wxpay config: ${field} ${problem}`);
}

// Identifiers end up inside the quoted Authorization fields and URL paths, so a quote,
// comma or space in one would corrupt the header; real values are [0-9A-Za-z_-].
const IDENT = /^[0-9A-Za-z_-]{1,64}$/;

export function optionalIdent(params: Record<string, string>, field: string): string | undefined {
  const value = params[field]?.trim();
  if (value === undefined || value === '') return undefined;
  if (!IDENT.test(value)) throw misconfigured(field, 'must be 1-64 characters of [0-9A-Za-z_-]');
  return value;
}

export function requiredIdent(params: Record<string, string>, field: string): string {
  const value = optionalIdent(params, field);
  if (value === undefined) throw misconfigured(field, 'is required');
  return value;
}

function rsaKey(field: string, load: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch {
    // The parse error text can quote key material; never pass it on.
    throw misconfigured(field, 'is not a valid PEM key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw misconfigured(field, `must be an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

export function parseBaseUrl(raw: string | undefined): string {
  const value = raw?.trim() || DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw misconfigured('baseUrl', 'is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw misconfigured('baseUrl', 'must be an http(s) URL');
  if (url.search || url.hash || url.username || url.password) throw misconfigured('baseUrl', 'must not carry credentials, a query or a fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** Validates and types a stored channel config. Throws ChannelError('misconfigured') naming the field; never echoes secret values. */
export function parseWechatPayConfig(config: ChannelConfig): WechatPayConfig {
  const { params, secrets } = config;
  const mchId = requiredIdent(params, 'mchId');
  if (!/^[0-9]+$/.test(mchId)) throw misconfigured('mchId', 'must be digits');

  const merchantSerialNo = params.merchantSerialNo?.trim() ?? '';
  if (merchantSerialNo === '') throw misconfigured('merchantSerialNo', 'is required');
  if (!/^[0-9A-Fa-f]{1,64}$/.test(merchantSerialNo)) throw misconfigured('merchantSerialNo', 'must be a hex certificate serial');

  const modeRaw = params.verifyMode?.trim() || 'publicKey';
  if (!(VERIFY_MODES as readonly string[]).includes(modeRaw)) throw misconfigured('verifyMode', `must be one of ${VERIFY_MODES.join(', ')}`);
  const verifyMode = modeRaw as VerifyMode;

  // In platformCert mode a public key may still be configured: during WeChat's migration
  // answers can be signed with either (protocols.md §A.4, Go "combined verifier").
  const wxpayPublicKeyId = verifyMode === 'publicKey' ? requiredIdent(params, 'wxpayPublicKeyId') : optionalIdent(params, 'wxpayPublicKeyId');
  if (wxpayPublicKeyId !== undefined && !wxpayPublicKeyId.startsWith('PUB_KEY_ID_')) throw misconfigured('wxpayPublicKeyId', 'must start with PUB_KEY_ID_');
  const publicPem = params.wxpayPublicKey?.trim();
  if (verifyMode === 'publicKey' && !publicPem) throw misconfigured('wxpayPublicKey', 'is required when verifyMode=publicKey');
  if ((wxpayPublicKeyId === undefined) !== !publicPem) throw misconfigured(wxpayPublicKeyId === undefined ? 'wxpayPublicKeyId' : 'wxpayPublicKey', 'must be set together with its counterpart');
  const wxpayPublicKey = publicPem ? rsaKey('wxpayPublicKey', () => loadPublicKey(publicPem)) : undefined;

  const privatePem = secrets.apiClientKey?.trim();
  if (!privatePem) throw misconfigured('apiClientKey', 'is required');
  const merchantPrivateKey = rsaKey('apiClientKey', () => loadPrivateKey(privatePem));

  const apiV3Key = secrets.apiV3Key ?? '';
  if (apiV3Key === '') throw misconfigured('apiV3Key', 'is required');
  // AES-256-GCM keys are the 32 ASCII bytes of the key (protocols.md §A.5); a 16-byte key
  // would silently mean AES-128 in some SDKs, so the length is enforced here.
  if (!/^[\x21-\x7e]{32}$/.test(apiV3Key)) throw misconfigured('apiV3Key', 'must be exactly 32 printable ASCII characters');

  return {
    mchId,
    appId: requiredIdent(params, 'appId'),
    liteAppId: optionalIdent(params, 'liteAppId'),
    appAppId: optionalIdent(params, 'appAppId'),
    merchantSerialNo: merchantSerialNo.toUpperCase(),
    verifyMode,
    wxpayPublicKeyId,
    wxpayPublicKey,
    baseUrl: parseBaseUrl(params.baseUrl),
    merchantPrivateKey,
    apiV3Key,
    sp: parseSpConfig(params),
  };
}

/** Every appid the merchant may legitimately receive callbacks for. */
export function configuredAppIds(config: WechatPayConfig): string[] {
  return [config.appId, config.liteAppId, config.appAppId].filter((v): v is string => v !== undefined);
}
