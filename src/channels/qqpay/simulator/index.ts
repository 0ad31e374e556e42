import { X509Certificate, createPublicKey } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { spkiPem } from '../../rsa.ts';
import { generateRsaPair, issueCertificate } from '../../sandbox/certs.ts';
import { digits } from '../../sandbox/acquirer/engine.ts';
import { compactChinaTime } from '../../china-time.ts';
import { alnum } from '../../wechat-pay/simulator/ids.ts';
import { RegistrationError, registerAcquirerMerchant } from '../../sandbox/acquirer/merchants.ts';
import { startAcquirer, type AcquirerServer } from '../../sandbox/acquirer/server.ts';
import type { AcquirerOptions } from '../../sandbox/acquirer/types.ts';
import { registerQqpayApi } from './api.ts';
import { qqpayNoticeCodec, type QqpayKeys } from './wire.ts';

/**
 * QQ 钱包 (QPay) simulator (sandbox): the QPay paths on one port, the api host (refund, reverse)
 * on a second port behind mutual TLS with certificates from the sandbox's own CA, payer pages,
 * MICROPAY magic codes, signed XML notifications retried until acknowledged, fault switches.
 * docs/sandbox/qqpay.md.
 */

export interface QqpayMerchantCredentials {
  mchId: string;
  appId: string;
  apiKey: string;
  appKey: string;
  opUserId: string;
  opUserPassword: string;
  /** The merchant's client certificate for the api host (CN = mch_id), from the sandbox CA. */
  apiClientCertPem: string;
  /** Only in the answer that generated it; the simulator keeps the public key only. */
  apiClientKeyPem?: string;
  /** Trust this CA for the api host's server certificate. */
  tlsCaCertPem: string;
  baseUrl: string;
  apiBaseUrl: string;
}

export interface QqpaySimulator extends AcquirerServer<QqpayKeys> {
  apiBaseUrl: string;
  registerMerchant(input?: { merchantId?: string; name?: string; publicKeyPem?: string; privateKeyPem?: string; newKey?: boolean; apiKey?: string }): Promise<QqpayMerchantCredentials>;
}

export interface QqpaySimulatorOptions extends AcquirerOptions {
  /** Port of the api host (mutual TLS); 0 = a free port. */
  apiPort?: number;
}

const CA_NAME = 'C=CN, O=Polypay Sandbox, CN=QPay Sandbox CA';

async function generateKeys(): Promise<QqpayKeys> {
  const pair = await generateRsaPair();
  const caCertPem = await issueCertificate({ subject: CA_NAME, subjectPublicKeyPem: pair.publicKeyPem, issuerPrivateKeyPem: pair.privateKeyPem, ca: true });
  return { caPrivateKeyPem: pair.privateKeyPem, caCertPem };
}

const sameKey = (certPem: string | undefined, publicKeyPem: string): boolean => !!certPem && spkiPem(new X509Certificate(certPem).publicKey) === spkiPem(createPublicKey(publicKeyPem));

export async function startQqpaySimulator(opts: QqpaySimulatorOptions = {}): Promise<QqpaySimulator> {
  let app: FastifyInstance | undefined;
  let apiBaseUrl = '';
  const register = async (core: AcquirerServer<QqpayKeys>['core'], input: Record<string, unknown>): Promise<QqpayMerchantCredentials> => {
    const givenKey = typeof input.apiKey === 'string' && input.apiKey !== '' ? input.apiKey : undefined;
    if (givenKey !== undefined && !/^[0-9A-Za-z]{32}$/.test(givenKey)) throw new RegistrationError('apiKey must be 32 letters or digits');
    const { merchant: m, privateKeyPem } = await registerAcquirerMerchant(core.ctx, input, {
      idPattern: /^[0-9]{10}$/,
      newId: () => `17${digits(8)}`,
      secrets: (old) => ({
        ...old?.secrets,
        apiKey: givenKey ?? old?.secrets.apiKey ?? alnum(32),
        appKey: old?.secrets.appKey ?? alnum(32),
        appId: old?.secrets.appId ?? `110${digits(7)}`,
        opUserPassword: old?.secrets.opUserPassword ?? alnum(16),
      }),
    });
    m.secrets.opUserId = `${m.id}01`;
    // A client certificate for the merchant's key, issued again only when the key changed.
    if (!sameKey(m.secrets.apiClientCertPem, m.publicKeyPem)) {
      const cert = await issueCertificate({ subject: `C=CN, O=Polypay Sandbox, CN=${m.id}`, subjectPublicKeyPem: m.publicKeyPem, issuer: CA_NAME, issuerPrivateKeyPem: core.keys.caPrivateKeyPem, ca: false });
      m.secrets.apiClientCertPem = cert;
      m.secrets.certSerial = new X509Certificate(cert).serialNumber.toUpperCase();
    }
    core.ctx.book.putMerchant(m);
    const s = m.secrets as Record<string, string>;
    return {
      mchId: m.id,
      appId: s.appId as string,
      apiKey: s.apiKey as string,
      appKey: s.appKey as string,
      opUserId: s.opUserId as string,
      opUserPassword: s.opUserPassword as string,
      apiClientCertPem: s.apiClientCertPem as string,
      ...(privateKeyPem ? { apiClientKeyPem: privateKeyPem } : {}),
      tlsCaCertPem: core.keys.caCertPem,
      baseUrl: core.ctx.baseUrl,
      apiBaseUrl,
    };
  };
  const server = await startAcquirer<QqpayKeys>(opts, {
    kind: 'qqpay-simulator',
    title: 'QQ钱包 QPay',
    userAgent: 'QPay-Notify/1.0 (Polypay sandbox)',
    generateKeys,
    newTradeNo: (now) => `1${compactChinaTime(now)}${digits(13)}`,
    newRefundNo: (now) => `1${compactChinaTime(now)}${digits(10)}`,
    codec: qqpayNoticeCodec,
    routes: (a, core) => {
      app = a;
      registerQqpayApi(a, core);
    },
    registerMerchant: register,
  });
  const api = await listenApiHost(server, app as FastifyInstance, opts);
  apiBaseUrl = api.url;
  const close = server.close.bind(server);
  return Object.assign(server, {
    apiBaseUrl,
    registerMerchant: (input = {}) => register(server.core, input),
    close: async () => {
      api.server.closeAllConnections();
      await new Promise<void>((resolve) => api.server.close(() => resolve()));
      await close();
    },
  });
}

/**
 * api.qpay.qq.com: HTTPS with a server certificate from the sandbox CA, asking every client for
 * its certificate; the requests reach the same app, whose api routes judge the certificate.
 */
async function listenApiHost(server: AcquirerServer<QqpayKeys>, app: FastifyInstance, opts: QqpaySimulatorOptions): Promise<{ server: HttpsServer; url: string }> {
  const host = opts.host ?? '127.0.0.1';
  const pair = await generateRsaPair();
  const altNames = [...new Set(['127.0.0.1', 'localhost', new URL(server.baseUrl).hostname, ...(host === '0.0.0.0' || host === '::' ? [] : [host])])];
  const cert = await issueCertificate({ subject: 'C=CN, O=Polypay Sandbox, CN=api.qpay.qq.com', subjectPublicKeyPem: pair.publicKeyPem, issuer: CA_NAME, issuerPrivateKeyPem: server.core.keys.caPrivateKeyPem, ca: false, altNames });
  const https = createHttpsServer({ key: pair.privateKeyPem, cert, requestCert: true, rejectUnauthorized: false, ca: [server.core.keys.caCertPem] }, (req, res) => app.server.emit('request', req, res));
  await new Promise<void>((resolve, reject) => {
    https.once('error', reject);
    https.listen(opts.apiPort ?? 0, host, () => resolve());
  });
  const addr = https.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { server: https, url: `https://${listenHost}:${port}` };
}

export type { QqpayKeys } from './wire.ts';
