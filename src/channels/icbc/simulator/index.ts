import { generateRsaPair } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { RegistrationError, registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { registerIcbcApi } from './api.ts';
import { icbcNoticeCodec, merchantByAppId, type IcbcKeys } from './wire.ts';

/**
 * 工商银行 ICBC API 开放平台 simulator (sandbox): the 聚合支付 services (create, query, close, refund,
 * refund query) as signed forms with signed JSON answers, checked strictly; the payer's 工行 e支付 /
 * 手机银行 approval page; pay notifications re-sent until the merchant's signed reply verifies;
 * synchronous refunds; fault switches. docs/channels/icbc.md.
 */

export interface IcbcMerchantCredentials {
  appId: string;
  merId: string;
  baseUrl: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  privateKeyPem?: string;
  publicKeyPem: string;
  /** The gateway key answers and notifications are signed with ("网关公钥"). */
  icbcPublicKeyPem: string;
}

export interface IcbcSimulator extends AcquirerServer<IcbcKeys> {
  registerMerchant(input?: { merchantId?: string; appId?: string; name?: string; privateKeyPem?: string; publicKeyPem?: string; newKey?: boolean }): Promise<IcbcMerchantCredentials>;
}

export async function startIcbcSimulator(opts: AcquirerOptions = {}): Promise<IcbcSimulator> {
  const register = async (core: AcquirerServer<IcbcKeys>['core'], input: Record<string, unknown>): Promise<IcbcMerchantCredentials> => {
    const given = typeof input.appId === 'string' && input.appId !== '' ? input.appId : undefined;
    if (given !== undefined && !/^[0-9]{10,32}$/.test(given)) throw new RegistrationError('appId must be 10–32 digits');
    const { merchant, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, {
      idPattern: /^[0-9]{8,20}$/,
      newId: () => `0200${digits(8)}`,
      secrets: (existing) => {
        const appId = given ?? existing?.secrets.appId ?? `10000000000${digits(9)}`;
        const holder = merchantByAppId(core, appId);
        if (holder && holder.id !== (typeof input.merchantId === 'string' ? input.merchantId : existing?.id)) throw new RegistrationError(`appId ${appId} belongs to another merchant`);
        return { appId };
      },
    });
    return { appId: merchant.secrets.appId as string, merId: merchant.id, baseUrl: core.ctx.baseUrl, ...(privateKeyPem ? { privateKeyPem } : {}), publicKeyPem: merchant.publicKeyPem, icbcPublicKeyPem: core.keys.gatewayPublicKeyPem };
  };
  const server = await startAcquirer<IcbcKeys>(opts, {
    kind: 'icbc-simulator',
    title: '工商银行 ICBC',
    userAgent: 'ICBC-API-Notify/1.0 (Polypay sandbox)',
    generateKeys: async () => {
      const pair = await generateRsaPair();
      return { gatewayPrivateKeyPem: pair.privateKeyPem, gatewayPublicKeyPem: pair.publicKeyPem };
    },
    synchronousRefunds: true,
    newTradeNo: (now) => `${compactChinaTime(now)}${digits(10)}`,
    newRefundNo: (now) => `RT${compactChinaTime(now)}${digits(8)}`,
    codec: icbcNoticeCodec,
    routes: registerIcbcApi,
    registerMerchant: register,
  });
  return Object.assign(server, { registerMerchant: (input = {}) => register(server.core, input) });
}

export type { IcbcKeys } from './wire.ts';
