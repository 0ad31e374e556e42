import { createServer, type Server } from 'node:http';
import { newOrderId } from '../../../domain/ids.ts';
import type { ChannelConfig, Logger, PayOrderInput } from '../../types.ts';
import { AcpClient, SpClient } from '../client.ts';
import { parseUnionPayConfig, type AcpConfig, type SpConfig } from '../config.ts';
import type { MerchantCredentials, ProviderCredentials } from './types.ts';

/** Shared by the simulator's and the channel's tests: configurations from sandbox credentials, a notify receiver, orders. */

export const quietLog: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export function acpConfigOf(c: MerchantCredentials, over: Record<string, string> = {}): ChannelConfig {
  return {
    params: { mode: 'acp', merId: c.merId, middleCert: c.middleCertPem, rootCert: c.rootCertPem, acpBaseUrl: c.acpBaseUrl, fileUrl: c.fileBaseUrl, userAuthUrl: c.userAuthUrl, ...over },
    secrets: { signCertPfx: c.pfxBase64 as string, signCertPassword: c.pfxPassword as string },
  };
}

export function spConfigOf(p: ProviderCredentials, over: Record<string, string> = {}): ChannelConfig {
  return {
    params: { mode: 'sp', merId: p.merIds[0] as string, serProvId: p.serProvId, ysfPublicKey: p.ysfPublicKey, spBaseUrl: p.spBaseUrl, userAuthUrl: p.userAuthUrl, ...over },
    secrets: { signCertPfx: p.pfxBase64 as string, signCertPassword: p.pfxPassword as string },
  };
}

export const acpClientOf = (c: MerchantCredentials): AcpClient => new AcpClient(parseUnionPayConfig(acpConfigOf(c)) as AcpConfig);
export const spClientOf = (p: ProviderCredentials): SpClient => new SpClient(parseUnionPayConfig(spConfigOf(p)) as SpConfig);

export interface Delivery {
  contentType: string;
  body: string;
  fields: Record<string, string>;
}

/** An HTTP endpoint recording what it receives; `respond(n)` gives the status of the n-th delivery (default 200 "ok"). */
export async function startNotifyReceiver(respond: (n: number) => number = () => 200): Promise<{ url: string; received: Delivery[]; close(): Promise<void> }> {
  const received: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const ct = req.headers['content-type'] ?? '';
      const fields = ct.includes('json') ? (JSON.parse(raw) as Record<string, string>) : Object.fromEntries(new URLSearchParams(raw));
      received.push({ contentType: ct, body: raw, fields });
      res.statusCode = respond(received.length);
      res.end(res.statusCode === 200 ? 'ok' : 'fail');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/notify`, received, close: () => new Promise((r) => server.close(() => r())) };
}

export async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An order as the core would hand it to the channel (ids carry their creation time, as ours do). */
export function orderInput(over: Partial<PayOrderInput> = {}): PayOrderInput {
  const id = newOrderId('P');
  return { payOrderId: id, wayCode: 'UP_QR', amount: 1234, currency: 'CNY', subject: '云闪付测试', body: 'b', clientIp: '10.0.0.1', expiredAt: new Date(Date.now() + 3600e3), extra: {}, notifyUrl: `http://127.0.0.1:1/api/pay/notify/ysfpay/${id}`, returnUrl: null, channelOrderNo: null, ...over };
}
