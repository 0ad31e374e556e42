import { ChannelError, type CreatePaymentResult, type PaymentStatus, type PayOrderInput } from '../types.ts';
import { BAR_FINAL_CODES } from './protocol.ts';

/**
 * MICROPAY (付款码, Q4), in the gateway's bar-code shape (as WX_BAR, wechat-pay/bar.ts): a success
 * is final; USERPAYING = the payer is entering the password: WAITING, the core polls and reverses
 * on timeout; SYSTEMERROR, an unknown code or no answer: the money may have moved, so a query
 * decides; a listed refusal is final.
 */

const WAITING: CreatePaymentResult = { status: 'WAITING', payDataType: 'none', payData: '' };

function failed(errCode: string, errMsg: string): CreatePaymentResult {
  return { status: 'FAIL', payDataType: 'none', payData: '', errCode, errMsg };
}

/** The core records a synchronous success as is, so the echo is checked here. */
function paid(order: PayOrderInput, st: PaymentStatus): CreatePaymentResult {
  if (st.outTradeNo !== undefined && st.outTradeNo !== order.payOrderId) throw new ChannelError('mismatch', `qqpay: micropay answer names order ${st.outTradeNo}`);
  if (st.amount !== order.amount) throw new ChannelError('mismatch', `qqpay: micropay answer says ${String(st.amount)} fen for an order of ${order.amount}`);
  return { status: 'SUCCESS', payDataType: 'none', payData: '', ...(st.channelOrderNo && { channelOrderNo: st.channelOrderNo }), ...(st.channelUser && { channelUser: st.channelUser }) };
}

export async function micropay(order: PayOrderInput, pay: () => Promise<PaymentStatus>, query: () => Promise<PaymentStatus>): Promise<CreatePaymentResult> {
  let st: PaymentStatus;
  try {
    st = await pay();
  } catch (err) {
    if (!(err instanceof ChannelError)) throw err;
    if (err.channelCode === 'USERPAYING') return WAITING;
    if (err.kind === 'system' || err.kind === 'timeout') {
      const known = await query().catch(() => undefined);
      if (known?.status === 'SUCCESS') return paid(order, known);
      if (known?.status === 'FAIL' || known?.status === 'CLOSED' || known?.status === 'REVOKED') return failed(err.channelCode ?? 'PAYERROR', known.errMsg ?? err.message);
      return WAITING;
    }
    if (err.kind === 'rejected' && (BAR_FINAL_CODES as readonly string[]).includes(err.channelCode ?? '')) return failed(err.channelCode as string, err.channelMessage ?? err.message);
    throw err;
  }
  return st.status === 'SUCCESS' ? paid(order, st) : WAITING;
}
