import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureDemoMerchant } from '../../src/demo.ts';
import { orderNo, startStack } from '../helpers/stack.ts';

describe('demo merchant', () => {
  test('fixed through POLYPAY_DEMO_*, created once, wired to the sandbox with every WX way', async () => {
    const s = await startStack('pglite', { env: { POLYPAY_DEMO_MCH_NO: 'MTUTORIAL1', POLYPAY_DEMO_APP_ID: 'tutorialapp0001', POLYPAY_DEMO_APP_SECRET: 'tutorial-secret-0123456789' } });
    try {
      assert.deepEqual(s.demo, { mchNo: 'MTUTORIAL1', appId: 'tutorialapp0001', appSecret: 'tutorial-secret-0123456789' });
      const again = await ensureDemoMerchant(s.gw, s.sim);
      assert.deepEqual(again, s.demo, 'idempotent');
      assert.equal((await s.gw.tenancy.listMerchants()).length, 1);
      const apps = await s.gw.tenancy.listApps('MTUTORIAL1');
      assert.equal(apps.length, 1);
      assert.deepEqual(Object.keys(apps[0]?.ways as object).sort(), ['QR_CASHIER', 'WX_APP', 'WX_BAR', 'WX_H5', 'WX_JSAPI', 'WX_LITE', 'WX_NATIVE'], 'every WX way and the aggregated cashier');
      const res = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1, currency: 'cny', subject: 's', body: 'b' });
      assert.equal(res.code, 0, res.msg);
    } finally {
      await s.close();
    }
  });
});
