import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ChannelContext, type InboundCallback, type Logger, type PayOrderInput, type RefundInput } from '../types.ts';
import { WechatPayChannel } from './channel.ts';
import { rsaVerify } from './v3-crypto.ts';

/** What WeChat verifies paySign over (protocols.md §A.6), written out here rather than borrowed from the code under test. */
const jsapiPayMessage = (appId: string, ts: string, nonce: string, pkg: string): string => `${appId}\n${ts}\n${nonce}\n${pkg}\n`;
import { v2Sign } from './v2-sign.ts';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './simulator/index.ts';
import { startCaptureServer } from './simulator/test-support.ts';

/**
 * Service-provider (服务商) mode of the channel against the simulator, API v3 and v2: the partner
 * endpoints, which appid the pay data carries in each scenario (and that paySign covers it), and
 * that callbacks of another sub-merchant of the same provider are refused.
 */

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const SP_MP = 'wxspmp0000000001';
const SP_LITE = 'wxsplite00000001';
const SUB_LITE = 'wxsublite0000001';
const SUB_MP = 'wxsubmp000000001';

let sim: WechatPaySimulator;
let sp: SandboxCredentials;
let subA: string;
let subB: string;
let server: Awaited<ReturnType<typeof startCaptureServer>>;
let notifyBase = '';
const channel = new WechatPayChannel();

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: 1000, refundDelayMs: 20, logger: false });
  sp = sim.registerMerchant({ appids: [SP_MP, SP_LITE], providerType: 'normal' });
  subA = sim.registerSubMerchant({ spMchid: sp.mchid, appids: [SUB_LITE, SUB_MP] }).sub_mchid;
  subB = sim.registerSubMerchant({ spMchid: sp.mchid, appids: [] }).sub_mchid;
  await sim.merchantCertificate(sp.mchid);
  server = await startCaptureServer((c) =>
    c.headers['content-type']?.includes('xml') ? { status: 200, contentType: 'text/xml', body: '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>' } : { status: 204, contentType: 'text/plain', body: '' },
  );
  notifyBase = server.url;
});
after(async () => {
  await sim.close();
  await server.close();
});

function config(sub: string, over: Record<string, string> = {}, v2 = false): ChannelConfig {
  const params: Record<string, string> = {
    mchId: sp.mchid,
    appId: SP_MP,
    liteAppId: SP_LITE,
    merchantSerialNo: sp.merchantSerialNo,
    wxpayPublicKeyId: sp.wxpayPublicKeyId,
    wxpayPublicKey: sp.wxpayPublicKeyPem,
    baseUrl: sim.baseUrl,
    providerType: 'normal',
    subMchId: sub,
    ...(v2 ? { apiVersion: 'v2' } : {}),
    ...over,
  };
  return { params, secrets: { apiClientKey: sp.merchantPrivateKeyPem as string, apiV3Key: sp.apiV3Key, apiKey: sp.apiKey } };
}
const ctxOf = (c: ChannelConfig): ChannelContext => ({ config: c, log: silent });
const OUTSOURCED = { spScenario: 'outsourced', subMchAppId: SUB_MP, subMchLiteAppId: SUB_LITE };

let seq = 0;
function order(way: PayOrderInput['wayCode'], extra: Record<string, unknown> = {}): PayOrderInput {
  seq += 1;
  return { payOrderId: `PSP${Date.now()}${seq}`, wayCode: way, amount: 1200, currency: 'CNY', subject: '服务商测试', body: '', clientIp: '203.0.113.9', expiredAt: new Date(Date.now() + 600_000), extra, notifyUrl: `${notifyBase}/pay/${seq}`, returnUrl: null, channelOrderNo: null };
}

async function callbackFor(path: string): Promise<InboundCallback> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = server.captured.find((c) => c.path === path);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no callback on ${path}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('API v3 partner', () => {
  test('外包 WX_LITE: pay data names the sub-merchant mini program, paySign covers it; callback, query, refund, refund query', async () => {
    const c = ctxOf(config(subA, OUTSOURCED));
    const openid = sim.open.openid(SUB_LITE, 'payer-1');
    const o = order('WX_LITE', { openid });
    const created = await channel.createPayment(c, o);
    const pay = JSON.parse(created.payData) as Record<string, string>;
    assert.equal(pay.appId, SUB_LITE);
    const key = createPublicKey(sp.merchantPrivateKeyPem as string);
    assert.ok(rsaVerify(jsapiPayMessage(pay.appId as string, pay.timeStamp as string, pay.nonceStr as string, pay.package as string), pay.paySign as string, key));
    assert.ok(!rsaVerify(jsapiPayMessage(SP_LITE, pay.timeStamp as string, pay.nonceStr as string, pay.package as string), pay.paySign as string, key));

    await sim.payer.pay(subA, o.payOrderId);
    const parsed = await channel.parseCallback(c, 'pay', await callbackFor(new URL(o.notifyUrl).pathname));
    assert.equal(parsed.kind, 'pay');
    assert.equal(parsed.kind === 'pay' && parsed.payment.status, 'SUCCESS');
    assert.equal(parsed.kind === 'pay' && parsed.payment.channelUser, openid);
    // Same provider, same keys, another sub-merchant: not this app's order.
    await assert.rejects(channel.parseCallback(ctxOf(config(subB)), 'pay', await callbackFor(new URL(o.notifyUrl).pathname)), (e: ChannelError) => e.kind === 'mismatch');

    const q = await channel.queryPayment(c, o);
    assert.equal(q.status, 'SUCCESS');
    assert.equal(q.amount, 1200);
    assert.equal((await channel.queryPayment(ctxOf(config(subB)), o)).status, 'NOT_FOUND');
    const refund: RefundInput = { refundOrderId: `R${o.payOrderId}`, refundAmount: 200, payAmount: 1200, currency: 'CNY', reason: '', notifyUrl: `${notifyBase}/refund/${seq}`, channelRefundNo: null };
    assert.equal((await channel.refund(c, o, refund)).status, 'PROCESSING');
    const r = await callbackFor(`/refund/${seq}`);
    const pr = await channel.parseCallback(c, 'refund', r);
    assert.equal(pr.kind === 'refund' && pr.refund.status, 'SUCCESS');
    await assert.rejects(channel.parseCallback(ctxOf(config(subB)), 'refund', r), (e: ChannelError) => e.kind === 'mismatch');
    assert.equal((await channel.queryRefund(c, o, refund)).status, 'SUCCESS');
  });

  test('中心化 WX_JSAPI: the provider appid and sp_openid; an openid of the sub-merchant app is refused by WeChat', async () => {
    const c = ctxOf(config(subA, { spScenario: 'central' }));
    const ok = await channel.createPayment(c, order('WX_JSAPI', { openid: sim.open.openid(SP_MP, 'payer-2') }));
    assert.equal((JSON.parse(ok.payData) as { appId: string }).appId, SP_MP);
    await assert.rejects(channel.createPayment(c, order('WX_JSAPI', { openid: sim.open.openid(SUB_MP, 'payer-2') })), (e: ChannelError) => e.kind === 'rejected' && e.channelCode === 'PARAM_ERROR');
  });

  test('native close, and WX_BAR through partner codepay', async () => {
    const c = ctxOf(config(subA));
    const o = order('WX_NATIVE');
    assert.match((await channel.createPayment(c, o)).payData, /^weixin:\/\//);
    assert.equal((await channel.closePayment(c, o)).status, 'CLOSED');
    const bar = await channel.createPayment(c, order('WX_BAR', { authCode: '101234567890123456' }));
    assert.equal(bar.status, 'SUCCESS');
  });

  test('a sub_mchid not onboarded under the provider is refused', async () => {
    await assert.rejects(channel.createPayment(ctxOf(config('1699999999')), order('WX_NATIVE')), (e: ChannelError) => e.kind === 'rejected' && e.channelCode === 'INVALID_REQUEST');
  });
});

describe('API v2 service provider', () => {
  test('外包 WX_LITE: sub_appid + sub_openid, paySign (MD5, provider key) over the sub-merchant appid; notification checked by sub_mch_id', async () => {
    const c = ctxOf(config(subA, OUTSOURCED, true));
    const openid = sim.open.openid(SUB_LITE, 'payer-3');
    const o = order('WX_LITE', { openid });
    const pay = JSON.parse((await channel.createPayment(c, o)).payData) as Record<string, string>;
    assert.equal(pay.appId, SUB_LITE);
    const { paySign, ...signed } = pay;
    assert.equal(paySign, v2Sign(signed, sp.apiKey, 'MD5'));
    await sim.payer.pay(subA, o.payOrderId);
    const cb = await callbackFor(new URL(o.notifyUrl).pathname);
    const parsed = await channel.parseCallback(c, 'pay', cb);
    assert.equal(parsed.kind === 'pay' && parsed.payment.channelUser, openid);
    await assert.rejects(channel.parseCallback(ctxOf(config(subB, {}, true)), 'pay', cb), (e: ChannelError) => e.kind === 'mismatch');
    assert.equal((await channel.queryPayment(c, o)).status, 'SUCCESS');
  });
});
