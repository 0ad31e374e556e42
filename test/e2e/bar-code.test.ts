import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';
import { DEMO_ALIPAY_APPID, ensureDemoMerchant } from '../../src/demo.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';

/** Bar-code pay through the core's worker: poll while the payer enters the password, reverse when they never do. */
for (const leg of dbLegs()) {
  describe(`bar-code pay on ${leg}`, () => {
    let s: Stack;
    let ali: AlipaySimulator;
    before(async () => {
      s = await startStack(leg, { env: { POLYPAY_BAR_TIMEOUT_SECONDS: '5', POLYPAY_BAR_POLL_SCHEDULE: '0.3' } });
      ali = await startAlipaySimulator({ timeScale: 1, passwordDelayMs: 1500 });
      await ensureDemoMerchant(s.gw, s.sim, ali);
    });
    after(async () => {
      await ali?.close();
      await s?.close();
    });
    const state = async (id: string) => ((await s.client.query({ payOrderId: id })).data as { state: number }).state;
    const bar = async (wayCode: string, authCode: string) => {
      const r = await s.client.unifiedOrder({ mchOrderNo: orderNo('bar'), wayCode, amount: 500, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ auth_code: authCode }) });
      assert.equal(r.code, 0, r.msg);
      return r.data as { payOrderId: string; orderState: number };
    };

    test('AUTO_BAR picks ALI_BAR from the code; the payer confirms after 1.5 s and polling records it', async () => {
      const d = await bar('AUTO_BAR', '281000000000000077');
      assert.equal(d.orderState, 1, 'waiting for the password');
      const row = await s.gw.db.query<{ way_code: string }>(`SELECT way_code FROM pay_orders WHERE pay_order_id = $1`, [d.payOrderId]);
      assert.equal(row.rows[0]?.way_code, 'ALI_BAR');
      await waitFor('paid by polling', async () => (await state(d.payOrderId)) === 2, 8000);
    });

    test('the payer never confirms: reversed at the channel after the timeout, order revoked (4)', async () => {
      const d = await bar('ALI_BAR', '282000000000000078');
      assert.equal(d.orderState, 1);
      await waitFor('reversed', async () => (await state(d.payOrderId)) === 4, 25_000);
      const trade = ali.ledger(DEMO_ALIPAY_APPID).trades.find((t) => t.out_trade_no === d.payOrderId);
      assert.equal(trade?.trade_status, 'TRADE_CLOSED');
    });

    test('an authCode is required for bar-code ways; AUTO_BAR refuses codes of no known wallet', async () => {
      const missing = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'ALI_BAR', amount: 1, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(missing.errorKey, 'PARAM_INVALID');
      const unknown = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'AUTO_BAR', amount: 1, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ authCode: '999' }) });
      assert.equal(unknown.errorKey, 'PARAM_INVALID');
    });
  });
}
