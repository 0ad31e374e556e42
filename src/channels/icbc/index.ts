import type { ChannelDescriptor } from '../types.ts';
import { IcbcChannel } from './channel.ts';
import { icbcConfigFields } from './config.ts';
import { ICBC_WAYS } from './protocol.ts';

/** 工商银行 ICBC API 开放平台: ICBC_APP, the order paid in 工行手机银行 / 工银e支付. */
export const icbcDescriptor: ChannelDescriptor = {
  ifCode: 'icbc',
  name: '工商银行',
  ways: ICBC_WAYS,
  configFields: icbcConfigFields,
  create: () => new IcbcChannel(),
};

export { IcbcChannel } from './channel.ts';
export { parseIcbcConfig, icbcConfigFields } from './config.ts';
export type { IcbcConfig } from './config.ts';
