import type { ChannelDescriptor } from '../types.ts';
import { XinlianChannel } from './channel.ts';
import { xinlianConfigFields } from './config.ts';
import { XINLIAN_WAYS } from './protocol.ts';

/** 信联 Xinlian acquiring: the Alipay mini-program payment (XLALILITE, ALI_LITE). Protocol assumed: docs/channels/xinlian.md. */
export const xinlianDescriptor: ChannelDescriptor = {
  ifCode: 'xinlian',
  name: '信联',
  ways: XINLIAN_WAYS,
  configFields: xinlianConfigFields,
  create: () => new XinlianChannel(),
};

export { XinlianChannel } from './channel.ts';
export { parseXinlianConfig, xinlianConfigFields } from './config.ts';
export type { XinlianConfig } from './config.ts';
