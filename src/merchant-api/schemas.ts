import { Type, type TSchema } from 'typebox';
import { PAY_WAYS } from '../domain/pay-way.ts';

/**
 * Request/response schemas of the merchant API. They validate requests, generate the
 * OpenAPI document served at /docs, and their property lists are the fields covered by
 * the merchant signature (Jeepay verifies over its DTO's known fields, jeepay.md §3.2).
 * Examples here are exercised by test/e2e/api-examples.test.ts.
 */
const ID = (description: string, max = 64) => Type.String({ minLength: 1, maxLength: max, pattern: '^[0-9A-Za-z_\\-|*@.]+$', description });
const URL_FIELD = (description: string) => Type.String({ maxLength: 512, pattern: '^https?://[^\\s]+$', description });

export const COMMON_FIELDS = {
  mchNo: Type.String({ minLength: 1, maxLength: 32, description: 'Merchant number', examples: ['M1700000000000'] }),
  appId: Type.String({ minLength: 1, maxLength: 64, description: 'Merchant app id', examples: ['6e7f2a9b0c1d2e3f4a5b6c7d'] }),
  reqTime: Type.String({ pattern: '^[0-9]{10}([0-9]{3})?$', description: 'Request time, epoch milliseconds (13 digits) or seconds (10); must be within ±5 minutes of the gateway clock' }),
  version: Type.Optional(Type.String({ maxLength: 8, description: 'API version, "1.0"' })),
  signType: Type.Optional(Type.String({ enum: ['MD5', 'HMAC-SHA256', 'md5', 'hmac-sha256', 'HMAC_SHA256'], description: 'MD5 (default, Jeepay) or HMAC-SHA256' })),
  sign: Type.String({ minLength: 32, maxLength: 64, description: 'Signature over the other fields, see docs/api.md' }),
};

export const UnifiedOrderBody = Type.Object({
  ...COMMON_FIELDS,
  mchOrderNo: ID('Merchant order number: unique per merchant, the idempotency key'),
  wayCode: Type.String({ enum: Object.keys(PAY_WAYS), description: 'Pay way, e.g. WX_NATIVE' }),
  amount: Type.Integer({ minimum: 1, maximum: 100_000_000_000, description: 'Amount in the minor unit (fen for CNY)' }),
  currency: Type.String({ minLength: 3, maxLength: 3, description: 'ISO currency, e.g. cny' }),
  subject: Type.String({ minLength: 1, maxLength: 64, description: 'Goods title' }),
  body: Type.String({ minLength: 1, maxLength: 256, description: 'Goods description' }),
  clientIp: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9A-Fa-f:.]+$', description: 'Payer IP (required by WX_H5)' })),
  notifyUrl: Type.Optional(URL_FIELD('Where Polypay POSTs the signed result')),
  returnUrl: Type.Optional(URL_FIELD('Where the payer browser returns (H5/PC ways)')),
  expiredTime: Type.Optional(Type.Integer({ minimum: 60, maximum: 2_592_000, description: 'Seconds until the order expires (default 7200)' })),
  channelExtra: Type.Optional(Type.String({ maxLength: 2048, description: 'JSON object string: openid (WX_JSAPI/WX_LITE), payDataType (codeUrl|codeImgUrl|payurl…)' })),
  extParam: Type.Optional(Type.String({ maxLength: 512, description: 'Echoed back in query and notifications' })),
  divisionMode: Type.Optional(Type.Integer({ minimum: 0, maximum: 2, description: 'Profit sharing: 0 none (only 0 is supported now)' })),
});

export const PayQueryBody = Type.Object({
  ...COMMON_FIELDS,
  payOrderId: Type.Optional(ID('Polypay order id (P…)', 32)),
  mchOrderNo: Type.Optional(ID('Merchant order number')),
  sync: Type.Optional(Type.Integer({ minimum: 0, maximum: 1, description: '1: ask the channel now if the order is not final (use when the payer says "I paid")' })),
});

export const PayConfirmBody = Type.Object({
  ...COMMON_FIELDS,
  payOrderId: Type.Optional(ID('Polypay order id (P…)', 32)),
  mchOrderNo: Type.Optional(ID('Merchant order number')),
  clientResult: Type.String({ enum: ['ok', 'cancel', 'fail'], description: 'What the payer\'s client reported after wx.requestPayment' }),
});

export const PayCloseBody = Type.Object({
  ...COMMON_FIELDS,
  payOrderId: Type.Optional(ID('Polypay order id (P…)', 32)),
  mchOrderNo: Type.Optional(ID('Merchant order number')),
});

export const RefundOrderBody = Type.Object({
  ...COMMON_FIELDS,
  payOrderId: Type.Optional(ID('Polypay order id (P…)', 32)),
  mchOrderNo: Type.Optional(ID('Merchant order number')),
  mchRefundNo: ID('Merchant refund number: unique per merchant, the idempotency key'),
  refundAmount: Type.Integer({ minimum: 1, maximum: 100_000_000_000, description: 'Refund amount in the minor unit' }),
  currency: Type.String({ minLength: 3, maxLength: 3, description: 'Must equal the order currency' }),
  refundReason: Type.String({ minLength: 1, maxLength: 80, description: 'Reason shown to the payer' }),
  clientIp: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9A-Fa-f:.]+$' })),
  notifyUrl: Type.Optional(URL_FIELD('Where Polypay POSTs the refund result')),
  channelExtra: Type.Optional(Type.String({ maxLength: 2048 })),
  extParam: Type.Optional(Type.String({ maxLength: 512 })),
});

export const RefundQueryBody = Type.Object({
  ...COMMON_FIELDS,
  refundOrderId: Type.Optional(ID('Polypay refund id (R…)', 32)),
  mchRefundNo: Type.Optional(ID('Merchant refund number')),
  sync: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
});

export function envelope(data: TSchema) {
  return Type.Object({
    code: Type.Integer({ description: '0 = processed; otherwise an error code from docs/api.md' }),
    msg: Type.String(),
    errorKey: Type.Optional(Type.String({ description: 'Stable error identifier, e.g. SIGN_INVALID' })),
    data: Type.Optional(data),
    sign: Type.Optional(Type.String({ description: 'Signature of data with the app secret and the request signType' })),
  });
}

export const UnifiedOrderData = Type.Object({
  payOrderId: Type.String(),
  mchOrderNo: Type.String(),
  orderState: Type.Integer({ description: '0 created, 1 paying, 2 success, 3 fail, 4 revoked, 5 refunded, 6 closed' }),
  payDataType: Type.Optional(Type.String({ description: 'payurl | form | wxapp | aliapp | ysfapp | codeUrl | codeImgUrl | none' })),
  payData: Type.Optional(Type.String()),
  errCode: Type.Optional(Type.String()),
  errMsg: Type.Optional(Type.String()),
  clientToken: Type.Optional(Type.String({ description: 'Give it to the payer\'s client: it authorises /api/pay/client/* for this order only' })),
});

export const PayOrderData = Type.Object({
  payOrderId: Type.String(), mchNo: Type.String(), appId: Type.String(), mchOrderNo: Type.String(), ifCode: Type.String(), wayCode: Type.String(),
  amount: Type.Integer(), currency: Type.String(), state: Type.Integer(), clientIp: Type.Optional(Type.String()), subject: Type.String(), body: Type.String(),
  channelOrderNo: Type.Optional(Type.String()), errCode: Type.Optional(Type.String()), errMsg: Type.Optional(Type.String()), extParam: Type.Optional(Type.String()),
  refundAmount: Type.Integer(), createdAt: Type.Integer(), successTime: Type.Optional(Type.Integer()),
});

export const CloseData = Type.Object({ errCode: Type.Optional(Type.String()), errMsg: Type.Optional(Type.String()) });

export const RefundData = Type.Object({
  refundOrderId: Type.String(), payOrderId: Type.String(), mchNo: Type.String(), appId: Type.String(), mchRefundNo: Type.String(),
  payAmount: Type.Integer(), refundAmount: Type.Integer(), currency: Type.String(),
  state: Type.Integer({ description: '0 created, 1 refunding, 2 success, 3 fail, 4 closed' }),
  channelOrderNo: Type.Optional(Type.String()), errCode: Type.Optional(Type.String()), errMsg: Type.Optional(Type.String()), extParam: Type.Optional(Type.String()),
  createdAt: Type.Integer(), successTime: Type.Optional(Type.Integer()),
});

export function fieldNames(schema: { properties: Record<string, unknown> }): string[] {
  return Object.keys(schema.properties);
}
