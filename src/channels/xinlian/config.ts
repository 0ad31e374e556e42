import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadRsaPrivateKey, loadRsaPublicKey } from '../rsa.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';

/** 信联 Xinlian configuration of one merchant app (docs/channels/xinlian.md). */

export const xinlianConfigFields: readonly ConfigField[] = [
  { name: 'mchNo', label: '商户号', secret: false, required: true, description: 'Xinlian merchant number (mchNo).' },
  { name: 'appId', label: '应用ID', secret: false, required: true, description: 'Xinlian application id (appId) the orders are made under.' },
  { name: 'privateKey', label: '商户RSA私钥', secret: true, required: true, description: 'Merchant RSA private key (PEM or bare base64): signs every request (RSA2).' },
  { name: 'xinlianPublicKey', label: '信联公钥', secret: false, required: true, description: 'Xinlian platform RSA public key (PEM or bare base64): verifies answers and notifications.' },
  { name: 'baseUrl', label: '接口地址', secret: false, required: true, description: 'The API base URL from your Xinlian contract (no public default); the sandbox points it at the simulator.' },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface XinlianConfig {
  mchNo: string;
  appId: string;
  privateKey: KeyObject;
  xinlianPublicKey: KeyObject;
  baseUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `xinlian config: ${field} ${problem}`);
}

function key<T>(field: string, load: () => T): T {
  try {
    return load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, 'is not a readable RSA key');
  }
}

export function parseXinlianConfig(config: ChannelConfig): XinlianConfig {
  const { params, secrets } = config;
  const id = (field: 'mchNo' | 'appId'): string => {
    const v = params[field]?.trim() ?? '';
    if (!/^[0-9A-Za-z_-]{1,32}$/.test(v)) throw misconfigured(field, v ? 'must be 1–32 letters, digits, _ or -' : 'is required');
    return v;
  };
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const publicText = params.xinlianPublicKey?.trim();
  if (!publicText) throw misconfigured('xinlianPublicKey', 'is required');
  if (!params.baseUrl?.trim()) throw misconfigured('baseUrl', 'is required (Xinlian has no public default)');
  return {
    mchNo: id('mchNo'),
    appId: id('appId'),
    privateKey: key('privateKey', () => loadRsaPrivateKey(privateText)),
    xinlianPublicKey: key('xinlianPublicKey', () => loadRsaPublicKey(publicText)),
    baseUrl: parseChannelBaseUrl('xinlian', 'baseUrl', params.baseUrl, ''),
    timeoutMs: parseTimeoutMs('xinlian', params.timeoutMs),
  };
}
