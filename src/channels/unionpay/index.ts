import type { ChannelDescriptor } from '../types.ts';
import { UnionPayChannel } from './channel.ts';
import { unionPayConfigFields } from './config.ts';
import { UNIONPAY_WAYS } from './mapping.ts';

/**
 * 云闪付 / UnionPay: a direct 全渠道 merchant (ACP 5.1.0, every way) or a sub-merchant of a 云闪付
 * service provider (YSF_BAR, UP_BAR, YSF_JSAPI). ifCode `ysfpay`, as in Jeepay.
 */
export const unionPayDescriptor: ChannelDescriptor = {
  ifCode: 'ysfpay',
  name: '云闪付 / 银联',
  ways: UNIONPAY_WAYS,
  configFields: unionPayConfigFields,
  create: () => new UnionPayChannel(),
};

export { UnionPayChannel, ACK_BODY } from './channel.ts';
export type { UnionPayChannelDeps } from './channel.ts';
export { parseUnionPayConfig, unionPayConfigFields } from './config.ts';
export type { UnionPayConfig, AcpConfig, SpConfig } from './config.ts';
export { appUpIdentifier, isYsfUserAgent, readUserAuthReturn, userAuthRedirect } from './ysf-user.ts';
