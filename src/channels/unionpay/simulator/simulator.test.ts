import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { newOrderId } from '../../../domain/ids.ts';
import { ChannelError } from '../../types.ts';
import { loadPfx } from '../certs.ts';
import { parseZmFile, unpackFileContent } from '../bill.ts';
import type { AcpClient } from '../client.ts';
import { ACP, txnTimeOf } from '../mapping.ts';
import { acpTime, clearingDay, parseAcpKv, signAcpFields } from '../sign.ts';
import { startUnionPaySimulator, type MerchantCredentials, type UnionPaySimulator } from './index.ts';
import { acpClientOf, startNotifyReceiver, until } from './test-support.ts';

/** The ACP side of the simulator through raw requests: strict verification, every transaction, notifications, the file. */

let sim: UnionPaySimulator;
let creds: MerchantCredentials;
let client: AcpClient;
let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;

before(async () => {
  sim = await startUnionPaySimulator({ timeScale: 1000, refundDelayMs: 50_000, passwordDelayMs: 200_000 });
  creds = await sim.registerMerchant({ merId: '777290058110048' });
  client = acpClientOf(creds);
  receiver = await startNotifyReceiver();
});
after(async () => {
  await receiver?.close();
  await sim?.close();
});

const order = (over: Record<string, string> = {}): Record<string, string> => {
  const id = newOrderId('P');
  return { orderId: id, txnTime: txnTimeOf(id), txnAmt: '1000', currencyCode: '156', backUrl: receiver.url, channelType: '08', ...over };
};
const op = (o: { txnType: string; txnSubType: string; bizType: string }): Record<string, string> => ({ ...o });
const query = (o: Record<string, string>) => client.call('query', { ...op(ACP.query), orderId: o.orderId as string, txnTime: o.txnTime as string });

async function raw(fields: Record<string, string>, path = '/gateway/api/backTransReq.do'): Promise<Record<string, string>> {
  const res = await request(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return parseAcpKv(await res.body.text());
}

describe('merchant onboarding', () => {
  test('the PFX opens with its password; certId is the decimal serial; middle and root are published', async () => {
    const signer = loadPfx(creds.pfxBase64 as string, creds.pfxPassword as string);
    assert.equal(signer.certId, creds.certId);
    const root = await request(`${sim.baseUrl}/sandbox/v1/certs/root.cer`);
    assert.equal(await root.body.text(), creds.rootCertPem);
    const again = await sim.registerMerchant({ merId: creds.merId });
    assert.equal(again.certId, creds.certId, 'a repeat keeps the certificate');
    assert.equal(again.pfxBase64, undefined, 'and hands out no key');
  });
});

describe('request verification', () => {
  test('wrong certId, forged signature, unknown merchant, bad version, missing field: refused and signed', async () => {
    const good = client.signed({ ...op(ACP.qrApply), ...order() });
    const cases: Array<[Record<string, string>, string]> = [
      [{ ...good, certId: '1' }, '11'],
      [{ ...good, txnAmt: '1' }, '11'],
      [{ ...good, merId: '777000000000000' }, '31'],
      [signAcpFields({ ...good, version: '5.0.0' }, loadPfx(creds.pfxBase64 as string, creds.pfxPassword as string).privateKey), '10'],
      [signAcpFields(Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'txnTime')), loadPfx(creds.pfxBase64 as string, creds.pfxPassword as string).privateKey), '13'],
    ];
    for (const [fields, expected] of cases) {
      const a = await raw(fields);
      assert.equal(a.respCode, expected, JSON.stringify(a.respMsg));
      client.verify(a); // refusals are signed too
    }
    assert.equal((await raw(good)).respCode, '00', 'the untouched request passes');
  });

  test('the same orderId + txnTime with other fields is a duplicate (12); the same fields get the same answer', async () => {
    const o = order();
    const first = await client.call('back', { ...op(ACP.qrApply), ...o });
    assert.equal((await client.call('back', { ...op(ACP.qrApply), ...o })).qrCode, first.qrCode);
    assert.equal((await client.call('back', { ...op(ACP.qrApply), ...o, txnAmt: '999' })).respCode, '12');
  });
});

describe('consumes', () => {
  test('QR: 34 before the scan, 05 while paying, 00 paid with queryId; signed back notification', async () => {
    const o = order();
    const a = await client.call('back', { ...op(ACP.qrApply), ...o, payTimeout: acpTime(Date.now() + 600e3) });
    assert.match(a.qrCode as string, /\/qr\/00010000\/[0-9a-f]+$/);
    assert.equal((await query(o)).respCode, '34');
    sim.payer.scan(a.qrCode as string);
    assert.equal((await query(o)).origRespCode, '05');
    sim.payer.pay({ qrCode: a.qrCode as string });
    const q = await query(o);
    assert.deepEqual([q.respCode, q.origRespCode, q.txnAmt, q.settleDate], ['00', '00', '1000', clearingDay(Date.now()).slice(4)]);
    assert.match(q.queryId as string, /^\d{21}$/);
    const n = await until('notification', () => receiver.received.find((r) => r.fields.orderId === o.orderId));
    client.verify(n.fields);
    assert.deepEqual([n.fields.txnType, n.fields.respCode, n.fields.queryId], ['01', '00', q.queryId]);
  });

  test('bar code: success, password then paid, insufficient funds, system error that paid anyway, invalid codes', async () => {
    const bar = (code: string, o = order()) => client.call('back', { ...op(ACP.barConsume), ...o, qrNo: code });
    assert.equal((await bar('6200000000000000001')).respCode, '00');
    const waiting = order();
    assert.equal((await bar('6210000000000000001', waiting)).respCode, '05');
    assert.equal((await query(waiting)).origRespCode, '05');
    await until('password confirmed', () => sim.ledger(creds.merId).consumes.find((c) => c.orderId === waiting.orderId && c.status === 'SUCCESS'));
    assert.equal((await query(waiting)).origRespCode, '00');
    const poor = await bar('6290000000000000001');
    assert.equal(poor.respCode, '65');
    const lost = order();
    assert.equal((await bar('6280000000000000001', lost)).respCode, '03');
    assert.equal((await query(lost)).origRespCode, '00', 'the answer was lost, the payment happened');
    assert.equal((await bar('123')).respCode, '10');
    assert.equal((await bar('9900000000000000001')).respCode, '61');
  });

  test('reversal (冲正): stops a payer mid-password; a repeat is harmless; unknown original answers 34', async () => {
    const o = order();
    await client.call('back', { ...op(ACP.barConsume), ...o, qrNo: '6220000000000000001' });
    const rev = (orig: Record<string, string>) => client.call('back', { ...op(ACP.reversal), orderId: `${orig.orderId}RV`, txnTime: acpTime(Date.now()), origOrderId: orig.orderId as string, origTxnTime: orig.txnTime as string, channelType: '08' });
    assert.equal((await rev(o)).respCode, '00');
    assert.equal((await query(o)).origRespCode, '01');
    assert.equal((await rev(o)).respCode, '00', 'a second reversal finds it reversed');
    assert.equal((await rev(order())).respCode, '34');
  });

  test('app control: tn, paid by the app; undo (31) same day in full; refund (04) partial; over-refund refused', async () => {
    const o = order();
    const a = await client.call('app', { ...op(ACP.appConsume), ...o });
    assert.match(a.tn as string, /^\d{21}$/);
    sim.payer.pay({ tn: a.tn as string });
    const paid = await query(o);
    const partialUndo = order({ txnAmt: '10', origQryId: paid.queryId as string });
    assert.equal((await client.call('back', { ...op(ACP.undo), ...partialUndo })).respCode, '36', 'an undo is for the full amount');
    const r1 = order({ txnAmt: '400', origQryId: paid.queryId as string });
    assert.equal((await client.call('back', { ...op(ACP.refund), ...r1 })).respCode, '00');
    assert.equal((await query(r1)).origRespCode, '05', 'accepted, not settled yet');
    const r2 = order({ txnAmt: '601', origQryId: paid.queryId as string });
    assert.equal((await client.call('back', { ...op(ACP.refund), ...r2 })).respCode, '36');
    const q = await client.call('back', { ...op(ACP.refund), ...order({ txnAmt: '600', origQryId: paid.queryId as string }) });
    assert.equal(q.respCode, '00');

    const u = order();
    const ua = await client.call('app', { ...op(ACP.appConsume), ...u });
    sim.payer.pay({ tn: ua.tn as string });
    const undo = order({ txnAmt: '1000', origQryId: (await query(u)).queryId as string });
    assert.equal((await client.call('back', { ...op(ACP.undo), ...undo })).respCode, '00');
  });
});

describe('settlement and the file', () => {
  test('refunds settle and are notified; the clearing day file lists consumes and refunds', async () => {
    const fast = await startUnionPaySimulator({ timeScale: 1000, refundDelayMs: 100 });
    try {
      const m = await fast.registerMerchant();
      const c = acpClientOf(m);
      const id = newOrderId('P');
      const o = { orderId: id, txnTime: txnTimeOf(id), txnAmt: '2500', currencyCode: '156', backUrl: receiver.url, channelType: '08' };
      const a = await c.call('back', { ...op(ACP.qrApply), ...o });
      fast.payer.pay({ qrCode: a.qrCode as string });
      const paid = await c.call('query', { ...op(ACP.query), orderId: id, txnTime: o.txnTime });
      const rid = newOrderId('R');
      await c.call('back', { ...op(ACP.refund), orderId: rid, txnTime: txnTimeOf(rid), txnAmt: '500', origQryId: paid.queryId as string, backUrl: receiver.url, channelType: '08' });
      const n = await until('refund notification', () => receiver.received.find((r) => r.fields.orderId === rid));
      c.verify(n.fields);
      assert.deepEqual([n.fields.txnType, n.fields.respCode, n.fields.origQryId], ['04', '00', paid.queryId]);
      const mmdd = clearingDay(Date.now()).slice(4);
      const f = await c.call('file', { ...op(ACP.file), txnTime: acpTime(Date.now()), settleDate: mmdd, fileType: '00' });
      assert.equal(f.respCode, '00');
      const zm = unpackFileContent(f.fileContent as string);
      assert.match(zm.name, new RegExp(`^INN\\d{2}${mmdd}88ZM_${m.merId}$`));
      const bill = parseZmFile(zm.bytes, clearingDay(Date.now()).slice(0, 4));
      assert.deepEqual(bill.rows.map((r) => [r.kind, r.amount, r.outTradeNo, r.outRefundNo ?? '']), [['pay', 2500, id, ''], ['refund', 500, id, rid]]);
      assert.equal(bill.rows[0]?.fee, '15', '0.60 % of 25.00');
      const empty = await c.call('file', { ...op(ACP.file), txnTime: acpTime(Date.now()), settleDate: '0229', fileType: '00' });
      assert.equal(empty.respCode, '98');
    } finally {
      await fast.close();
    }
  });

  test('notifications are retried until HTTP 200, on the compressed schedule', async () => {
    const flaky = await startNotifyReceiver((n) => (n < 3 ? 500 : 200));
    try {
      const o = order({ backUrl: flaky.url });
      const a = await client.call('back', { ...op(ACP.qrApply), ...o });
      sim.payer.pay({ qrCode: a.qrCode as string });
      await until('third delivery', () => flaky.received.length >= 3);
      const n = await until('delivered', () => sim.ledger(creds.merId).notifications.find((x) => x.orderId === o.orderId && x.delivered));
      assert.equal(n.attempts, 3);
    } finally {
      await flaky.close();
    }
  });

  test('fault: a signing certificate outside the published chain is refused by the client', async () => {
    sim.faults.foreignSignCert = true;
    try {
      await assert.rejects(client.call('query', { ...op(ACP.query), orderId: 'P0000000000000000000001', txnTime: acpTime(Date.now()) }), (e: unknown) => e instanceof ChannelError && e.kind === 'bad_signature' && /middle/.test(e.message));
    } finally {
      sim.faults.foreignSignCert = false;
    }
  });
});
