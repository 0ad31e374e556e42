import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadRsaPrivateKey, loadRsaPublicKey } from '../rsa.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';
import { jdDesKey } from './envelope.ts';
import { JD_HOSTS, JD_SANDBOX_CASHIER_PREFIX } from './protocol.ts';

/** JD Pay configuration of one merchant app (docs/configuration.md "JD Pay"). */

export const jdpayConfigFields: readonly ConfigField[] = [
  { name: 'merchant', label: '商户号', secret: false, required: true, description: 'JD Pay merchant number.' },
  { name: 'privateKey', label: '商户RSA私钥', secret: true, required: true, description: 'Merchant RSA private key (seller_rsa_private_key.pem, PEM or bare base64): signs every message.' },
  { name: 'jdPublicKey', label: '京东RSA公钥', secret: false, required: true, description: 'JD Pay\'s RSA public key (PEM or bare base64): verifies answers and notifications.' },
  { name: 'desKey', label: 'DES密钥', secret: true, required: true, description: 'The 3DES key JD issued (base64 of 24 bytes): encrypts every message.' },
  { name: 'baseUrl', label: '接口地址', secret: false, required: false, description: 'Sandbox only: one base URL for the server API and both cashiers. Production: unset (paygate.jd.com, wepay.jd.com, h5pay.jd.com).' },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface JdpayConfig {
  merchant: string;
  privateKey: KeyObject;
  jdPublicKey: KeyObject;
  desKey: Buffer;
  /** Server API base (…/service/… follows). */
  paygateUrl: string;
  pcCashierUrl: string;
  h5CashierUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `jdpay config: ${field} ${problem}`);
}

function guarded<T>(field: string, problem: string, load: () => T): T {
  try {
    return load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, problem);
  }
}

export function parseJdpayConfig(config: ChannelConfig): JdpayConfig {
  const { params, secrets } = config;
  const merchant = params.merchant?.trim() ?? '';
  if (!/^[0-9A-Za-z]{1,32}$/.test(merchant)) throw misconfigured('merchant', merchant ? 'must be 1–32 letters or digits' : 'is required');
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const publicText = params.jdPublicKey?.trim();
  if (!publicText) throw misconfigured('jdPublicKey', 'is required');
  const desText = secrets.desKey?.trim();
  if (!desText) throw misconfigured('desKey', 'is required');
  const sandbox = params.baseUrl?.trim() ? parseChannelBaseUrl('jdpay', 'baseUrl', params.baseUrl, '') : undefined;
  return {
    merchant,
    privateKey: guarded('privateKey', 'is not a readable RSA key', () => loadRsaPrivateKey(privateText)),
    jdPublicKey: guarded('jdPublicKey', 'is not a readable RSA key', () => loadRsaPublicKey(publicText)),
    desKey: guarded('desKey', 'must be base64 of 24 bytes', () => jdDesKey(desText)),
    paygateUrl: sandbox ?? JD_HOSTS.paygate,
    pcCashierUrl: sandbox ? `${sandbox}${JD_SANDBOX_CASHIER_PREFIX.pc}` : JD_HOSTS.pc,
    h5CashierUrl: sandbox ? `${sandbox}${JD_SANDBOX_CASHIER_PREFIX.h5}` : JD_HOSTS.h5,
    timeoutMs: parseTimeoutMs('jdpay', params.timeoutMs),
  };
}
