import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadRsaPrivateKey, loadRsaPublicKey } from '../rsa.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';
import { ABC_DEFAULT_BASE_URL } from './protocol.ts';

/** 农业银行 ABC configuration of one merchant app (docs/configuration.md "ABC"). */

export const abcpayConfigFields: readonly ConfigField[] = [
  { name: 'merchantId', label: '商户号', secret: false, required: true, description: 'ABC e-commerce merchant number (MerchantID, 15 digits).' },
  { name: 'privateKey', label: '商户私钥', secret: true, required: true, description: "The merchant certificate's private key (from <MerchantID>.pfx: openssl pkcs12 -in x.pfx -nocerts -nodes), PEM or bare base64." },
  { name: 'trustpayCert', label: 'TrustPay证书', secret: false, required: true, description: "TrustPay.cer (PEM or base64 DER) or its public key: verifies ABC's answers and notifications." },
  { name: 'baseUrl', label: '接口地址', secret: false, required: false, description: `Defaults to ${ABC_DEFAULT_BASE_URL}; ABC's test system is https://pay.test.abchina.com; the sandbox points it at the simulator.` },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface AbcpayConfig {
  merchantId: string;
  privateKey: KeyObject;
  trustpayKey: KeyObject;
  baseUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `abcpay config: ${field} ${problem}`);
}

function key<T>(field: string, load: () => T): T {
  try {
    return load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, 'is not a readable RSA key or certificate');
  }
}

export function parseAbcpayConfig(config: ChannelConfig): AbcpayConfig {
  const { params, secrets } = config;
  const merchantId = params.merchantId?.trim() ?? '';
  if (!/^[0-9]{6,20}$/.test(merchantId)) throw misconfigured('merchantId', merchantId ? 'must be digits' : 'is required');
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const certText = params.trustpayCert?.trim();
  if (!certText) throw misconfigured('trustpayCert', 'is required');
  return {
    merchantId,
    privateKey: key('privateKey', () => loadRsaPrivateKey(privateText)),
    trustpayKey: key('trustpayCert', () => loadRsaPublicKey(certText)),
    baseUrl: parseChannelBaseUrl('abcpay', 'baseUrl', params.baseUrl, ABC_DEFAULT_BASE_URL),
    timeoutMs: parseTimeoutMs('abcpay', params.timeoutMs),
  };
}
