import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { Gateway } from './gateway.ts';
import type { DemoCredentials } from './demo.ts';
import type { ShengpaySimulator } from './channels/shengpay/simulator/index.ts';
import { SHENGPAY_WAYS } from './channels/shengpay/protocol.ts';
import type { JdpaySimulator } from './channels/jdpay/simulator/index.ts';
import { JDPAY_WAYS } from './channels/jdpay/protocol.ts';
import type { AbcSimulator } from './channels/abcpay/simulator/index.ts';
import { ABCPAY_WAYS } from './channels/abcpay/protocol.ts';
import type { QqpayMerchantCredentials, QqpaySimulator } from './channels/qqpay/simulator/index.ts';
import { QQPAY_WAYS } from './channels/qqpay/protocol.ts';
import type { IcbcSimulator } from './channels/icbc/simulator/index.ts';
import { ICBC_WAYS } from './channels/icbc/protocol.ts';
import type { XinlianSimulator } from './channels/xinlian/simulator/index.ts';
import { XINLIAN_WAYS } from './channels/xinlian/protocol.ts';
import { DEMO_WECHAT_APPIDS } from './demo.ts';
import type { PaypalSimulator } from './channels/paypal/simulator/index.ts';
import { PAYPAL_WAYS, WEBHOOK_PATH } from './channels/paypal/protocol.ts';

/**
 * The demo merchant on the acquirer sandboxes (盛付通, 京东支付, 农业银行). Its main app gets each
 * acquirer's configuration, but passages only for the ways no other channel already serves there
 * (a second passage for a served way changes its routing: that is the operator's choice); one extra
 * app per acquirer serves every way of that acquirer, so each can be tried by hand. Keys already stored are kept across restarts.
 */

export const DEMO_SHENGPAY_APP_ID = 'demo-shengpay';
export const DEMO_SHENGPAY_MCH_ID = '11800001';
/**
 * Shengpay ways the main demo app takes from Shengpay: none — WeChat, Alipay and UnionPay already
 * serve them there (a second passage for a way is the routing work's decision, docs/configuration.md).
 */
export const DEMO_MAIN_SHENGPAY_WAYS = [] as const;
/**
 * …except as standby: WX_NATIVE and ALI_QR also through Shengpay at priority 1, so routing fails over
 * to Shengpay when WeChat or Alipay cannot take an order (docs/routing.md "Try it"). Created once;
 * an operator's later changes to these passages are kept.
 */
export const DEMO_MAIN_SHENGPAY_STANDBY = ['WX_NATIVE', 'ALI_QR'] as const;

export const DEMO_JDPAY_APP_ID = 'demo-jdpay';
export const DEMO_JDPAY_MERCHANT = '110025845001';
/** JD ways the main demo app takes from JD Pay: its own wallet (WX_NATIVE and ALI_QR stay with WeChat and Alipay there). */
export const DEMO_MAIN_JDPAY_WAYS = ['JD_H5', 'JD_PC', 'JD_QR', 'JD_APP'] as const;

export const DEMO_ABC_APP_ID = 'demo-abc';
export const DEMO_ABC_MERCHANT = '103881636900016';
/** ABC ways the main demo app takes from ABC: 掌银 (QR_CASHIER and the QR ways stay with the cashier, WeChat, Alipay and UnionPay there). */
export const DEMO_MAIN_ABC_WAYS = ['ABC_APP'] as const;

export const DEMO_PAYPAL_APP_ID = 'demo-paypal';
export const DEMO_PAYPAL_CLIENT_ID = 'AYPolypayDemoSandboxClient01';
/** PayPal ways the main demo app takes: PP_PC (no other channel serves it). */
export const DEMO_MAIN_PAYPAL_WAYS = ['PP_PC'] as const;
export const DEMO_QQPAY_APP_ID = 'demo-qqpay';
export const DEMO_QQPAY_MCH_ID = '1790000001';
export const DEMO_ICBC_APP_ID = 'demo-icbc';
export const DEMO_ICBC_MERCHANT = '020000100001';
/** ICBC ways the main demo app takes from ICBC: ICBC_APP (no other channel serves it). */
export const DEMO_MAIN_ICBC_WAYS = ICBC_WAYS;

export const DEMO_XINLIAN_APP_ID = 'demo-xinlian';
export const DEMO_XINLIAN_MERCHANT = 'M8800000001';
/** Xinlian ways the main demo app takes from Xinlian: XLALILITE (ALI_LITE stays with Alipay there). */
export const DEMO_MAIN_XINLIAN_WAYS = ['XLALILITE'] as const;

export interface AcquirerSandboxes {
  shengpay?: ShengpaySimulator | null;
  jdpay?: JdpaySimulator | null;
  abc?: AbcSimulator | null;
  paypal?: PaypalSimulator | null;
  qqpay?: QqpaySimulator | null;
  icbc?: IcbcSimulator | null;
  xinlian?: XinlianSimulator | null;
}

function publicOf(privateKeyPem: string): { publicKeyPem: string } {
  return { publicKeyPem: createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString() };
}

/** An app of the demo merchant (created once; its secret is printed only when created, then read back). */
async function demoApp(gw: Gateway, mchNo: string, appId: string, name: string): Promise<DemoCredentials> {
  await gw.tenancy.createApp({ mchNo, appId, name });
  const app = await gw.tenancy.getApp(appId);
  if (!app) throw new Error(`demo app ${appId} could not be created`);
  return { mchNo, appId, appSecret: app.appSecret };
}

/** The sandbox merchant's key as some app already stores it: every demo app shares one sandbox merchant. */
async function storedSecret(gw: Gateway, appIds: string[], ifCode: string, name: string): Promise<string | undefined> {
  for (const appId of appIds) {
    const v = (await gw.tenancy.getChannelConfig(appId, ifCode))?.secrets[name];
    if (v) return v;
  }
  return undefined;
}

async function wireShengpay(gw: Gateway, sim: ShengpaySimulator, appId: string, ways: readonly string[], mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'shengpay', 'privateKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_SHENGPAY_MCH_ID, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }) });
  const privateKey = creds.privateKeyPem ?? stored;
  if (!privateKey) throw new Error('the Shengpay sandbox returned no merchant key');
  await gw.tenancy.setChannelConfig(
    appId,
    'shengpay',
    { mchId: creds.merchantId, shengpayPublicKey: creds.shengpayPublicKeyPem, signType: 'RSA', wxAppId: DEMO_WECHAT_APPIDS.jsapi, wxLiteAppId: DEMO_WECHAT_APPIDS.lite, baseUrl: sim.baseUrl },
    { privateKey },
  );
  await gw.passages.enableWays(appId, 'shengpay', ways);
}

async function wireJdpay(gw: Gateway, sim: JdpaySimulator, appId: string, ways: readonly string[], mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'jdpay', 'privateKey');
  const desKey = await storedSecret(gw, [appId, mainAppId], 'jdpay', 'desKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_JDPAY_MERCHANT, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }), ...(desKey ? { desKey } : {}) });
  const privateKey = creds.privateKeyPem ?? stored;
  if (!privateKey) throw new Error('the JD Pay sandbox returned no merchant key');
  await gw.tenancy.setChannelConfig(appId, 'jdpay', { merchant: creds.merchantId, jdPublicKey: creds.jdPublicKeyPem, baseUrl: sim.baseUrl }, { privateKey, desKey: creds.desKey });
  await gw.passages.enableWays(appId, 'jdpay', ways);
}

async function wireAbc(gw: Gateway, sim: AbcSimulator, appId: string, ways: readonly string[], mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'abcpay', 'privateKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_ABC_MERCHANT, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }) });
  const privateKey = creds.privateKeyPem ?? stored;
  if (!privateKey) throw new Error('the ABC sandbox returned no merchant key');
  await gw.tenancy.setChannelConfig(appId, 'abcpay', { merchantId: creds.merchantId, trustpayCert: creds.trustpayCertPem, baseUrl: sim.baseUrl }, { privateKey });
  await gw.passages.enableWays(appId, 'abcpay', ways);
}

/** The PayPal sandbox app (one client id for every demo app) with its webhook at this gateway; the sandbox cert host and CA are configured explicitly. */
async function wirePaypal(gw: Gateway, sim: PaypalSimulator, appId: string, ways: readonly string[]): Promise<void> {
  const c = sim.registerApp({ clientId: DEMO_PAYPAL_CLIENT_ID, name: 'Polypay demo', webhookUrl: `${gw.config.publicUrl}${WEBHOOK_PATH}` });
  await gw.tenancy.setChannelConfig(appId, 'paypal', { clientId: c.clientId, webhookId: c.webhookId, baseUrl: c.baseUrl, certHosts: c.certHost, certCa: c.certCa }, { clientSecret: c.clientSecret });
  await gw.passages.enableWays(appId, 'paypal', ways);
}

/** The QQ 钱包 channel form for a sandbox merchant (docs/channels/qqpay.md). */
function qqpayConfig(sim: QqpaySimulator, c: QqpayMerchantCredentials, apiClientKey: string) {
  return {
    params: { mchId: c.mchId, appId: c.appId, opUserId: c.opUserId, apiClientCert: c.apiClientCertPem, tlsCaCert: c.tlsCaCertPem, baseUrl: sim.baseUrl, apiBaseUrl: sim.apiBaseUrl },
    secrets: { apiKey: c.apiKey, apiClientKey, opUserPassword: c.opUserPassword, appKey: c.appKey },
  };
}

async function wireQqpay(gw: Gateway, sim: QqpaySimulator, appId: string, mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'qqpay', 'apiClientKey');
  const apiKey = await storedSecret(gw, [appId, mainAppId], 'qqpay', 'apiKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_QQPAY_MCH_ID, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }), ...(apiKey ? { apiKey } : {}) });
  const key = creds.apiClientKeyPem ?? stored;
  if (!key) throw new Error('the QQ 钱包 sandbox returned no client key');
  const { params, secrets } = qqpayConfig(sim, creds, key);
  await gw.tenancy.setChannelConfig(appId, 'qqpay', params, secrets);
  await gw.passages.enableWays(appId, 'qqpay', QQPAY_WAYS);
}

async function wireIcbc(gw: Gateway, sim: IcbcSimulator, appId: string, ways: readonly string[], mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'icbc', 'privateKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_ICBC_MERCHANT, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }) });
  const privateKey = creds.privateKeyPem ?? stored;
  if (!privateKey) throw new Error('the ICBC sandbox returned no merchant key');
  await gw.tenancy.setChannelConfig(appId, 'icbc', { appId: creds.appId, merId: creds.merId, icbcPublicKey: creds.icbcPublicKeyPem, baseUrl: sim.baseUrl }, { privateKey });
  await gw.passages.enableWays(appId, 'icbc', ways);
}

async function wireXinlian(gw: Gateway, sim: XinlianSimulator, appId: string, ways: readonly string[], mainAppId: string): Promise<void> {
  const stored = await storedSecret(gw, [appId, mainAppId], 'xinlian', 'privateKey');
  const creds = await sim.registerMerchant({ merchantId: DEMO_XINLIAN_MERCHANT, name: 'Polypay 演示商户', ...(stored ? publicOf(stored) : { newKey: true }) });
  const privateKey = creds.privateKeyPem ?? stored;
  if (!privateKey) throw new Error('the Xinlian sandbox returned no merchant key');
  await gw.tenancy.setChannelConfig(appId, 'xinlian', { mchNo: creds.mchNo, appId: creds.appId, xinlianPublicKey: creds.xinlianPublicKeyPem, baseUrl: sim.baseUrl }, { privateKey });
  await gw.passages.enableWays(appId, 'xinlian', ways);
}

/** Wires every running acquirer sandbox; returns the extra apps' credentials (for the start banner). */
export async function ensureAcquirerDemo(gw: Gateway, sims: AcquirerSandboxes, main: DemoCredentials): Promise<DemoCredentials[]> {
  const apps: DemoCredentials[] = [];
  if (sims.shengpay) {
    await wireShengpay(gw, sims.shengpay, main.appId, DEMO_MAIN_SHENGPAY_WAYS, main.appId);
    const existing = await gw.passages.list(main.appId);
    for (const way of DEMO_MAIN_SHENGPAY_STANDBY) {
      if (!existing.some((p) => p.wayCode === way && p.ifCode === 'shengpay')) await gw.passages.upsert(main.appId, { wayCode: way, ifCode: 'shengpay', priority: 1 });
    }
    const app = await demoApp(gw, main.mchNo, DEMO_SHENGPAY_APP_ID, 'Demo app (盛付通 Shengpay: every way)');
    await wireShengpay(gw, sims.shengpay, app.appId, SHENGPAY_WAYS, main.appId);
    apps.push(app);
  }
  if (sims.jdpay) {
    await wireJdpay(gw, sims.jdpay, main.appId, DEMO_MAIN_JDPAY_WAYS, main.appId);
    const app = await demoApp(gw, main.mchNo, DEMO_JDPAY_APP_ID, 'Demo app (京东支付 JD Pay: every way)');
    await wireJdpay(gw, sims.jdpay, app.appId, JDPAY_WAYS, main.appId);
    apps.push(app);
  }
  if (sims.abc) {
    await wireAbc(gw, sims.abc, main.appId, DEMO_MAIN_ABC_WAYS, main.appId);
    const app = await demoApp(gw, main.mchNo, DEMO_ABC_APP_ID, 'Demo app (农业银行 ABC: every way)');
    await wireAbc(gw, sims.abc, app.appId, ABCPAY_WAYS, main.appId);
    apps.push(app);
  }
  if (sims.paypal) {
    await wirePaypal(gw, sims.paypal, main.appId, DEMO_MAIN_PAYPAL_WAYS);
    const app = await demoApp(gw, main.mchNo, DEMO_PAYPAL_APP_ID, 'Demo app (PayPal: every way)');
    await wirePaypal(gw, sims.paypal, app.appId, PAYPAL_WAYS);
    apps.push(app);
  }
  // QQ_PAY is served by no other channel: the main app takes it, and demo-qqpay has it alone.
  if (sims.qqpay) {
    await wireQqpay(gw, sims.qqpay, main.appId, main.appId);
    const app = await demoApp(gw, main.mchNo, DEMO_QQPAY_APP_ID, 'Demo app (QQ钱包 QPay: QQ_PAY)');
    await wireQqpay(gw, sims.qqpay, app.appId, main.appId);
    apps.push(app);
  }
  if (sims.icbc) {
    await wireIcbc(gw, sims.icbc, main.appId, DEMO_MAIN_ICBC_WAYS, main.appId);
    const app = await demoApp(gw, main.mchNo, DEMO_ICBC_APP_ID, 'Demo app (工商银行 ICBC: every way)');
    await wireIcbc(gw, sims.icbc, app.appId, ICBC_WAYS, main.appId);
    apps.push(app);
  }
  if (sims.xinlian) {
    await wireXinlian(gw, sims.xinlian, main.appId, DEMO_MAIN_XINLIAN_WAYS, main.appId);
    const app = await demoApp(gw, main.mchNo, DEMO_XINLIAN_APP_ID, 'Demo app (信联 Xinlian: every way)');
    await wireXinlian(gw, sims.xinlian, app.appId, XINLIAN_WAYS, main.appId);
    apps.push(app);
  }
  return apps;
}

/**
 * "Fill with sandbox keys" in the operator console (src/console/sandbox-keys.ts) for the acquirers:
 * each running simulator registers a fresh merchant and hands back what the channel form needs.
 */
export function registerAcquirerKeyIssuers(gw: Gateway, sims: AcquirerSandboxes): void {
  const { shengpay, jdpay, abc, paypal, qqpay, icbc, xinlian } = sims;
  if (shengpay) {
    gw.sandboxKeys.set('shengpay', async () => {
      const c = await shengpay.registerMerchant();
      return { params: { mchId: c.merchantId, shengpayPublicKey: c.shengpayPublicKeyPem, signType: 'RSA', baseUrl: shengpay.baseUrl }, secrets: { privateKey: c.privateKeyPem as string } };
    });
  }
  if (jdpay) {
    gw.sandboxKeys.set('jdpay', async () => {
      const c = await jdpay.registerMerchant();
      return { params: { merchant: c.merchantId, jdPublicKey: c.jdPublicKeyPem, baseUrl: jdpay.baseUrl }, secrets: { privateKey: c.privateKeyPem as string, desKey: c.desKey } };
    });
  }
  if (abc) {
    gw.sandboxKeys.set('abcpay', async () => {
      const c = await abc.registerMerchant();
      return { params: { merchantId: c.merchantId, trustpayCert: c.trustpayCertPem, baseUrl: abc.baseUrl }, secrets: { privateKey: c.privateKeyPem as string } };
    });
  }
  if (paypal) {
    gw.sandboxKeys.set('paypal', async () => {
      const c = paypal.registerApp({ webhookUrl: `${gw.config.publicUrl}${WEBHOOK_PATH}` });
      return { params: { clientId: c.clientId, webhookId: c.webhookId, baseUrl: c.baseUrl, certHosts: c.certHost, certCa: c.certCa }, secrets: { clientSecret: c.clientSecret } };
    });
  }
  if (qqpay) {
    gw.sandboxKeys.set('qqpay', async () => {
      const c = await qqpay.registerMerchant();
      return qqpayConfig(qqpay, c, c.apiClientKeyPem as string);
    });
  }
  if (icbc) {
    gw.sandboxKeys.set('icbc', async () => {
      const c = await icbc.registerMerchant();
      return { params: { appId: c.appId, merId: c.merId, icbcPublicKey: c.icbcPublicKeyPem, baseUrl: icbc.baseUrl }, secrets: { privateKey: c.privateKeyPem as string } };
    });
  }
  if (xinlian) {
    gw.sandboxKeys.set('xinlian', async () => {
      const c = await xinlian.registerMerchant();
      return { params: { mchNo: c.mchNo, appId: c.appId, xinlianPublicKey: c.xinlianPublicKeyPem, baseUrl: xinlian.baseUrl }, secrets: { privateKey: c.privateKeyPem as string } };
    });
  }
}
