import { ChannelError, type CallbackReply, type ChannelDescriptor, type CloseResult, type CreatePaymentResult, type PayChannel, type PayOrderInput, type PaymentStatus, type RefundStatus } from '../channels/types.ts';
import type { CashierTokens } from './token.ts';

export const CASHIER_IF_CODE = 'cashier';

/**
 * QR_CASHIER (聚合收银台) as a virtual channel: the core routes the way to it like to any channel
 * (the app enables QR_CASHIER through it), and "creating the payment" only mints the cashier link.
 * Nothing exists at any real channel until the payer opens the link in an app: the cashier then
 * re-routes the order to the real way (WX_JSAPI, ALI_WAP, …) and every later query, close, callback
 * and refund goes to that channel (src/cashier/service.ts). Until then the order is only ours, so
 * it can be closed here at once and can never be paid, queried or refunded at a channel.
 */
export class CashierChannel implements PayChannel {
  readonly ifCode = CASHIER_IF_CODE;
  readonly #tokens: CashierTokens;
  readonly #publicUrl: string;

  constructor(tokens: CashierTokens, publicUrl: string) {
    this.#tokens = tokens;
    this.#publicUrl = publicUrl;
  }

  async createPayment(_ctx: unknown, order: PayOrderInput): Promise<CreatePaymentResult> {
    return { status: 'WAITING', payDataType: 'payurl', payData: `${this.#publicUrl}/cashier/${this.#tokens.sign(order.payOrderId, order.expiredAt)}` };
  }

  async queryPayment(): Promise<PaymentStatus> {
    return { status: 'WAITING' };
  }

  async closePayment(): Promise<CloseResult> {
    return { status: 'CLOSED' };
  }

  async refund(): Promise<RefundStatus> {
    throw new ChannelError('rejected', 'a cashier order that no payer has opened cannot have been paid', { channelCode: 'NOT_PAID', channelMessage: 'not paid' });
  }

  async queryRefund(): Promise<RefundStatus> {
    return { status: 'NOT_FOUND' };
  }

  async parseCallback(): Promise<never> {
    throw new ChannelError('protocol', 'the cashier receives no channel callbacks');
  }

  ackReply(): CallbackReply {
    return { status: 200, contentType: 'text/plain', body: 'ok' };
  }

  nackReply(reason: string): CallbackReply {
    return { status: 400, contentType: 'text/plain', body: reason };
  }
}

export function cashierDescriptor(tokens: CashierTokens, publicUrl: string): ChannelDescriptor {
  return {
    ifCode: CASHIER_IF_CODE,
    name: '聚合收银台',
    ways: ['QR_CASHIER'],
    configFields: [
      { name: 'displayName', label: '收银台显示的商户名称', secret: false, required: false, description: 'Shown to payers on the cashier page; defaults to the merchant name.' },
    ],
    create: () => new CashierChannel(tokens, publicUrl),
  };
}
