import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { Violations, postgresAvailable, report, sleep, waitUntil } from './support/harness.ts';
import { checkAgainstLedger, checkMoney, checkNotifications, checkTransitions, settle } from './support/invariants.ts';
import { type ProxiedRequest, type ProxyAction, gate } from './support/proxy.ts';
import { type Scenario, safeCall, startScenario, uniqueNo } from './support/scenario.ts';
import { WX_APPID } from './support/gateway-process.ts';
import { forgeCallback, paidTransaction, refundResource, signCallbackHeaders } from './support/wechat.ts';

/**
 * Channel misbehaviour: callbacks duplicated, reordered, delayed past expiry, probe-signed,
 * forged and tampered (amount, mchid, appid, out_trade_no, currency, refund fields, replayed to
 * another order); channel timeouts, 5xx, lost and slow answers during create, query, close and
 * refund (a fault proxy sits between the gateway and the simulator, another between the
 * simulator's callbacks and the gateway). Nothing wrong may be recorded: at the end the
 * gateway agrees with the channel's ledger, every transition is legal, and a payment that
 * arrives after a close is recorded as paid with LATE_SUCCESS and notified as such.
 */
describe('faults: channel misbehaviour', { skip: !postgresAvailable() && 'needs PostgreSQL (POLYPAY_TEST_SKIP_PG=1)' }, () => {
  let s: Scenario;
  before(async () => {
    s = await startScenario({ channelProxy: true, callbackProxy: true });
  });
  after(async () => {
    await s?.close();
  });

  test('callbacks and channel calls misbehave; nothing wrong is recorded', async () => {
    const v = new Violations();
    const cases: string[] = [];
    const mchid = s.h.creds.mchid;
    const cp = s.channelProxy!;
    const cbp = s.callbackProxy!;

    // ---- helpers -------------------------------------------------------------------------
    const row = async (id: string) =>
      (await s.db.query<{ state: number; late_success: boolean; err_code: string | null; refund_amount: number; amount: number; pay_data: string | null }>(`SELECT state, late_success, err_code, refund_amount, amount, pay_data FROM pay_orders WHERE pay_order_id = $1`, [id])).rows[0];
    const refundRow = async (id: string) => (await s.db.query<{ state: number; err_code: string | null }>(`SELECT state, err_code FROM refund_orders WHERE refund_order_id = $1`, [id])).rows[0];
    const events = async (id: string) =>
      (await s.db.query<{ kind: string; from_state: number | null; to_state: number | null; source: string; detail: Record<string, unknown> }>(`SELECT kind, from_state, to_state, source, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [id])).rows;
    const waitState = (id: string, states: number[], ms = 20_000) => waitUntil(`${id} in ${states}`, async () => states.includes((await row(id))?.state ?? -1), ms);
    const waitRefund = (id: string, states: number[], ms = 20_000) => waitUntil(`${id} in ${states}`, async () => states.includes((await refundRow(id))?.state ?? -1), ms);
    const simOrder = (id: string) => s.h.sim.ledger(mchid).orders.find((o) => o.out_trade_no === id);
    const simRefund = (id: string) => s.h.sim.ledger(mchid).refunds.find((o) => o.out_refund_no === id);
    const createOrder = async (tag: string, amount = 100, extra: Record<string, unknown> = {}) => {
      const t0 = Date.now();
      const a = await safeCall(() => s.client.unifiedOrder({ mchOrderNo: uniqueNo('cm'), wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: `case ${tag}`, body: tag, notifyUrl: s.receiver.url, ...extra }));
      const ms = Date.now() - t0;
      v.check(a.code === 0, `${tag}: unifiedOrder answered ${a.code} ${a.errorKey}: ${a.msg}`);
      const d = (a.data ?? {}) as { payOrderId: string; orderState: number; payData?: string; errCode?: string };
      return { id: d.payOrderId, state: d.orderState, payData: d.payData, errCode: d.errCode, ms };
    };
    const pay = async (id: string) => {
      try {
        await s.h.sim.payer.pay(mchid, id);
        return true;
      } catch {
        return false;
      }
    };
    const postCallback = async (kind: 'pay' | 'refund', id: string, cb: { headers: Record<string, string>; body: string }) => {
      const res = await request(`${s.gw.url}/api/${kind}/notify/wxpay/${id}`, { method: 'POST', headers: cb.headers, body: cb.body });
      await res.body.dump();
      return res.statusCode;
    };
    /** A proxy rule that fires once, for the first request it matches. */
    const once = (match: (r: ProxiedRequest) => boolean, action: () => ProxyAction) => {
      let fired = false;
      return (r: ProxiedRequest): ProxyAction | undefined => {
        if (fired || !match(r)) return undefined;
        fired = true;
        return action();
      };
    };
    const isCreate = (tag: string) => (r: ProxiedRequest) => r.method === 'POST' && r.path.startsWith('/v3/pay/transactions/native') && r.body.toString().includes(`"case ${tag}"`);
    const isQuery = (id: string) => (r: ProxiedRequest) => r.method === 'GET' && r.path.startsWith(`/v3/pay/transactions/out-trade-no/${id}?`);
    const isClose = (id: string) => (r: ProxiedRequest) => r.method === 'POST' && r.path === `/v3/pay/transactions/out-trade-no/${id}/close`;
    const isRefund = (id: string) => (r: ProxiedRequest) => r.method === 'POST' && r.path === '/v3/refund/domestic/refunds' && r.body.toString().includes(`"out_trade_no":"${id}"`);
    const isRefundQuery = (refundIds: Set<string>) => (r: ProxiedRequest) => r.method === 'GET' && [...refundIds].some((x) => r.path.startsWith(`/v3/refund/domestic/refunds/${x}`));
    const isPayCallback = (id: string) => (r: ProxiedRequest) => r.path === `/api/pay/notify/wxpay/${id}`;
    const isRefundCallback = (ids: Set<string>) => (r: ProxiedRequest) => [...ids].some((x) => r.path === `/api/refund/notify/wxpay/${x}`);
    const unsigned500 = (): ProxyAction => ({ kind: 'answer', status: 500, body: JSON.stringify({ code: 'SYSTEM_ERROR', message: '系统错误' }) });
    const refundOf = async (tag: string, id: string, amount: number) => {
      const a = await safeCall(() => s.client.refund({ payOrderId: id, mchRefundNo: uniqueNo('cr'), refundAmount: amount, currency: 'cny', refundReason: tag, notifyUrl: s.receiver.url }));
      v.check(a.code === 0, `${tag}: refund answered ${a.code} ${a.errorKey}: ${a.msg}`);
      return (a.data ?? {}) as { refundOrderId: string; state: number };
    };
    const paidOrder = async (tag: string, amount = 100) => {
      const o = await createOrder(tag, amount);
      await pay(o.id);
      v.check(await waitState(o.id, [2]), `${tag}: ${o.id} not recorded paid`);
      return o.id;
    };
    const run = async (name: string, fn: () => Promise<void>) => {
      cases.push(name);
      try {
        await fn();
      } catch (err) {
        v.add(`${name}: threw ${(err as Error).stack ?? err}`);
      }
    };

    // ---- phase 1: global simulator switches, one at a time -------------------------------
    await run('duplicated callbacks: one transition, one notification', async () => {
      s.h.sim.faults.duplicateCallbacks = true;
      const ids = await Promise.all([1, 2, 3].map(async (i) => (await createOrder(`dup${i}`)).id));
      for (const id of ids) await pay(id);
      for (const id of ids) {
        v.check(await waitState(id, [2]), `dup: ${id} not paid`);
        await waitUntil('both callbacks', async () => (await events(id)).filter((e) => e.kind === 'callback').length >= 2, 10_000);
      }
      s.h.sim.faults.duplicateCallbacks = false;
      for (const id of ids) {
        const ev = await events(id);
        v.check(ev.filter((e) => e.kind === 'callback').length >= 2, `dup: ${id} saw ${ev.filter((e) => e.kind === 'callback').length} callbacks`);
        v.check(ev.filter((e) => e.kind === 'transition' && e.to_state === 2).length === 1, `dup: ${id} has ${ev.filter((e) => e.to_state === 2).length} transitions to paid`);
        const n = await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM merchant_notifications WHERE order_id = $1`, [id]);
        v.check(n.rows[0]?.n === 1, `dup: ${id} has ${n.rows[0]?.n} notifications`);
      }
    });

    await run('probe-signed first attempt: refused, the genuine retry accepted', async () => {
      s.h.sim.faults.probeSignatureFirst = true;
      const { id } = await createOrder('probe');
      await pay(id);
      s.h.sim.faults.probeSignatureFirst = false;
      v.check(await waitState(id, [2]), `probe: ${id} not paid`);
      v.check((await events(id)).some((e) => e.kind === 'refused' && e.source === 'callback'), `probe: ${id}: the probe was not refused`);
      const cb = s.h.sim.ledger(mchid).callbacks.find((c) => c.out_trade_no === id);
      v.check(cb?.probe_accepted === false, `probe: the channel saw its probe accepted (${cb?.probe_accepted})`);
    });

    for (const [fault, name] of [
      ['tamperCallbackAmount', 'amount tampered (correctly signed): refused; the active query records the true amount'],
      ['staleCallbackTimestamp', 'callback signed 10 minutes ago: refused; the active query settles'],
      ['badCallbackSignature', 'callback with a wrong signature: refused; the active query settles'],
    ] as const) {
      await run(name, async () => {
        s.h.sim.faults[fault] = true;
        const { id } = await createOrder(fault, 321);
        await pay(id);
        const refused = await waitUntil(`${fault} refused`, async () => (await events(id)).some((e) => e.kind === 'refused' && e.source === 'callback'), 10_000);
        v.check(refused, `${fault}: ${id}: no refusal recorded`);
        s.h.sim.faults[fault] = false;
        v.check(await waitState(id, [2]), `${fault}: ${id} not paid after the truth was queried`);
        v.check((await row(id))?.amount === 321, `${fault}: amount changed`);
      });
    }

    // ---- phase 2: per-order faults, concurrently -----------------------------------------
    const phase2: Array<Promise<void>> = [];
    const later = (name: string, fn: () => Promise<void>) => phase2.push(run(name, fn));

    later('refund request answered 5xx (never reached the channel): refund failed after the orphan window, amount released', async () => {
      const id = await paidOrder('refund-5xx', 500);
      cp.rules.push(once(isRefund(id), unsigned500));
      const r = await refundOf('refund-5xx', id, 200);
      v.check(r.state === 1, `refund-5xx: answered state ${r.state}, expected 1 (outcome unknown)`);
      v.check(await waitRefund(r.refundOrderId, [3], 120_000), `refund-5xx: ${r.refundOrderId} never failed (stuck with its amount reserved)`);
      v.check(simRefund(r.refundOrderId) === undefined, 'refund-5xx: the channel has the refund');
      const again = await refundOf('refund-5xx again', id, 500);
      v.check(await waitRefund(again.refundOrderId, [2]), 'refund-5xx: the full amount could not be refunded after the release');
    });

    later('pay callback delivered after the order was fully refunded: a no-op', async () => {
      const g = gate();
      const { id } = await createOrder('reorder-pay', 400);
      cbp.rules.push(once(isPayCallback(id), () => ({ kind: 'hold', release: g.release })));
      await pay(id);
      v.check(await waitState(id, [2]), `reorder-pay: ${id} not paid by the active query`);
      const r = await refundOf('reorder-pay', id, 400);
      v.check(await waitRefund(r.refundOrderId, [2]), 'reorder-pay: refund did not succeed');
      v.check(await waitState(id, [5]), 'reorder-pay: order not fully refunded');
      g.open();
      await waitUntil('held callback delivered', () => cbp.log.some((l) => l.path.endsWith(id) && l.action === 'hold' && l.status !== null), 10_000);
      await sleep(300);
      const after = await row(id);
      v.check(after?.state === 5, `reorder-pay: a late pay callback moved a refunded order to ${after?.state}`);
      v.check(!(await events(id)).some((e) => e.kind === 'transition' && e.from_state === 5), 'reorder-pay: a transition out of REFUNDED');
    });

    later('refund callbacks delivered in reverse order (queries failing): both applied, totals right', async () => {
      const id = await paidOrder('reorder-refund', 1000);
      const refundIds = new Set<string>();
      const blockQueries = isRefundQuery(refundIds);
      cp.rules.push((r) => (blockQueries(r) ? unsigned500() : undefined));
      // Every refund callback is held until this case knows its own refund ids (the channel may
      // call back before the refund answer reaches us); then the others are let through.
      const gates = new Map<string, ReturnType<typeof gate>>();
      let sorted = false;
      cbp.rules.push((r) => {
        const m = /^\/api\/refund\/notify\/wxpay\/(.+)$/.exec(r.path);
        if (!m) return undefined;
        const rid = m[1] as string;
        if (sorted && !refundIds.has(rid)) return undefined;
        let g = gates.get(rid);
        if (!g) gates.set(rid, (g = gate()));
        return { kind: 'hold', release: g.release };
      });
      const r1 = await refundOf('reorder-refund-1', id, 300);
      refundIds.add(r1.refundOrderId);
      const r2 = await refundOf('reorder-refund-2', id, 700);
      refundIds.add(r2.refundOrderId);
      sorted = true;
      for (const [rid, g] of gates) if (!refundIds.has(rid)) g.open();
      await waitUntil('both refund callbacks held', () => gates.has(r1.refundOrderId) && gates.has(r2.refundOrderId), 15_000);
      gates.get(r2.refundOrderId)?.open();
      v.check(await waitRefund(r2.refundOrderId, [2]), 'reorder-refund: the second refund (delivered first) not applied');
      v.check((await row(id))?.state === 2, 'reorder-refund: order left SUCCESS after a partial refund');
      gates.get(r1.refundOrderId)?.open();
      v.check(await waitRefund(r1.refundOrderId, [2]), 'reorder-refund: the first refund (delivered last) not applied');
      v.check(await waitState(id, [5]), 'reorder-refund: order not fully refunded');
      refundIds.clear();
      const ev = [...(await events(r1.refundOrderId)), ...(await events(r2.refundOrderId))];
      v.check(ev.filter((e) => e.kind === 'transition' && e.to_state === 2).every((e) => e.source === 'callback'), 'reorder-refund: expected the callbacks to settle the refunds');
    });

    later('payment whose callback is delayed past expiry: recorded paid by the expiry query, never closed', async () => {
      const g = gate();
      const { id } = await createOrder('late-callback', 250);
      cbp.rules.push(once(isPayCallback(id), () => ({ kind: 'hold', release: g.release })));
      const blocked = isQuery(id);
      let blocking = true;
      cp.rules.push((r) => (blocking && blocked(r) ? unsigned500() : undefined));
      await pay(id);
      await s.db.query(`UPDATE pay_orders SET expired_at = now() - interval '1 second', next_check_at = now() WHERE pay_order_id = $1`, [id]);
      await sleep(800); // the expiry pass runs while the channel cannot be asked: it must not close
      v.check((await row(id))?.state === 1, `late-callback: ${id} changed state while the channel could not be asked (${(await row(id))?.state})`);
      blocking = false;
      v.check(await waitState(id, [2]), `late-callback: ${id} not recorded paid`);
      g.open();
      await sleep(500);
      v.check(!(await events(id)).some((e) => e.to_state === 6), 'late-callback: the paid order passed through CLOSED');
      v.check((await row(id))?.late_success === false, 'late-callback: flagged late although never closed');
    });

    later('unpaid order past expiry: closed at the channel, then here; the payer can no longer pay', async () => {
      const { id } = await createOrder('expire-unpaid');
      await s.db.query(`UPDATE pay_orders SET expired_at = now() - interval '1 second', next_check_at = now() WHERE pay_order_id = $1`, [id]);
      v.check(await waitState(id, [6]), `expire-unpaid: ${id} not closed`);
      v.check(simOrder(id)?.trade_state === 'CLOSED', `expire-unpaid: the channel order is ${simOrder(id)?.trade_state}`);
      v.check(!(await pay(id)), 'expire-unpaid: the payer paid a closed order');
    });

    later('success after a close (the channel lost the order when asked to close): recorded paid with LATE_SUCCESS and notified as such', async () => {
      const { id } = await createOrder('late-success', 777);
      cp.rules.push(once(isClose(id), () => ({ kind: 'answer', status: 404, body: JSON.stringify({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }) })));
      const c = await safeCall(() => s.client.close({ payOrderId: id }));
      v.check(c.code === 0, `late-success: close answered ${c.code} ${c.errorKey}`);
      v.check((await row(id))?.state === 6, 'late-success: not closed here');
      v.check(await pay(id), 'late-success: the channel refused the payment (the fault did not take)');
      v.check(await waitState(id, [2]), `late-success: ${id}: the late payment was not recorded`);
      const o = await row(id);
      v.check(o?.late_success === true && o.err_code === 'LATE_SUCCESS', `late-success: late_success=${o?.late_success} errCode=${o?.err_code}`);
      v.check((await events(id)).some((e) => e.kind === 'transition' && e.from_state === 6 && e.to_state === 2), 'late-success: no 6 → 2 event');
      const got = await waitUntil('late success notified', () => s.receiver.deliveries.some((d) => d.fields.payOrderId === id), 10_000);
      const d = s.receiver.deliveries.find((x) => x.fields.payOrderId === id);
      v.check(got && d?.fields.state === '2' && d.fields.errCode === 'LATE_SUCCESS', `late-success: notified state ${d?.fields.state} errCode ${d?.fields.errCode}`);
      const q = await safeCall(() => s.client.query({ payOrderId: id }));
      v.check((q.data as { state?: number; errCode?: string } | undefined)?.errCode === 'LATE_SUCCESS', 'late-success: the query answer does not surface LATE_SUCCESS');
    });

    later('close racing a slow create: never paid here without being paid there', async () => {
      const g = gate();
      cp.rules.push(once(isCreate('race'), () => ({ kind: 'hold', release: g.release })));
      const creating = createOrder('race', 555);
      await waitUntil('create held', () => cp.log.some((l) => l.action === 'hold' && l.path.includes('/native')), 10_000);
      const id = (await s.db.query<{ pay_order_id: string }>(`SELECT pay_order_id FROM pay_orders WHERE subject = 'case race'`)).rows[0]?.pay_order_id as string;
      const c = await safeCall(() => s.client.close({ payOrderId: id }));
      v.check(c.code === 0 || c.errorKey === 'CHANNEL_UNAVAILABLE', `race: close answered ${c.code} ${c.errorKey}`);
      g.open();
      const o = await creating;
      v.check(o.state === 6 || o.state === 1, `race: the create answered state ${o.state}`);
      const paid = await pay(id);
      if (paid) {
        v.check(await waitState(id, [2]), 'race: paid at the channel but not here');
        if ((await events(id)).some((e) => e.to_state === 6)) v.check((await row(id))?.late_success === true, 'race: paid after a close without LATE_SUCCESS');
      } else {
        v.check((await row(id))?.state !== 2, 'race: paid here, not at the channel');
      }
    });

    later('forged callbacks (unknown key, wrong serial, stale, other APIv3 key, probe): refused, nothing changes', async () => {
      const { id } = await createOrder('forged', 150);
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const tx = () => paidTransaction(s.h, WX_APPID, id, 150);
      const forgeries = [
        forgeCallback(s.h, 'pay', tx(), { key: other }),
        forgeCallback(s.h, 'pay', tx(), { serial: 'PUB_KEY_ID_0000000000000000000000000000' }),
        forgeCallback(s.h, 'pay', tx(), { timestamp: Math.floor(Date.now() / 1000) - 600 }),
        forgeCallback(s.h, 'pay', tx(), { timestamp: Math.floor(Date.now() / 1000) + 600 }),
        forgeCallback(s.h, 'pay', tx(), { apiV3Key: 'X'.repeat(32) }),
        forgeCallback(s.h, 'pay', tx(), { signature: `WECHATPAY/SIGNTEST/${Buffer.from('probe').toString('base64')}` }),
        forgeCallback(s.h, 'pay', tx(), { eventType: 'REFUND.SUCCESS' }),
        { headers: { 'content-type': 'application/json' }, body: forgeCallback(s.h, 'pay', tx()).body },
      ];
      for (const [i, f] of forgeries.entries()) {
        const status = await postCallback('pay', id, f);
        v.check(status >= 400 && status < 500, `forged #${i}: answered ${status}`);
      }
      const o = await row(id);
      v.check(o?.state === 1, `forged: ${id} moved to ${o?.state}`);
      v.check((await events(id)).filter((e) => e.kind === 'refused').length >= forgeries.length, 'forged: refusals not recorded');
    });

    later('tampered callbacks signed with the real key (mchid, appid, out_trade_no, amount, currency, state) and replays to another order: refused', async () => {
      const { id } = await createOrder('tampered', 260);
      const { id: other } = await createOrder('tampered-other', 260);
      const tampered = [
        paidTransaction(s.h, WX_APPID, id, 260, { mchid: '1900009999' }),
        paidTransaction(s.h, 'wxsomebodyelse01', id, 260),
        paidTransaction(s.h, WX_APPID, other, 260),
        paidTransaction(s.h, WX_APPID, id, 261),
        paidTransaction(s.h, WX_APPID, id, 26000),
        paidTransaction(s.h, WX_APPID, id, 260, { amount: { total: 260, currency: 'USD' } }),
        paidTransaction(s.h, WX_APPID, id, 260, { amount: { currency: 'CNY' } }),
        paidTransaction(s.h, WX_APPID, id, 260, { amount: { total: '260', currency: 'CNY' } }),
        paidTransaction(s.h, WX_APPID, id, 260, { mchid: undefined }),
        paidTransaction(s.h, WX_APPID, id, 260, { appid: undefined }),
      ];
      for (const [i, t] of tampered.entries()) {
        const status = await postCallback('pay', id, forgeCallback(s.h, 'pay', t));
        v.check(status >= 400 && status < 500, `tampered #${i}: answered ${status}`);
      }
      // A genuine callback of a paid order, replayed to another order's URL.
      const captured: ProxiedRequest[] = [];
      const paidId = (await createOrder('replayed', 260)).id;
      cbp.rules.push((r) => {
        if (isPayCallback(paidId)(r)) captured.push(r);
        return undefined;
      });
      await pay(paidId);
      v.check(await waitState(paidId, [2]), 'replay: source order not paid');
      await waitUntil('genuine callback captured', () => captured.length > 0, 5000);
      const genuine = captured[0];
      if (genuine) {
        const status = await postCallback('pay', id, { headers: { ...genuine.headers, host: '127.0.0.1' }, body: genuine.body.toString() });
        v.check(status >= 400 && status < 500, `replay to another order: answered ${status}`);
        const again = await postCallback('pay', paidId, { headers: genuine.headers, body: genuine.body.toString() });
        v.check(again === 204 || again === 200, `replay to the same order (a duplicate): answered ${again}`);
      } else {
        v.add('replay: no genuine callback captured');
      }
      for (const x of [id, other]) v.check((await row(x))?.state === 1, `tampered: ${x} moved to ${(await row(x))?.state}`);
      v.check((await s.db.query(`SELECT 1 FROM merchant_notifications WHERE order_id = ANY($1::text[])`, [[id, other]])).rows.length === 0, 'tampered: a notification was enqueued');
    });

    later('tampered refund callbacks (amount, out_refund_no, out_trade_no, mchid) for a refund in flight: refused', async () => {
      const id = await paidOrder('refund-tamper', 900);
      cp.rules.push(once(isRefund(id), unsigned500)); // in flight here, unknown to the channel
      const r = await refundOf('refund-tamper', id, 300);
      const rid = r.refundOrderId;
      const tampered = [
        refundResource(s.h, id, rid, 301, 900),
        refundResource(s.h, id, rid, 900, 900),
        refundResource(s.h, id, `${rid}X`, 300, 900),
        refundResource(s.h, `${id}9`, rid, 300, 900),
        refundResource(s.h, id, rid, 300, 900, { mchid: '1900009999' }),
        refundResource(s.h, id, rid, 300, 900, { mchid: undefined }),
      ];
      for (const [i, t] of tampered.entries()) {
        const status = await postCallback('refund', rid, forgeCallback(s.h, 'refund', t));
        v.check(status >= 400 && status < 500, `refund tampered #${i}: answered ${status}`);
      }
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const forged = await postCallback('refund', rid, forgeCallback(s.h, 'refund', refundResource(s.h, id, rid, 300, 900), { key: other }));
      v.check(forged >= 400 && forged < 500, `refund forged: answered ${forged}`);
      v.check((await refundRow(rid))?.state === 1, `refund-tamper: ${rid} moved to ${(await refundRow(rid))?.state}`);
      v.check((await row(id))?.refund_amount === 0, 'refund-tamper: refunded amount changed');
    });

    later('create: the channel answers 5xx (signed by nobody) or an HTML 502: outcome unknown, never paid, closed at expiry', async () => {
      cp.rules.push(once(isCreate('create-5xx'), unsigned500));
      cp.rules.push(once(isCreate('create-502'), () => ({ kind: 'answer', status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } })));
      for (const tag of ['create-5xx', 'create-502']) {
        const o = await createOrder(tag);
        v.check(o.state === 1 && !o.payData, `${tag}: answered state ${o.state} with payData ${o.payData}`);
        v.check(simOrder(o.id) === undefined, `${tag}: the channel has the order`);
        await s.db.query(`UPDATE pay_orders SET expired_at = now() - interval '1 second', next_check_at = now() WHERE pay_order_id = $1`, [o.id]);
        v.check(await waitState(o.id, [6]), `${tag}: not closed at expiry`);
      }
    });

    later('create: the answer is lost after the channel created the order: queried, then paid', async () => {
      cp.rules.push(once(isCreate('create-lost'), () => ({ kind: 'lose' })));
      const o = await createOrder('create-lost', 640);
      v.check(o.state === 1, `create-lost: answered state ${o.state}`);
      v.check(simOrder(o.id)?.trade_state === 'NOTPAY', 'create-lost: the channel has no order');
      v.check(await pay(o.id), 'create-lost: could not pay');
      v.check(await waitState(o.id, [2]), 'create-lost: not recorded paid');
    });

    later('create: slow channel (2 s): a normal answer', async () => {
      cp.rules.push(once(isCreate('create-slow'), () => ({ kind: 'delay', ms: 2000 })));
      const o = await createOrder('create-slow');
      v.check(o.state === 1 && o.payData?.startsWith('weixin://'), `create-slow: answered state ${o.state} payData ${o.payData}`);
      v.check(o.ms >= 1900, `create-slow: answered in ${o.ms} ms, the delay did not apply`);
    });

    later('create: the channel never answers: the merchant is answered after the channel deadline, outcome unknown, then paid', async () => {
      cp.rules.push(once(isCreate('create-hang'), () => ({ kind: 'hang' })));
      const o = await createOrder('create-hang', 330);
      v.check(o.ms < 15_000, `create-hang: the merchant waited ${o.ms} ms`);
      v.check(o.state === 1, `create-hang: answered state ${o.state}`);
      v.check(await pay(o.id), 'create-hang: could not pay');
      v.check(await waitState(o.id, [2]), 'create-hang: not recorded paid');
    });

    later('create: the channel says "rejected" although it created the order; the payer pays anyway: LATE_SUCCESS, surfaced', async () => {
      cp.rules.push(once(isCreate('create-lie'), () => ({ kind: 'replace', status: 400, body: JSON.stringify({ code: 'PARAM_ERROR', message: '参数错误' }) })));
      const o = await createOrder('create-lie', 420);
      v.check(o.state === 3 && o.errCode === 'PARAM_ERROR', `create-lie: answered state ${o.state} errCode ${o.errCode}`);
      v.check(await pay(o.id), 'create-lie: could not pay');
      v.check(await waitState(o.id, [2]), 'create-lie: the payment was not recorded');
      const r = await row(o.id);
      v.check(r?.late_success === true && r.err_code === 'LATE_SUCCESS', `create-lie: late_success ${r?.late_success} errCode ${r?.err_code}`);
    });

    later('query: 5xx, lost and hanging answers change nothing; the truth lands when the channel answers again', async () => {
      const g = gate();
      const { id } = await createOrder('query-faults', 210);
      // Every attempt is held (WeChat retries a callback it got no answer for within 5 s).
      cbp.rules.push((r) => (isPayCallback(id)(r) ? { kind: 'hold', release: g.release } : undefined));
      let mode: 'ok' | '5xx' | 'lose' | 'hang' = '5xx';
      cp.rules.push((r) => (isQuery(id)(r) && mode !== 'ok' ? (mode === '5xx' ? unsigned500() : { kind: mode }) : undefined));
      await pay(id);
      for (const m of ['5xx', 'lose', 'hang'] as const) {
        mode = m;
        const t0 = Date.now();
        const q = await safeCall(() => s.client.query({ payOrderId: id, sync: 1 }));
        const ms = Date.now() - t0;
        v.check(q.code === 0 && (q.data as { state: number }).state === 1, `query-${m}: answered ${q.code} state ${(q.data as { state?: number } | undefined)?.state}`);
        v.check(ms < 15_000, `query-${m}: the merchant waited ${ms} ms`);
      }
      mode = 'ok';
      v.check(await waitState(id, [2]), 'query-faults: not paid once the channel answered');
      g.open();
    });

    later('close: 5xx → CHANNEL_UNAVAILABLE and nothing changes; lost, hanging and slow answers; closing an order paid meanwhile', async () => {
      const a = await createOrder('close-5xx');
      cp.rules.push(once(isClose(a.id), unsigned500));
      const c1 = await safeCall(() => s.client.close({ payOrderId: a.id }));
      v.check(c1.errorKey === 'CHANNEL_UNAVAILABLE', `close-5xx: answered ${c1.code} ${c1.errorKey}`);
      v.check((await row(a.id))?.state === 1, 'close-5xx: the order changed');
      const c2 = await safeCall(() => s.client.close({ payOrderId: a.id }));
      v.check(c2.code === 0 && (await row(a.id))?.state === 6 && simOrder(a.id)?.trade_state === 'CLOSED', `close-5xx retry: ${c2.code} ${c2.errorKey}`);

      const b = await createOrder('close-lost');
      cp.rules.push(once(isClose(b.id), () => ({ kind: 'lose' })));
      const c3 = await safeCall(() => s.client.close({ payOrderId: b.id }));
      v.check(c3.errorKey === 'CHANNEL_UNAVAILABLE', `close-lost: answered ${c3.code} ${c3.errorKey}`);
      v.check(simOrder(b.id)?.trade_state === 'CLOSED', 'close-lost: the channel did not close');
      v.check(!(await pay(b.id)), 'close-lost: the payer paid a closed order');
      const c4 = await safeCall(() => s.client.close({ payOrderId: b.id }));
      v.check(c4.code === 0 && (await row(b.id))?.state === 6, `close-lost retry: ${c4.code} ${c4.errorKey}`);

      const c = await createOrder('close-slow');
      cp.rules.push(once(isClose(c.id), () => ({ kind: 'delay', ms: 2000 })));
      const c5 = await safeCall(() => s.client.close({ payOrderId: c.id }));
      v.check(c5.code === 0 && (await row(c.id))?.state === 6, `close-slow: ${c5.code} ${c5.errorKey}`);

      const e = await createOrder('close-hang');
      cp.rules.push(once(isClose(e.id), () => ({ kind: 'hang' })));
      const t0 = Date.now();
      const c7 = await safeCall(() => s.client.close({ payOrderId: e.id }));
      v.check(Date.now() - t0 < 15_000, `close-hang: the merchant waited ${Date.now() - t0} ms`);
      v.check(c7.errorKey === 'CHANNEL_UNAVAILABLE', `close-hang: answered ${c7.code} ${c7.errorKey}`);
      const c8 = await safeCall(() => s.client.close({ payOrderId: e.id }));
      v.check(c8.code === 0 && (await row(e.id))?.state === 6 && simOrder(e.id)?.trade_state === 'CLOSED', `close-hang retry: ${c8.code} ${c8.errorKey}`);

      // Paid at the channel, not yet known here (callbacks held, queries failing): the channel refuses
      // the close (ORDER_PAID), so the merchant must not be told "closed".
      const d = await createOrder('close-paid');
      const held = gate();
      cbp.rules.push((r) => (isPayCallback(d.id)(r) ? { kind: 'hold', release: held.release } : undefined));
      let failQuery = true;
      cp.rules.push((r) => (failQuery && isQuery(d.id)(r) ? unsigned500() : undefined));
      await pay(d.id);
      const c6 = await safeCall(() => s.client.close({ payOrderId: d.id }));
      v.check(c6.code !== 0, `close-paid: the close of an order the channel says is paid answered success`);
      v.check(c6.errorKey === 'ORDER_STATE_INVALID', `close-paid: answered ${c6.code} ${c6.errorKey}`);
      v.check((await row(d.id))?.state === 1, `close-paid: state ${(await row(d.id))?.state} before the payment was confirmed`);
      failQuery = false;
      v.check(await waitState(d.id, [2]), 'close-paid: a paid order was not recorded paid');
      held.open();
    });

    later('refund: lost answer, hanging channel, slow channel, failing refund queries: each refund settles exactly as the channel did', async () => {
      const id = await paidOrder('refund-faults', 1000);
      cp.rules.push(once(isRefund(id), () => ({ kind: 'lose' })));
      const lost = await refundOf('refund-lost', id, 100);
      v.check(lost.state === 1, `refund-lost: answered state ${lost.state}`);
      cp.rules.push(once(isRefund(id), () => ({ kind: 'hang' })));
      const t0 = Date.now();
      const hung = await refundOf('refund-hang', id, 200);
      v.check(Date.now() - t0 < 15_000, `refund-hang: the merchant waited ${Date.now() - t0} ms`);
      cp.rules.push(once(isRefund(id), () => ({ kind: 'delay', ms: 2000 })));
      const slow = await refundOf('refund-slow', id, 300);
      const ids = new Set([lost.refundOrderId, hung.refundOrderId, slow.refundOrderId]);
      let failQueries = true;
      const q = isRefundQuery(ids);
      cp.rules.push((r) => (failQueries && q(r) ? unsigned500() : undefined));
      await sleep(1500);
      failQueries = false;
      for (const rid of ids) v.check(await waitRefund(rid, [2]), `refund-faults: ${rid} did not succeed`);
      v.check((await row(id))?.refund_amount === 600, `refund-faults: refunded ${(await row(id))?.refund_amount}, expected 600`);
    });

    await Promise.all(phase2);
    for (const [k, val] of Object.entries({ duplicateCallbacks: false, probeSignatureFirst: false, badCallbackSignature: false, staleCallbackTimestamp: false, tamperCallbackAmount: false })) (s.h.sim.faults as unknown as Record<string, unknown>)[k] = val;
    cp.rules.length = 0;
    cbp.rules.length = 0;

    const ok = await settle(s.db, () => s.h.sim.ledger(mchid), s.receiver, 120_000);
    v.check(ok, 'the gateway did not settle with the channel');
    await s.gw.stop();
    const t = await checkTransitions(s.db, v);
    await checkMoney(s.db, v);
    const l = await checkAgainstLedger(s.db, s.h.sim.ledger(mchid), v);
    await checkNotifications(s.db, s.receiver, v);
    for (const e of s.gw.unhandledErrors()) v.add(`gateway log: ${e}`);
    for (const e of s.gw.unexpectedExits) v.add(e);
    report('channel misbehaviour', cases.length, v, `${l.paid} paid, ${l.late} late successes surfaced, ${t.transitions} transitions, ${cp.log.length} channel calls and ${cbp.log.length} callbacks through the fault proxies`, () => s.gw.logTail());
  });
});
