import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createPublicKey, randomInt } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ChannelContext, type InboundCallback, type Logger, type PayOrderInput, type RefundInput } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { wechatPayDescriptor } from './index.ts';
import { rsaVerify } from './v3-crypto.ts';
import { startWechatPaySimulator, type SandboxCredentials, type VerifyMode, type WechatPaySimulator } from './simulator/index.ts';

/**
 * The channel against the WeChat Pay v3 simulator over real HTTP: every answer is signed by the
 * simulator and verified by our client, every callback is captured raw and fed to parseCallback.
 */

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

interface Captured extends InboundCallback {
  path: string;
}

/** A tiny merchant-side notify endpoint: records raw bytes + headers, answers via `respond`. */
interface NotifyServer {
  url: string;
  received: Captured[];
  respond: (c: Captured) => Promise<{ status: number; body: string }>;
  waitFor(pathPart: string, count?: number): Promise<Captured[]>;
  close(): Promise<void>;
}

async function startNotifyServer(): Promise<NotifyServer> {
  const received: Captured[] = [];
  const ns: NotifyServer = {
    url: '',
    received,
    respond: async () => ({ status: 204, body: '' }),
    async waitFor(pathPart, count = 1) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const hits = received.filter((c) => c.path.includes(pathPart));
        if (hits.length >= count) return hits;
        if (Date.now() > deadline) throw new Error(`expected ${count} callbacks on ${pathPart}, got ${hits.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const captured: Captured = { path: req.url ?? '', headers, rawBody: Buffer.concat(chunks), query: {} };
      received.push(captured);
      void ns.respond(captured).then(({ status, body }) => res.writeHead(status).end(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ns.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return ns;
}

let sim: WechatPaySimulator;
let notify: NotifyServer;
const channel = new WechatPayChannel();

before(async () => {
  sim = await startWechatPaySimulator({ port: 0, host: '127.0.0.1', timeScale: 1000, refundDelayMs: 50, logger: false });
  notify = await startNotifyServer();
});

after(async () => {
  await sim.close();
  await notify.close();
});

interface Merchant {
  cred: SandboxCredentials;
  ctx: ChannelContext;
  tag: string;
}

function toConfig(cred: SandboxCredentials, baseUrl: string): ChannelConfig {
  const params: Record<string, string> = {
    mchId: cred.mchid,
    appId: cred.appids[0] as string,
    liteAppId: cred.appids[1] as string,
    appAppId: cred.appids[2] as string,
    merchantSerialNo: cred.merchantSerialNo,
    verifyMode: cred.verifyMode,
    baseUrl,
  };
  // platformCert mode gets no public key at all, so every verification must go through the
  // certificates downloaded from /v3/certificates.
  if (cred.verifyMode === 'publicKey') Object.assign(params, { wxpayPublicKeyId: cred.wxpayPublicKeyId, wxpayPublicKey: cred.wxpayPublicKeyPem });
  return { params, secrets: { apiClientKey: cred.merchantPrivateKeyPem as string, apiV3Key: cred.apiV3Key } };
}

function merchant(verifyMode: VerifyMode = 'publicKey'): Merchant {
  const n = randomInt(1e6);
  const cred = sim.registerMerchant({ appids: [`wxmp${n}`, `wxlite${n}`, `wxapp${n}`], verifyMode });
  return { cred, ctx: { config: toConfig(cred, sim.baseUrl), log: silent }, tag: cred.mchid };
}

let seq = 0;
function order(m: Merchant, over: Partial<PayOrderInput> = {}): PayOrderInput {
  seq += 1;
  return {
    payOrderId: `P${Date.now()}${String(seq).padStart(4, '0')}`,
    wayCode: 'WX_NATIVE',
    amount: 1999,
    currency: 'CNY',
    subject: 'Polypay 测试商品',
    body: '',
    clientIp: '203.0.113.9',
    expiredAt: new Date(Date.now() + 30 * 60_000),
    extra: {},
    notifyUrl: `${notify.url}/pay/${m.tag}`,
    returnUrl: null,
    channelOrderNo: null,
    ...over,
  };
}

function refundOf(m: Merchant, o: PayOrderInput, amount: number, suffix: string): RefundInput {
  return { refundOrderId: `R${o.payOrderId.slice(1)}${suffix}`, refundAmount: amount, payAmount: o.amount, currency: 'CNY', reason: '部分退款', notifyUrl: `${notify.url}/refund/${m.tag}`, channelRefundNo: null };
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('descriptor lists the six WeChat ways (WX_BAR included) and creates a PayChannel', () => {
  assert.equal(wechatPayDescriptor.ifCode, 'wxpay');
  assert.deepEqual([...wechatPayDescriptor.ways], ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP', 'WX_BAR']);
  assert.equal(wechatPayDescriptor.create().ifCode, 'wxpay');
  assert.ok(wechatPayDescriptor.configFields.some((f) => f.name === 'apiV3Key' && f.secret));
});

for (const mode of ['publicKey', 'platformCert'] as const) {
  test(`native: create → pay → callback → query, then partial refunds (${mode})`, async () => {
    const m = merchant(mode);
    const o = order(m);
    const created = await channel.createPayment(m.ctx, o);
    assert.equal(created.status, 'WAITING');
    assert.equal(created.payDataType, 'codeUrl');
    assert.match(created.payData, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    assert.equal((await channel.queryPayment(m.ctx, o)).status, 'WAITING');
    // A codeImgUrl request still gets the code_url; the core renders the image.
    const img = await channel.createPayment(m.ctx, order(m, { extra: { payDataType: 'codeImgUrl' } }));
    assert.equal(img.payDataType, 'codeUrl');

    await sim.payer.pay(m.cred.mchid, o.payOrderId);
    const [cb] = await notify.waitFor(`/pay/${m.tag}`);
    const parsed = await channel.parseCallback(m.ctx, 'pay', cb as Captured);
    assert.equal(parsed.kind, 'pay');
    assert.ok(parsed.kind === 'pay');
    assert.match(parsed.eventId ?? '', /.+/);
    assert.equal(parsed.payment.status, 'SUCCESS');
    assert.equal(parsed.payment.outTradeNo, o.payOrderId);
    assert.equal(parsed.payment.amount, 1999);
    assert.equal(parsed.payment.currency, 'CNY');

    const q = await channel.queryPayment(m.ctx, o);
    assert.equal(q.status, 'SUCCESS');
    assert.equal(q.amount, 1999);
    assert.equal(q.outTradeNo, o.payOrderId);
    assert.equal(q.channelOrderNo, parsed.payment.channelOrderNo);
    assert.ok(q.channelOrderNo);
    assert.ok(q.channelUser);
    assert.ok(q.successAt instanceof Date && Math.abs(q.successAt.getTime() - Date.now()) < 60_000);

    const r1 = refundOf(m, o, 500, 'a');
    const first = await channel.refund(m.ctx, o, r1);
    assert.ok(['PROCESSING', 'SUCCESS'].includes(first.status));
    assert.equal(first.refundAmount, 500);
    assert.equal(first.outRefundNo, r1.refundOrderId);
    const done = await eventually(() => channel.queryRefund(m.ctx, o, r1), (r) => r.status === 'SUCCESS');
    assert.equal(done.status, 'SUCCESS');
    assert.ok(done.channelRefundNo);
    const [rcb] = await notify.waitFor(`/refund/${m.tag}`);
    const refundCb = await channel.parseCallback(m.ctx, 'refund', rcb as Captured);
    assert.ok(refundCb.kind === 'refund');
    assert.equal(refundCb.refund.status, 'SUCCESS');
    assert.equal(refundCb.refund.refundAmount, 500);
    assert.equal(refundCb.refund.outRefundNo, r1.refundOrderId);
    await assert.rejects(channel.parseCallback(m.ctx, 'pay', rcb as Captured), { kind: 'protocol' }, 'a refund event is not a pay event');

    // Refunding the rest turns trade_state into REFUND, which still means "was paid".
    const r2 = refundOf(m, o, 1499, 'b');
    await channel.refund(m.ctx, o, r2);
    await eventually(() => channel.queryRefund(m.ctx, o, r2), (r) => r.status === 'SUCCESS');
    const ledger = sim.ledger(m.cred.mchid).orders.find((x) => x.out_trade_no === o.payOrderId);
    assert.equal(ledger?.trade_state, 'REFUND');
    assert.equal((await channel.queryPayment(m.ctx, o)).status, 'SUCCESS');
  });
}

test('JSAPI, mini-program, APP and H5 client parameters', async () => {
  const m = merchant();
  const merchantPub = createPublicKey(m.cred.merchantPrivateKeyPem as string);
  const [mp, lite, app] = m.cred.appids as [string, string, string];
  for (const [way, appId] of [['WX_JSAPI', mp], ['WX_LITE', lite]] as const) {
    const o = order(m, { wayCode: way, extra: { openid: `o${way}` } });
    const r = await channel.createPayment(m.ctx, o);
    assert.equal(r.payDataType, 'wxapp');
    const p = JSON.parse(r.payData) as Record<string, string>;
    assert.deepEqual(Object.keys(p).sort(), ['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    assert.equal(p.appId, appId);
    assert.equal(p.signType, 'RSA');
    assert.equal(p.nonceStr?.length, 32);
    assert.ok(Math.abs(Number(p.timeStamp) - Date.now() / 1000) < 60);
    const ledger = sim.ledger(m.cred.mchid).orders.find((x) => x.out_trade_no === o.payOrderId);
    assert.equal(ledger?.appid, appId);
    assert.equal(p.package, `prepay_id=${ledger?.prepay_id}`);
    assert.ok(rsaVerify(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`, p.paySign as string, merchantPub));
    assert.ok(!rsaVerify(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}x\n`, p.paySign as string, merchantPub));
  }

  const ao = order(m, { wayCode: 'WX_APP' });
  const a = JSON.parse((await channel.createPayment(m.ctx, ao)).payData) as Record<string, string>;
  assert.equal(a.appid, app);
  assert.equal(a.partnerid, m.cred.mchid);
  assert.equal(a.package, 'Sign=WXPay');
  assert.equal(a.prepayid, sim.ledger(m.cred.mchid).orders.find((x) => x.out_trade_no === ao.payOrderId)?.prepay_id);
  assert.ok(rsaVerify(`${a.appid}\n${a.timestamp}\n${a.noncestr}\n${a.prepayid}\n`, a.sign as string, merchantPub));

  const h5 = await channel.createPayment(m.ctx, order(m, { wayCode: 'WX_H5', returnUrl: 'https://shop.test/done?o=1' }));
  assert.equal(h5.payDataType, 'payurl');
  assert.ok(h5.payData.endsWith(`&redirect_url=${encodeURIComponent('https://shop.test/done?o=1')}`));

  const before = sim.ledger(m.cred.mchid).orders.length;
  await assert.rejects(channel.createPayment(m.ctx, order(m, { wayCode: 'WX_JSAPI' })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
  await assert.rejects(channel.createPayment(m.ctx, order(m, { currency: 'USD' })), { kind: 'rejected', channelCode: 'PARAM_ERROR' });
  await assert.rejects(channel.createPayment(m.ctx, order(m, { wayCode: 'ALI_QR' })), { kind: 'misconfigured' });
  assert.equal(sim.ledger(m.cred.mchid).orders.length, before, 'refused locally: nothing reached the simulator');
});

test('close, close of a paid order, unknown orders and refunds', async () => {
  const m = merchant();
  const o = order(m);
  await channel.createPayment(m.ctx, o);
  assert.deepEqual(await channel.closePayment(m.ctx, o), { status: 'CLOSED' });
  assert.equal((await channel.queryPayment(m.ctx, o)).status, 'CLOSED');
  assert.deepEqual(await channel.closePayment(m.ctx, o), { status: 'CLOSED' });

  const paid = order(m);
  await channel.createPayment(m.ctx, paid);
  await sim.payer.pay(m.cred.mchid, paid.payOrderId);
  assert.deepEqual(await channel.closePayment(m.ctx, paid), { status: 'ALREADY_PAID' });

  const failed = order(m);
  await channel.createPayment(m.ctx, failed);
  await sim.payer.fail(m.cred.mchid, failed.payOrderId, '余额不足');
  assert.deepEqual(await channel.queryPayment(m.ctx, failed), { status: 'FAIL', outTradeNo: failed.payOrderId, amount: 1999, currency: 'CNY', errCode: 'PAYERROR', errMsg: '余额不足' });

  const ghost = order(m);
  assert.deepEqual(await channel.queryPayment(m.ctx, ghost), { status: 'NOT_FOUND' });
  assert.deepEqual(await channel.queryRefund(m.ctx, ghost, refundOf(m, ghost, 1, 'x')), { status: 'NOT_FOUND' });
  await assert.rejects(channel.refund(m.ctx, ghost, refundOf(m, ghost, 1, 'y')), { kind: 'rejected', httpStatus: 404 });
});

test('callbacks: tampered body, wrong mchid, wrong kind, stale timestamp', async () => {
  const m = merchant();
  const o = order(m);
  await channel.createPayment(m.ctx, o);
  await sim.payer.pay(m.cred.mchid, o.payOrderId);
  const [cb] = (await notify.waitFor(`/pay/${m.tag}`)) as [Captured];
  assert.equal((await channel.parseCallback(m.ctx, 'pay', cb)).kind, 'pay');

  const body = cb.rawBody.toString('utf8');
  const tampered = { ...cb, rawBody: Buffer.from(body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ')) };
  await assert.rejects(channel.parseCallback(m.ctx, 'pay', tampered), { kind: 'bad_signature' });
  await assert.rejects(channel.parseCallback(m.ctx, 'pay', { ...cb, headers: { ...cb.headers, 'wechatpay-nonce': 'x' } }), { kind: 'bad_signature' });
  const otherMch = { ...m.ctx, config: { ...m.ctx.config, params: { ...m.ctx.config.params, mchId: '1900000001' } } };
  await assert.rejects(channel.parseCallback(otherMch, 'pay', cb), { kind: 'mismatch' });
  const otherApp = { ...m.ctx, config: { ...m.ctx.config, params: { ...m.ctx.config.params, appId: 'wxother', liteAppId: 'wxother2', appAppId: 'wxother3' } } };
  await assert.rejects(channel.parseCallback(otherApp, 'pay', cb), { kind: 'mismatch' });
  await assert.rejects(channel.parseCallback(m.ctx, 'refund', cb), { kind: 'protocol' });

  sim.faults.staleCallbackTimestamp = true;
  try {
    const stale = order(m);
    await channel.createPayment(m.ctx, stale);
    await sim.payer.pay(m.cred.mchid, stale.payOrderId);
    const hits = await notify.waitFor(`/pay/${m.tag}`, 2);
    await assert.rejects(channel.parseCallback(m.ctx, 'pay', hits[1] as Captured), { kind: 'bad_signature' });
  } finally {
    sim.faults.staleCallbackTimestamp = false;
  }
});

test('probe signatures are refused live; the real retry is accepted and acknowledged', async () => {
  const m = merchant('platformCert');
  const outcomes: string[] = [];
  const previous = notify.respond;
  // Act like the gateway: verify, then ack or nack.
  notify.respond = async (c) => {
    if (!c.path.includes(`/pay/${m.tag}`)) return previous(c);
    try {
      await channel.parseCallback(m.ctx, 'pay', c);
      outcomes.push('ok');
      return channel.ackReply();
    } catch (err) {
      outcomes.push(err instanceof ChannelError ? err.kind : 'error');
      return channel.nackReply('verification failed');
    }
  };
  sim.faults.probeSignatureFirst = true;
  try {
    const o = order(m);
    await channel.createPayment(m.ctx, o);
    await sim.payer.pay(m.cred.mchid, o.payOrderId);
    await notify.waitFor(`/pay/${m.tag}`, 2);
    const cb = await eventually(async () => sim.ledger(m.cred.mchid).callbacks[0], (c) => c?.delivered === true);
    assert.deepEqual(outcomes, ['bad_signature', 'ok']);
    assert.equal(cb?.delivered, true);
    assert.equal(cb?.probe_accepted, false);
  } finally {
    sim.faults.probeSignatureFirst = false;
    notify.respond = previous;
  }
  assert.deepEqual(channel.ackReply(), { status: 204, body: '' });
  assert.deepEqual(JSON.parse(channel.nackReply('x').body), { code: 'FAIL', message: 'x' });
});

test('simulator SYSTEM_ERROR is a system fault; the retry with the same id succeeds', async () => {
  const m = merchant();
  const o = order(m);
  sim.faults.failNextRequests = 1;
  await assert.rejects(channel.createPayment(m.ctx, o), (err: unknown) => err instanceof ChannelError && err.kind === 'system' && err.httpStatus === 500 && err.channelCode !== undefined);
  assert.equal((await channel.createPayment(m.ctx, o)).status, 'WAITING');
});

test('transport: nothing listening → unavailable; slow or dropped answers → timeout (outcome unknown)', async () => {
  const m = merchant();
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const dead = { ...m.ctx, config: { ...m.ctx.config, params: { ...m.ctx.config.params, baseUrl: `http://127.0.0.1:${deadPort}` } } };
  await assert.rejects(channel.queryPayment(dead, order(m)), { kind: 'unavailable' });

  // The simulator processes the prepay after its delay even though we gave up: exactly why a
  // timeout must never be read as "not created".
  const impatient = new WechatPayChannel({ timeoutMs: 150 });
  const o = order(m);
  sim.faults.responseDelayMs = 400;
  try {
    await assert.rejects(impatient.createPayment(m.ctx, o), { kind: 'timeout' });
  } finally {
    sim.faults.responseDelayMs = 0;
  }
  const later = await eventually(() => channel.queryPayment(m.ctx, o), (s) => s.status !== 'NOT_FOUND', 2000);
  assert.equal(later.status, 'WAITING');

  const dropper = createNetServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  try {
    const dropped = { ...m.ctx, config: { ...m.ctx.config, params: { ...m.ctx.config.params, baseUrl: `http://127.0.0.1:${(dropper.address() as AddressInfo).port}` } } };
    await assert.rejects(channel.refund(dropped, o, refundOf(m, o, 1, 'z')), { kind: 'timeout' });
  } finally {
    await new Promise<void>((resolve) => dropper.close(() => resolve()));
  }
});
