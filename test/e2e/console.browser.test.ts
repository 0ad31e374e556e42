import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { type Receiver, type Stack, startReceiver, startStack, waitFor } from '../helpers/stack.ts';
import { NO_BROWSER, collectPageErrors, launchChromium, screenshot } from '../helpers/browser.ts';
import { ensureDemoMerchant } from '../../src/demo.ts';
import { startAlipaySimulator, type AlipaySimulator } from '../../src/channels/alipay/simulator/index.ts';
import { startShengpaySimulator, type ShengpaySimulator } from '../../src/channels/shengpay/simulator/index.ts';
import { MerchantClient } from '../../src/merchant-api/client.ts';

/**
 * The consoles in a real headless Chromium (Debian's), clicked through like a newcomer would:
 * sign in, onboard a merchant with WeChat and Alipay sandbox keys typed into the generated forms,
 * pay a pay-test order through the sandbox payer page, refund it and resend its notification from
 * the order page; then the merchant console of that merchant. One database leg: the API tests
 * (console-*.test.ts) run every console route on PGlite and PostgreSQL.
 */
describe('operator and merchant consoles in Chromium', { skip: NO_BROWSER }, () => {
  let s: Stack;
  let alipay: AlipaySimulator;
  let shengpay: ShengpaySimulator;
  let browser: Browser;
  let receiver: Receiver;
  let adminPassword = '';
  let appId = '';
  let merchantUser = { username: 'shopadmin', password: '' };
  const errors: string[] = [];

  before(async () => {
    s = await startStack('pglite');
    alipay = await startAlipaySimulator({ timeScale: 1000 });
    await ensureDemoMerchant(s.gw, s.sim, alipay);
    s.gw.sandboxPages.push({ name: 'WeChat Pay', url: `${s.sim.baseUrl}/sandbox/` }, { name: 'Alipay', url: `${alipay.baseUrl}/sandbox/` });
    adminPassword = (await s.gw.consoleAccounts.ensureFirstAdmin())?.password ?? '';
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await alipay?.close();
    await shengpay?.close();
    await s?.close();
  });

  const signIn = async (page: Page, path: string, username: string, password: string) => {
    errors.push(...collectPageErrors(page));
    await page.goto(`${s.url}${path}`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=dashboard]');
  };
  const shownOnce = async (page: Page, label: string) => {
    const value = (await page.locator(`[data-testid="once-${label}"]`).textContent())?.trim() ?? '';
    await page.locator('.ant-modal-confirm-btns button').click();
    return value;
  };
  const chooseOption = async (page: Page, selectId: string, text: string) => {
    await page.click(`#${selectId}`);
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first().click();
  };
  const saved = (page: Page) => page.locator('.ant-message-notice', { hasText: '已保存' }).last().waitFor();

  test('an operator signs in, onboards a merchant with WeChat and Alipay sandbox keys, and makes a pay-test payment', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, '/console/', 'admin', adminPassword);
    await screenshot(page, 'operator-dashboard');

    await page.getByRole('menuitem', { name: '商户', exact: true }).click();
    await page.getByRole('button', { name: '新建商户' }).click();
    await page.fill('#newMerchant_name', '浏览器测试商户');
    await page.fill('#newMerchant_mchNo', 'MBROWSER1');
    await page.locator('.ant-modal button[type=submit]').click();
    await page.waitForURL(/#\/merchants\/MBROWSER1$/);
    await page.getByRole('button', { name: '新建应用' }).click();
    appId = await shownOnce(page, '应用 ID');
    assert.match(appId, /^[0-9a-f]{24}$/);
    await page.click(`[data-testid="app-${appId}"]`);

    // WeChat Pay: the simulator issues a merchant's keys, the operator pastes them into the generated form.
    const wx = s.sim.registerMerchant({ mchid: '1900000777', appids: ['wxd0000000000brws1'] });
    const wxForm = page.locator('[data-testid="channel-form-wxpay"]');
    await page.fill('#channel-wxpay_mchId', wx.mchid);
    await page.fill('#channel-wxpay_appId', 'wxd0000000000brws1');
    await page.fill('#channel-wxpay_merchantSerialNo', wx.merchantSerialNo);
    await page.fill('#channel-wxpay_wxpayPublicKeyId', wx.wxpayPublicKeyId);
    await page.fill('#channel-wxpay_wxpayPublicKey', wx.wxpayPublicKeyPem);
    await page.fill('#channel-wxpay_baseUrl', s.sim.baseUrl);
    await page.fill('#channel-wxpay_apiClientKey', wx.merchantPrivateKeyPem as string);
    await page.fill('#channel-wxpay_apiV3Key', wx.apiV3Key);
    await wxForm.getByText('WX_NATIVE 微信扫码').click();
    await wxForm.getByRole('button', { name: '保存' }).click();
    await saved(page);
    assert.equal(await page.inputValue('#channel-wxpay_apiClientKey'), '', 'a secret is not shown again after saving');
    assert.match((await page.getAttribute('#channel-wxpay_apiClientKey', 'placeholder')) ?? '', /已设置/);

    const ali = await alipay.registerApp({ appId: '2021000100000777' });
    await page.getByRole('tab', { name: /alipay/ }).click();
    const aliForm = page.locator('[data-testid="channel-form-alipay"]');
    await page.fill('#channel-alipay_appId', ali.appId);
    await page.fill('#channel-alipay_privateKey', ali.appPrivateKeyPem as string);
    await page.fill('#channel-alipay_alipayPublicKey', ali.alipayPublicKeyPem);
    await page.fill('#channel-alipay_sellerId', ali.pid);
    await page.fill('#channel-alipay_gatewayUrl', ali.gatewayUrl);
    await aliForm.getByText('ALI_QR 支付宝二维码').click();
    await aliForm.getByRole('button', { name: '保存' }).click();
    await saved(page);
    await screenshot(page, 'operator-channel-forms');

    // A merchant user for the merchant console (password shown once).
    await page.fill('#newUser_username', merchantUser.username);
    await chooseOption(page, 'newUser_role', '管理员');
    await page.getByRole('button', { name: '新建用户' }).click();
    merchantUser = { ...merchantUser, password: await shownOnce(page, '密码') };

    // Pay test: WX_NATIVE through the merchant API service; the sandbox payer pays in another tab.
    receiver = await startReceiver((await s.gw.tenancy.getApp(appId))?.appSecret as string);
    await page.getByRole('menuitem', { name: '支付测试', exact: true }).click();
    await chooseOption(page, 'payTest_appId', appId);
    await chooseOption(page, 'payTest_wayCode', 'WX_NATIVE');
    await page.fill('#payTest_amount', '12.34');
    await page.fill('#payTest_notifyUrl', receiver.url);
    await page.getByRole('button', { name: '发起支付' }).click();
    await page.waitForSelector('[data-testid=pay-qr]');
    await page.waitForSelector('[data-testid=live-state] [data-state="1"]');
    await screenshot(page, 'operator-pay-test-waiting');
    const [payer] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid=sandbox-payer-link]')]);
    await payer.getByRole('button', { name: /Pay/ }).click();
    await payer.waitForLoadState('load');
    assert.match((await payer.textContent('body')) ?? '', /SUCCESS/);
    await payer.close();
    await page.waitForSelector('[data-testid=live-state] [data-state="2"]', { timeout: 15_000 });
    await screenshot(page, 'operator-pay-test-paid');
    await waitFor('merchant notified', () => receiver.received.length === 1);
    await page.close();
  });

  test('the operator refunds the payment and resends its notification from the order page', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, '/console/', 'admin', adminPassword);
    await page.getByRole('menuitem', { name: '支付订单', exact: true }).click();
    await page.locator('[data-testid=orders] .ant-table-row').first().waitFor();
    await page.fill('#pay-filters_q', '');
    await page.locator('[data-testid=orders] .ant-table-row', { hasText: 'MBROWSER1' }).first().locator('a').first().click();
    await page.waitForSelector('[data-testid=order-amount]');
    assert.equal(await page.textContent('[data-testid=order-amount]'), '¥12.34');
    await page.getByRole('button', { name: '退款' }).click();
    await page.fill('#refund_amount', '2.34');
    await page.fill('#refund_reason', '浏览器测试退款');
    await page.locator('.ant-modal button[type=submit]').click();
    await page.locator('.ant-message-notice', { hasText: '完成' }).waitFor();
    await waitFor('refund settled', async () => (await s.gw.db.query(`SELECT 1 FROM refund_orders WHERE refund_reason = '浏览器测试退款' AND state = 2`)).rows.length === 1);
    await page.reload();
    await page.locator('.ant-table-row', { hasText: '浏览器测试退款' }).locator('[data-state="2"]').waitFor();
    await waitFor('refund notified', () => receiver.received.some((n) => n.fields.refundOrderId && n.fields.state === '2'));
    await page.reload();
    const before = receiver.received.length;
    await page.locator('.ant-table-row', { hasText: 'pay.2' }).getByRole('button', { name: '重发' }).click();
    await page.locator('.ant-message-notice', { hasText: '已重新发送' }).waitFor();
    await waitFor('notification resent', () => receiver.received.length === before + 1);
    assert.ok(receiver.received.every((n) => n.signatureValid));
    assert.ok((await page.locator('[data-testid=timeline-event]').count()) >= 5, 'created, transitions, callback, refund on the timeline');
    assert.match((await page.textContent('[data-testid=route-chosen]')) ?? '', /选用通道\s*wxpay #\d+\s*优先级 0 · 权重 100/, 'the route is in words, not JSON');
    await screenshot(page, 'operator-order-detail');
    await page.getByRole('menuitem', { name: '服务商', exact: true }).click();
    await page.fill('#newProvider_isvNo', 'ISVBROWSER');
    await page.fill('#newProvider_name', '浏览器服务商');
    await page.locator('form#newProvider button[type=submit]').click();
    await page.locator('[data-testid="channel-form-wxpay"]').first().waitFor();
    await screenshot(page, 'operator-service-providers');
    await page.getByRole('button', { name: 'English' }).click();
    await page.goBack();
    await page.getByText('Pay orders').first().waitFor();
    await screenshot(page, 'operator-order-detail-en');
    await page.getByRole('button', { name: '中文' }).click();
    await page.close();
  });

  test('the operator adds a second WX_NATIVE passage on the app\'s passages page, watches an order fail over to it, and deletes it', async () => {
    // A second channel configured for the app (its form was clicked through for WeChat and Alipay above).
    shengpay = await startShengpaySimulator({ port: 0, host: '127.0.0.1', timeScale: 1000, logger: false });
    const creds = await shengpay.registerMerchant({ newKey: true });
    await s.gw.tenancy.setChannelConfig(appId, 'shengpay', { mchId: creds.merchantId, shengpayPublicKey: creds.shengpayPublicKeyPem, baseUrl: shengpay.baseUrl }, { privateKey: creds.privateKeyPem as string });
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await signIn(page, '/console/', 'admin', adminPassword);
    await page.goto(`${s.url}/console/#/merchants/MBROWSER1`);
    await page.click(`[data-testid="passages-${appId}"]`);
    await page.waitForURL(new RegExp(`#/apps/${appId}/passages$`));
    await page.locator('[data-testid="passage-WX_NATIVE-wxpay"]').waitFor();

    await page.click('[data-testid=add-passage]');
    await page.click('#passage_wayCode');
    await page.keyboard.type('WX_NATIVE'); // a long list: the operator searches it
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: 'WX_NATIVE' }).first().click();
    await chooseOption(page, 'passage_ifCode', 'shengpay');
    await page.fill('#passage_priority', '1');
    await page.fill('#passage_weight', '50');
    await page.fill('#passage_maxAmount', '500');
    await page.fill('#passage_dailyLimit', '10000.5');
    await page.fill('#passage_feeRate', '0.38');
    await page.fill('#passage_windowStart', '22:00');
    await page.fill('#passage_windowEnd', '06:00');
    await page.locator('.ant-modal button[type=submit]').click();
    await page.locator('.ant-message-notice', { hasText: '已保存' }).first().waitFor();
    const row = page.locator('.ant-table-row', { has: page.locator('[data-testid="passage-WX_NATIVE-shengpay"]') });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    for (const shown of ['盛付通', '≤ ¥500.00', '¥10000.50', '22:00–次日 06:00', '0.38%', '100.00%', '正常']) assert.ok(text.includes(shown), `${shown} in "${text}"`);
    const stored = (await s.gw.db.query(`SELECT priority, weight, max_amount, daily_limit, window_start, window_end, fee_rate_ppm FROM pay_passages WHERE app_id = $1 AND if_code = 'shengpay'`, [appId])).rows[0];
    assert.deepEqual(stored, { priority: 1, weight: 50, max_amount: 50_000, daily_limit: 1_000_050, window_start: 1320, window_end: 360, fee_rate_ppm: 3800 }, 'yuan became fen, percent became ppm, HH:mm became minutes');
    // All day for the demo: edit the window away through the same form.
    await row.getByRole('button', { name: '编辑' }).click();
    await page.fill('#passage_windowStart', '');
    await page.fill('#passage_windowEnd', '');
    await page.locator('.ant-modal button[type=submit]').click();
    await row.getByText('全天').waitFor();
    await screenshot(page, 'operator-pay-passages');

    // WeChat refuses the next create with SYSTEM_ERROR: the order fails over to the new passage, and the timeline says so in words.
    const app = await s.gw.tenancy.getApp(appId);
    const client = new MerchantClient({ baseUrl: s.url, mchNo: 'MBROWSER1', appId, appSecret: app?.appSecret as string });
    s.sim.faults.failNextRequests = 1;
    const created = await client.unifiedOrder({ mchOrderNo: `brws${Date.now()}`, wayCode: 'WX_NATIVE', amount: 1001, currency: 'cny', subject: 'failover', body: 'b' });
    assert.equal(created.code, 0, created.msg);
    await page.goto(`${s.url}/console/#/orders/${(created.data as { payOrderId: string }).payOrderId}`);
    await page.locator('[data-testid=rerouted-from]').waitFor();
    assert.match((await page.textContent('[data-testid=rerouted-from]')) ?? '', /离开通道\s*wxpay #\d+\s*故障 渠道系统繁忙（未到达付款人） \(SYSTEM_ERROR\)/);
    assert.match((await page.locator('[data-testid=route-chosen]').last().textContent()) ?? '', /shengpay #\d+\s*优先级 1 · 权重 50 · 费率 0\.38%/);
    await screenshot(page, 'operator-order-rerouted');
    await page.goBack();

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('columnheader', { name: 'Share among equals' }).waitFor();
    await row.getByText('all day').waitFor();
    await screenshot(page, 'operator-pay-passages-en');
    await page.getByRole('button', { name: '中文' }).click();
    await row.getByRole('button', { name: '删除' }).click();
    await page.locator('.ant-popconfirm button.ant-btn-primary').click();
    await page.locator('.ant-message-notice', { hasText: '已删除' }).waitFor();
    await page.locator('[data-testid="passage-WX_NATIVE-shengpay"]').waitFor({ state: 'detached' });
    assert.equal((await s.gw.db.query(`SELECT count(*)::int AS n FROM pay_passages WHERE app_id = $1 AND if_code = 'shengpay'`, [appId])).rows[0]?.n, 0);
    await page.close();
  });

  test('the merchant console shows only its merchant and makes an Alipay pay-test payment', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, '/merchant/', merchantUser.username, merchantUser.password);
    await page.getByRole('menuitem', { name: '支付订单', exact: true }).click();
    const table = page.locator('[data-testid=orders] .ant-table-row');
    await table.first().waitFor();
    const rows = await table.allTextContents();
    assert.equal(rows.length, 2, 'the pay-test payment and the order that failed over');
    assert.ok(rows.every((r) => r.includes('MBROWSER1')), 'only its own orders');
    await page.getByRole('menuitem', { name: '支付测试', exact: true }).click();
    await chooseOption(page, 'payTest_appId', appId);
    await chooseOption(page, 'payTest_wayCode', 'ALI_QR');
    await page.getByRole('button', { name: '发起支付' }).click();
    await page.waitForSelector('[data-testid=live-state] [data-state="1"]');
    const [payer] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid=sandbox-payer-link]')]);
    await payer.getByRole('button', { name: /Scan & pay/ }).click();
    await payer.waitForLoadState('load');
    await payer.close();
    await page.waitForSelector('[data-testid=live-state] [data-state="2"]', { timeout: 15_000 });
    await screenshot(page, 'merchant-pay-test-paid');
    await page.getByRole('menuitem', { name: '应用', exact: true }).click();
    await page.getByText(appId).first().click();
    await page.getByText('ALI_QR').first().waitFor();
    await page.locator('[data-testid="passage-ALI_QR-alipay"]').waitFor();
    assert.equal(await page.locator('[data-testid=add-passage]').count(), 0, 'merchant users see their passages, read-only');
    assert.doesNotMatch((await page.textContent('body')) ?? '', /BEGIN (RSA )?PRIVATE KEY/, 'no key material in the merchant console');
    await screenshot(page, 'merchant-apps');
    await context.close();
    assert.deepEqual(errors, [], 'no script errors and no CSP violations on the console pages');
  });
});
