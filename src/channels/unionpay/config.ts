import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { CertificateError, loadPfx, type MerchantSigner } from './certs.ts';

/**
 * 云闪付 / UnionPay configuration for one merchant app. Two access modes of the same channel:
 *  - `acp` (default): a direct 全渠道 merchant (merId) with its own signing certificate (PFX),
 *    verifying UnionPay with the published middle and root certificates (protocols.md §D.1–D.5);
 *  - `sp`: a sub-merchant reached through a 云闪付 service provider's JSON gateway (serProvId +
 *    merId, the provider's PFX, the gateway's public key; §D.6.2) — Jeepay's only UnionPay path.
 */

export const DEFAULT_ACP_BASE_URL = 'https://gateway.95516.com';
export const DEFAULT_FILE_URL = 'https://filedownload.95516.com/';
export const DEFAULT_SP_BASE_URL = 'https://partner.95516.com';
export const DEFAULT_USER_AUTH_URL = 'https://qr.95516.com/qrcGtwWeb-web/api/userAuth';

export const unionPayConfigFields: readonly ConfigField[] = [
  { name: 'mode', label: '接入方式', secret: false, required: false, description: 'acp (default): direct 全渠道 merchant; sp: sub-merchant of a 云闪付 service provider.', options: ['acp', 'sp'] },
  { name: 'merId', label: '商户号', secret: false, required: true, description: '15-digit UnionPay merchant number (in sp mode: the sub-merchant).' },
  { name: 'signCertPfx', label: '签名证书 (PFX)', secret: true, required: true, description: 'The signing certificate file (.pfx, PKCS#12) as base64: `base64 -w0 acp_sign.pfx`. In sp mode: the service provider\'s certificate.' },
  { name: 'signCertPassword', label: '签名证书密码', secret: true, required: false, description: 'Password of the PFX (often 000000 in UnionPay\'s test kit).' },
  { name: 'middleCert', label: '银联中级证书', secret: false, required: false, description: 'acp: acp_prod_middle.cer (PEM). signPubKeyCert of every answer and notification must chain to it.' },
  { name: 'rootCert', label: '银联根证书', secret: false, required: false, description: 'acp: acp_prod_root.cer (PEM).' },
  { name: 'strictCertCn', label: '校验证书CN', secret: false, required: false, description: 'true (default): UnionPay\'s certificate must name 中国银联股份有限公司; false also accepts the test environment\'s 00040000:SIGN.', options: ['true', 'false'] },
  { name: 'acpBaseUrl', label: '全渠道网关', secret: false, required: false, description: `acp: defaults to ${DEFAULT_ACP_BASE_URL} (test: https://gateway.test.95516.com).` },
  { name: 'fileUrl', label: '文件下载地址', secret: false, required: false, description: `acp: reconciliation file host, defaults to ${DEFAULT_FILE_URL}.` },
  { name: 'serProvId', label: '服务商标识', secret: false, required: false, description: 'sp: the 云闪付 service provider id.' },
  { name: 'ysfPublicKey', label: '云闪付公钥', secret: false, required: false, description: 'sp: the gateway\'s public key (PEM or bare base64), verifies answers and notifications.' },
  { name: 'spBaseUrl', label: '服务商网关', secret: false, required: false, description: `sp: defaults to ${DEFAULT_SP_BASE_URL}.` },
  { name: 'userAuthUrl', label: '云闪付用户授权地址', secret: false, required: false, description: `YSF_JSAPI user authorisation page, defaults to ${DEFAULT_USER_AUTH_URL}.` },
  { name: 'termId', label: '终端号', secret: false, required: false, description: 'sp: termId sent with bar-code pay (8 characters); defaults to 00000001.' },
];

interface Common {
  merId: string;
  signer: MerchantSigner;
  userAuthUrl: string;
}

export interface AcpConfig extends Common {
  mode: 'acp';
  middle: X509Certificate;
  root: X509Certificate;
  strictCn: boolean;
  acpBaseUrl: string;
  fileUrl: string;
}

export interface SpConfig extends Common {
  mode: 'sp';
  serProvId: string;
  gatewayKey: KeyObject;
  spBaseUrl: string;
  termId: string;
}

export type UnionPayConfig = AcpConfig | SpConfig;

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `unionpay config: ${field} ${problem}`);
}

function url(params: Record<string, string>, field: string, fallback: string): string {
  const value = params[field]?.trim() || fallback;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw misconfigured(field, 'is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw misconfigured(field, 'must be an http(s) URL');
  if (u.search || u.hash || u.username || u.password) throw misconfigured(field, 'must not carry credentials, a query or a fragment');
  return value.replace(/\/+$/, field === 'fileUrl' ? '/' : '');
}

function certificate(params: Record<string, string>, field: string): X509Certificate {
  const pem = params[field]?.trim();
  if (!pem) throw misconfigured(field, 'is required in acp mode');
  try {
    return new X509Certificate(pem);
  } catch {
    throw misconfigured(field, 'is not a readable certificate');
  }
}

function publicKey(text: string): KeyObject {
  const t = text.trim();
  try {
    return t.startsWith('-----') ? createPublicKey(t) : createPublicKey({ key: Buffer.from(t.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw misconfigured('ysfPublicKey', 'is not a readable public key');
  }
}

/** Validates and types a stored configuration. Throws ChannelError('misconfigured') naming the field; never echoes key material. */
export function parseUnionPayConfig(config: ChannelConfig): UnionPayConfig {
  const { params, secrets } = config;
  const mode = params.mode?.trim() || 'acp';
  if (mode !== 'acp' && mode !== 'sp') throw misconfigured('mode', 'must be acp or sp');
  const merId = params.merId?.trim() ?? '';
  if (!/^[0-9A-Za-z]{15}$/.test(merId)) throw misconfigured('merId', merId ? 'must be 15 characters' : 'is required');
  const pfx = secrets.signCertPfx?.trim();
  if (!pfx) throw misconfigured('signCertPfx', 'is required');
  let signer: MerchantSigner;
  try {
    signer = loadPfx(pfx, secrets.signCertPassword ?? '');
  } catch (err) {
    throw misconfigured('signCertPfx', err instanceof CertificateError ? `is unusable: ${err.message}` : 'is not readable');
  }
  const common = { merId, signer, userAuthUrl: url(params, 'userAuthUrl', DEFAULT_USER_AUTH_URL) };
  if (mode === 'sp') {
    const serProvId = params.serProvId?.trim() ?? '';
    if (!/^[0-9A-Za-z]{4,32}$/.test(serProvId)) throw misconfigured('serProvId', serProvId ? 'must be 4–32 letters or digits' : 'is required in sp mode');
    const key = params.ysfPublicKey?.trim();
    if (!key) throw misconfigured('ysfPublicKey', 'is required in sp mode');
    const termId = params.termId?.trim() || '00000001';
    if (!/^[0-9A-Za-z]{1,8}$/.test(termId)) throw misconfigured('termId', 'must be up to 8 letters or digits');
    return { ...common, mode, serProvId, gatewayKey: publicKey(key), spBaseUrl: url(params, 'spBaseUrl', DEFAULT_SP_BASE_URL), termId };
  }
  const strict = params.strictCertCn?.trim() || 'true';
  if (strict !== 'true' && strict !== 'false') throw misconfigured('strictCertCn', 'must be true or false');
  return {
    ...common,
    mode,
    middle: certificate(params, 'middleCert'),
    root: certificate(params, 'rootCert'),
    strictCn: strict === 'true',
    acpBaseUrl: url(params, 'acpBaseUrl', DEFAULT_ACP_BASE_URL),
    fileUrl: url(params, 'fileUrl', DEFAULT_FILE_URL),
  };
}
