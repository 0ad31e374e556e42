import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { signParams } from '../../src/merchant-api/sign.ts';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, countRows, orderNo, startStack } from '../helpers/stack.ts';

async function post(url: string, body: unknown, contentType = 'application/json') {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.statusCode, json: (await res.body.json()) as { code: number; msg: string; errorKey?: string; data?: Record<string, unknown> } };
}

/** Every rejection is a documented code with a message, never a 500, and writes nothing. */
for (const leg of dbLegs()) {
  describe(`merchant API input errors on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg);
    });
    after(() => s.close());

    const good = () => ({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 100, currency: 'cny', subject: 's', body: 'b' });

    test('rejections: code, key and message; nothing written', async () => {
      const before = await countRows(s.gw, 'pay_orders');
      const url = `${s.url}/api/pay/unifiedOrder`;
      const signed = s.client.signedBody(good());
      const cases: Array<[string, unknown, string, string?]> = [
        ['wrong signature', { ...signed, sign: 'A'.repeat(32) }, 'SIGN_INVALID'],
        ['field changed after signing', { ...signed, amount: 1 }, 'SIGN_INVALID'],
        ['stale reqTime', s.client.signedBody(good(), Date.now() - 10 * 60_000), 'REQ_TIME_INVALID'],
        ['future reqTime', s.client.signedBody(good(), Date.now() + 10 * 60_000), 'REQ_TIME_INVALID'],
        ['unknown app', { ...signed, appId: 'nope0000' }, 'MERCHANT_INVALID'],
        ['app of another merchant', { ...signed, mchNo: 'M999' }, 'MERCHANT_INVALID'],
        ['missing amount', (() => { const b = { ...good() } as Record<string, unknown>; delete b.amount; return s.client.signedBody(b); })(), 'PARAM_INVALID', 'amount'],
        ['negative amount', s.client.signedBody({ ...good(), amount: -5 }), 'PARAM_INVALID'],
        ['float amount', s.client.signedBody({ ...good(), amount: 1.5 }), 'PARAM_INVALID'],
        ['unknown way', s.client.signedBody({ ...good(), wayCode: 'BTC' }), 'PARAM_INVALID'],
        ['way not enabled', s.client.signedBody({ ...good(), wayCode: 'ALI_QR' }), 'WAY_NOT_AVAILABLE'],
        ['bad currency', s.client.signedBody({ ...good(), currency: 'xyz' }), 'PARAM_INVALID'],
        ['channelExtra not JSON', s.client.signedBody({ ...good(), channelExtra: '{oops' }), 'PARAM_INVALID', 'channelExtra'],
        ['notifyUrl not http', s.client.signedBody({ ...good(), notifyUrl: 'javascript:alert(1)' }), 'PARAM_INVALID'],
        ['bad signType', { ...s.client.signedBody(good()), signType: 'SHA1' }, 'PARAM_INVALID'],
      ];
      for (const [name, body, key, mention] of cases) {
        const r = await post(url, body);
        assert.ok(r.status < 500, `${name}: HTTP ${r.status}`);
        assert.equal(r.json.errorKey, key, `${name}: ${r.json.msg}`);
        assert.notEqual(r.json.code, 0, name);
        assert.ok(r.json.msg.length > 10, `${name}: message says what is wrong`);
        if (mention) assert.match(r.json.msg, new RegExp(mention), name);
      }
      const malformed = await post(url, '{"mchNo": ', 'application/json');
      assert.equal(malformed.json.errorKey, 'PARAM_INVALID');
      assert.ok(malformed.status < 500);
      const proto = await post(url, '{"__proto__": {"x": 1}}', 'application/json');
      assert.equal(proto.json.errorKey, 'PARAM_INVALID');
      assert.equal(await countRows(s.gw, 'pay_orders'), before, 'no row written by a rejected request');
    });

    test('form bodies and HMAC-SHA256 signatures are accepted', async () => {
      const form = await s.client.call('/api/pay/unifiedOrder', good(), true);
      assert.equal(form.code, 0, form.msg);
      const hmac = new MerchantClient({ baseUrl: s.url, ...s.demo, signType: 'HMAC-SHA256' });
      const r = await hmac.unifiedOrder(good());
      assert.equal(r.code, 0, r.msg);
      assert.equal(r.sign?.length, 64, 'the answer is signed with the request signType');
    });

    test('10-digit (seconds) reqTime is accepted like Jeepay samples', async () => {
      const body: Record<string, unknown> = { ...good(), mchNo: s.demo.mchNo, appId: s.demo.appId, reqTime: String(Math.floor(Date.now() / 1000)), version: '1.0', signType: 'MD5' };
      body.sign = signParams(body, s.demo.appSecret);
      const r = await post(`${s.url}/api/pay/unifiedOrder`, body);
      assert.equal(r.json.code, 0, r.json.msg);
    });

    test('query/close/refund errors', async () => {
      assert.equal((await s.client.query({})).errorKey, 'PARAM_INVALID');
      assert.equal((await s.client.query({ payOrderId: 'P1234' })).errorKey, 'ORDER_NOT_FOUND');
      assert.equal((await s.client.refundQuery({ mchRefundNo: 'none' })).errorKey, 'REFUND_NOT_FOUND');
      const created = await s.client.unifiedOrder(good());
      const id = (created.data as { payOrderId: string }).payOrderId;
      const unpaid = await s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: 1, currency: 'cny', refundReason: 'x' });
      assert.equal(unpaid.errorKey, 'ORDER_STATE_INVALID');
      const refundsBefore = await countRows(s.gw, 'refund_orders');
      const wrongCurrency = await s.client.refund({ payOrderId: id, mchRefundNo: orderNo('r'), refundAmount: 1, currency: 'usd', refundReason: 'x' });
      assert.equal(wrongCurrency.errorKey, 'CURRENCY_MISMATCH');
      assert.equal(await countRows(s.gw, 'refund_orders'), refundsBefore);
    });

    test('unknown routes and health', async () => {
      const res = await request(`${s.url}/api/nope`, { method: 'POST' });
      assert.equal(res.statusCode, 404);
      assert.equal(((await res.body.json()) as { errorKey: string }).errorKey, 'NOT_FOUND');
      const health = await request(`${s.url}/health`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
      const docs = await request(`${s.url}/docs/json`);
      const spec = (await docs.body.json()) as { paths: Record<string, unknown> };
      for (const p of ['/api/pay/unifiedOrder', '/api/pay/query', '/api/pay/close', '/api/refund/refundOrder', '/api/refund/query']) assert.ok(spec.paths[p], `OpenAPI documents ${p}`);
    });
  });
}
