import type { SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { prepayId } from './ids.ts';
import { STATE_DESC, payOrder } from './transactions.ts';
import type { ApiDialect, MerchantRecord, OrderRecord, PartnerInfo } from './types.ts';

/**
 * 付款码 (v2 micropay, v3 codepay) and 撤销 (reverse). Magic payment codes pick what the payer does
 * (docs/sandbox/wechat-pay.md): 10…/15… pay at once; 11…NN the payer needs NN seconds to enter
 * the password (99: never); 12… insufficient balance; 13… a system error answer although the
 * payment went through; 14… an expired code. Password delays are divided by barcodeTimeScale.
 */

export type BarAnswer = { kind: 'paid'; order: OrderRecord } | { kind: 'userpaying'; order: OrderRecord } | { kind: 'refused'; code: 'NOTENOUGH' | 'AUTHCODEEXPIRE' | 'SYSTEMERROR' | 'ORDERREVERSED' | 'ORDERCLOSED'; message: string };

export interface BarInput {
  appid: string;
  description: string;
  out_trade_no: string;
  amount_total: number;
  auth_code: string;
  fingerprint: string;
  /** Partner (服务商) 付款码: the order is the sub-merchant's, placed by this provider. */
  partner?: PartnerInfo;
}

export const AUTH_CODE_RE = /^1[0-5]\d{16}$/;

function refused(code: Extract<BarAnswer, { kind: 'refused' }>['code'], message: string): BarAnswer {
  return { kind: 'refused', code, message };
}

function answerFor(o: OrderRecord): BarAnswer {
  if (o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND') return { kind: 'paid', order: o };
  if (o.trade_state === 'USERPAYING') return { kind: 'userpaying', order: o };
  if (o.trade_state === 'REVOKED') return refused('ORDERREVERSED', '订单已撤销');
  if (o.trade_state === 'CLOSED') return refused('ORDERCLOSED', '订单已关闭');
  return refused(o.bar_refusal ?? 'AUTHCODEEXPIRE', o.trade_state_desc);
}

export function barPay(ctx: SimContext, merchant: MerchantRecord, input: BarInput, dialect: ApiDialect): BarAnswer {
  const existing = ctx.state.order(merchant.mchid, input.out_trade_no);
  if (existing) {
    // A repeat with the same parameters reports where the payment stands (cashiers retry micropay).
    if (existing.fingerprint !== input.fingerprint || existing.trade_type !== 'MICROPAY') throw new SimError(400, 'INVALID_REQUEST', '商户订单号重复，且请求参数与原订单不一致');
    return answerFor(existing);
  }
  const now = ctx.now();
  const o: OrderRecord = {
    mchid: merchant.mchid,
    appid: input.appid,
    out_trade_no: input.out_trade_no,
    trade_type: 'MICROPAY',
    description: input.description,
    notify_url: '',
    amount_total: input.amount_total,
    currency: 'CNY',
    time_expire: now + 24 * 3600 * 1000,
    create_time: now,
    fingerprint: input.fingerprint,
    prepay_id: prepayId(now),
    trade_state: 'NOTPAY',
    trade_state_desc: STATE_DESC.NOTPAY,
    refunded_total: 0,
    refund_nos: [],
    ...(dialect.api === 'v2' ? { dialect } : {}),
    ...(input.partner ? { partner: input.partner } : {}),
  };
  ctx.state.addOrder(o);
  const kind = input.auth_code.slice(0, 2);
  if (kind === '12' || kind === '14') {
    o.trade_state = 'PAYERROR';
    o.bar_refusal = kind === '12' ? 'NOTENOUGH' : 'AUTHCODEEXPIRE';
    o.trade_state_desc = kind === '12' ? '余额不足' : '二维码已过期，请用户在微信上刷新后再试';
    ctx.state.changed();
    return answerFor(o);
  }
  if (kind === '11') {
    o.trade_state = 'USERPAYING';
    o.trade_state_desc = '需要用户输入支付密码';
    ctx.state.changed();
    const seconds = Number(input.auth_code.slice(-2));
    if (seconds !== 99) {
      ctx.scheduler.at((seconds * 1000) / ctx.barcodeTimeScale, () => {
        if (o.trade_state === 'USERPAYING') payOrder(ctx, o);
      });
    }
    return answerFor(o);
  }
  payOrder(ctx, o);
  // 13…: the payment went through, but the answer says SYSTEMERROR; only a query tells the truth.
  if (kind === '13') return refused('SYSTEMERROR', '系统超时，请立即调用被扫订单结果查询API，查询当前订单状态');
  return answerFor(o);
}

/** 撤销: an unpaid or waiting order is revoked; a paid one is refunded in full and revoked. Idempotent. */
export function reverseOrder(ctx: SimContext, o: OrderRecord): void {
  if (o.trade_type !== 'MICROPAY') throw new SimError(400, 'INVALID_REQUEST', '仅付款码支付订单可以撤销，其他订单请调用关单或退款');
  if (o.trade_state === 'REVOKED') return;
  if (o.trade_state === 'SUCCESS') o.refunded_total = o.amount_total;
  o.trade_state = 'REVOKED';
  o.trade_state_desc = '已撤销';
  ctx.state.changed();
}
