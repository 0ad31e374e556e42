import type { ChannelDescriptor } from '../types.ts';
import { QqpayChannel } from './channel.ts';
import { qqpayConfigFields } from './config.ts';
import { QQPAY_WAYS } from './protocol.ts';

/** QQ 钱包 (QPay): the QQ wallet's merchant API, a WeChat Pay v2 sibling. */
export const qqpayDescriptor: ChannelDescriptor = {
  ifCode: 'qqpay',
  name: 'QQ钱包',
  ways: QQPAY_WAYS,
  configFields: qqpayConfigFields,
  create: () => new QqpayChannel(),
};

export { QqpayChannel } from './channel.ts';
export { parseQqpayConfig, qqpayConfigFields } from './config.ts';
export type { QqpayConfig } from './config.ts';
