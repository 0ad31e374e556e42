import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { Gateway } from './gateway.ts';
import type { WechatPaySimulator } from './channels/wechat-pay/simulator/index.ts';
import type { AlipaySimulator } from './channels/alipay/simulator/index.ts';
import { ALIPAY_WAYS } from './channels/alipay/mapping.ts';
import type { UnionPaySimulator } from './channels/unionpay/simulator/index.ts';
import { UNIONPAY_WAYS } from './channels/unionpay/mapping.ts';
import { loadPfx } from './channels/unionpay/certs.ts';

export const DEFAULT_DEMO_MCH_NO = 'MDEMO001';
export const DEMO_WECHAT_MCHID = '1900000001';
export const DEMO_WECHAT_APPIDS = { jsapi: 'wxd0000000000demo1', lite: 'wxd0000000000demo2', app: 'wxd0000000000demo3' };
/** The demo's Alipay open-platform app in the sandbox (16 digits, like real app ids). */
export const DEMO_ALIPAY_APPID = '2021000100000001';
/** The demo's UnionPay 全渠道 merchant number in the sandbox (15 digits, the shape of UnionPay's test merchants). */
export const DEMO_UNIONPAY_MERID = '777290058110048';

export interface DemoCredentials {
  mchNo: string;
  appId: string;
  appSecret: string;
}

/**
 * The demo merchant: created once, wired to every sandbox channel with every implemented
 * way enabled. Each start re-registers its sandbox accounts (the simulator may have
 * restarted without state) using the keys already stored, so nothing changes for the merchant.
 */
export async function ensureDemoMerchant(gw: Gateway, wechat: WechatPaySimulator | null, alipay: AlipaySimulator | null = null, unionpay: UnionPaySimulator | null = null): Promise<DemoCredentials> {
  const mchNo = gw.config.demo.mchNo ?? DEFAULT_DEMO_MCH_NO;
  await gw.tenancy.createMerchant({ mchNo, name: 'Polypay 演示商户 (demo)', shortName: 'Demo' });
  const apps = await gw.tenancy.listApps(mchNo);
  let appId = gw.config.demo.appId ?? (apps[0]?.appId as string | undefined);
  if (!appId || !apps.some((a) => a.appId === appId)) {
    appId = (await gw.tenancy.createApp({ mchNo, appId, appSecret: gw.config.demo.appSecret, name: 'Demo app' })).appId;
  }
  let app = await gw.tenancy.getApp(appId);
  if (!app) throw new Error(`demo app ${appId} could not be created`);
  if (gw.config.demo.appSecret && app.appSecret !== gw.config.demo.appSecret) {
    await gw.tenancy.rotateAppSecret(appId, gw.config.demo.appSecret);
    app = await gw.tenancy.getApp(appId);
  }
  if (wechat) await wireWechatSandbox(gw, appId, wechat);
  if (alipay) await wireAlipaySandbox(gw, appId, alipay);
  if (unionpay) await wireUnionPaySandbox(gw, appId, unionpay);
  // QR_CASHIER: one code the payer opens in WeChat or Alipay (src/cashier/).
  await gw.tenancy.setChannelConfig(appId, 'cashier', {}, {});
  await gw.passages.enableWays(appId, 'cashier', ['QR_CASHIER']);
  return { mchNo, appId, appSecret: app!.appSecret };
}

async function wireWechatSandbox(gw: Gateway, appId: string, sim: WechatPaySimulator): Promise<void> {
  const existing = await gw.tenancy.getChannelConfig(appId, 'wxpay');
  const appids = [DEMO_WECHAT_APPIDS.jsapi, DEMO_WECHAT_APPIDS.lite, DEMO_WECHAT_APPIDS.app];
  const verifyMode = (existing?.params.verifyMode as 'publicKey' | 'platformCert' | undefined) ?? 'publicKey';
  const keep = existing?.secrets.apiClientKey
    ? {
        merchantPublicKeyPem: createPublicKey(createPrivateKey(existing.secrets.apiClientKey)).export({ type: 'spki', format: 'pem' }).toString(),
        merchantSerialNo: existing.params.merchantSerialNo,
        apiV3Key: existing.secrets.apiV3Key,
      }
    : {};
  const creds = sim.registerMerchant({ mchid: DEMO_WECHAT_MCHID, appids, verifyMode, ...keep });
  // Payer identity (mini-program login, 公众号 OAuth): the simulator keeps app secrets in memory only.
  const lite = sim.open.registerApp({ appid: DEMO_WECHAT_APPIDS.lite, secret: existing?.secrets.liteAppSecret });
  const mp = sim.open.registerApp({ appid: DEMO_WECHAT_APPIDS.jsapi, secret: existing?.secrets.mpAppSecret });
  await gw.tenancy.setChannelConfig(
    appId,
    'wxpay',
    {
      mchId: creds.mchid,
      appId: DEMO_WECHAT_APPIDS.jsapi,
      liteAppId: DEMO_WECHAT_APPIDS.lite,
      appAppId: DEMO_WECHAT_APPIDS.app,
      merchantSerialNo: creds.merchantSerialNo,
      verifyMode: creds.verifyMode,
      wxpayPublicKeyId: creds.wxpayPublicKeyId,
      wxpayPublicKey: creds.wxpayPublicKeyPem,
      baseUrl: sim.baseUrl,
      oauthBaseUrl: sim.baseUrl,
      openBaseUrl: sim.baseUrl,
      oauthReturnHosts: '127.0.0.1,localhost',
    },
    {
      ...(existing?.secrets.apiClientKey ? {} : { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key }),
      liteAppSecret: lite.secret,
      mpAppSecret: mp.secret,
    },
  );
  await gw.passages.enableWays(appId, 'wxpay', ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP', 'WX_BAR']);
}

/** Every ALI way, in public-key mode unless the stored config says useCert=true; the stored app key is kept across restarts. */
async function wireAlipaySandbox(gw: Gateway, appId: string, sim: AlipaySimulator): Promise<void> {
  const existing = await gw.tenancy.getChannelConfig(appId, 'alipay');
  const mode = existing?.params.useCert === 'true' ? 'cert' : 'publicKey';
  const keep = existing?.secrets.privateKey ? { appPublicKeyPem: createPublicKey(createPrivateKey(existing.secrets.privateKey)).export({ type: 'spki', format: 'pem' }).toString() } : {};
  const creds = await sim.registerApp({ appId: existing?.params.appId ?? DEMO_ALIPAY_APPID, mode, ...(existing?.params.sellerId ? { pid: existing.params.sellerId } : {}), ...keep });
  const keys: Record<string, string> =
    mode === 'cert'
      ? { useCert: 'true', appPublicCert: creds.appCertPem as string, alipayPublicCert: creds.alipayPublicCertPem as string, alipayRootCert: creds.alipayRootCertPem as string }
      : { useCert: 'false', alipayPublicKey: creds.alipayPublicKeyPem };
  await gw.tenancy.setChannelConfig(appId, 'alipay', { appId: creds.appId, signType: 'RSA2', sellerId: creds.pid, gatewayUrl: creds.gatewayUrl, openAuthUrl: sim.baseUrl, oauthReturnHosts: '127.0.0.1,localhost', ...keys }, existing?.secrets.privateKey ? {} : { privateKey: creds.appPrivateKeyPem as string });
  await gw.passages.enableWays(appId, 'alipay', ALIPAY_WAYS);
}

export const DEMO_WECHAT_V2_APP_ID = 'demo-wxpay-v2';

/**
 * A second demo app on the same sandbox merchant, configured for WeChat Pay API v2 (XML, MD5 or
 * HMAC-SHA256, mutual TLS for refunds): the simulator keeps one ledger, so the merchant's v2 and
 * v3 orders sit side by side. Uses the API certificate the sandbox CA issued for the merchant key.
 */
export async function ensureWechatV2DemoApp(gw: Gateway, sim: WechatPaySimulator, mchNo: string, signType: 'MD5' | 'HMAC-SHA256' = 'MD5'): Promise<DemoCredentials> {
  const created = await gw.tenancy.createApp({ mchNo, appId: DEMO_WECHAT_V2_APP_ID, name: 'Demo app (WeChat Pay API v2)' });
  const app = await gw.tenancy.getApp(created.appId);
  if (!app) throw new Error(`demo app ${created.appId} could not be created`);
  const v3 = await gw.tenancy.getChannelConfig((await gw.tenancy.listApps(mchNo))[0]?.appId as string, 'wxpay');
  const existing = await gw.tenancy.getChannelConfig(app.appId, 'wxpay');
  const apiClientKey = existing?.secrets.apiClientKey ?? v3?.secrets.apiClientKey;
  const keep = apiClientKey ? { merchantPublicKeyPem: createPublicKey(createPrivateKey(apiClientKey)).export({ type: 'spki', format: 'pem' }).toString(), merchantSerialNo: v3?.params.merchantSerialNo ?? existing?.params.merchantSerialNo } : {};
  const appids = [DEMO_WECHAT_APPIDS.jsapi, DEMO_WECHAT_APPIDS.lite, DEMO_WECHAT_APPIDS.app];
  // Native 模式一: WeChat calls this app's scan callback when a payer scans one of its product codes.
  const nativeCallbackUrl = `${gw.config.publicUrl}/api/wxpay/native1/${app.appId}`;
  const creds = sim.registerMerchant({ mchid: DEMO_WECHAT_MCHID, appids, nativeCallbackUrl, ...keep, ...(existing?.secrets.apiKey ? { apiKey: existing.secrets.apiKey } : {}) });
  const cert = await sim.merchantCertificate(creds.mchid);
  await gw.tenancy.setChannelConfig(
    app.appId,
    'wxpay',
    {
      apiVersion: 'v2', signType, mchId: creds.mchid, appId: DEMO_WECHAT_APPIDS.jsapi, liteAppId: DEMO_WECHAT_APPIDS.lite, appAppId: DEMO_WECHAT_APPIDS.app,
      baseUrl: sim.baseUrl.replace(/^http:/, 'https:'), tlsCaCert: creds.tlsCaCertificatePem, apiClientCert: cert,
    },
    { apiKey: creds.apiKey, ...(apiClientKey ? { apiClientKey } : { apiClientKey: creds.merchantPrivateKeyPem as string }) },
  );
  await gw.passages.enableWays(app.appId, 'wxpay', ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP', 'WX_BAR']);
  await gw.db.query(`INSERT INTO wechat_products (app_id, product_id, amount, subject) VALUES ($1, 'VIP001', 100, 'VIP 会员一个月 (demo)') ON CONFLICT DO NOTHING`, [app.appId]);
  return { mchNo, appId: app.appId, appSecret: app.appSecret };
}

/**
 * Every 云闪付 / UnionPay way through the ACP (全渠道) sandbox. The signing PFX is issued once and
 * kept (its certificate is re-registered on each start); the published middle/root certificates
 * are refreshed, since a sandbox restarted without its state file has a new PKI.
 */
async function wireUnionPaySandbox(gw: Gateway, appId: string, sim: UnionPaySimulator): Promise<void> {
  const existing = await gw.tenancy.getChannelConfig(appId, 'ysfpay');
  const pfx = existing?.secrets.signCertPfx;
  const keep = pfx ? { certificatePem: loadPfx(pfx, existing?.secrets.signCertPassword ?? '').certificate.toString() } : {};
  const creds = await sim.registerMerchant({ merId: existing?.params.merId ?? DEMO_UNIONPAY_MERID, ...keep });
  await gw.tenancy.setChannelConfig(
    appId,
    'ysfpay',
    { mode: 'acp', merId: creds.merId, middleCert: creds.middleCertPem, rootCert: creds.rootCertPem, acpBaseUrl: creds.acpBaseUrl, fileUrl: creds.fileBaseUrl, userAuthUrl: creds.userAuthUrl },
    pfx ? {} : { signCertPfx: creds.pfxBase64 as string, signCertPassword: creds.pfxPassword as string },
  );
  await gw.passages.enableWays(appId, 'ysfpay', UNIONPAY_WAYS);
}
