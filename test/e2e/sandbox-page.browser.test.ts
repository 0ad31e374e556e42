import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI installs Debian's chromium (.ci/run); on a developer machine without it the test says so instead of failing.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no browser at ${CHROMIUM}: apt-get install -y chromium` : false;

/** The sandbox payer page in a real headless Chromium: scan → Pay → the gateway records the payment. */
describe('sandbox payer page in Chromium', { skip }, () => {
  let s: Stack;
  let browser: Browser;
  before(async () => {
    s = await startStack('pglite'); // the page does not touch the gateway's database; one leg is enough
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a payer scans the code URL, sees the order and pays it', async () => {
    const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1234, currency: 'cny', subject: '测试商品', body: 'b' });
    const { payOrderId, payData } = created.data as { payOrderId: string; payData: string };
    const page = await browser.newPage();
    await page.goto(`${s.sim.baseUrl}/sandbox/scan?code_url=${encodeURIComponent(payData)}`);
    const text = await page.textContent('body');
    assert.match(text ?? '', /12\.34/, 'amount shown in yuan');
    assert.match(text ?? '', /测试商品/);
    const qr = await page.$('img.qr');
    assert.ok(qr, 'the code URL is shown as a QR image');
    await page.getByRole('button', { name: /Pay/ }).click();
    await page.waitForLoadState('load');
    assert.match((await page.textContent('body')) ?? '', /SUCCESS/);
    await waitFor('gateway saw the payment', async () => ((await s.client.query({ payOrderId })).data as { state: number }).state === 2);
    await page.close();
  });

  test('merchant-controlled text cannot run script on the sandbox page', async () => {
    const created = await s.client.unifiedOrder({ mchOrderNo: orderNo(), wayCode: 'WX_NATIVE', amount: 1, currency: 'cny', subject: '<img src=x onerror="window.__xss=1">', body: 'b' });
    const { payData } = created.data as { payData: string };
    const page = await browser.newPage();
    await page.goto(`${s.sim.baseUrl}/sandbox/scan?code_url=${encodeURIComponent(payData)}`);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    assert.match((await page.textContent('body')) ?? '', /<img src=x/);
    await page.close();
  });
});
