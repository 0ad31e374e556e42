import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadAlipayPrivateKey, loadAlipayPublicKey, splitPemBundle, spkiPem } from './sign.ts';

/**
 * Alipay direct-merchant (自研/普通商户) configuration: one open-platform app. Two key modes
 * (protocols.md §C.6): public-key mode (`alipayPublicKey`) and certificate mode (`useCert=true`:
 * app public-key certificate, Alipay public-key certificate, Alipay root certificate bundle).
 */

export const DEFAULT_GATEWAY_URL = 'https://openapi.alipay.com/gateway.do';
export const DEFAULT_OPEN_AUTH_URL = 'https://openauth.alipay.com';

export const alipayConfigFields: readonly ConfigField[] = [
  { name: 'appId', label: 'APPID', secret: false, required: true, description: 'Open-platform app id (16 digits, e.g. 2021…).' },
  { name: 'privateKey', label: '应用私钥', secret: true, required: true, description: 'App private key (RSA-2048): PEM (PKCS#8 or PKCS#1) or the bare base64 from the Alipay key tool. Signs every request.' },
  { name: 'signType', label: '签名方式', secret: false, required: false, description: 'RSA2 (SHA256withRSA), the only type accepted for new apps.', options: ['RSA2'] },
  { name: 'alipayPublicKey', label: '支付宝公钥', secret: false, required: false, description: 'Alipay public key (PEM or bare base64); required in public-key mode. Public, not a secret.' },
  { name: 'useCert', label: '证书模式', secret: false, required: false, description: 'true: certificate mode (公钥证书); false (default): public-key mode.', options: ['false', 'true'] },
  { name: 'appPublicCert', label: '应用公钥证书', secret: false, required: false, description: 'appCertPublicKey_<APPID>.crt (PEM); certificate mode.' },
  { name: 'alipayPublicCert', label: '支付宝公钥证书', secret: false, required: false, description: 'alipayCertPublicKey_RSA2.crt (PEM); certificate mode. Answers and notifications are verified with its key.' },
  { name: 'alipayRootCert', label: '支付宝根证书', secret: false, required: false, description: 'alipayRootCert.crt (PEM bundle); certificate mode.' },
  { name: 'sellerId', label: '卖家支付宝用户ID (PID)', secret: false, required: false, description: '2088… partner id; when set, notifications naming another seller_id are refused.' },
  { name: 'gatewayUrl', label: '网关地址', secret: false, required: false, description: `Defaults to ${DEFAULT_GATEWAY_URL}; the sandbox points it at the simulator's /gateway.do.` },
  // 服务商 (ISV) mode: the fields above are the provider's third-party app (set once on the
  // service provider), the ones below each sub-merchant's authorisation (written by the
  // app-to-app authorisation flow, src/channels/alipay/app-auth-service.ts).
  { name: 'isvPid', label: '服务商PID', secret: false, required: false, description: "ISV mode: the service provider's partner id (2088…), sent as extend_params.sys_service_provider_id on trade creation." },
  { name: 'openAuthUrl', label: '授权页地址', secret: false, required: false, description: `Base of Alipay's authorisation pages (appToAppAuth.htm, publicAppAuthorize.htm). Defaults to ${DEFAULT_OPEN_AUTH_URL}; the sandbox points it at the simulator.` },
  { name: 'oauthReturnHosts', label: 'OAuth return hosts', secret: false, required: false, description: 'Comma-separated hosts a 生活号 payer may be sent back to after the Alipay web authorisation (prevents open redirects).' },
  { name: 'appAuthToken', label: 'app_auth_token', secret: true, required: false, description: 'ISV sub-merchant: the app authorisation token passed on every call (from the authorisation flow).' },
  { name: 'appAuthRefreshToken', label: 'app_refresh_token', secret: true, required: false, description: 'ISV sub-merchant: refreshes appAuthToken before it expires.' },
  { name: 'authAppId', label: '授权商户APPID', secret: false, required: false, description: "ISV sub-merchant: the merchant's own app id (auth_app_id); notifications naming another are refused." },
  { name: 'appAuthExpiresAt', label: '令牌到期', secret: false, required: false, description: 'ISV sub-merchant: when appAuthToken expires (ISO time; written by the flow).' },
  { name: 'appAuthRefreshExpiresAt', label: '刷新令牌到期', secret: false, required: false, description: 'ISV sub-merchant: when appAuthRefreshToken expires (ISO time).' },
];


export type KeyMode = 'publicKey' | 'cert';

export interface AlipayConfig {
  appId: string;
  mode: KeyMode;
  privateKey: KeyObject;
  /** Public-key mode only: the configured Alipay public key. */
  alipayPublicKey: KeyObject | undefined;
  /** Certificate mode only (PEM text, handed to alipay-sdk, which derives the SNs and the Alipay key). */
  appPublicCert: string | undefined;
  alipayPublicCert: string | undefined;
  alipayRootCert: string | undefined;
  sellerId: string | undefined;
  gatewayUrl: string;
  /** Base of the authorisation pages (openauth.alipay.com). */
  openAuthUrl: string;
  /** ISV mode: acting for a sub-merchant (app_auth_token on every call). */
  isv: { appAuthToken: string; authAppId: string | undefined; pid: string | undefined } | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `alipay config: ${field} ${problem}`);
}

function rsa(field: string, load: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, 'is not a readable key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw misconfigured(field, 'must be an RSA key');
  return key;
}

function certificate(params: Record<string, string>, field: string): string {
  const pem = params[field]?.trim();
  if (!pem) throw misconfigured(field, 'is required when useCert=true');
  // The first certificate is the one that counts; the root bundle and Alipay's public
  // certificate (leaf + intermediate) legitimately hold several.
  const certs = splitPemBundle(pem);
  if (certs.length === 0) throw misconfigured(field, 'is not a PEM certificate');
  try {
    for (const c of certs) new X509Certificate(c);
  } catch {
    throw misconfigured(field, 'is not a readable certificate');
  }
  return pem;
}

function parseBaseUrl(field: string, raw: string | undefined, fallback: string): string {
  const value = raw?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw misconfigured(field, 'is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw misconfigured(field, 'must be an http(s) URL');
  if (url.search || url.hash || url.username || url.password) throw misconfigured(field, 'must not carry credentials, a query or a fragment');
  return `${url.origin}${url.pathname}`;
}

const PID = /^2088[0-9]{12}$/;

function parseIsv(params: Record<string, string>, secrets: Record<string, string>): AlipayConfig['isv'] {
  const isvPid = params.isvPid?.trim() || undefined;
  if (isvPid !== undefined && !PID.test(isvPid)) throw misconfigured('isvPid', 'must be a 16-digit 2088… partner id');
  const token = secrets.appAuthToken?.trim();
  if (!token) return undefined;
  if (!/^[0-9A-Za-z_-]{8,128}$/.test(token)) throw misconfigured('appAuthToken', 'is not an app_auth_token');
  const authAppId = params.authAppId?.trim() || undefined;
  if (authAppId !== undefined && !/^[0-9]{8,32}$/.test(authAppId)) throw misconfigured('authAppId', 'must be digits');
  return { appAuthToken: token, authAppId, pid: isvPid };
}

/** Validates and types a stored configuration. Throws ChannelError('misconfigured') naming the field; never echoes key material. */
export function parseAlipayConfig(config: ChannelConfig): AlipayConfig {
  const { params, secrets } = config;
  const appId = params.appId?.trim() ?? '';
  if (!/^[0-9]{8,32}$/.test(appId)) throw misconfigured('appId', appId ? 'must be digits' : 'is required');
  const signType = params.signType?.trim() || 'RSA2';
  // Legacy RSA (SHA1) is refused for new apps by Alipay; we never sign with it.
  if (signType !== 'RSA2') throw misconfigured('signType', 'must be RSA2');
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const privateKey = rsa('privateKey', () => loadAlipayPrivateKey(privateText));
  const useCert = (params.useCert?.trim() || 'false').toLowerCase();
  if (useCert !== 'true' && useCert !== 'false') throw misconfigured('useCert', 'must be true or false');
  const sellerId = params.sellerId?.trim() || undefined;
  if (sellerId !== undefined && !PID.test(sellerId)) throw misconfigured('sellerId', 'must be a 16-digit 2088… partner id');
  const base = {
    appId,
    privateKey,
    sellerId,
    gatewayUrl: parseBaseUrl('gatewayUrl', params.gatewayUrl, DEFAULT_GATEWAY_URL),
    openAuthUrl: parseBaseUrl('openAuthUrl', params.openAuthUrl, DEFAULT_OPEN_AUTH_URL).replace(/\/+$/, ''),
    isv: parseIsv(params, secrets),
  };

  if (useCert === 'false') {
    const pub = params.alipayPublicKey?.trim();
    if (!pub) throw misconfigured('alipayPublicKey', 'is required in public-key mode (or set useCert=true)');
    return { ...base, mode: 'publicKey', alipayPublicKey: rsa('alipayPublicKey', () => loadAlipayPublicKey(pub)), appPublicCert: undefined, alipayPublicCert: undefined, alipayRootCert: undefined };
  }
  const appPublicCert = certificate(params, 'appPublicCert');
  // A certificate for another key makes every request fail with isv.invalid-signature; say so now.
  if (spkiPem(new X509Certificate(splitPemBundle(appPublicCert)[0] as string).publicKey) !== spkiPem(createPublicKey(privateKey))) {
    throw misconfigured('appPublicCert', 'does not certify the public key of privateKey');
  }
  return {
    ...base,
    mode: 'cert',
    alipayPublicKey: undefined,
    appPublicCert,
    alipayPublicCert: certificate(params, 'alipayPublicCert'),
    alipayRootCert: certificate(params, 'alipayRootCert'),
  };
}
