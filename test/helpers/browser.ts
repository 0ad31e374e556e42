import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** CI installs Debian's chromium (.ci/run); on a developer machine without it the browser tests say so instead of failing. */
export const NO_BROWSER: string | false = !existsSync(CHROMIUM) && !process.env.CI ? `no browser at ${CHROMIUM}: apt-get install -y chromium` : false;

/** Screenshots of the browser tests (git-ignored): artifacts/screenshots/<name>.png */
export const SCREENSHOTS = join(process.cwd(), 'artifacts/screenshots');

export async function launchChromium(): Promise<Browser> {
  // Debian's Chromium, never a downloaded browser.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Errors a page logged or threw: a console page must have none (CSP violations included). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Failed loads are judged by their responses (a 401 before signing in, a refusal page or a simulator's missing favicon are expected).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return errors;
}

/** In-app browser user agents (the cashier detects the payer's app from them). */
export const WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN';
export const ALIPAY_UA = 'Mozilla/5.0 (Linux; U; Android 12; zh-CN) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/89.0 Mobile Safari/537.36 AlipayClient/10.5.36.8100 Language/zh-Hans';
export const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
export const UNIONPAY_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (UnionPay/1.0 CloudPay) (language zh_CN)';
