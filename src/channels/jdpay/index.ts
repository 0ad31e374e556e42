import type { ChannelDescriptor } from '../types.ts';
import { JdpayChannel } from './channel.ts';
import { jdpayConfigFields } from './config.ts';
import { JDPAY_WAYS } from './protocol.ts';

/** 京东支付 JD Pay: its own wallet (JD_H5, JD_PC, JD_QR, JD_APP) and its aggregated code for WeChat and Alipay. */
export const jdpayDescriptor: ChannelDescriptor = {
  ifCode: 'jdpay',
  name: '京东支付',
  ways: JDPAY_WAYS,
  configFields: jdpayConfigFields,
  create: () => new JdpayChannel(),
};

export { JdpayChannel } from './channel.ts';
export { parseJdpayConfig, jdpayConfigFields } from './config.ts';
export type { JdpayConfig } from './config.ts';
