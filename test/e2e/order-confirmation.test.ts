import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack } from '../helpers/stack.ts';

interface ClientView { payOrderId: string; state: number; confirming: boolean }

/** Reads a Server-Sent Events stream until it ends; returns every `order` event. */
async function readEvents(url: string, onEvent?: (e: ClientView) => void): Promise<ClientView[]> {
  const res = await request(url, { headersTimeout: 30_000, bodyTimeout: 30_000 });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  const events: ClientView[] = [];
  let buf = '';
  for await (const chunk of res.body) {
    buf += chunk.toString();
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      if (block.includes('event: order') && data) {
        const e = JSON.parse(data.slice(6)) as ClientView;
        events.push(e);
        onEvent?.(e);
      }
    }
  }
  return events;
}

/** Seed 004: the client reports its requestPayment result; "ok" → confirming + immediate query; the final state is pushed. */
for (const leg of dbLegs()) {
  describe(`order confirmation on ${leg}`, () => {
    let s: Stack;
    before(async () => {
      s = await startStack(leg, { env: { POLYPAY_QUERY_SCHEDULE: '600' } }); // no early active query: only the confirmation may settle it
    });
    after(() => s.close());

    async function jsapiOrder() {
      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_LITE', amount: 66, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ openid: 'o-lite' }) });
      assert.equal(res.code, 0, res.msg);
      return res.data as { payOrderId: string; clientToken: string };
    }

    test('"ok" from the client: confirming, channel queried at once, final state pushed over SSE', async () => {
      s.sim.faults.badCallbackSignature = true; // the callback is lost: only the confirmation can settle it quickly
      try {
        const { payOrderId, clientToken } = await jsapiOrder();
        const events = readEvents(`${s.url}/api/pay/client/events/${payOrderId}?token=${clientToken}`);
        await new Promise((r) => setTimeout(r, 150));
        await s.sim.payer.pay('1900000001', payOrderId);
        const confirm = await request(`${s.url}/api/pay/client/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payOrderId, clientToken, result: 'ok' }) });
        const body = (await confirm.body.json()) as { code: number; data: ClientView };
        assert.equal(body.code, 0);
        assert.equal(body.data.state, 2, 'the immediate query found the payment');
        const seen = await events;
        assert.equal(seen[0]?.state, 1, 'first event: the state when the client connected');
        assert.equal(seen.at(-1)?.state, 2, 'last event: paid; then the stream ends');
        const ev = await s.gw.db.query<{ kind: string; detail: { result?: string } }>(`SELECT kind, detail FROM order_events WHERE order_id = $1 AND kind = 'client'`, [payOrderId]);
        assert.equal(ev.rows[0]?.detail.result, 'ok');
      } finally {
        s.sim.faults.badCallbackSignature = false;
      }
    });

    test('"ok" before the channel knows: the order shows confirming and stays paying; "cancel" is only recorded', async () => {
      const a = await jsapiOrder();
      const res = await request(`${s.url}/api/pay/client/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payOrderId: a.payOrderId, clientToken: a.clientToken, result: 'ok' }) });
      const body = (await res.body.json()) as { data: ClientView };
      assert.deepEqual([body.data.state, body.data.confirming], [1, true]);
      const b = await jsapiOrder();
      const merchantSide = await s.client.call('/api/pay/confirm', { payOrderId: b.payOrderId, clientResult: 'cancel' });
      assert.equal(merchantSide.code, 0, merchantSide.msg);
      assert.equal((merchantSide.data as { state: number }).state, 1, 'a cancel never closes or fails the order by itself');
    });

    test('a wrong token is refused and changes nothing', async () => {
      const { payOrderId } = await jsapiOrder();
      const res = await request(`${s.url}/api/pay/client/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payOrderId, clientToken: 'x'.repeat(32), result: 'ok' }) });
      assert.equal(((await res.body.json()) as { errorKey: string }).errorKey, 'SIGN_INVALID');
      const sse = await request(`${s.url}/api/pay/client/events/${payOrderId}?token=nope`);
      assert.equal(sse.statusCode, 403);
      await sse.body.dump();
      const row = await s.gw.db.query<{ client_result: string | null }>(`SELECT client_result FROM pay_orders WHERE pay_order_id = $1`, [payOrderId]);
      assert.equal(row.rows[0]?.client_result, null);
    });
  });
}
