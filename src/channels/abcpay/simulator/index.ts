import { generateRsaPair, issueCertificate } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { registerAbcApi } from './api.ts';
import { abcNoticeCodec, type AbcKeys } from './wire.ts';

/**
 * 中国农业银行 ABC TrustPay simulator (sandbox): the servlet's GB18030 JSON envelope with strict
 * SHA1withRSA verification, 一码多扫 codes every wallet can pay, 掌银 page payments, synchronous
 * refunds, signed result notifications with retries, fault switches. docs/sandbox/abc.md.
 */

export interface AbcMerchantCredentials {
  merchantId: string;
  baseUrl: string;
  /** Only in the answer that generated it (stands in for the key inside <MerchantID>.pfx). */
  privateKeyPem?: string;
  publicKeyPem: string;
  /** TrustPay's key, and the certificate holding it (stands in for TrustPay.cer). */
  trustpayPublicKeyPem: string;
  trustpayCertPem: string;
}

export interface AbcSimulator extends AcquirerServer<AbcKeys> {
  registerMerchant(input?: { merchantId?: string; name?: string; privateKeyPem?: string; publicKeyPem?: string; newKey?: boolean }): Promise<AbcMerchantCredentials>;
}

const TRUSTPAY_SUBJECT = 'C=CN, O=Agricultural Bank of China (Polypay sandbox), CN=MainServer.0001';

export async function startAbcSimulator(opts: AcquirerOptions = {}): Promise<AbcSimulator> {
  const register = async (core: AcquirerServer<AbcKeys>['core'], input: Record<string, unknown>): Promise<AbcMerchantCredentials> => {
    const { merchant, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, { idPattern: /^[0-9]{15}$/, newId: () => `1038816${digits(8)}` });
    return { merchantId: merchant.id, baseUrl: core.ctx.baseUrl, ...(privateKeyPem ? { privateKeyPem } : {}), publicKeyPem: merchant.publicKeyPem, trustpayPublicKeyPem: core.keys.platformPublicKeyPem, trustpayCertPem: core.keys.trustpayCertPem };
  };
  const server = await startAcquirer<AbcKeys>(opts, {
    kind: 'abc-simulator',
    title: '中国农业银行 ABC',
    userAgent: 'TrustPay/3.0 (Polypay sandbox)',
    generateKeys: async () => {
      const pair = await generateRsaPair();
      // A self-signed stand-in for TrustPay.cer (the real one is issued by ABC's CA).
      const certPem = await issueCertificate({ subject: TRUSTPAY_SUBJECT, subjectPublicKeyPem: pair.publicKeyPem, issuerPrivateKeyPem: pair.privateKeyPem, ca: false });
      return { platformPrivateKeyPem: pair.privateKeyPem, platformPublicKeyPem: pair.publicKeyPem, trustpayCertPem: certPem };
    },
    synchronousRefunds: true,
    newTradeNo: (now) => `ABC${compactChinaTime(now)}${digits(10)}`,
    newRefundNo: (now) => `ABCR${compactChinaTime(now)}${digits(9)}`,
    codec: abcNoticeCodec,
    routes: registerAbcApi,
    registerMerchant: register,
  });
  return Object.assign(server, { registerMerchant: (input = {}) => register(server.core, input) });
}

export type { AbcKeys } from './wire.ts';
