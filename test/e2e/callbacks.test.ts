import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, useStackWithReceiver, waitFor } from '../helpers/stack.ts';

const MCHID = '1900000001';

async function events(s: Stack, orderId: string): Promise<Array<{ kind: string; to_state: number | null; source: string; detail: Record<string, unknown> }>> {
  return (await s.gw.db.query<{ kind: string; to_state: number | null; source: string; detail: Record<string, unknown> }>(`SELECT kind, to_state, source, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [orderId])).rows;
}

/** Callbacks duplicated, forged, tampered, late; active queries; expiry that queries before closing. */
for (const leg of dbLegs()) {
  describe(`callbacks and reconciliation on ${leg}`, () => {
    const env = useStackWithReceiver(leg);
    beforeEach(() => {
      Object.assign(env.s.sim.faults, { duplicateCallbacks: false, probeSignatureFirst: false, badCallbackSignature: false, staleCallbackTimestamp: false, tamperCallbackAmount: false });
    });

    async function newOrder(amount = 100): Promise<string> {
      const r = await env.s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: 's', body: 'b', notifyUrl: env.receiver.url });
      assert.equal(r.code, 0, r.msg);
      return (r.data as { payOrderId: string }).payOrderId;
    }
    const state = async (id: string) => ((await env.s.client.query({ payOrderId: id })).data as { state: number }).state;

    test('duplicate callbacks: one transition, one notification', async () => {
      env.s.sim.faults.duplicateCallbacks = true;
      const id = await newOrder();
      await env.s.sim.payer.pay(MCHID, id);
      await waitFor('paid', async () => (await state(id)) === 2);
      await waitFor('both callbacks seen', async () => (await events(env.s, id)).filter((e) => e.kind === 'callback').length >= 2);
      await new Promise((r) => setTimeout(r, 300));
      const toPaid = (await events(env.s, id)).filter((e) => e.kind === 'transition' && e.to_state === 2);
      assert.equal(toPaid.length, 1);
      assert.equal(env.receiver.received.filter((r) => r.fields.payOrderId === id).length, 1);
    });

    test('probe signature first: refused, the genuine retry is accepted', async () => {
      env.s.sim.faults.probeSignatureFirst = true;
      const id = await newOrder();
      await env.s.sim.payer.pay(MCHID, id);
      await waitFor('paid', async () => (await state(id)) === 2);
      const ev = await events(env.s, id);
      assert.ok(ev.some((e) => e.kind === 'refused' && e.source === 'callback'), 'the probe was refused');
    });

    test('forged callback (not signed by WeChat) changes nothing', async () => {
      const id = await newOrder();
      const body = JSON.stringify({ id: 'EV-1', event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: 'AAAA', nonce: '123456789012', associated_data: 'transaction', original_type: 'transaction' } });
      const res = await request(`${env.s.url}/api/pay/notify/wxpay/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'wechatpay-timestamp': String(Math.floor(Date.now() / 1000)), 'wechatpay-nonce': 'abc', 'wechatpay-serial': 'PUB_KEY_ID_0000', 'wechatpay-signature': 'Zm9yZ2Vk' },
        body,
      });
      assert.ok(res.statusCode >= 400, `forged callback answered ${res.statusCode}`);
      await res.body.dump();
      assert.equal(await state(id), 1);
      assert.ok((await events(env.s, id)).some((e) => e.kind === 'refused'));
      const unknown = await request(`${env.s.url}/api/pay/notify/wxpay/P00000000000000000000000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.ok(unknown.statusCode >= 400);
      await unknown.body.dump();
    });

    test('correctly signed callback with a tampered amount is refused; the active query records the truth', async () => {
      env.s.sim.faults.tamperCallbackAmount = true;
      const id = await newOrder(250);
      await env.s.sim.payer.pay(MCHID, id);
      await waitFor('refusal recorded', async () => (await events(env.s, id)).some((e) => e.kind === 'refused' && /amount/.test(String(e.detail.reason))));
      env.s.sim.faults.tamperCallbackAmount = false;
      await waitFor('paid via active query or honest retry', async () => (await state(id)) === 2);
      const paid = (await env.s.client.query({ payOrderId: id })).data as { amount: number };
      assert.equal(paid.amount, 250);
    });

    test('callbacks lost: query with sync=1 asks the channel; a late genuine callback is a no-op', async () => {
      env.s.sim.faults.badCallbackSignature = true;
      const id = await newOrder();
      await env.s.sim.payer.pay(MCHID, id);
      const q = await env.s.client.query({ payOrderId: id, sync: 1 });
      assert.equal((q.data as { state: number }).state, 2);
      env.s.sim.faults.badCallbackSignature = false;
      await waitFor('late callback accepted as duplicate', async () => (await events(env.s, id)).some((e) => e.kind === 'callback'), 15_000);
      assert.equal((await events(env.s, id)).filter((e) => e.kind === 'transition' && e.to_state === 2).length, 1);
      await waitFor('one notification', () => env.receiver.received.some((r) => r.fields.payOrderId === id));
      assert.equal(env.receiver.received.filter((r) => r.fields.payOrderId === id).length, 1);
    });

    test('expiry queries the channel first: paid-before-expiry is recorded paid, unpaid is closed at the channel', async () => {
      env.s.sim.faults.badCallbackSignature = true; // callbacks never land: only the expiry pass can learn the truth
      const paidId = await newOrder();
      const unpaidId = await newOrder();
      await env.s.sim.payer.pay(MCHID, paidId);
      await env.s.gw.db.query(`UPDATE pay_orders SET expired_at = now() - interval '1 second', next_check_at = now() WHERE pay_order_id = ANY($1::text[])`, [[paidId, unpaidId]]);
      await waitFor('expiry pass', async () => (await state(paidId)) === 2 && (await state(unpaidId)) === 6);
      const simUnpaid = env.s.sim.ledger(MCHID).orders.find((o: { out_trade_no: string }) => o.out_trade_no === unpaidId);
      assert.equal(simUnpaid?.trade_state, 'CLOSED', 'closed at the channel too');
      assert.ok(!(await events(env.s, paidId)).some((e) => e.to_state === 6), 'the paid order never passed through CLOSED');
    });

    test('active query settles a PAYING order without any callback', async () => {
      env.s.sim.faults.badCallbackSignature = true;
      const id = await newOrder();
      await env.s.sim.payer.pay(MCHID, id);
      await waitFor('reconciler found the payment', async () => (await state(id)) === 2);
      assert.ok((await events(env.s, id)).some((e) => e.kind === 'transition' && e.to_state === 2 && (e.source === 'reconcile' || e.source === 'query')));
    });
  });
}
