import { randomInt } from 'node:crypto';
import type { Gateway } from '../gateway.ts';
import type { WechatPaySimulator } from '../channels/wechat-pay/simulator/index.ts';
import type { AlipaySimulator } from '../channels/alipay/simulator/index.ts';

/** Fresh credentials a running simulator issued, to fill a channel form with (the operator still saves it). */
export type SandboxKeys = { params: Record<string, string>; secrets: Record<string, string> };
export type SandboxKeyIssuer = () => Promise<SandboxKeys>;

const digits = (n: number) => Array.from({ length: n }, () => randomInt(0, 10)).join('');

/**
 * "Fill with sandbox keys" in the operator console: each running simulator registers a new
 * merchant/app of its own and hands back what the channel form needs, exactly what a real
 * channel's merchant platform would give an operator. Only while the sandbox runs (npm start);
 * a channel built later adds its issuer here.
 */
export function registerSandboxKeyIssuers(gw: Gateway, sims: { wechat: WechatPaySimulator | null; alipay: AlipaySimulator | null }): void {
  const { wechat, alipay } = sims;
  if (wechat) {
    gw.sandboxKeys.set('wxpay', async () => {
      const appid = `wxd${digits(15)}`;
      const creds = wechat.registerMerchant({ mchid: `19${digits(8)}`, appids: [appid] });
      const mp = wechat.open.registerApp({ appid });
      return {
        params: {
          mchId: creds.mchid, appId: appid, merchantSerialNo: creds.merchantSerialNo, verifyMode: 'publicKey', wxpayPublicKeyId: creds.wxpayPublicKeyId,
          wxpayPublicKey: creds.wxpayPublicKeyPem, baseUrl: wechat.baseUrl, oauthBaseUrl: wechat.baseUrl, openBaseUrl: wechat.baseUrl, oauthReturnHosts: '127.0.0.1,localhost',
        },
        secrets: { apiClientKey: creds.merchantPrivateKeyPem as string, apiV3Key: creds.apiV3Key, mpAppSecret: mp.secret },
      };
    });
  }
  if (alipay) {
    gw.sandboxKeys.set('alipay', async () => {
      const creds = await alipay.registerApp({ appId: `2021${digits(12)}` });
      return {
        params: { appId: creds.appId, signType: 'RSA2', useCert: 'false', alipayPublicKey: creds.alipayPublicKeyPem, sellerId: creds.pid, gatewayUrl: creds.gatewayUrl },
        secrets: { privateKey: creds.appPrivateKeyPem as string },
      };
    });
  }
}
