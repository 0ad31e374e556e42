import { UnionPayChannel, appUpIdentifier, readUserAuthReturn } from '../channels/unionpay/index.ts';
import { ChannelError } from '../channels/types.ts';
import type { Gateway } from '../gateway.ts';
import type { PayOrderRow } from '../services/order-store.ts';
import { CashierRefusal } from './service.ts';

/**
 * 云闪付 (YSF_JSAPI) payer identity for the cashier: UnionPay's user authorisation page sends the
 * payer back with a one-time userAuthCode, which the channel exchanges for the userId the order
 * needs (src/channels/unionpay/ysf-user.ts). The channel is the one routing picks for YSF_JSAPI.
 */
async function ysfChannel(gw: Gateway, order: PayOrderRow): Promise<{ channel: UnionPayChannel; ctx: { config: NonNullable<Awaited<ReturnType<Gateway['tenancy']['getChannelConfig']>>>; log: Gateway['log'] } }> {
  const choice = (await gw.cashier.availableApps(order)).find((a) => a.app.id === 'unionpay');
  const channel = choice ? gw.channels.get(choice.ifCode) : undefined;
  const config = choice ? await gw.tenancy.getChannelConfig(order.app_id, choice.ifCode) : null;
  if (!(channel instanceof UnionPayChannel) || !config) throw new CashierRefusal('no-way', 400, 'unionpay');
  return { channel, ctx: { config, log: gw.log } };
}

export async function unionpayAuthUrl(gw: Gateway, order: PayOrderRow, returnUrl: string): Promise<string> {
  const { channel, ctx } = await ysfChannel(gw, order);
  return channel.ysfUserAuthUrl(ctx, returnUrl);
}

export async function unionpayUserId(gw: Gateway, order: PayOrderRow, query: Record<string, string | undefined>, userAgent: string | undefined): Promise<string> {
  const back = readUserAuthReturn(query);
  if ('refused' in back) throw new CashierRefusal('channel', 400, `user authorisation: ${back.refused}`);
  const { channel, ctx } = await ysfChannel(gw, order);
  try {
    return (await channel.lookupYsfUser(ctx, { userAuthCode: back.userAuthCode, appUpIdentifier: appUpIdentifier(userAgent) })).userId;
  } catch (err) {
    if (err instanceof ChannelError) throw new CashierRefusal('channel', 502, err.channelMessage ?? err.message);
    throw err;
  }
}
