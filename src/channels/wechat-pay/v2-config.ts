import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { ChannelConfig, ConfigField } from '../types.ts';
import { parsePem } from '../config-parse.ts';
import { misconfigured, optionalIdent, parseBaseUrl, requiredIdent } from './config.ts';
import { parseSpConfig, type WechatSpConfig } from './sp-config.ts';
import { V2_SIGN_TYPES, isV2SignType, type V2SignType } from './v2-sign.ts';

/**
 * WeChat Pay API v2 (XML) configuration, chosen with apiVersion=v2 on the same `wxpay` channel
 * (protocols.md §B). The merchant API certificate (apiclient_cert.pem + apiclient_key.pem, or
 * apiclient_cert.p12 whose password is the mch_id) authenticates /secapi calls by mutual TLS.
 */

export type ApiVersion = 'v2' | 'v3';
export const API_VERSIONS: readonly ApiVersion[] = ['v3', 'v2'];

export const wechatPayV2ConfigFields: readonly ConfigField[] = [
  { name: 'apiVersion', label: 'API 版本', secret: false, required: false, description: 'v3 (JSON, default) or v2 (XML with MD5 / HMAC-SHA256 signatures).', options: API_VERSIONS },
  { name: 'signType', label: 'v2 签名方式', secret: false, required: false, description: 'API v2: MD5 (default) or HMAC-SHA256.', options: V2_SIGN_TYPES },
  { name: 'apiClientCert', label: '商户API证书 apiclient_cert.pem', secret: false, required: false, description: 'API v2: the merchant API certificate (PEM) presented with apiClientKey on /secapi calls (refund, reverse).' },
  { name: 'tlsCaCert', label: 'API 主机 CA 证书', secret: false, required: false, description: 'Extra CA certificate (PEM) trusted for the API host instead of the public roots; only for a sandbox such as the simulator.' },
  { name: 'apiKey', label: 'APIv2密钥', secret: true, required: false, description: 'API v2 (required there): the 32-character API key that signs and verifies every v2 message.' },
  { name: 'apiClientP12', label: '商户API证书 apiclient_cert.p12', secret: true, required: false, description: 'API v2: alternative to apiClientCert + apiClientKey: the PKCS#12 file, base64; its password is the mch_id.' },
];

export interface WechatPayV2Config {
  mchId: string;
  appId: string;
  liteAppId: string | undefined;
  appAppId: string | undefined;
  apiKey: string;
  signType: V2SignType;
  baseUrl: string;
  /** Client certificate for /secapi; undefined when none is configured (those calls then fail as misconfigured). */
  tls: { cert?: string; key?: string; pfx?: Buffer; passphrase?: string } | undefined;
  tlsCaCert: string | undefined;
  /** Service-provider mode (sub_mch_id / sub_appid / sub_openid on the same endpoints). */
  sp: WechatSpConfig | undefined;
}

export function apiVersionOf(config: ChannelConfig): ApiVersion {
  const v = config.params.apiVersion?.trim() || 'v3';
  if (v !== 'v2' && v !== 'v3') throw misconfigured('apiVersion', `must be one of ${API_VERSIONS.join(', ')}`);
  return v;
}

const pem = (field: string, value: string | undefined, check: (text: string) => void) => parsePem('wxpay', field, value, check);

export function parseWechatPayV2Config(config: ChannelConfig): WechatPayV2Config {
  const { params, secrets } = config;
  const mchId = requiredIdent(params, 'mchId');
  if (!/^[0-9]+$/.test(mchId)) throw misconfigured('mchId', 'must be digits');
  const apiKey = secrets.apiKey ?? '';
  if (apiKey === '') throw misconfigured('apiKey', 'is required when apiVersion=v2');
  // The portal only accepts 32 letters and digits; anything else is a paste error.
  if (!/^[0-9A-Za-z]{32}$/.test(apiKey)) throw misconfigured('apiKey', 'must be 32 letters or digits');
  const signType = params.signType?.trim() || 'MD5';
  if (!isV2SignType(signType)) throw misconfigured('signType', `must be one of ${V2_SIGN_TYPES.join(', ')}`);

  const cert = pem('apiClientCert', params.apiClientCert, (t) => new X509Certificate(t));
  const key = cert ? pem('apiClientKey', secrets.apiClientKey, (t) => createPrivateKey(t)) : undefined;
  if (cert && !key) throw misconfigured('apiClientKey', 'is required with apiClientCert');
  const p12 = secrets.apiClientP12?.trim();
  if (p12 && !/^[A-Za-z0-9+/=\s]+$/.test(p12)) throw misconfigured('apiClientP12', 'must be base64');
  const tls = cert && key ? { cert, key } : p12 ? { pfx: Buffer.from(p12, 'base64'), passphrase: mchId } : undefined;

  return {
    mchId,
    appId: requiredIdent(params, 'appId'),
    liteAppId: optionalIdent(params, 'liteAppId'),
    appAppId: optionalIdent(params, 'appAppId'),
    apiKey,
    signType,
    baseUrl: parseBaseUrl(params.baseUrl),
    tls,
    tlsCaCert: pem('tlsCaCert', params.tlsCaCert, (t) => new X509Certificate(t)),
    sp: parseSpConfig(params),
  };
}

export function configuredV2AppIds(config: WechatPayV2Config): string[] {
  return [config.appId, config.liteAppId, config.appAppId].filter((v): v is string => v !== undefined);
}
