import type { KeyObject } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { loadRsaPrivateKey, loadRsaPublicKey } from '../rsa.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';
import { SHENGPAY_DEFAULT_BASE_URL, type ShengpaySignType } from './protocol.ts';
import { isShengpaySignType } from './sign.ts';

/** Shengpay configuration of one merchant app (docs/configuration.md "Shengpay"). */

export const shengpayConfigFields: readonly ConfigField[] = [
  { name: 'mchId', label: '商户号', secret: false, required: true, description: 'Shengpay merchant number (mchId); with subMchId: the service provider\'s.' },
  { name: 'subMchId', label: '子商户号', secret: false, required: false, description: 'Service-provider mode: the sub-merchant acted for. Notifications naming another are refused.' },
  { name: 'privateKey', label: '商户私钥', secret: true, required: true, description: 'Merchant RSA private key (PEM, or the bare base64 Shengpay\'s tool prints). Signs every request.' },
  { name: 'shengpayPublicKey', label: '盛付通公钥', secret: false, required: true, description: 'Shengpay platform public key (PEM or bare base64): verifies answers and notifications.' },
  { name: 'signType', label: '签名方式', secret: false, required: false, description: 'RSA (SHA1withRSA, default) or RSA2 (SHA256withRSA).', options: ['RSA', 'RSA2'] },
  { name: 'orderApi', label: '收单接口类型', secret: false, required: false, description: 'offline (线下, /pay/unifiedorderOffline, default) or online (线上, /pay/unifiedorder), as the contract says.', options: ['offline', 'online'] },
  { name: 'wxAppId', label: '公众号APPID', secret: false, required: false, description: 'WeChat official-account app id bound to the Shengpay merchant (WX_JSAPI, sent in extra.appId).' },
  { name: 'wxLiteAppId', label: '小程序APPID', secret: false, required: false, description: 'WeChat mini-program app id bound to the Shengpay merchant (WX_LITE).' },
  { name: 'baseUrl', label: '接口地址', secret: false, required: false, description: `Defaults to ${SHENGPAY_DEFAULT_BASE_URL}; the sandbox points it at the simulator.` },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface ShengpayConfig {
  mchId: string;
  subMchId: string | undefined;
  privateKey: KeyObject;
  shengpayPublicKey: KeyObject;
  signType: ShengpaySignType;
  orderApi: 'offline' | 'online';
  wxAppId: string | undefined;
  wxLiteAppId: string | undefined;
  baseUrl: string;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `shengpay config: ${field} ${problem}`);
}

function key<T>(field: string, load: () => T): T {
  try {
    return load();
  } catch {
    // Parse errors can quote key material; never pass them on.
    throw misconfigured(field, 'is not a readable RSA key');
  }
}

const ID = /^[0-9A-Za-z_-]{1,32}$/;

export function parseShengpayConfig(config: ChannelConfig): ShengpayConfig {
  const { params, secrets } = config;
  const mchId = params.mchId?.trim() ?? '';
  if (!ID.test(mchId)) throw misconfigured('mchId', mchId ? 'must be 1–32 letters or digits' : 'is required');
  const subMchId = params.subMchId?.trim() || undefined;
  if (subMchId !== undefined && !ID.test(subMchId)) throw misconfigured('subMchId', 'must be 1–32 letters or digits');
  const privateText = secrets.privateKey?.trim();
  if (!privateText) throw misconfigured('privateKey', 'is required');
  const publicText = params.shengpayPublicKey?.trim();
  if (!publicText) throw misconfigured('shengpayPublicKey', 'is required');
  const signType = params.signType?.trim() || 'RSA';
  if (!isShengpaySignType(signType)) throw misconfigured('signType', 'must be RSA or RSA2');
  const orderApi = params.orderApi?.trim() || 'offline';
  if (orderApi !== 'offline' && orderApi !== 'online') throw misconfigured('orderApi', 'must be offline or online');
  return {
    mchId,
    subMchId,
    privateKey: key('privateKey', () => loadRsaPrivateKey(privateText)),
    shengpayPublicKey: key('shengpayPublicKey', () => loadRsaPublicKey(publicText)),
    signType,
    orderApi,
    wxAppId: params.wxAppId?.trim() || undefined,
    wxLiteAppId: params.wxLiteAppId?.trim() || undefined,
    baseUrl: parseChannelBaseUrl('shengpay', 'baseUrl', params.baseUrl, SHENGPAY_DEFAULT_BASE_URL),
    timeoutMs: parseTimeoutMs('shengpay', params.timeoutMs),
  };
}
