import type { ChannelDescriptor } from '../types.ts';
import { PaypalChannel } from './channel.ts';
import { paypalConfigFields } from './config.ts';
import { PAYPAL_WAYS } from './protocol.ts';

/** PayPal Checkout (REST Orders v2): PP_PC, in USD, JPY and the other currencies PayPal settles. */
export const paypalDescriptor: ChannelDescriptor = {
  ifCode: 'paypal',
  name: 'PayPal',
  ways: PAYPAL_WAYS,
  configFields: paypalConfigFields,
  create: () => new PaypalChannel(),
};

export { PaypalChannel } from './channel.ts';
export { parsePaypalConfig, paypalConfigFields } from './config.ts';
export type { PaypalConfig } from './config.ts';
