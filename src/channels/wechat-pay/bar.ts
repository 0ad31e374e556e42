import { ChannelError, type ChannelContext, type CreatePaymentResult, type PaymentStatus, type PayOrderInput, type ReverseResult } from '../types.ts';
import type { WechatPayClient } from './client.ts';
import { partnerParties } from './partner.ts';
import { requireCny, sameCode, toPaymentStatus, truncateDescription } from './mapping.ts';
import type { WechatPayV2Client } from './v2-client.ts';
import { v2Body, v2OrderExtras, v2PaymentStatus } from './v2-mapping.ts';

/**
 * WX_BAR (付款码): the merchant scans the payer's code. v2 /pay/micropay or v3 codepay
 * (protocols.md §A.2, §B.3). USERPAYING = the payer is entering the password: WAITING, and the
 * core polls, then reverses (撤销) on timeout. SYSTEMERROR/BANKERROR or no answer: the money may
 * have moved, so the channel queries before deciding. The listed codes are final refusals.
 */

const FINAL_CODES = ['AUTHCODEEXPIRE', 'AUTH_CODE_INVALID', 'AUTH_CODE_ERROR', 'NOTENOUGH', 'NOTSUPORTCARD', 'ORDERCLOSED', 'ORDERREVERSED', 'BUYER_MISMATCH', 'TRADE_ERROR', 'PAYER_ACCOUNT_ABNORMAL', 'NOAUTH', 'PARAM_ERROR'];

function authCode(order: PayOrderInput): string {
  const code = order.extra.authCode ?? order.extra.auth_code;
  if (typeof code !== 'string' || !/^1[0-5]\d{16}$/.test(code)) {
    throw new ChannelError('rejected', 'wxpay: WX_BAR needs an 18-digit WeChat payment code (10–15…)', { channelCode: 'AUTH_CODE_INVALID', channelMessage: 'invalid auth code' });
  }
  return code;
}

/** The core records a synchronous success as is, so the echo is checked here. */
function success(order: PayOrderInput, st: PaymentStatus): CreatePaymentResult {
  if (st.outTradeNo !== undefined && st.outTradeNo !== order.payOrderId) throw new ChannelError('mismatch', `wxpay: bar-code answer names order ${st.outTradeNo}`);
  if (st.amount !== order.amount) throw new ChannelError('mismatch', `wxpay: bar-code answer says ${String(st.amount)} fen for an order of ${order.amount}`);
  return { status: 'SUCCESS', payDataType: 'none', payData: '', ...(st.channelOrderNo && { channelOrderNo: st.channelOrderNo }), ...(st.channelUser && { channelUser: st.channelUser }) };
}

const WAITING: CreatePaymentResult = { status: 'WAITING', payDataType: 'none', payData: '' };

async function decide(order: PayOrderInput, pay: () => Promise<PaymentStatus>, query: () => Promise<PaymentStatus>): Promise<CreatePaymentResult> {
  let st: PaymentStatus;
  try {
    st = await pay();
  } catch (err) {
    if (!(err instanceof ChannelError)) throw err;
    if (sameCode(err.channelCode, 'USERPAYING')) return WAITING;
    if (err.kind === 'system' || err.kind === 'timeout') {
      const known = await query().catch(() => undefined);
      if (known?.status === 'SUCCESS') return success(order, known);
      if (known?.status === 'FAIL' || known?.status === 'CLOSED' || known?.status === 'REVOKED') return { status: 'FAIL', payDataType: 'none', payData: '', errCode: err.channelCode ?? 'PAYERROR', errMsg: known.errMsg ?? err.message };
      return WAITING; // still unknown: the core polls and reverses on timeout
    }
    if (err.kind === 'rejected' && FINAL_CODES.some((c) => sameCode(err.channelCode, c))) {
      return { status: 'FAIL', payDataType: 'none', payData: '', errCode: err.channelCode as string, errMsg: err.channelMessage ?? err.message };
    }
    throw err;
  }
  return st.status === 'SUCCESS' ? success(order, st) : WAITING;
}

export function createV3Bar(ctx: ChannelContext, client: WechatPayClient, order: PayOrderInput, query: () => Promise<PaymentStatus>): Promise<CreatePaymentResult> {
  requireCny(order.currency);
  const { sp } = client.config;
  const body = {
    ...(sp ? partnerParties(client.config, sp) : { appid: client.config.appId, mchid: client.config.mchId }),
    description: truncateDescription(order.subject),
    out_trade_no: order.payOrderId,
    payer: { auth_code: authCode(order) },
    amount: { total: order.amount, currency: 'CNY' },
    scene_info: { device_ip: order.clientIp || '127.0.0.1', store_info: { out_id: typeof order.extra.storeId === 'string' ? order.extra.storeId : 'polypay' } },
  };
  const path = sp ? '/v3/pay/partner/transactions/codepay' : '/v3/pay/transactions/codepay';
  return decide(order, async () => toPaymentStatus((await client.call('POST', path, body, ctx.log)).data), query);
}

export function createV2Bar(ctx: ChannelContext, client: WechatPayV2Client, order: PayOrderInput, query: () => Promise<PaymentStatus>): Promise<CreatePaymentResult> {
  requireCny(order.currency);
  const fields = {
    appid: client.config.appId,
    body: v2Body(order.subject),
    out_trade_no: order.payOrderId,
    total_fee: String(order.amount),
    fee_type: 'CNY',
    spbill_create_ip: order.clientIp || '127.0.0.1',
    auth_code: authCode(order),
    ...v2OrderExtras(client.config),
  };
  // A micropay success carries the trade fields without trade_state: it is SUCCESS by definition.
  return decide(order, async () => v2PaymentStatus(await client.call('/pay/micropay', fields, ctx.log), 'SUCCESS'), query);
}

function reverseOutcome(err: unknown): ReverseResult {
  if (!(err instanceof ChannelError)) throw err;
  if (sameCode(err.channelCode, 'ORDERNOTEXIST')) return { status: 'REVERSED' }; // nothing reached WeChat: nothing to undo
  if (err.kind === 'system' || err.kind === 'timeout' || sameCode(err.channelCode, 'USERPAYING')) return { status: 'RETRY' };
  throw err;
}

/** v3 撤销: 2xx = reversed (refunded if it had been paid); `recall: true` asks for another call. */
export async function reverseV3(ctx: ChannelContext, client: WechatPayClient, order: PayOrderInput): Promise<ReverseResult> {
  try {
    const { sp } = client.config;
    const path = `/v3/pay/${sp ? 'partner/' : ''}transactions/out-trade-no/${encodeURIComponent(order.payOrderId)}/reverse`;
    const answer = await client.call('POST', path, sp ? partnerParties(client.config, sp) : { appid: client.config.appId, mchid: client.config.mchId }, ctx.log);
    const recall = (answer.data as { recall?: unknown } | null)?.recall;
    return { status: recall === true ? 'RETRY' : 'REVERSED' };
  } catch (err) {
    return reverseOutcome(err);
  }
}

/** v2 /secapi/pay/reverse (mutual TLS): recall=Y asks for another call. */
export async function reverseV2(ctx: ChannelContext, client: WechatPayV2Client, order: PayOrderInput): Promise<ReverseResult> {
  try {
    const answer = await client.call('/secapi/pay/reverse', { appid: client.config.appId, out_trade_no: order.payOrderId }, ctx.log);
    return { status: answer.recall === 'Y' ? 'RETRY' : 'REVERSED' };
  } catch (err) {
    return reverseOutcome(err);
  }
}
