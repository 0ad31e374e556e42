import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { Gateway } from './gateway.ts';
import type { DemoCredentials } from './demo.ts';
import type { ShengpaySimulator } from './channels/shengpay/simulator/index.ts';
import { SHENGPAY_WAYS } from './channels/shengpay/protocol.ts';
import type { JdpaySimulator } from './channels/jdpay/simulator/index.ts';
import { JDPAY_WAYS } from './channels/jdpay/protocol.ts';
import type { AbcSimulator } from './channels/abcpay/simulator/index.ts';
import { ABCPAY_WAYS } from './channels/abcpay/protocol.ts';
import type { QqpaySimulator } from './channels/qqpay/simulator/index.ts';
import { QQPAY_WAYS } from './channels/qqpay/protocol.ts';
import type { IcbcSimulator } from './channels/icbc/simulator/index.ts';
import { ICBC_WAYS } from './channels/icbc/protocol.ts';
import type { XinlianSimulator } from './channels/xinlian/simulator/index.ts';
import { XINLIAN_WAYS } from './channels/xinlian/protocol.ts';
import { DEMO_WECHAT_APPIDS } from './demo.ts';
import type { PaypalSimulator } from './channels/paypal/simulator/index.ts';
import { PAYPAL_WAYS, WEBHOOK_PATH } from './channels/paypal/protocol.ts';

/**
 * The demo merchant on the sandboxes of the channels beyond WeChat, Alipay and UnionPay (盛付通, 京东支付,
 * 农业银行, PayPal, QQ 钱包, 工商银行, 信联). Its main app gets each channel's configuration, but passages
 * only for the ways no other channel already serves there (a second passage for a served way changes
 * its routing: that is the operator's choice); one extra app per channel serves every way of that
 * channel, so each can be tried by hand. Keys already stored are kept across restarts.
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

/** What a channel's configuration form gets for a sandbox merchant. */
interface ChannelForm {
  params: Record<string, string>;
  secrets: Record<string, string>;
}

/** How the demo registers at one sandbox (`keep`: a secret an app of the demo merchant already stores). */
interface SandboxSpec<S> {
  ifCode: string;
  appId: string;
  appName: string;
  /** The ways the main demo app takes from this channel, and those its own demo app serves. */
  mainWays: readonly string[];
  allWays: readonly string[];
  demo(sim: S, keep: (name: string) => Promise<string | undefined>, gw: Gateway): Promise<ChannelForm>;
  /** A fresh sandbox merchant for the console's "fill with sandbox keys". */
  fresh(sim: S, gw: Gateway): Promise<ChannelForm>;
  /** After the main app is wired (standby passages). */
  afterMain?(gw: Gateway, mainAppId: string): Promise<void>;
}

/**
 * Registers the demo merchant with its RSA key: the public half of the key an app already stores
 * (so restarts keep working keys), or a new key made by the sandbox.
 */
async function keyedMerchant<C extends object>(
  keep: (name: string) => Promise<string | undefined>,
  label: string,
  register: (key: { publicKeyPem: string } | { newKey: true }) => Promise<C>,
  secretName = 'privateKey',
  issued: (c: C) => string | undefined = (c) => (c as { privateKeyPem?: string }).privateKeyPem,
): Promise<{ creds: C; privateKey: string }> {
  const stored = await keep(secretName);
  const creds = await register(stored ? { publicKeyPem: createPublicKey(createPrivateKey(stored)).export({ type: 'spki', format: 'pem' }).toString() } : { newKey: true });
  const privateKey = issued(creds) ?? stored;
  if (!privateKey) throw new Error(`the ${label} sandbox returned no merchant key`);
  return { creds, privateKey };
}

const NAME = 'Polypay 演示商户';

const shengpayForm = (sim: ShengpaySimulator, c: { merchantId: string; shengpayPublicKeyPem: string }, privateKey: string, wechat = true): ChannelForm => ({
  params: { mchId: c.merchantId, shengpayPublicKey: c.shengpayPublicKeyPem, signType: 'RSA', ...(wechat ? { wxAppId: DEMO_WECHAT_APPIDS.jsapi, wxLiteAppId: DEMO_WECHAT_APPIDS.lite } : {}), baseUrl: sim.baseUrl },
  secrets: { privateKey },
});
const jdpayForm = (sim: JdpaySimulator, c: { merchantId: string; jdPublicKeyPem: string; desKey: string }, privateKey: string): ChannelForm => ({
  params: { merchant: c.merchantId, jdPublicKey: c.jdPublicKeyPem, baseUrl: sim.baseUrl },
  secrets: { privateKey, desKey: c.desKey },
});
const abcForm = (sim: AbcSimulator, c: { merchantId: string; trustpayCertPem: string }, privateKey: string): ChannelForm => ({
  params: { merchantId: c.merchantId, trustpayCert: c.trustpayCertPem, baseUrl: sim.baseUrl },
  secrets: { privateKey },
});
/** PayPal: one sandbox app, its webhook at this gateway; the sandbox cert host and CA are configured explicitly. */
const paypalForm = (c: { clientId: string; clientSecret: string; webhookId: string; baseUrl: string; certHost: string; certCa: string }): ChannelForm => ({
  params: { clientId: c.clientId, webhookId: c.webhookId, baseUrl: c.baseUrl, certHosts: c.certHost, certCa: c.certCa },
  secrets: { clientSecret: c.clientSecret },
});
/** QQ 钱包 (docs/channels/qqpay.md). */
const qqpayForm = (sim: QqpaySimulator, c: Awaited<ReturnType<QqpaySimulator['registerMerchant']>>, apiClientKey: string): ChannelForm => ({
  params: { mchId: c.mchId, appId: c.appId, opUserId: c.opUserId, apiClientCert: c.apiClientCertPem, tlsCaCert: c.tlsCaCertPem, baseUrl: sim.baseUrl, apiBaseUrl: sim.apiBaseUrl },
  secrets: { apiKey: c.apiKey, apiClientKey, opUserPassword: c.opUserPassword, appKey: c.appKey },
});
const icbcForm = (sim: IcbcSimulator, c: { appId: string; merId: string; icbcPublicKeyPem: string }, privateKey: string): ChannelForm => ({
  params: { appId: c.appId, merId: c.merId, icbcPublicKey: c.icbcPublicKeyPem, baseUrl: sim.baseUrl },
  secrets: { privateKey },
});
const xinlianForm = (sim: XinlianSimulator, c: { mchNo: string; appId: string; xinlianPublicKeyPem: string }, privateKey: string): ChannelForm => ({
  params: { mchNo: c.mchNo, appId: c.appId, xinlianPublicKey: c.xinlianPublicKeyPem, baseUrl: sim.baseUrl },
  secrets: { privateKey },
});

/** PayPal has one webhook URL per app: this gateway's. */
const paypalWebhook = (gw: Gateway): string => `${gw.config.publicUrl}${WEBHOOK_PATH}`;

const SPECS = {
  shengpay: {
    ifCode: 'shengpay', appId: DEMO_SHENGPAY_APP_ID, appName: 'Demo app (盛付通 Shengpay: every way)', mainWays: DEMO_MAIN_SHENGPAY_WAYS, allWays: SHENGPAY_WAYS,
    async demo(sim, keep) {
      const { creds, privateKey } = await keyedMerchant(keep, 'Shengpay', (key) => sim.registerMerchant({ merchantId: DEMO_SHENGPAY_MCH_ID, name: NAME, ...key }));
      return shengpayForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return shengpayForm(sim, c, c.privateKeyPem as string, false);
    },
    async afterMain(gw, mainAppId) {
      const existing = await gw.passages.list(mainAppId);
      for (const way of DEMO_MAIN_SHENGPAY_STANDBY) {
        if (!existing.some((p) => p.wayCode === way && p.ifCode === 'shengpay')) await gw.passages.upsert(mainAppId, { wayCode: way, ifCode: 'shengpay', priority: 1 });
      }
    },
  } satisfies SandboxSpec<ShengpaySimulator>,
  jdpay: {
    ifCode: 'jdpay', appId: DEMO_JDPAY_APP_ID, appName: 'Demo app (京东支付 JD Pay: every way)', mainWays: DEMO_MAIN_JDPAY_WAYS, allWays: JDPAY_WAYS,
    async demo(sim, keep) {
      const desKey = await keep('desKey');
      const { creds, privateKey } = await keyedMerchant(keep, 'JD Pay', (key) => sim.registerMerchant({ merchantId: DEMO_JDPAY_MERCHANT, name: NAME, ...key, ...(desKey ? { desKey } : {}) }));
      return jdpayForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return jdpayForm(sim, c, c.privateKeyPem as string);
    },
  } satisfies SandboxSpec<JdpaySimulator>,
  abc: {
    ifCode: 'abcpay', appId: DEMO_ABC_APP_ID, appName: 'Demo app (农业银行 ABC: every way)', mainWays: DEMO_MAIN_ABC_WAYS, allWays: ABCPAY_WAYS,
    async demo(sim, keep) {
      const { creds, privateKey } = await keyedMerchant(keep, 'ABC', (key) => sim.registerMerchant({ merchantId: DEMO_ABC_MERCHANT, name: NAME, ...key }));
      return abcForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return abcForm(sim, c, c.privateKeyPem as string);
    },
  } satisfies SandboxSpec<AbcSimulator>,
  paypal: {
    ifCode: 'paypal', appId: DEMO_PAYPAL_APP_ID, appName: 'Demo app (PayPal: every way)', mainWays: DEMO_MAIN_PAYPAL_WAYS, allWays: PAYPAL_WAYS,
    demo: async (sim, _keep, gw) => paypalForm(sim.registerApp({ clientId: DEMO_PAYPAL_CLIENT_ID, name: 'Polypay demo', webhookUrl: paypalWebhook(gw) })),
    fresh: async (sim, gw) => paypalForm(sim.registerApp({ webhookUrl: paypalWebhook(gw) })),
  } satisfies SandboxSpec<PaypalSimulator>,
  // QQ_PAY is served by no other channel: the main app takes it, and demo-qqpay has it alone.
  qqpay: {
    ifCode: 'qqpay', appId: DEMO_QQPAY_APP_ID, appName: 'Demo app (QQ钱包 QPay: QQ_PAY)', mainWays: QQPAY_WAYS, allWays: QQPAY_WAYS,
    async demo(sim, keep) {
      const apiKey = await keep('apiKey');
      const { creds, privateKey } = await keyedMerchant(keep, 'QQ 钱包', (key) => sim.registerMerchant({ merchantId: DEMO_QQPAY_MCH_ID, name: NAME, ...key, ...(apiKey ? { apiKey } : {}) }), 'apiClientKey', (c) => c.apiClientKeyPem);
      return qqpayForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return qqpayForm(sim, c, c.apiClientKeyPem as string);
    },
  } satisfies SandboxSpec<QqpaySimulator>,
  icbc: {
    ifCode: 'icbc', appId: DEMO_ICBC_APP_ID, appName: 'Demo app (工商银行 ICBC: every way)', mainWays: DEMO_MAIN_ICBC_WAYS, allWays: ICBC_WAYS,
    async demo(sim, keep) {
      const { creds, privateKey } = await keyedMerchant(keep, 'ICBC', (key) => sim.registerMerchant({ merchantId: DEMO_ICBC_MERCHANT, name: NAME, ...key }));
      return icbcForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return icbcForm(sim, c, c.privateKeyPem as string);
    },
  } satisfies SandboxSpec<IcbcSimulator>,
  xinlian: {
    ifCode: 'xinlian', appId: DEMO_XINLIAN_APP_ID, appName: 'Demo app (信联 Xinlian: every way)', mainWays: DEMO_MAIN_XINLIAN_WAYS, allWays: XINLIAN_WAYS,
    async demo(sim, keep) {
      const { creds, privateKey } = await keyedMerchant(keep, 'Xinlian', (key) => sim.registerMerchant({ merchantId: DEMO_XINLIAN_MERCHANT, name: NAME, ...key }));
      return xinlianForm(sim, creds, privateKey);
    },
    fresh: async (sim) => {
      const c = await sim.registerMerchant();
      return xinlianForm(sim, c, c.privateKeyPem as string);
    },
  } satisfies SandboxSpec<XinlianSimulator>,
};


type Running = Array<{ sim: unknown; spec: SandboxSpec<unknown> }>;

function running(sims: AcquirerSandboxes): Running {
  return (Object.keys(SPECS) as Array<keyof typeof SPECS>).flatMap((k) => (sims[k] ? [{ sim: sims[k], spec: SPECS[k] as SandboxSpec<unknown> }] : []));
}

/** An app of the demo merchant (created once; its secret is printed only when created, then read back). */
async function demoApp(gw: Gateway, mchNo: string, appId: string, name: string): Promise<DemoCredentials> {
  await gw.tenancy.createApp({ mchNo, appId, name });
  const app = await gw.tenancy.getApp(appId);
  if (!app) throw new Error(`demo app ${appId} could not be created`);
  return { mchNo, appId, appSecret: app.appSecret };
}

/** Wires every running sandbox; returns the extra apps' credentials (for the start banner). */
export async function ensureAcquirerDemo(gw: Gateway, sims: AcquirerSandboxes, main: DemoCredentials): Promise<DemoCredentials[]> {
  const apps: DemoCredentials[] = [];
  for (const { sim, spec } of running(sims)) {
    const app = await demoApp(gw, main.mchNo, spec.appId, spec.appName);
    // Every demo app shares one sandbox merchant: a secret stored by either app is kept.
    const keep = async (name: string) => {
      for (const appId of [app.appId, main.appId]) {
        const v = (await gw.tenancy.getChannelConfig(appId, spec.ifCode))?.secrets[name];
        if (v) return v;
      }
      return undefined;
    };
    const form = await spec.demo(sim, keep, gw);
    for (const [appId, ways] of [[main.appId, spec.mainWays], [app.appId, spec.allWays]] as const) {
      await gw.tenancy.setChannelConfig(appId, spec.ifCode, form.params, form.secrets);
      await gw.passages.enableWays(appId, spec.ifCode, ways);
    }
    await spec.afterMain?.(gw, main.appId);
    apps.push(app);
  }
  return apps;
}

/**
 * "Fill with sandbox keys" in the operator console (src/console/sandbox-keys.ts): each running
 * simulator registers a fresh merchant and hands back what the channel form needs.
 */
export function registerAcquirerKeyIssuers(gw: Gateway, sims: AcquirerSandboxes): void {
  for (const { sim, spec } of running(sims)) gw.sandboxKeys.set(spec.ifCode, () => spec.fresh(sim, gw));
}
