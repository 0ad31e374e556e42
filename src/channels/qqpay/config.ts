import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { parseChannelBaseUrl, parsePem, parseTimeoutMs } from '../config-parse.ts';
import { QPAY_HOSTS } from './protocol.ts';

/** QQ 钱包 configuration of one merchant app (docs/channels/qqpay.md). */

export const qqpayConfigFields: readonly ConfigField[] = [
  { name: 'mchId', label: 'QQ钱包商户号', secret: false, required: true, description: 'QQ 钱包 merchant number (mch_id).' },
  { name: 'appId', label: 'AppID', secret: false, required: false, description: 'The QQ 公众号 / open-platform app id: needed for JSAPI and APP trade types.' },
  { name: 'opUserId', label: '操作员账号', secret: false, required: false, description: 'Operator account: needed for refunds and reverses (op_user_id).' },
  { name: 'apiClientCert', label: 'API证书 apiclient_cert.pem', secret: false, required: false, description: 'The merchant client certificate (PEM) presented to the api host for refunds and reverses.' },
  { name: 'baseUrl', label: '接口地址', secret: false, required: false, description: 'Sandbox only: the order host. Production: unset (https://qpay.qq.com).' },
  { name: 'apiBaseUrl', label: '证书接口地址', secret: false, required: false, description: 'Sandbox only: the host of refund/reverse (mutual TLS). Production: unset (https://api.qpay.qq.com).' },
  { name: 'tlsCaCert', label: 'API 主机 CA 证书', secret: false, required: false, description: 'Extra CA certificate (PEM) trusted for the api host; only for a sandbox such as the simulator.' },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
  { name: 'apiKey', label: 'API密钥', secret: true, required: true, description: 'The 32-character API key that signs and verifies every message (MD5).' },
  { name: 'apiClientKey', label: 'API证书私钥 apiclient_key.pem', secret: true, required: false, description: 'Private key (PEM) of apiClientCert.' },
  { name: 'opUserPassword', label: '操作员密码', secret: true, required: false, description: 'Operator password: sent as its MD5 with refunds and reverses (op_user_passwd).' },
  { name: 'appKey', label: 'AppKey', secret: true, required: false, description: 'The open-platform app key that signs the APP pay parameters (HMAC-SHA1): needed for the APP trade type.' },
];

export interface QqpayConfig {
  mchId: string;
  appId: string | undefined;
  apiKey: string;
  appKey: string | undefined;
  /** op_user_id and md5(password), both or neither. */
  operator: { id: string; passwordMd5: string } | undefined;
  tls: { cert: string; key: string } | undefined;
  tlsCaCert: string | undefined;
  baseUrl: string;
  apiBaseUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `qqpay config: ${field} ${problem}`);
}

const pem = (field: string, value: string | undefined, check: (text: string) => void) => parsePem('qqpay', field, value, check);

export function parseQqpayConfig(config: ChannelConfig): QqpayConfig {
  const { params, secrets } = config;
  const mchId = params.mchId?.trim() ?? '';
  if (!/^[0-9]{6,20}$/.test(mchId)) throw misconfigured('mchId', mchId ? 'must be 6–20 digits' : 'is required');
  const apiKey = secrets.apiKey ?? '';
  if (!/^[0-9A-Za-z]{32}$/.test(apiKey)) throw misconfigured('apiKey', apiKey ? 'must be 32 letters or digits' : 'is required');
  const appId = params.appId?.trim() || undefined;
  if (appId !== undefined && !/^[0-9A-Za-z_-]{1,32}$/.test(appId)) throw misconfigured('appId', 'must be 1–32 letters or digits');
  const cert = pem('apiClientCert', params.apiClientCert, (t) => new X509Certificate(t));
  const key = pem('apiClientKey', secrets.apiClientKey, (t) => createPrivateKey(t));
  if (Boolean(cert) !== Boolean(key)) throw misconfigured(cert ? 'apiClientKey' : 'apiClientCert', 'is required with the other half of the client certificate');
  const opUserId = params.opUserId?.trim() || undefined;
  const opPassword = secrets.opUserPassword || undefined;
  if (Boolean(opUserId) !== Boolean(opPassword)) throw misconfigured(opUserId ? 'opUserPassword' : 'opUserId', 'is required with the other operator field');
  return {
    mchId,
    appId,
    apiKey,
    appKey: secrets.appKey?.trim() || undefined,
    operator: opUserId && opPassword ? { id: opUserId, passwordMd5: createHash('md5').update(opPassword, 'utf8').digest('hex') } : undefined,
    tls: cert && key ? { cert, key } : undefined,
    tlsCaCert: pem('tlsCaCert', params.tlsCaCert, (t) => new X509Certificate(t)),
    baseUrl: parseChannelBaseUrl('qqpay', 'baseUrl', params.baseUrl, QPAY_HOSTS.pay),
    apiBaseUrl: parseChannelBaseUrl('qqpay', 'apiBaseUrl', params.apiBaseUrl, QPAY_HOSTS.api),
    timeoutMs: parseTimeoutMs('qqpay', params.timeoutMs),
  };
}
