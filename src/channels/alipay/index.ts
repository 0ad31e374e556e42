import type { ChannelDescriptor } from '../types.ts';
import { AlipayChannel } from './channel.ts';
import { alipayConfigFields } from './config.ts';
import { ALIPAY_WAYS } from './mapping.ts';

/** Alipay OpenAPI gateway protocol: direct merchants and service providers' sub-merchants (app_auth_token); public-key and certificate modes. */
export const alipayDescriptor: ChannelDescriptor = {
  ifCode: 'alipay',
  name: '支付宝',
  ways: ALIPAY_WAYS,
  configFields: alipayConfigFields,
  create: () => new AlipayChannel(),
};

export { AlipayChannel } from './channel.ts';
export type { AlipayChannelDeps } from './channel.ts';
export { parseAlipayConfig, alipayConfigFields } from './config.ts';
export type { AlipayConfig, KeyMode } from './config.ts';
