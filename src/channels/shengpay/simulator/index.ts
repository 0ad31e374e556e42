import { generateRsaPair } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { registerShengpayApi } from './api.ts';
import { shengpayNoticeCodec, type ShengpayKeys } from './wire.ts';

/**
 * 盛付通 Shengpay simulator (sandbox): Shengpay's merchant API with strict RSA/RSA2 request
 * verification, signed answers, payer pages, signed JSON notifications with retries, refunds
 * that settle asynchronously, bar-code magic codes and fault switches. docs/sandbox/shengpay.md.
 */

export interface ShengpayMerchantCredentials {
  merchantId: string;
  baseUrl: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  privateKeyPem?: string;
  publicKeyPem: string;
  /** The platform key notifications and answers are signed with ("盛付通公钥"). */
  shengpayPublicKeyPem: string;
}

export interface ShengpaySimulator extends AcquirerServer<ShengpayKeys> {
  registerMerchant(input?: { merchantId?: string; name?: string; privateKeyPem?: string; publicKeyPem?: string; newKey?: boolean }): Promise<ShengpayMerchantCredentials>;
}

export async function startShengpaySimulator(opts: AcquirerOptions = {}): Promise<ShengpaySimulator> {
  const register = async (core: AcquirerServer<ShengpayKeys>['core'], input: Record<string, unknown>): Promise<ShengpayMerchantCredentials> => {
    const { merchant, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, { idPattern: /^[0-9]{8,16}$/, newId: () => `8${digits(9)}` });
    return { merchantId: merchant.id, baseUrl: core.ctx.baseUrl, ...(privateKeyPem ? { privateKeyPem } : {}), publicKeyPem: merchant.publicKeyPem, shengpayPublicKeyPem: core.keys.platformPublicKeyPem };
  };
  const server = await startAcquirer<ShengpayKeys>(opts, {
    kind: 'shengpay-simulator',
    title: '盛付通 Shengpay',
    userAgent: 'Shengpay-Notify/1.0 (Polypay sandbox)',
    generateKeys: async () => {
      const pair = await generateRsaPair();
      return { platformPrivateKeyPem: pair.privateKeyPem, platformPublicKeyPem: pair.publicKeyPem };
    },
    newTradeNo: (now) => `C${compactChinaTime(now)}${digits(10)}`,
    newRefundNo: (now) => `R${compactChinaTime(now)}${digits(10)}`,
    codec: shengpayNoticeCodec,
    routes: registerShengpayApi,
    registerMerchant: register,
  });
  return Object.assign(server, { registerMerchant: (input = {}) => register(server.core, input) });
}

export type { ShengpayKeys } from './wire.ts';
export { defaultAcquirerFaults } from '../../sandbox/acquirer/types.ts';
