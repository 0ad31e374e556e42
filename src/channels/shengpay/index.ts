import type { ChannelDescriptor } from '../types.ts';
import { ShengpayChannel } from './channel.ts';
import { shengpayConfigFields } from './config.ts';
import { SHENGPAY_WAYS } from './protocol.ts';

/** 盛付通 Shengpay 聚合收单: WeChat, Alipay and UnionPay ways (incl. bar code) through one acquirer contract. */
export const shengpayDescriptor: ChannelDescriptor = {
  ifCode: 'shengpay',
  name: '盛付通',
  ways: SHENGPAY_WAYS,
  configFields: shengpayConfigFields,
  create: () => new ShengpayChannel(),
};

export { ShengpayChannel } from './channel.ts';
export { parseShengpayConfig, shengpayConfigFields } from './config.ts';
export type { ShengpayConfig } from './config.ts';
