/**
 * WeChat v3 error answers: `{code, message, detail?}` (protocols.md §A.7). Codes are kept in
 * their current underscored spelling and converted at the edge when `legacyErrorCodes` is on,
 * because both generations appear in the wild and adapters must cope with either.
 */

export interface ErrorDetail {
  field: string;
  location: 'body' | 'query' | 'uri_template' | 'header';
  issue: string;
  value?: unknown;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: ErrorDetail,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

const LEGACY: Record<string, string> = {
  ORDER_NOT_EXIST: 'ORDERNOTEXIST',
  NOT_ENOUGH: 'NOTENOUGH',
  SYSTEM_ERROR: 'SYSTEMERROR',
  AUTH_CODE_EXPIRE: 'AUTHCODEEXPIRE',
};

export function errorBody(err: SimError, legacy: boolean): { code: string; message: string; detail?: ErrorDetail } {
  const code = legacy ? (LEGACY[err.code] ?? err.code) : err.code;
  return err.detail ? { code, message: err.message, detail: err.detail } : { code, message: err.message };
}

export const SIGN_FORMAT_MESSAGE = 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》';

export const errors = {
  signFormat: () => new SimError(401, 'SIGN_ERROR', SIGN_FORMAT_MESSAGE),
  sign: (why: string) => new SimError(401, 'SIGN_ERROR', `签名错误：${why}`),
  param: (field: string, issue: string, location: ErrorDetail['location'] = 'body', value?: unknown) =>
    new SimError(400, 'PARAM_ERROR', `参数错误：${location === 'body' ? '/body' : `/${location}`}${field} ${issue}`, {
      field,
      location,
      issue,
      ...(value === undefined || typeof value === 'object' ? {} : { value }),
    }),
  invalid: (message: string) => new SimError(400, 'INVALID_REQUEST', message),
  appidMismatch: () => new SimError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mchid不匹配，请检查appid是否已与商户号绑定'),
  orderPaid: () => new SimError(400, 'ORDERPAID', '该订单已支付'),
  orderClosed: () => new SimError(400, 'ORDER_CLOSED', '订单已关闭'),
  outTradeNoUsed: () => new SimError(403, 'OUT_TRADE_NO_USED', '商户订单号重复'),
  orderNotExist: () => new SimError(404, 'ORDER_NOT_EXIST', '订单不存在'),
  resourceNotExists: (what: string) => new SimError(404, 'RESOURCE_NOT_EXISTS', `${what}不存在`),
  notEnough: () => new SimError(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起'),
  system: () => new SimError(500, 'SYSTEM_ERROR', '系统错误'),
  notFound: () => new SimError(404, 'NOT_FOUND', '请求的资源不存在'),
};
