import type { WayCode } from '../domain/pay-way.ts';

export type PayerAppId = 'wechat' | 'alipay' | 'unionpay';

export interface PayerApp {
  id: PayerAppId;
  name: readonly [string, string];
  /** How the app's built-in browser names itself in User-Agent. */
  userAgent: RegExp;
  /** Real ways this app can pay with from a web page, in order of preference; the first one the merchant's app has enabled is used. */
  ways: readonly WayCode[];
  /** Needs the payer's identity from the app's authorisation before the channel order can be made … */
  identity: 'wechat-oauth' | 'unionpay-auth' | null;
  /** … and passes it to the channel as this channelExtra field. */
  payerKey: 'openid' | 'userId' | null;
}

/**
 * The payer apps the cashier knows. For Alipay the cashier uses ALI_WAP: it pays inside the Alipay
 * app's browser without first asking the payer's user id, and the sandbox has a page for it
 * (ALI_JSAPI would add an auth_base step and AlipayJSBridge tradePay). 云闪付 pays YSF_JSAPI with the
 * userId UnionPay's user authorisation gives.
 */
export const PAYER_APPS: readonly PayerApp[] = [
  { id: 'wechat', name: ['微信', 'WeChat'], userAgent: /MicroMessenger\//i, ways: ['WX_JSAPI'], identity: 'wechat-oauth', payerKey: 'openid' },
  { id: 'alipay', name: ['支付宝', 'Alipay'], userAgent: /AlipayClient\//i, ways: ['ALI_WAP'], identity: null, payerKey: null },
  { id: 'unionpay', name: ['云闪付', 'UnionPay'], userAgent: /(UnionPay\/|CloudPay|com\.unionpay)/i, ways: ['YSF_JSAPI'], identity: 'unionpay-auth', payerKey: 'userId' },
];

export function payerAppFromUserAgent(userAgent: string | undefined): PayerApp | undefined {
  return userAgent ? PAYER_APPS.find((a) => a.userAgent.test(userAgent)) : undefined;
}

export function payerAppById(id: string | undefined): PayerApp | undefined {
  return PAYER_APPS.find((a) => a.id === id);
}
