import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { authenticate } from '../merchant-api/auth.ts';
import {
  CloseData, PayCloseBody, PayConfirmBody, PayOrderData, PayQueryBody, RefundData, RefundOrderBody, RefundQueryBody, UnifiedOrderBody, UnifiedOrderData, envelope, fieldNames,
} from '../merchant-api/schemas.ts';
import { payOrderView, refundOrderView } from '../merchant-api/views.ts';
import { ApiError } from '../domain/errors.ts';
import type { WayCode } from '../domain/pay-way.ts';
import type { Gateway } from '../gateway.ts';
import { ok } from './envelope.ts';

const TAG = ['Merchant API'];

/** The five Jeepay-compatible merchant endpoints. Thin: authenticate, call a service, sign the answer. */
export function registerMerchantRoutes(app: FastifyInstance, gw: Gateway): void {
  const auth = (body: Record<string, unknown>, schema: { properties: Record<string, unknown> }) => authenticate(body, fieldNames(schema), gw.tenancy, gw.config.reqTimeWindowSeconds);
  const oneOf = (a: unknown, b: unknown, names: string) => {
    if (a === undefined && b === undefined) throw new ApiError('PARAM_INVALID', `one of ${names} is required`);
  };

  app.post<{ Body: Static<typeof UnifiedOrderBody> }>('/api/pay/unifiedOrder', {
    schema: { tags: TAG, summary: 'Create a pay order (统一下单)', body: UnifiedOrderBody, response: { 200: envelope(UnifiedOrderData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, UnifiedOrderBody);
    const { mchNo: _m, appId: _a, reqTime: _t, version: _v, signType: _s, sign: _g, ...fields } = req.body;
    const result = await gw.payOrders.unifiedOrder(merchantApp, { ...fields, wayCode: fields.wayCode as WayCode });
    return ok(reply, { ...result, clientToken: gw.confirmations.token(result.payOrderId) }, merchantApp.appSecret, signType);
  });

  app.post<{ Body: Static<typeof PayQueryBody> }>('/api/pay/query', {
    schema: { tags: TAG, summary: 'Query a pay order; sync=1 asks the channel first', body: PayQueryBody, response: { 200: envelope(PayOrderData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, PayQueryBody);
    oneOf(req.body.payOrderId, req.body.mchOrderNo, 'payOrderId, mchOrderNo');
    const order = await gw.payOrders.query(merchantApp, { payOrderId: req.body.payOrderId, mchOrderNo: req.body.mchOrderNo }, req.body.sync === 1);
    return ok(reply, payOrderView(order), merchantApp.appSecret, signType);
  });

  app.post<{ Body: Static<typeof PayConfirmBody> }>('/api/pay/confirm', {
    schema: { tags: TAG, summary: 'Relay the payer-side result (ok/cancel/fail); ok makes the gateway query the channel now', body: PayConfirmBody, response: { 200: envelope(PayOrderData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, PayConfirmBody);
    oneOf(req.body.payOrderId, req.body.mchOrderNo, 'payOrderId, mchOrderNo');
    const order = await gw.payOrders.findByMerchant(merchantApp, { payOrderId: req.body.payOrderId, mchOrderNo: req.body.mchOrderNo });
    if (!order) throw new ApiError('ORDER_NOT_FOUND', req.body.payOrderId ?? req.body.mchOrderNo);
    const after = await gw.confirmations.report(order, req.body.clientResult as 'ok' | 'cancel' | 'fail', 'merchant');
    return ok(reply, payOrderView(after), merchantApp.appSecret, signType);
  });

  app.post<{ Body: Static<typeof PayCloseBody> }>('/api/pay/close', {
    schema: { tags: TAG, summary: 'Close an unpaid order (at the channel first)', body: PayCloseBody, response: { 200: envelope(CloseData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, PayCloseBody);
    oneOf(req.body.payOrderId, req.body.mchOrderNo, 'payOrderId, mchOrderNo');
    const order = await gw.payOrders.close(merchantApp, { payOrderId: req.body.payOrderId, mchOrderNo: req.body.mchOrderNo });
    return ok(reply, { errCode: order.err_code ?? undefined, errMsg: order.err_msg ?? undefined }, merchantApp.appSecret, signType);
  });

  app.post<{ Body: Static<typeof RefundOrderBody> }>('/api/refund/refundOrder', {
    schema: { tags: TAG, summary: 'Refund part or all of a paid order', body: RefundOrderBody, response: { 200: envelope(RefundData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, RefundOrderBody);
    oneOf(req.body.payOrderId, req.body.mchOrderNo, 'payOrderId, mchOrderNo');
    const { mchNo: _m, appId: _a, reqTime: _t, version: _v, signType: _s, sign: _g, ...fields } = req.body;
    const refund = await gw.refunds.refund(merchantApp, fields);
    return ok(reply, refundOrderView(refund), merchantApp.appSecret, signType);
  });

  app.post<{ Body: Static<typeof RefundQueryBody> }>('/api/refund/query', {
    schema: { tags: TAG, summary: 'Query a refund; sync=1 asks the channel first', body: RefundQueryBody, response: { 200: envelope(RefundData) } },
  }, async (req, reply) => {
    const { app: merchantApp, signType } = await auth(req.body, RefundQueryBody);
    oneOf(req.body.refundOrderId, req.body.mchRefundNo, 'refundOrderId, mchRefundNo');
    const refund = await gw.refunds.query(merchantApp, { refundOrderId: req.body.refundOrderId, mchRefundNo: req.body.mchRefundNo }, req.body.sync === 1);
    return ok(reply, refundOrderView(refund), merchantApp.appSecret, signType);
  });
}
