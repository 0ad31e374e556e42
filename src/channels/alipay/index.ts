import type { ChannelDescriptor } from '../types.ts';
import { AlipayChannel } from './channel.ts';
import { alipayConfigFields } from './config.ts';
import { ALIPAY_WAYS } from './mapping.ts';

/** Alipay OpenAPI gateway protocol (direct merchant; public-key and certificate modes). ISV mode (app_auth_token) is not offered yet. */
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
