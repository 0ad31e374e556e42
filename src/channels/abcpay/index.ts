import type { ChannelDescriptor } from '../types.ts';
import { AbcpayChannel } from './channel.ts';
import { abcpayConfigFields } from './config.ts';
import { ABCPAY_WAYS } from './protocol.ts';

/** 中国农业银行 ABC TrustPay / 综合收银台: one code for WeChat, Alipay, UnionPay and 掌银 (一码多扫), and 掌银 app payment (ABC_APP). */
export const abcpayDescriptor: ChannelDescriptor = {
  ifCode: 'abcpay',
  name: '农业银行',
  ways: ABCPAY_WAYS,
  configFields: abcpayConfigFields,
  create: () => new AbcpayChannel(),
};

export { AbcpayChannel } from './channel.ts';
export { parseAbcpayConfig, abcpayConfigFields } from './config.ts';
export type { AbcpayConfig } from './config.ts';
