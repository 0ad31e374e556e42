/**
 * Pay ways from the requirements (seed 000), with their Chinese names. The code is the
 * merchant-facing `wayCode` (Jeepay-compatible). Which channel serves a way is decided
 * per merchant app; this table only says what exists.
 */
export const PAY_WAYS = {
  WX_H5: '微信H5',
  WX_JSAPI: '微信公众号',
  WX_LITE: '微信小程序',
  WX_NATIVE: '微信扫码',
  WX_BAR: '微信条码',
  WX_APP: '微信APP',
  WX: '微信',
  ALI: '支付宝支付',
  ALI_APP: '支付宝App',
  ALI_BAR: '支付宝条码',
  ALI_JSAPI: '支付宝生活号',
  ALI_LITE: '支付宝小程序',
  ALI_PC: '支付宝PC网站',
  ALI_QR: '支付宝二维码',
  ALI_WAP: '支付宝WAP',
  XLALILITE: '信联支付宝支付',
  YSF_BAR: '云闪付条码',
  YSF_JSAPI: '云闪付jsapi',
  YSF_LITE: '云闪付小程序',
  UP_QR: '银联二维码(主扫)',
  UP_BAR: '银联二维码(被扫)',
  UP_APP: '银联App支付',
  QR_CASHIER: '聚合',
  QQ_PAY: '钱包',
  PP_PC: 'PayPal支付',
  ICBC_APP: '工行APP支付',
  // Not in the requirement list: Jeepay's virtual way — the gateway picks the *_BAR way from the payer's code.
  AUTO_BAR: '条码聚合',
  // Not in the requirement list: JD Pay's own wallet (京东支付), an acquirer's extension (docs/api.md).
  JD_H5: '京东H5支付',
  JD_PC: '京东PC网页支付',
  JD_QR: '京东扫码支付',
  JD_APP: '京东APP支付',
  // Not in the requirement list: 农业银行 ABC's own mobile bank (掌银), an acquirer's extension (docs/api.md).
  ABC_APP: '农行掌银支付',
} as const;

export type WayCode = keyof typeof PAY_WAYS;

export function isWayCode(value: unknown): value is WayCode {
  return typeof value === 'string' && Object.hasOwn(PAY_WAYS, value);
}

/** Jeepay payDataType literals (jeepay.md §3.6), exact case. */
export const PAY_DATA_TYPES = ['payurl', 'form', 'wxapp', 'aliapp', 'ysfapp', 'codeUrl', 'codeImgUrl', 'none'] as const;
export type PayDataType = (typeof PAY_DATA_TYPES)[number];

export function isPayDataType(value: unknown): value is PayDataType {
  return typeof value === 'string' && (PAY_DATA_TYPES as readonly string[]).includes(value);
}

/** Merchant scans the payer's code (付款码): synchronous outcome, or "payer is entering the password". */
export const BAR_WAYS: ReadonlySet<WayCode> = new Set(['WX_BAR', 'ALI_BAR', 'YSF_BAR', 'UP_BAR']);

/**
 * Whether an order is bar-code pay: a bar-code way, or QQ_PAY with trade type MICROPAY (QQ 钱包
 * has one way for every trade type; channelExtra `tradeType` or the payer's `authCode` picks it).
 */
export function isBarCodeOrder(way: string, channelExtra: Record<string, unknown> | string | null | undefined): boolean {
  if (BAR_WAYS.has(way as WayCode)) return true;
  if (way !== 'QQ_PAY' || !channelExtra) return false;
  let extra: unknown = channelExtra;
  if (typeof channelExtra === 'string') {
    try {
      extra = JSON.parse(channelExtra);
    } catch {
      return false;
    }
  }
  if (typeof extra !== 'object' || extra === null) return false;
  const e = extra as Record<string, unknown>;
  return e.tradeType === 'MICROPAY' || (e.tradeType === undefined && (typeof e.authCode === 'string' || typeof e.auth_code === 'string'));
}

/**
 * AUTO_BAR: which bar-code way a payer's code belongs to, by its published prefixes
 * (jeepay.md §3.5): WeChat 18 digits 10–15; Alipay 16–24 digits 25–30; UnionPay/云闪付 19 digits 62; QQ 钱包 18 digits 91.
 */
export function barWayForCode(authCode: string): WayCode | undefined {
  if (/^1[0-5]\d{16}$/.test(authCode)) return 'WX_BAR';
  if (/^(2[5-9]|30)\d{14,22}$/.test(authCode)) return 'ALI_BAR';
  if (/^62\d{17}$/.test(authCode)) return 'YSF_BAR';
  // QQ 钱包 付款码: 18 digits starting 91 (docs/channels/qqpay.md Q4); QQ_PAY with a code is its MICROPAY.
  if (/^91\d{16}$/.test(authCode)) return 'QQ_PAY';
  return undefined;
}

/** The order context a generic way is resolved from (channelExtra and the merchant's returnUrl). */
export interface GenericWayContext {
  /** The payer's payment code (付款码). */
  authCode?: string | undefined;
  /** The payer is identified in the wallet (openid, buyer id or a payer sessionToken). */
  identifiedPayer: boolean;
  returnUrl?: string | null | undefined;
}

/**
 * The generic ways WX (微信) and ALI (支付宝支付) of seed 000 name a wallet, not a product: the
 * gateway picks the product from what the order carries, first match wins — a payment code → the
 * bar-code way; an identified payer → the in-wallet JSAPI way; a return URL (a browser outside the
 * wallet) → WX_H5 / ALI_WAP; otherwise the QR code the payer scans. Deterministic on purpose: the
 * same order always becomes the same product. Resolved before routing, so passages, limits, fees,
 * bar-code polling and payer identity all work on the concrete way the order then carries.
 */
export function concreteWay(way: 'WX' | 'ALI', ctx: GenericWayContext): WayCode {
  const wx = way === 'WX';
  if (ctx.authCode) return wx ? 'WX_BAR' : 'ALI_BAR';
  if (ctx.identifiedPayer) return wx ? 'WX_JSAPI' : 'ALI_JSAPI';
  if (ctx.returnUrl) return wx ? 'WX_H5' : 'ALI_WAP';
  return wx ? 'WX_NATIVE' : 'ALI_QR';
}

/** channelExtra keys that identify the payer in each wallet (Jeepay's names and the channels' own). */
export const PAYER_KEYS = {
  WX: ['openid', 'openId', 'sub_openid', 'subOpenid', 'sessionToken'],
  ALI: ['buyerUserId', 'buyer_id', 'buyerId', 'userId', 'user_id', 'buyerOpenId', 'buyer_open_id', 'openId', 'open_id', 'sessionToken'],
} as const;
