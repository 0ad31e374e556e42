import type { ChannelDescriptor } from './types.ts';
import { wechatPayDescriptor } from './wechat-pay/index.ts';
import { alipayDescriptor } from './alipay/index.ts';
import { unionPayDescriptor } from './unionpay/index.ts';
import { shengpayDescriptor } from './shengpay/index.ts';
import { jdpayDescriptor } from './jdpay/index.ts';
import { abcpayDescriptor } from './abcpay/index.ts';
import { paypalDescriptor } from './paypal/index.ts';
import { qqpayDescriptor } from './qqpay/index.ts';
import { icbcDescriptor } from './icbc/index.ts';
import { xinlianDescriptor } from './xinlian/index.ts';

/** The one list of installed channels (one folder each). A new channel is one more line here. */
export const CHANNELS: readonly ChannelDescriptor[] = [wechatPayDescriptor, alipayDescriptor, unionPayDescriptor, shengpayDescriptor, jdpayDescriptor, abcpayDescriptor, paypalDescriptor, qqpayDescriptor, icbcDescriptor, xinlianDescriptor];
