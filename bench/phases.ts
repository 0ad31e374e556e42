import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { MerchantClient } from '../src/merchant-api/client.ts';
import { verifySignature } from '../src/merchant-api/sign.ts';
import { WechatPayClient } from '../src/channels/wechat-pay/client.ts';
import { parseWechatPayConfig } from '../src/channels/wechat-pay/config.ts';
import { aesGcmEncrypt, loadPrivateKey, responseMessage, rsaSign, rsaVerify } from '../src/channels/wechat-pay/v3-crypto.ts';
import { type OpenLoopResult, type PreparedRequest, type SaturationResult, type Sender, openLoopInterleaved, saturate } from './load.ts';
import { spawnNode, sleep } from './processes.ts';
import { DEMO, WX, type Receiver, type Simulator, channelParams, channelSecrets } from './stack.ts';

/**
 * The measured phases: create-order through the gateway (saturation, then a fixed half rate), the
 * same order straight to the simulator, pre-signed callbacks, the merchant notifications they
 * cause, and the cost-growth prefill.
 */

const RUN = randomBytes(3).toString('hex');

// ---------------------------------------------------------------------------------------------
// Create-order through the gateway: a WX_NATIVE unified order, merchant-signed (MD5, like Jeepay
// clients), a distinct mchOrderNo per request; an answer counts when it is code 0, state 1
// (PAYING, the code_url is there) and its own signature verifies.

export class GatewayOrders {
  readonly created: string[] = [];
  readonly #merchant: MerchantClient;
  readonly #notifyUrl: string;
  readonly #pool: Pool;
  #seq = 0;
  constructor(gwUrl: string, notifyUrl: string) {
    this.#merchant = new MerchantClient({ baseUrl: gwUrl, ...DEMO });
    this.#notifyUrl = notifyUrl;
    this.#pool = new Pool(gwUrl, { connections: 128, keepAliveTimeout: 60_000 });
  }

  request(): PreparedRequest {
    const body = this.#merchant.signedBody({ mchOrderNo: `B${RUN}${(++this.#seq).toString(36)}`, wayCode: 'WX_NATIVE', amount: 100, currency: 'cny', subject: 'bench', body: 'bench order', notifyUrl: this.#notifyUrl });
    return { method: 'POST', path: '/api/pay/unifiedOrder', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }

  check(status: number, text: string): boolean {
    if (status !== 200) return false;
    let answer: { code?: number; data?: { payOrderId?: string; orderState?: number; payData?: string }; sign?: string };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      return false;
    }
    const d = answer.data;
    if (answer.code !== 0 || !d || d.orderState !== 1 || !d.payData || !answer.sign) return false;
    if (!verifySignature(d as Record<string, unknown>, DEMO.appSecret, 'MD5', answer.sign)) return false;
    this.created.push(d.payOrderId as string);
    return true;
  }

  /** One order, for the open loop. */
  readonly send: Sender = async () => {
    const r = this.request();
    const res = await this.#pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
    return this.check(res.statusCode, await res.body.text());
  };

  close(): Promise<void> {
    return this.#pool.close();
  }
}

export function saturateGateway(gwUrl: string, orders: GatewayOrders, connections: number, seconds: number): Promise<SaturationResult> {
  return saturate({ url: gwUrl, connections, seconds, next: () => orders.request(), check: (s, b) => orders.check(s, b) });
}

// ---------------------------------------------------------------------------------------------
// The same order straight to the simulator: a WeChat v3 signed POST /v3/pay/transactions/native
// whose signed answer is verified — what a merchant integrating WeChat directly would do. The
// signing and verifying client is the gateway's own (WechatPayClient).

export class DirectOrders {
  readonly #client: WechatPayClient;
  readonly #publicKey;
  readonly #keyId: string;
  readonly #notifyUrl: string;
  #seq = 0;
  constructor(sim: Simulator, gwUrl: string) {
    this.#client = new WechatPayClient(parseWechatPayConfig({ params: channelParams(sim), secrets: channelSecrets(sim) }));
    this.#publicKey = this.#client.config.wxpayPublicKey;
    this.#keyId = sim.creds.wxpayPublicKeyId;
    this.#notifyUrl = `${gwUrl}/api/pay/notify/wxpay/direct`;
  }

  #body(): Record<string, unknown> {
    return { appid: WX.appid, mchid: WX.mchid, description: 'bench order', out_trade_no: `D${RUN}${(++this.#seq).toString(36)}`, notify_url: this.#notifyUrl, amount: { total: 100, currency: 'CNY' } };
  }

  /** For autocannon: signed here, at send time. */
  request(): PreparedRequest {
    const body = JSON.stringify(this.#body());
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex').toUpperCase();
    return {
      method: 'POST',
      path: '/v3/pay/transactions/native',
      headers: { authorization: this.#client.authorize('POST', '/v3/pay/transactions/native', body, ts, nonce), 'content-type': 'application/json', accept: 'application/json' },
      body,
    };
  }

  /** Synchronous version of WechatPayClient.verify for the publicKey mode (autocannon's hook is synchronous). */
  check(status: number, text: string, h: Record<string, string>): boolean {
    if (status !== 200 || !this.#publicKey) return false;
    const ts = h['wechatpay-timestamp'];
    const nonce = h['wechatpay-nonce'];
    const sig = h['wechatpay-signature'];
    if (!ts || !nonce || !sig || h['wechatpay-serial'] !== this.#keyId) return false;
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
    if (!rsaVerify(responseMessage(ts, nonce, text), sig, this.#publicKey)) return false;
    return text.includes('"code_url"');
  }

  /** One order through the client's full path (sign, send, verify), for the open loop. */
  readonly send: Sender = async () => {
    const r = await this.#client.call('POST', '/v3/pay/transactions/native', this.#body());
    return r.status === 200 && typeof (r.data as { code_url?: unknown }).code_url === 'string';
  };
}

export function saturateDirect(simUrl: string, direct: DirectOrders, connections: number, seconds: number): Promise<SaturationResult> {
  return saturate({ url: simUrl, connections, seconds, next: () => direct.request(), check: (s, b, h) => direct.check(s, b, h) });
}

export function halfLoad(orders: GatewayOrders, direct: DirectOrders, rate: number, ms: number): Promise<{ gateway: OpenLoopResult; direct: OpenLoopResult }> {
  return openLoopInterleaved({ gateway: orders.send, direct: direct.send }, rate, ms) as Promise<{ gateway: OpenLoopResult; direct: OpenLoopResult }>;
}

// ---------------------------------------------------------------------------------------------
// Callbacks: TRANSACTION.SUCCESS for PAYING orders, encrypted with the merchant's APIv3 key and
// signed with the simulator's platform key (read from its state file) — pre-signed, which WeChat's
// 5-minute window allows, so that the load generator does not spend an RSA sign per callback.

export async function presignCallbacks(sim: Simulator, payOrderIds: readonly string[]): Promise<PreparedRequest[]> {
  const key = loadPrivateKey(await sim.platformPrivateKeyPem());
  const ts = String(Math.floor(Date.now() / 1000));
  const now = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19);
  return payOrderIds.map((id, i) => {
    const nonce = randomBytes(6).toString('hex');
    const transaction = {
      mchid: WX.mchid, appid: WX.appid, out_trade_no: id, transaction_id: `42000${RUN}${String(i).padStart(17, '0')}`, trade_type: 'NATIVE', trade_state: 'SUCCESS', trade_state_desc: '支付成功',
      bank_type: 'OTHERS', attach: '', success_time: `${now}+08:00`, payer: { openid: 'obench000000000000000000000' }, amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    };
    const body = JSON.stringify({
      id: `EV-${RUN}-${i}`, create_time: `${now}+08:00`, resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
      resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: aesGcmEncrypt(sim.creds.apiV3Key, nonce, 'transaction', JSON.stringify(transaction)), associated_data: 'transaction', nonce },
    });
    const hn = randomBytes(16).toString('hex');
    return {
      method: 'POST',
      path: `/api/pay/notify/wxpay/${id}`,
      headers: {
        'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': hn, 'wechatpay-serial': sim.creds.wxpayPublicKeyId,
        'wechatpay-signature': rsaSign(responseMessage(ts, hn, body), key), 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      },
      body,
    };
  });
}

/** Every callback once, as fast as the gateway takes them; 204 (or 200) is WeChat's "accepted". */
export function deliverCallbacks(gwUrl: string, callbacks: readonly PreparedRequest[], connections: number, maxSeconds: number): Promise<SaturationResult> {
  let i = 0;
  return saturate({ url: gwUrl, connections, seconds: maxSeconds, amount: callbacks.length, next: () => callbacks[i++] ?? null, check: (s) => s === 204 || s === 200 });
}

/** Waits until the receiver has `expected` notifications (or nothing new arrives for `idleMs`). */
export async function awaitNotifications(receiver: Receiver, expected: number, maxMs: number, idleMs = 10_000): Promise<{ count: number; distinct: number; badSign: number; perSecond: number; seconds: number }> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await receiver.stats();
    if (s.count !== last) {
      last = s.count;
      lastChange = Date.now();
    }
    if (s.count >= expected || Date.now() > deadline || Date.now() - lastChange > idleMs) {
      const seconds = (s.lastMs - s.firstMs) / 1000;
      return { count: s.count, distinct: s.distinct, badSign: s.badSign, seconds, perSecond: s.count > 1 ? (s.count - 1) / seconds : NaN };
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Cost growth: finished orders spread over the past 30 days, written straight into pay_orders.

const PREFILL_COLUMNS = `pay_order_id, mch_no, app_id, mch_order_no, if_code, way_code, amount, currency, state, subject, body, notify_url, request_hash,
  pay_data_type, pay_data, channel_order_no, expired_at, success_at, created_at, updated_at`;
export function prefillSelect(from: string, to: string): string {
  // 90 % paid (2), 10 % closed (3); none due for a reconciler check (next_check_at NULL), like old orders.
  return `SELECT 'PF' || lpad(g::text, 19, '0'), '${DEMO.mchNo}', '${DEMO.appId}', 'pf-' || g, 'wxpay', 'WX_NATIVE', 100 + g % 9900, 'CNY', CASE WHEN g % 10 = 0 THEN 3 ELSE 2 END,
      'prefilled order', 'prefilled order body', 'http://127.0.0.1:1/notify', md5(g::text), 'codeUrl', 'weixin://wxpay/bizpayurl?pr=' || md5(g::text), '42' || lpad(g::text, 26, '0'),
      ts + interval '2 hours', CASE WHEN g % 10 = 0 THEN NULL ELSE ts + interval '30 seconds' END, ts, ts + interval '30 seconds'
    FROM generate_series(${from}, ${to}) g CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (g::int8 * 7919) % 2592000) AS ts) t`;
}

/** PostgreSQL: one INSERT … SELECT generate_series, then ANALYZE. The gateway keeps running. */
export async function prefillPostgres(url: string, rows: number): Promise<number> {
  const started = performance.now();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`INSERT INTO pay_orders (${PREFILL_COLUMNS}) ${prefillSelect('1', String(rows))}`);
    await c.query('ANALYZE pay_orders');
  } finally {
    await c.end();
  }
  return (performance.now() - started) / 1000;
}

/** PGlite: the gateway must be stopped (one process per data dir); batches of 50,000 rows in a child. */
export async function prefillPglite(dataDir: string, rows: number): Promise<number> {
  const started = performance.now();
  const child = spawnNode('pglite prefill', fileURLToPath(new URL('./children/pglite-prefill.ts', import.meta.url)), { BENCH_DATA_DIR: dataDir, BENCH_ROWS: String(rows) });
  const code = await child.exited;
  if (code !== 0) throw new Error(`PGlite prefill failed:\n${child.tail()}`);
  return (performance.now() - started) / 1000;
}

export { PREFILL_COLUMNS };
