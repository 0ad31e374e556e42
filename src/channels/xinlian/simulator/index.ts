import { generateRsaPair } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { RegistrationError, registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { registerXinlianApi } from './api.ts';
import { xinlianNoticeCodec, type XinlianKeys } from './wire.ts';

/**
 * 信联 Xinlian simulator (sandbox) of the assumed protocol (docs/channels/xinlian.md): unified
 * order for the Alipay mini-program, query, close, refund, refund query — signed JSON checked
 * strictly; the payer's page, where the buyer pays the tradeNO as that Alipay user; signed PAY and
 * REFUND notifications with retries; asynchronous refunds; fault switches.
 */

export interface XinlianMerchantCredentials {
  mchNo: string;
  appId: string;
  baseUrl: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  privateKeyPem?: string;
  publicKeyPem: string;
  /** Xinlian's key answers and notifications are signed with ("信联公钥"). */
  xinlianPublicKeyPem: string;
}

export interface XinlianSimulator extends AcquirerServer<XinlianKeys> {
  registerMerchant(input?: { merchantId?: string; appId?: string; name?: string; privateKeyPem?: string; publicKeyPem?: string; newKey?: boolean }): Promise<XinlianMerchantCredentials>;
}

export async function startXinlianSimulator(opts: AcquirerOptions = {}): Promise<XinlianSimulator> {
  const register = async (core: AcquirerServer<XinlianKeys>['core'], input: Record<string, unknown>): Promise<XinlianMerchantCredentials> => {
    const given = typeof input.appId === 'string' && input.appId !== '' ? input.appId : undefined;
    if (given !== undefined && !/^[0-9A-Za-z_-]{1,32}$/.test(given)) throw new RegistrationError('appId must be 1–32 letters, digits, _ or -');
    const { merchant, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, {
      idPattern: /^M[0-9]{8,16}$/,
      newId: () => `M${digits(10)}`,
      secrets: (existing) => ({ appId: given ?? existing?.secrets.appId ?? `XLA${digits(12)}` }),
    });
    return { mchNo: merchant.id, appId: merchant.secrets.appId as string, baseUrl: core.ctx.baseUrl, ...(privateKeyPem ? { privateKeyPem } : {}), publicKeyPem: merchant.publicKeyPem, xinlianPublicKeyPem: core.keys.platformPublicKeyPem };
  };
  const server = await startAcquirer<XinlianKeys>(opts, {
    kind: 'xinlian-simulator',
    title: '信联 Xinlian',
    userAgent: 'Xinlian-Notify/1.0 (Polypay sandbox)',
    generateKeys: async () => {
      const pair = await generateRsaPair();
      return { platformPrivateKeyPem: pair.privateKeyPem, platformPublicKeyPem: pair.publicKeyPem };
    },
    // The books' trade number is the Alipay trade number (28 digits) the mini-program pays.
    newTradeNo: (now) => `${compactChinaTime(now).slice(0, 8)}2200${digits(16)}`,
    newRefundNo: (now) => `XR${compactChinaTime(now)}${digits(8)}`,
    codec: xinlianNoticeCodec,
    routes: registerXinlianApi,
    registerMerchant: register,
  });
  return Object.assign(server, { registerMerchant: (input = {}) => register(server.core, input) });
}

export type { XinlianKeys } from './wire.ts';
