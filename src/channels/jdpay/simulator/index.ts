import { randomBytes } from 'node:crypto';
import { generateRsaPair } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { RegistrationError, registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { jdDesKey } from '../envelope.ts';
import { registerJdpayApi } from './api.ts';
import { jdpayNoticeCodec, type JdpayKeys } from './wire.ts';

/**
 * 京东支付 JD Pay simulator (sandbox): JD's server API (uniorder, query, refund, revoke) in its
 * XML + RSA + 3DES envelope, verified strictly; the PC/H5 cashiers (saveOrder forms); payer pages;
 * sealed notifications with retries; asynchronous refunds; fault switches. docs/sandbox/jdpay.md.
 */

export interface JdpayMerchantCredentials {
  merchantId: string;
  baseUrl: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  privateKeyPem?: string;
  publicKeyPem: string;
  /** JD's key answers and notifications are signed with ("京东RSA公钥"). */
  jdPublicKeyPem: string;
  /** The 3DES key (base64 of 24 bytes) shared with the merchant. */
  desKey: string;
}

export interface JdpaySimulator extends AcquirerServer<JdpayKeys> {
  registerMerchant(input?: { merchantId?: string; name?: string; privateKeyPem?: string; publicKeyPem?: string; newKey?: boolean; desKey?: string }): Promise<JdpayMerchantCredentials>;
}

export async function startJdpaySimulator(opts: AcquirerOptions = {}): Promise<JdpaySimulator> {
  const register = async (core: AcquirerServer<JdpayKeys>['core'], input: Record<string, unknown>): Promise<JdpayMerchantCredentials> => {
    const given = typeof input.desKey === 'string' && input.desKey !== '' ? input.desKey : undefined;
    if (given !== undefined) {
      try {
        jdDesKey(given);
      } catch {
        throw new RegistrationError('desKey must be base64 of 24 bytes');
      }
    }
    const { merchant, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, {
      idPattern: /^[0-9]{8,16}$/,
      newId: () => `1100${digits(8)}`,
      secrets: (existing) => ({ desKey: given ?? existing?.secrets.desKey ?? randomBytes(24).toString('base64') }),
    });
    return { merchantId: merchant.id, baseUrl: core.ctx.baseUrl, ...(privateKeyPem ? { privateKeyPem } : {}), publicKeyPem: merchant.publicKeyPem, jdPublicKeyPem: core.keys.platformPublicKeyPem, desKey: merchant.secrets.desKey as string };
  };
  const server = await startAcquirer<JdpayKeys>(opts, {
    kind: 'jdpay-simulator',
    title: '京东支付 JD Pay',
    userAgent: 'JDPay-Notify/2.0 (Polypay sandbox)',
    generateKeys: async () => {
      const pair = await generateRsaPair();
      return { platformPrivateKeyPem: pair.privateKeyPem, platformPublicKeyPem: pair.publicKeyPem };
    },
    newTradeNo: (now) => `${compactChinaTime(now)}${digits(12)}`,
    newRefundNo: (now) => `RF${compactChinaTime(now)}${digits(10)}`,
    codec: jdpayNoticeCodec,
    routes: registerJdpayApi,
    registerMerchant: register,
  });
  return Object.assign(server, { registerMerchant: (input = {}) => register(server.core, input) });
}

export type { JdpayKeys } from './wire.ts';
