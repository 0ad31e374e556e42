import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { type Stack, orderNo, startStack, waitFor } from '../helpers/stack.ts';
import { ALIPAY_UA, NO_BROWSER, WECHAT_UA, collectPageErrors, launchChromium, screenshot } from '../helpers/browser.ts';
import { ensureDemoMerchant } from '../../src/demo.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';
import { startUnionPaySimulator } from '../../src/channels/unionpay/simulator/index.ts';

type Data = Record<string, any>;

/**
 * QR_CASHIER in Chromium: the same cashier link paid from a WeChat user agent (WeChat OAuth, then
 * WeixinJSBridge — stood in for by the test, which pays through the WeChat simulator as the
 * WeChat app would), from an Alipay user agent (Alipay's WAP cashier in the simulator), and from a
 * desktop browser that emulates WeChat in the sandbox. Merchant text never runs as script.
 */
describe('QR_CASHIER cashier in Chromium', { skip: NO_BROWSER }, () => {
  let s: Stack;
  let alipay: AlipaySimulator;
  let browser: Browser;
  before(async () => {
    s = await startStack('pglite');
    alipay = await startAlipaySimulator({ timeScale: 1000 });
    await ensureDemoMerchant(s.gw, s.sim, alipay);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await alipay?.close();
    await s?.close();
  });

  const cashierOrder = async (subject = '收银台商品', amount = 2580): Promise<Data> => {
    const r = await s.client.unifiedOrder({ mchOrderNo: orderNo('cb'), wayCode: 'QR_CASHIER', amount, currency: 'cny', subject, body: 'b' });
    assert.equal(r.code, 0, r.msg);
    return r.data as Data;
  };
  const state = async (id: string) => (await s.client.query({ payOrderId: id })).data as Data;

  test('WeChat user agent: OAuth, WX_JSAPI, WeixinJSBridge pays, the result page shows success', async () => {
    const d = await cashierOrder();
    const context = await browser.newContext({ userAgent: WECHAT_UA, viewport: { width: 390, height: 844 }, isMobile: true });
    const seen: Data[] = [];
    // The WeChat app's part: getBrandWCPayRequest with the page's parameters; the payer confirms.
    await context.exposeFunction('__wechatAppPays', async (params: Data) => {
      seen.push(params);
      await s.sim.payer.pay('1900000001', d.payOrderId);
      return 'get_brand_wcpay_request:ok';
    });
    // A string, not a function: tsx's name helpers do not exist in the page.
    await context.addInitScript({ content: 'window.WeixinJSBridge = { invoke: function (name, params, cb) { window.__wechatAppPays(params).then(function (m) { cb({ err_msg: m }); }); } };' });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(d.payData);
    await page.waitForURL(/\/result(#.*)?$/, { timeout: 15_000 });
    await page.locator('[data-testid=result][data-state="2"]').waitFor({ timeout: 15_000 });
    assert.match((await page.textContent('[data-testid=amount]')) ?? '', /¥25\.80/);
    assert.match((await page.textContent('[data-testid=merchant]')) ?? '', /Polypay 演示商户/);
    await screenshot(page, 'cashier-wechat-paid');
    assert.equal(seen.length, 1);
    assert.match(seen[0]?.package, /^prepay_id=/);
    assert.equal(seen[0]?.appId, 'wxd0000000000demo1', 'the 公众号 appid the openid belongs to');
    const q = await state(d.payOrderId);
    assert.deepEqual([q.state, q.wayCode, q.ifCode], [2, 'WX_JSAPI', 'wxpay']);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('Alipay user agent: straight to Alipay\'s WAP cashier, paid there, back to the gateway\'s result', async () => {
    const d = await cashierOrder('支付宝收银台', 990);
    const context = await browser.newContext({ userAgent: ALIPAY_UA, viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.goto(d.payData);
    await page.waitForURL((u) => u.toString().startsWith(`${alipay.baseUrl}/sandbox/cashier/`), { timeout: 10_000 }).catch((e) => { throw new Error(`${page.url()} ${e}`); });
    assert.match((await page.textContent('body')) ?? '', /9\.90/);
    await screenshot(page, 'cashier-alipay-wap');
    await page.getByRole('button', { name: /Pay/ }).click();
    await page.waitForURL((u) => u.toString().startsWith(`${s.url}/api/pay/return/alipay/`));
    assert.match((await page.textContent('body')) ?? '', /支付成功/);
    await screenshot(page, 'cashier-alipay-paid');
    const q = await state(d.payOrderId);
    assert.deepEqual([q.state, q.wayCode, q.ifCode], [2, 'ALI_WAP', 'alipay']);
    await context.close();
  });

  test('desktop browser: told which apps pay; in the sandbox it emulates WeChat and pays on the simulator\'s page', async () => {
    const d = await cashierOrder('桌面模拟', 100);
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    const errors = collectPageErrors(page);
    await page.goto(d.payData);
    const text = (await page.textContent('body')) ?? '';
    assert.match(text, /微信 · WeChat/);
    assert.match(text, /支付宝 · Alipay/);
    assert.equal(await page.locator('img.qr').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), true, 'the QR of the cashier link renders');
    await screenshot(page, 'cashier-desktop');
    await page.click('[data-testid=emulate-wechat]');
    await page.locator('#sandbox:not(.hidden)').waitFor({ timeout: 15_000 });
    await screenshot(page, 'cashier-wechat-emulated');
    await page.click('[data-testid=sandbox-payer]');
    await page.getByRole('button', { name: /Pay/ }).click();
    await page.getByRole('link', { name: /back to merchant/ }).click();
    await page.locator('[data-testid=result][data-state="2"]').waitFor({ timeout: 15_000 });
    await waitFor('paid', async () => (await state(d.payOrderId)).state === 2);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a malicious subject is shown as text on the cashier and never runs', async () => {
    const d = await cashierOrder(`<img src=x onerror="window.__xss=1"><script>__xss=2</script>`, 1);
    for (const ua of [undefined, WECHAT_UA]) {
      const context = await browser.newContext(ua ? { userAgent: ua } : {});
      const page = await context.newPage();
      await page.goto(ua ? d.payData : `${d.payData}`);
      if (ua) await page.waitForURL(/\/wechat\?/);
      assert.equal(await page.evaluate('window.__xss'), undefined);
      assert.match((await page.textContent('.subject')) ?? '', /<img src=x onerror=/);
      await context.close();
    }
  });

  test('desktop, emulating 云闪付: UnionPay user authorisation, then the 云闪付 payment page pays YSF_JSAPI', async () => {
    const up = await startUnionPaySimulator({ timeScale: 1000 });
    try {
      await ensureDemoMerchant(s.gw, s.sim, alipay, up);
      const d = await cashierOrder('云闪付收银台', 321);
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.goto(d.payData);
      await page.click('[data-testid=emulate-unionpay]');
      await page.getByRole('button', { name: /Allow/ }).click();
      await page.waitForURL((u) => u.toString().startsWith(up.baseUrl) && !u.toString().includes('userAuth'));
      await screenshot(page, 'cashier-unionpay');
      await page.getByRole('button', { name: /Pay/ }).click();
      await waitFor('paid', async () => (await state(d.payOrderId)).state === 2);
      const q = await state(d.payOrderId);
      assert.deepEqual([q.wayCode, q.ifCode], ['YSF_JSAPI', 'ysfpay']);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await up.close();
    }
  });
});
