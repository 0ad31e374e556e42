import { NonceCache } from './auth.ts';
import { toSimLog, type Scheduler, type SimContext } from './context.ts';
import { SimError } from './errors.ts';
import { KeyPool, generatePlatformMaterial, issueCertificate, loadPlatformKeys, randomCertSerial, rotatePlatformCertificate } from './keys.ts';
import { addTlsFront } from './tls-front.ts';
import { scanProduct } from './product-scan.ts';
import { alnum } from './ids.ts';
import { registerMerchant } from './merchants.ts';
import { registerSubMerchant } from './partners.ts';
import { merchantP12 } from './p12.ts';
import { Notifier } from './notifier.ts';
import { SnapshotWriter, loadSnapshot } from './persistence.ts';
import { TimerSet } from '../../sandbox/kit.ts';
import { completeRefund, findRefund, settleDueRefund } from './refunds.ts';
import { buildServer } from './server.ts';
import { OpenPlatform } from './open-platform.ts';
import { SimState } from './state.ts';
import { cancelOrder, failOrder, findOrder, payOrder } from './transactions.ts';
import type { FaultSwitches, OrderRecord, WechatPaySimulator, WechatPaySimulatorOptions } from './types.ts';

/**
 * WeChat Pay API v3 simulator (sandbox): the real wire protocol — paths, request verification,
 * signed answers, encrypted callbacks with the real retry schedule — served locally so merchants
 * and our own tests run without WeChat. See docs/sandbox/wechat-pay.md.
 */

export type * from './types.ts';
export { SimError } from './errors.ts';
export { RETRY_SCHEDULE_S } from './notifier.ts';

export function defaultFaults(): FaultSwitches {
  return {
    duplicateCallbacks: false,
    probeSignatureFirst: false,
    badCallbackSignature: false,
    staleCallbackTimestamp: false,
    tamperCallbackAmount: false,
    failNextRequests: 0,
    responseDelayMs: 0,
    notEnoughBalanceForRefunds: false,
    holdRefunds: false,
  };
}

export async function startWechatPaySimulator(opts: WechatPaySimulatorOptions = {}): Promise<WechatPaySimulator> {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError('timeScale must be a positive number');
  const refundDelayMs = opts.refundDelayMs ?? 1000;
  if (!(refundDelayMs >= 0)) throw new RangeError('refundDelayMs must be ≥ 0');

  const snapshot = opts.stateFile ? await loadSnapshot(opts.stateFile) : null;
  const keys = loadPlatformKeys(snapshot?.platform ?? (await generatePlatformMaterial()));
  const log = toSimLog(opts.logger);
  let writer: SnapshotWriter | null = null;
  const state = new SimState(() => writer?.schedule());
  if (snapshot) state.restore(snapshot, () => alnum(32));

  const scheduler = new TimerSet();
  const keyPool = new KeyPool();
  keyPool.refill();
  let notifier: Notifier | null = null;
  const open = new OpenPlatform(() => Date.now());
  const ctx: SimContext = {
    state,
    keys,
    keyPool,
    faults: defaultFaults(),
    log,
    timeScale,
    barcodeTimeScale: opts.barcodeTimeScale ?? timeScale,
    refundDelayMs,
    legacyErrorCodes: opts.legacyErrorCodes ?? false,
    callbackTimeoutMs: opts.callbackTimeoutMs ?? 5000,
    baseUrl: '',
    tlsCaPem: keys.material.certPem,
    now: () => Date.now(),
    scheduler,
    open,
    onCallbackCreated: (id) => notifier?.schedule(id, 0),
    onRefundDue: (mchid, no, delayMs) => scheduler.at(delayMs, () => settleDueRefund(ctx, mchid, no)),
  };
  notifier = new Notifier(ctx);
  if (opts.stateFile) {
    writer = new SnapshotWriter(opts.stateFile, () => state.snapshot(ctx.keys.material, opts.persistLedger !== false), (err) =>
      log.error({ err: (err as Error).message, file: opts.stateFile }, 'state file write failed'),
    );
    // A fresh file gets the platform keys right away, so a restart keeps the same identity.
    if (!snapshot) writer.schedule();
  }

  const nonces = new NonceCache();
  const app = buildServer(ctx, nonces, opts, open);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port ?? 0;
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  ctx.baseUrl = (opts.publicUrl ?? `http://${listenHost}:${port}`).replace(/\/+$/, '');
  // HTTPS on the same port (API v2 /secapi needs mutual TLS), with a server certificate from the sandbox CA.
  const serverPair = keyPool.take();
  const altNames = [...new Set(['127.0.0.1', 'localhost', new URL(ctx.baseUrl).hostname.replace(/^\[|\]$/g, ''), ...(host === '0.0.0.0' || host === '::' ? [] : [host])])];
  const serverCert = await issueCertificate({ issuerPrivateKeyPem: keys.material.certPrivateKeyPem, subjectPublicKeyPem: serverPair.publicKeyPem, serial: randomCertSerial(), subject: 'C=CN, O=Polypay Sandbox, CN=api.mch.weixin.qq.com', ca: false, altNames });
  const clientCas = (): string[] => [ctx.keys.material.certPem, ...(ctx.keys.material.previousCertPems ?? [])];
  const tlsFront = addTlsFront(app.server, { key: serverPair.privateKeyPem, cert: serverCert }, clientCas());
  const certificates = new Map<string, Promise<string | undefined>>();

  // Resume what a previous run left in flight.
  notifier.resumeAll();
  for (const r of state.allRefunds()) {
    if (r.status === 'PROCESSING' && r.due_at !== undefined) ctx.onRefundDue(r.mchid, r.out_refund_no, Math.max(0, r.due_at - ctx.now()));
  }
  log.info({ baseUrl: ctx.baseUrl, timeScale, stateFile: opts.stateFile ?? null, platformSerial: keys.certSerial }, 'WeChat Pay simulator listening');

  const orderByCode = (codeUrl: string): OrderRecord => {
    const o = state.orderByCodeUrl(codeUrl);
    if (!o) throw new SimError(404, 'ORDER_NOT_EXIST', '二维码无效或订单不存在');
    return o;
  };
  let closed = false;

  return {
    baseUrl: ctx.baseUrl,
    registerMerchant: (input) => {
      const registration = registerMerchant(ctx, input);
      certificates.set(registration.credentials.mchid, registration.certificate);
      return registration.credentials;
    },
    registerSubMerchant: (input) => registerSubMerchant(ctx, input),
    merchantCertificateP12: async (mchid, privateKeyPem) => {
      const pem = (await certificates.get(mchid)) ?? state.merchants.get(mchid)?.merchantCertificatePem;
      if (!pem) throw new SimError(404, 'NO_CERTIFICATE', `no API certificate issued for ${mchid}`);
      return merchantP12(pem, privateKeyPem, mchid);
    },
    merchantCertificate: async (mchid) => {
      const pem = (await certificates.get(mchid)) ?? state.merchants.get(mchid)?.merchantCertificatePem;
      if (!pem) throw new SimError(404, 'NO_CERTIFICATE', `no API certificate issued for ${mchid}`);
      return pem;
    },
    payer: {
      pay: async (mchid, outTradeNo, o) => payOrder(ctx, findOrder(ctx, mchid, outTradeNo), o?.openid),
      payByCodeUrl: async (codeUrl, o) => payOrder(ctx, orderByCode(codeUrl), o?.openid),
      cancel: async (mchid, outTradeNo) => cancelOrder(ctx, findOrder(ctx, mchid, outTradeNo)),
      fail: async (mchid, outTradeNo, reason) => failOrder(ctx, findOrder(ctx, mchid, outTradeNo), reason),
      scanProduct: (codeUrl, o) => scanProduct(ctx, codeUrl, o),
    },
    refunds: {
      complete: async (mchid, outRefundNo, outcome) => completeRefund(ctx, findRefund(ctx, mchid, outRefundNo), outcome),
    },
    faults: ctx.faults,
    open,
    rotatePlatformCertificate: async () => {
      ctx.keys = loadPlatformKeys(await rotatePlatformCertificate(ctx.keys.material));
      tlsFront.setClientCas(clientCas());
      writer?.schedule();
      log.info({ serial: ctx.keys.certSerial }, 'platform certificate rotated');
      return { serial: ctx.keys.certSerial };
    },
    ledger: (mchid) => state.ledger(mchid, ctx.baseUrl),
    close: async () => {
      if (closed) return;
      closed = true;
      scheduler.close();
      notifier?.close();
      keyPool.close();
      tlsFront.close();
      await app.close();
      await writer?.flush();
    },
  };
}
