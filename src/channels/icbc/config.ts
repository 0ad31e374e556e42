import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadRsaPrivateKey, loadRsaPublicKey } from '../rsa.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';
import { ICBC_GATEWAY } from './protocol.ts';

/** ICBC API 开放平台 configuration of one merchant app (docs/channels/icbc.md). */

export const icbcConfigFields: readonly ConfigField[] = [
  { name: 'appId', label: 'APP ID', secret: false, required: true, description: 'The app id ICBC API 开放平台 issued (app_id of every request).' },
  { name: 'merId', label: '商户编号', secret: false, required: true, description: 'ICBC merchant number (mer_id).' },
  { name: 'merPrtclNo', label: '收单协议号', secret: false, required: false, description: 'The acquiring agreement number (mer_prtcl_no), when ICBC issued one.' },
  { name: 'privateKey', label: '商户RSA私钥', secret: true, required: true, description: 'The app\'s RSA private key (PEM or bare base64): signs requests (RSA2) and notification replies.' },
  { name: 'icbcPublicKey', label: '网关公钥', secret: false, required: true, description: 'The ICBC gateway public key (PEM or bare base64): verifies answers and notifications.' },
  { name: 'baseUrl', label: '网关地址', secret: false, required: false, description: `Defaults to ${ICBC_GATEWAY}; the sandbox points it at the simulator.` },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface IcbcConfig {
  appId: string;
  merId: string;
  merPrtclNo: string | undefined;
  privateKey: KeyObject;
  icbcPublicKey: KeyObject;
  baseUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `icbc config: ${field} ${problem}`);
}

function key<T>(field: string, load: () => T): T {
  try {
    return load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, 'is not a readable RSA key');
  }
}

export function parseIcbcConfig(config: ChannelConfig): IcbcConfig {
  const { params, secrets } = config;
  const appId = params.appId?.trim() ?? '';
  if (!/^[0-9A-Za-z]{1,32}$/.test(appId)) throw misconfigured('appId', appId ? 'must be 1–32 letters or digits' : 'is required');
  const merId = params.merId?.trim() ?? '';
  if (!/^[0-9A-Za-z]{1,32}$/.test(merId)) throw misconfigured('merId', merId ? 'must be 1–32 letters or digits' : 'is required');
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const publicText = params.icbcPublicKey?.trim();
  if (!publicText) throw misconfigured('icbcPublicKey', 'is required');
  return {
    appId,
    merId,
    merPrtclNo: params.merPrtclNo?.trim() || undefined,
    privateKey: key('privateKey', () => loadRsaPrivateKey(privateText)),
    icbcPublicKey: key('icbcPublicKey', () => loadRsaPublicKey(publicText)),
    baseUrl: parseChannelBaseUrl('icbc', 'baseUrl', params.baseUrl, ICBC_GATEWAY),
    timeoutMs: parseTimeoutMs('icbc', params.timeoutMs),
  };
}
