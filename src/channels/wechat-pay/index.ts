import type { ChannelDescriptor } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { wechatPayConfigFields } from './config.ts';
import { wechatIdentityConfigFields } from './identity.ts';
import { wechatPayV2ConfigFields } from './v2-config.ts';
import { wechatSpConfigFields } from './sp-config.ts';
import { WECHAT_WAYS } from './mapping.ts';

/** WeChat Pay API v3 or v2, direct merchant or service-provider sub-merchant, per configuration; WX_BAR (付款码) through micropay / codepay. */
export const wechatPayDescriptor: ChannelDescriptor = {
  ifCode: 'wxpay',
  name: '微信支付',
  ways: [...WECHAT_WAYS, 'WX_BAR'],
  configFields: [...wechatPayConfigFields, ...wechatPayV2ConfigFields, ...wechatIdentityConfigFields, ...wechatSpConfigFields],
  create: () => new WechatPayChannel(),
};

export { WechatPayChannel } from './channel.ts';
export type { WechatPayChannelDeps } from './channel.ts';
export { parseWechatPayConfig, wechatPayConfigFields } from './config.ts';
export type { WechatPayConfig, VerifyMode } from './config.ts';
