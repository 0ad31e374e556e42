import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.ts';
import { createGateway } from './gateway.ts';
import { createLogger } from './logger.ts';
import { ensureDemoMerchant, ensureWechatV2DemoApp } from './demo.ts';
import { startWechatPaySimulator, type WechatPaySimulator } from './channels/wechat-pay/simulator/index.ts';
import { startAlipaySimulator, type AlipaySimulator } from './channels/alipay/simulator/index.ts';
import { startUnionPaySimulator, type UnionPaySimulator } from './channels/unionpay/simulator/index.ts';
import { printBanner } from './banner.ts';
import { startAppAuthRefresher } from './channels/alipay/app-auth-service.ts';
import { ensureConsoleAccounts } from './console/bootstrap.ts';
import { registerSandboxKeyIssuers } from './console/sandbox-keys.ts';
import { startShengpaySimulator, type ShengpaySimulator } from './channels/shengpay/simulator/index.ts';
import { startJdpaySimulator, type JdpaySimulator } from './channels/jdpay/simulator/index.ts';
import { startQqpaySimulator, type QqpaySimulator } from './channels/qqpay/simulator/index.ts';
import { startAbcSimulator, type AbcSimulator } from './channels/abcpay/simulator/index.ts';
import { startIcbcSimulator, type IcbcSimulator } from './channels/icbc/simulator/index.ts';
import { startXinlianSimulator, type XinlianSimulator } from './channels/xinlian/simulator/index.ts';
import { ensureAcquirerDemo, registerAcquirerKeyIssuers } from './demo-acquirers.ts';
import { startPaypalSimulator, type PaypalSimulator } from './channels/paypal/simulator/index.ts';

/**
 * `npm start`: the gateway on its embedded database (or DATABASE_URL), the sandbox channels
 * and the demo merchant, then a first-payment recipe on stdout.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let wechat: WechatPaySimulator | null = null;
  let alipay: AlipaySimulator | null = null;
  let unionpay: UnionPaySimulator | null = null;
  let shengpay: ShengpaySimulator | null = null;
  let jdpay: JdpaySimulator | null = null;
  let abc: AbcSimulator | null = null;
  let paypal: PaypalSimulator | null = null;
  let qqpay: QqpaySimulator | null = null;
  let icbc: IcbcSimulator | null = null;
  let xinlian: XinlianSimulator | null = null;
  if (config.sandbox.enabled) {
    const dir = join(config.dataDir, 'sandbox');
    mkdirSync(dir, { recursive: true });
    wechat = await startWechatPaySimulator({ port: config.sandbox.port, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'wechatpay.json'), logger: log.child({ svc: 'sandbox-wechatpay' }) });
    alipay = await startAlipaySimulator({ port: config.sandbox.alipayPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'alipay.json'), logger: log.child({ svc: 'sandbox-alipay' }) });
    unionpay = await startUnionPaySimulator({ port: config.sandbox.unionpayPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'unionpay.json'), logger: log.child({ svc: 'sandbox-unionpay' }) });
    shengpay = await startShengpaySimulator({ port: config.sandbox.shengpayPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'shengpay.json'), logger: log.child({ svc: 'sandbox-shengpay' }) });
    jdpay = await startJdpaySimulator({ port: config.sandbox.jdpayPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'jdpay.json'), logger: log.child({ svc: 'sandbox-jdpay' }) });
    abc = await startAbcSimulator({ port: config.sandbox.abcPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'abc.json'), logger: log.child({ svc: 'sandbox-abc' }) });
    paypal = await startPaypalSimulator({ port: config.sandbox.paypalPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'paypal.json'), logger: log.child({ svc: 'sandbox-paypal' }) });
    qqpay = await startQqpaySimulator({ port: config.sandbox.qqpayPort, apiPort: config.sandbox.qqpayApiPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'qqpay.json'), logger: log.child({ svc: 'sandbox-qqpay' }) });
    icbc = await startIcbcSimulator({ port: config.sandbox.icbcPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'icbc.json'), logger: log.child({ svc: 'sandbox-icbc' }) });
    xinlian = await startXinlianSimulator({ port: config.sandbox.xinlianPort, host: config.sandbox.host, timeScale: config.sandbox.timeScale, stateFile: join(dir, 'xinlian.json'), logger: log.child({ svc: 'sandbox-xinlian' }) });
  }
  const gw = await createGateway(config, { logger: log });
  const demo = await ensureDemoMerchant(gw, wechat, alipay, unionpay);
  const consoleLogins = await ensureConsoleAccounts(gw, config.sandbox.enabled ? demo.mchNo : null);
  if (wechat) gw.sandboxPages.push({ name: 'WeChat Pay', url: `${wechat.baseUrl}/sandbox/` });
  if (alipay) gw.sandboxPages.push({ name: 'Alipay', url: `${alipay.baseUrl}/sandbox/` });
  if (unionpay) gw.sandboxPages.push({ name: '云闪付 UnionPay', url: `${unionpay.baseUrl}/sandbox/` });
  if (shengpay) gw.sandboxPages.push({ name: '盛付通 Shengpay', url: `${shengpay.baseUrl}/sandbox/` });
  if (jdpay) gw.sandboxPages.push({ name: '京东支付 JD Pay', url: `${jdpay.baseUrl}/sandbox/` });
  if (abc) gw.sandboxPages.push({ name: '农业银行 ABC', url: `${abc.baseUrl}/sandbox/` });
  if (paypal) gw.sandboxPages.push({ name: 'PayPal', url: `${paypal.baseUrl}/sandbox/` });
  if (qqpay) gw.sandboxPages.push({ name: 'QQ钱包 QPay', url: `${qqpay.baseUrl}/sandbox/` });
  if (icbc) gw.sandboxPages.push({ name: '工商银行 ICBC', url: `${icbc.baseUrl}/sandbox/` });
  if (xinlian) gw.sandboxPages.push({ name: '信联 Xinlian', url: `${xinlian.baseUrl}/sandbox/` });
  registerSandboxKeyIssuers(gw, { wechat, alipay });
  registerAcquirerKeyIssuers(gw, { shengpay, jdpay, abc, paypal, qqpay, icbc, xinlian });
  // Every demo app is wired before the gateway listens: a merchant's first request must find them all.
  // A second demo app on WeChat Pay API v2 (XML, mutual TLS refunds, Native 模式一 product VIP001), see docs/configuration.md.
  const v2 = wechat ? await ensureWechatV2DemoApp(gw, wechat, demo.mchNo) : null;
  // Acquirer and other sandboxes (盛付通 …): the main app gets their configuration and the ways nobody else serves; one app each serves all of them.
  const extraApps = await ensureAcquirerDemo(gw, { shengpay, jdpay, abc, paypal, qqpay, icbc, xinlian }, demo);
  const url = await gw.start();
  const stopAlipayTokenUpkeep = startAppAuthRefresher(gw);
  printBanner({ url, config, demo, sandboxUrl: wechat?.baseUrl ?? null, alipaySandboxUrl: alipay?.baseUrl ?? null, unionpaySandboxUrl: unionpay?.baseUrl ?? null, consoleLogins });
  if (v2) process.stdout.write(`WeChat Pay API v2 demo app (same merchant): POLYPAY_APP_ID=${v2.appId} POLYPAY_APP_SECRET=${v2.appSecret}\n`);
  for (const app of extraApps) {
    process.stdout.write(`${app.appId} demo app (same merchant): POLYPAY_APP_ID=${app.appId} POLYPAY_APP_SECRET=${app.appSecret}\n`);
  }
  if (shengpay) process.stdout.write(`Shengpay simulator at ${shengpay.baseUrl}/sandbox/ — with demo-shengpay's credentials: pay create --way WX_NATIVE --amount 100 …, then: npm run cli -- sandbox shengpay pay <payData>\n`);
  if (jdpay) process.stdout.write(`JD Pay simulator at ${jdpay.baseUrl}/sandbox/ — first payment: pay create --way JD_QR --amount 100 …, then: npm run cli -- sandbox jdpay pay <payData>\n`);
  if (paypal) process.stdout.write(`PayPal simulator at ${paypal.baseUrl}/sandbox/ — pay create --way PP_PC --amount 1000 --currency usd --return-url …, then open the payData link and approve (or: npm run cli -- sandbox paypal approve <payData>)\n`);
  if (abc) process.stdout.write(`ABC simulator at ${abc.baseUrl}/sandbox/ — with demo-abc's credentials: pay create --way QR_CASHIER --amount 100 …, then: npm run cli -- sandbox abc pay <payData> --wallet WECHAT\n`);
  if (qqpay) process.stdout.write(`QQ钱包 simulator at ${qqpay.baseUrl}/sandbox/ — first payment: pay create --way QQ_PAY --amount 100 …, then: npm run cli -- sandbox qqpay pay <payData> (MICROPAY codes: sandbox qqpay codes)\n`);
  if (icbc) process.stdout.write(`ICBC simulator at ${icbc.baseUrl}/sandbox/ — first payment: pay create --way ICBC_APP --amount 100 …, then: npm run cli -- sandbox icbc pay <payData>\n`);
  if (xinlian) process.stdout.write(`Xinlian simulator at ${xinlian.baseUrl}/sandbox/ — first payment: pay create --way XLALILITE --amount 100 --buyer-id 2088102177846880 (the payer's Alipay user id) …, then: npm run cli -- sandbox xinlian pay '<payData>'\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stopAlipayTokenUpkeep();
    await gw.stop();
    await wechat?.close();
    await alipay?.close();
    await unionpay?.close();
    await shengpay?.close();
    await jdpay?.close();
    await abc?.close();
    await paypal?.close();
    await qqpay?.close();
    await icbc?.close();
    await xinlian?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(`polypay failed to start: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
