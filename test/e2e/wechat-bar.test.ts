import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbLegs } from '../helpers/db.ts';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { DEMO_WECHAT_MCHID, ensureDemoMerchant, ensureWechatV2DemoApp } from '../../src/demo.ts';
import { startWechatPaySimulator, type WechatPaySimulator } from '../../src/channels/wechat-pay/simulator/index.ts';

/**
 * WX_BAR (付款码) through the gateway's worker, on API v3 (codepay) and v2 (micropay): AUTO_BAR picks
 * WX_BAR from a WeChat code; a payer who takes 20 s (scaled to 2 s) is found by polling; one who
 * never confirms is reversed (撤销) at the timeout; refusals are final.
 */
for (const leg of dbLegs()) {
  describe(`WeChat bar-code pay on ${leg}`, () => {
    let s: Stack;
    let wx: WechatPaySimulator;
    let v2: MerchantClient;
    before(async () => {
      s = await startStack(leg, { env: { POLYPAY_BAR_TIMEOUT_SECONDS: '6', POLYPAY_BAR_POLL_SCHEDULE: '0.3' } });
      wx = await startWechatPaySimulator({ timeScale: 1000, barcodeTimeScale: 10, logger: false });
      await ensureDemoMerchant(s.gw, wx);
      v2 = new MerchantClient({ baseUrl: s.url, ...(await ensureWechatV2DemoApp(s.gw, wx, s.demo.mchNo)) });
    });
    after(async () => {
      await wx?.close();
      await s?.close();
    });

    for (const api of ['v3', 'v2'] as const) {
      const client = () => (api === 'v3' ? s.client : v2);
      const state = async (id: string) => ((await client().query({ payOrderId: id })).data as { state: number }).state;
      const bar = async (wayCode: string, authCode: string) => {
        const r = await client().unifiedOrder({ mchOrderNo: orderNo('wxbar'), wayCode, amount: 600, currency: 'cny', subject: 's', body: 'b', channelExtra: JSON.stringify({ auth_code: authCode }) });
        assert.equal(r.code, 0, r.msg);
        return r.data as { payOrderId: string; orderState: number };
      };

      test(`${api}: AUTO_BAR with a WeChat code → WX_BAR, paid at once`, async () => {
        const d = await bar('AUTO_BAR', '100000000000000001');
        assert.equal(d.orderState, 2);
        const row = await s.gw.db.query<{ way_code: string }>(`SELECT way_code FROM pay_orders WHERE pay_order_id = $1`, [d.payOrderId]);
        assert.equal(row.rows[0]?.way_code, 'WX_BAR');
      });

      test(`${api}: the payer takes 20 s to enter the password — polling records the payment`, async () => {
        const d = await bar('WX_BAR', '110000000000000020');
        assert.equal(d.orderState, 1);
        await waitFor('paid by polling', async () => (await state(d.payOrderId)) === 2, 10_000);
      });

      test(`${api}: the payer never confirms — reversed at the channel, order revoked (4)`, async () => {
        const d = await bar('WX_BAR', '110000000000000099');
        assert.equal(d.orderState, 1);
        await waitFor('reversed', async () => (await state(d.payOrderId)) === 4, 20_000);
        assert.equal(wx.ledger(DEMO_WECHAT_MCHID).orders.find((o) => o.out_trade_no === d.payOrderId)?.trade_state, 'REVOKED');
      });

      test(`${api}: insufficient balance fails at once; a system error is settled by a query`, async () => {
        assert.equal((await bar('WX_BAR', '120000000000000000')).orderState, 3);
        assert.equal((await bar('WX_BAR', '130000000000000000')).orderState, 2);
      });
    }
  });
}
