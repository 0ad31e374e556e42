import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { newOrderId } from '../../../domain/ids.ts';
import { ChannelError } from '../../types.ts';
import { txnTimeOf } from '../mapping.ts';
import { startUnionPaySimulator, type ProviderCredentials, type UnionPaySimulator } from './index.ts';
import { acpClientOf, spClientOf, startNotifyReceiver, until } from './test-support.ts';

/** The service-provider JSON gateway, 云闪付 user authorisation, the sandbox admin API and the state file. */

let sim: UnionPaySimulator;
let sp: ProviderCredentials;
let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;

before(async () => {
  sim = await startUnionPaySimulator({ timeScale: 1000, adminToken: 'sim-admin-token' });
  sp = await sim.registerProvider({ merId: '777100000000001' });
  receiver = await startNotifyReceiver();
});
after(async () => {
  await receiver?.close();
  await sim?.close();
});

const base = (amount = 800) => {
  const id = newOrderId('P');
  return { orderNo: id, orderTime: txnTimeOf(id), txnAmt: amount, currencyCode: '156', orderInfo: '测试', termInfo: '{"ip":"10.0.0.1"}' };
};

describe('service-provider gateway', () => {
  test('user authorisation → userId → upJs order → redirectUrl paid by that user → signed JSON notification', async () => {
    const auth = sim.payer.authorize('https://shop.example.com/ysf/back?x=1');
    const back = new URL(auth.location);
    assert.equal(back.searchParams.get('respCode'), '00');
    assert.equal(back.searchParams.get('x'), '1');
    const c = spClientOf(sp);
    const who = await c.call('userId', { userAuthCode: back.searchParams.get('userAuthCode'), appUpIdentifier: 'UnionPay/1.0 CloudPay' });
    assert.equal(who.userId, auth.userId);
    assert.equal((await c.call('userId', { userAuthCode: back.searchParams.get('userAuthCode') })).respCode, '01', 'a code works once');

    const o = base();
    const a = await c.call('unifiedorder', { ...o, orderType: 'upJs', backUrl: receiver.url, customerIp: '10.0.0.1', userId: auth.userId });
    assert.equal(a.respCode, '00');
    const { redirectUrl } = JSON.parse(a.payData as string) as { redirectUrl: string };
    assert.throws(() => sim.payer.pay({ redirectUrl }, { user: 'someone-else' }), /另一位/);
    assert.equal((await c.call('queryOrder', { orderNo: o.orderNo, orderType: 'upJs' })).origRespCode, '02');
    sim.payer.pay({ redirectUrl });
    const q = await c.call('queryOrder', { orderNo: o.orderNo, orderType: 'upJs' });
    assert.deepEqual([q.respCode, q.origRespCode, q.txnAmt], ['00', '00', '800']);
    const n = await until('notification', () => receiver.received.find((r) => r.fields.orderNo === o.orderNo));
    assert.match(n.contentType, /json/);
    c.verify(n.fields);
    assert.deepEqual([n.fields.respCode, n.fields.transIndex, n.fields.merId], ['00', q.transIndex, sp.merIds[0]]);
  });

  test('micropay with the payer code, refund (synchronous) and refund query; close of a paying code revokes it', async () => {
    const c = spClientOf(sp);
    const o = base(500);
    const paid = await c.call('micropay', { ...o, orderType: 'unionpay', authCode: '6200000000000000009', termId: '00000001' });
    assert.deepEqual([paid.respCode, paid.txnAmt], ['00', '500']);
    const rid = newOrderId('R');
    assert.equal((await c.call('refund', { orderNo: rid, origOrderNo: o.orderNo, origTxnAmt: 500, txnAmt: 200, orderType: 'unionpay' })).respCode, '00');
    assert.equal((await c.call('refundQuery', { orderNo: rid, origOrderNo: o.orderNo })).origRespCode, '00');
    assert.equal((await c.call('queryOrder', { orderNo: o.orderNo })).origRespCode, '01', '转入退款');
    const w = base(300);
    assert.equal((await c.call('micropay', { ...w, orderType: 'unionpay', authCode: '6220000000000000009', termId: '00000001' })).respCode, '02');
    assert.equal((await c.call('closeOrder', { orderNo: w.orderNo })).respCode, '00');
    assert.equal((await c.call('queryOrder', { orderNo: w.orderNo })).origRespCode, '04');
    assert.equal((await c.call('closeOrder', { orderNo: o.orderNo })).respCode, '35', 'a paid order does not close');
  });

  test('a forged signature (11), a merchant of another provider (32) and a tampered answer (client refuses)', async () => {
    const other = await sim.registerProvider();
    const wrong = spClientOf({ ...other, merIds: sp.merIds });
    assert.equal((await wrong.call('queryOrder', { orderNo: 'P1' })).respCode, '32');
    const forged = spClientOf({ ...sp, pfxBase64: other.pfxBase64, pfxPassword: other.pfxPassword });
    assert.equal((await forged.call('queryOrder', { orderNo: 'P1' })).respCode, '11');
    sim.faults.badResponseSignature = true;
    try {
      await assert.rejects(spClientOf(sp).call('queryOrder', { orderNo: 'P1' }), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature');
    } finally {
      sim.faults.badResponseSignature = false;
    }
  });
});

describe('sandbox admin API and state file', () => {
  const admin = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, token = 'sim-admin-token') =>
    request(`${sim.baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

  test('register over HTTP (token required), faults validated, payer pays over HTTP, ledger lists it', async () => {
    assert.equal((await admin('POST', '/sandbox/v1/merchants', {}, 'wrong')).statusCode, 401);
    const res = await admin('POST', '/sandbox/v1/merchants', {});
    const m = (await res.body.json()) as { merId: string; pfxBase64: string };
    assert.match(m.merId, /^777\d{12}$/);
    assert.ok(m.pfxBase64);
    assert.equal((await admin('PUT', '/sandbox/v1/faults', { nope: true })).statusCode, 400);
    assert.equal((await admin('PUT', '/sandbox/v1/faults', { failNextRequests: -1 })).statusCode, 400);
    const c = acpClientOf(m as never);
    const id = newOrderId('P');
    const a = await c.call('app', { txnType: '01', txnSubType: '01', bizType: '000000', orderId: id, txnTime: txnTimeOf(id), txnAmt: '100', currencyCode: '156', backUrl: receiver.url, channelType: '08' });
    const pay = await request(`${sim.baseUrl}/sandbox/v1/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tn: a.tn }) });
    assert.equal(((await pay.body.json()) as { status: string }).status, 'SUCCESS');
    const ledger = (await (await admin('GET', `/sandbox/v1/ledger?merId=${m.merId}`)).body.json()) as { consumes: Array<{ orderId: string }> };
    assert.deepEqual(ledger.consumes.map((x) => x.orderId), [id]);
    const page = await request(`${sim.baseUrl}/sandbox/app/${a.tn as string}`);
    assert.match(await page.body.text(), /SUCCESS/);
  });

  test('the state file keeps the PKI, merchants and orders across a restart', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'upsim-')), 'state.json');
    const first = await startUnionPaySimulator({ stateFile: file });
    const m = await first.registerMerchant();
    const id = newOrderId('P');
    const tn = (await acpClientOf(m).call('app', { txnType: '01', txnSubType: '01', bizType: '000000', orderId: id, txnTime: txnTimeOf(id), txnAmt: '100', currencyCode: '156', backUrl: receiver.url, channelType: '08' })).tn as string;
    first.payer.pay({ tn });
    await first.close();
    const second = await startUnionPaySimulator({ stateFile: file });
    try {
      const again = await second.registerMerchant({ merId: m.merId });
      assert.deepEqual([again.certId, again.rootCertPem], [m.certId, m.rootCertPem]);
      const c = acpClientOf({ ...m, acpBaseUrl: second.acpBaseUrl });
      assert.equal((await c.call('query', { txnType: '00', txnSubType: '00', bizType: '000000', orderId: id, txnTime: txnTimeOf(id) })).origRespCode, '00');
      assert.equal((await c.call('query', { txnType: '00', txnSubType: '00', bizType: '000000', orderId: 'P2026000000000000000001', txnTime: '20260101000000' })).respCode, '34');
    } finally {
      await second.close();
    }
  });
});
