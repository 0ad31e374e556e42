import { randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aesGcmEncrypt, loadPrivateKey, responseMessage, rsaSign } from '../../../src/channels/wechat-pay/v3-crypto.ts';
import { type SandboxCredentials, type WechatPaySimulator, startWechatPaySimulator } from '../../../src/channels/wechat-pay/simulator/index.ts';
import { sleep } from './harness.ts';

export const SIM_MCHID = '1900007001';

export interface SimHandle {
  sim: WechatPaySimulator;
  creds: SandboxCredentials;
  /** The simulator's own WeChat-side signing key (read from its state file): lets a test sign callbacks WeChat never sent. */
  platformKey: KeyObject;
  close(): Promise<void>;
}

/**
 * The WeChat Pay simulator in the test process, with a state file so the test can read the
 * platform private key, and one registered merchant whose credentials the gateway gets through
 * its admin API.
 */
export async function startSim(opts: { timeScale?: number; refundDelayMs?: number; appids: string[]; mchid?: string }): Promise<SimHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'polypay-faults-sim-'));
  const stateFile = join(dir, 'wechatpay.json');
  const sim = await startWechatPaySimulator({ port: 0, host: '127.0.0.1', timeScale: opts.timeScale ?? 1000, refundDelayMs: opts.refundDelayMs ?? 50, stateFile, logger: false });
  const creds = sim.registerMerchant({ mchid: opts.mchid ?? SIM_MCHID, appids: opts.appids, verifyMode: 'publicKey' });
  for (let i = 0; i < 100 && !existsSync(stateFile); i++) await sleep(50);
  const snapshot = JSON.parse(readFileSync(stateFile, 'utf8')) as { platform: { pubKeyPrivateKeyPem: string } };
  return {
    sim,
    creds,
    platformKey: loadPrivateKey(snapshot.platform.pubKeyPrivateKeyPem),
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ForgeOptions {
  /** Sign with this key instead of WeChat's (a forger). */
  key?: KeyObject;
  serial?: string;
  timestamp?: number;
  /** Encrypt with this APIv3 key instead of the merchant's. */
  apiV3Key?: string;
  eventType?: string;
  originalType?: string;
  signature?: string;
}

/**
 * A WeChat Pay v3 notification as WeChat sends it (protocols.md §A.5): the resource encrypted
 * with the merchant's APIv3 key, the body signed with the WeChat Pay public-key-mode key. With
 * the simulator's real key this is what WeChat *could* send — used to deliver tampered content
 * (another mchid, appid, out_trade_no, amount) that only the gateway's own checks can catch.
 */
export function forgeCallback(h: SimHandle, kind: 'pay' | 'refund', resource: Record<string, unknown>, o: ForgeOptions = {}): { headers: Record<string, string>; body: string } {
  const originalType = o.originalType ?? (kind === 'pay' ? 'transaction' : 'refund');
  const nonce = randomBytes(6).toString('hex');
  const body = JSON.stringify({
    id: `EV-${randomBytes(8).toString('hex')}`,
    create_time: new Date().toISOString(),
    resource_type: 'encrypt-resource',
    event_type: o.eventType ?? (kind === 'pay' ? 'TRANSACTION.SUCCESS' : 'REFUND.SUCCESS'),
    summary: 'forged by the fault suite',
    resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: aesGcmEncrypt(o.apiV3Key ?? h.creds.apiV3Key, nonce, originalType, JSON.stringify(resource)), associated_data: originalType, nonce },
  });
  return { headers: signCallbackHeaders(h, body, o), body };
}

export function signCallbackHeaders(h: SimHandle, body: string, o: ForgeOptions = {}): Record<string, string> {
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  return {
    'content-type': 'application/json',
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': o.serial ?? h.creds.wxpayPublicKeyId,
    'wechatpay-signature': o.signature ?? rsaSign(responseMessage(timestamp, nonce, body), o.key ?? h.platformKey),
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  };
}

/** A TRANSACTION.SUCCESS resource for an order, as the simulator would encrypt it. */
export function paidTransaction(h: SimHandle, appid: string, outTradeNo: string, total: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid,
    mchid: h.creds.mchid,
    out_trade_no: outTradeNo,
    transaction_id: `42000${Date.now()}${randomBytes(3).toString('hex')}`,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: new Date().toISOString(),
    payer: { openid: 'o-faults-payer' },
    amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
    ...over,
  };
}

export function refundResource(h: SimHandle, outTradeNo: string, outRefundNo: string, refund: number, total: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mchid: h.creds.mchid,
    out_trade_no: outTradeNo,
    transaction_id: `42000${Date.now()}`,
    out_refund_no: outRefundNo,
    refund_id: `50300${Date.now()}`,
    refund_status: 'SUCCESS',
    success_time: new Date().toISOString(),
    user_received_account: '支付用户零钱',
    amount: { total, refund, payer_total: total, payer_refund: refund },
    ...over,
  };
}
