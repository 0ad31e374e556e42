import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { ChannelError, type ChannelConfig, type ChannelContext, type InboundCallback, type Logger, type PayOrderInput, type RefundInput } from '../types.ts';
import { sendChannelRequest, tlsAgent } from '../http.ts';
import { WechatPayChannel } from './channel.ts';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './simulator/index.ts';
import { startCaptureServer } from './simulator/test-support.ts';
import { v2Sign, signV2 } from './v2-sign.ts';
import { buildWechatXml, parseWechatXml } from './v2-xml.ts';

/** The channel in API v2 mode against the simulator over HTTPS (mutual TLS on /secapi), both sign types. */

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const APPIDS = ['wxv2000000000mp01', 'wxv2000000000lt02', 'wxv2000000000ap03'];

interface Capture extends InboundCallback {
  path: string;
}

let sim: WechatPaySimulator;
let creds: SandboxCredentials;
let cert: string;
let server: Awaited<ReturnType<typeof startCaptureServer>>;
let notifyBase: string;
let replyXml = buildWechatXml({ return_code: 'SUCCESS', return_msg: 'OK' });

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: 1000, refundDelayMs: 30, logger: false });
  creds = sim.registerMerchant({ appids: APPIDS });
  cert = await sim.merchantCertificate(creds.mchid);
  server = await startCaptureServer(() => ({ status: 200, contentType: 'text/xml', body: replyXml }));
  notifyBase = server.url;
});
after(async () => {
  await sim?.close();
  await server?.close();
});

function config(signType: 'MD5' | 'HMAC-SHA256', over: { params?: Record<string, string>; secrets?: Record<string, string> } = {}): ChannelConfig {
  return {
    params: {
      apiVersion: 'v2', mchId: creds.mchid, appId: APPIDS[0] as string, liteAppId: APPIDS[1] as string, appAppId: APPIDS[2] as string, signType,
      baseUrl: sim.baseUrl.replace('http://', 'https://'), tlsCaCert: creds.tlsCaCertificatePem, apiClientCert: cert, ...over.params,
    },
    secrets: { apiKey: creds.apiKey, apiClientKey: creds.merchantPrivateKeyPem as string, ...over.secrets },
  };
}

function order(way: PayOrderInput['wayCode'], amount = 888): PayOrderInput {
  const id = `P${randomBytes(8).toString('hex')}`;
  return {
    payOrderId: id, wayCode: way, amount, currency: 'CNY', subject: '测试 v2 ]]> <&>', body: 'b', clientIp: '10.1.2.3', expiredAt: new Date(Date.now() + 600_000),
    extra: way === 'WX_JSAPI' || way === 'WX_LITE' ? { openid: 'o-v2-openid' } : {}, notifyUrl: `${notifyBase}/pay/${id}`, returnUrl: null, channelOrderNo: null,
  };
}

async function waitCaptured(pathPart: string): Promise<Capture> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = server.captured.find((c) => c.path.includes(pathPart));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no callback on ${pathPart}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const channel = new WechatPayChannel();

for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
  describe(`API v2 with ${signType}`, () => {
    const ctx = (): ChannelContext => ({ config: config(signType), log: silent });

    for (const way of ['WX_NATIVE', 'WX_JSAPI', 'WX_LITE', 'WX_H5', 'WX_APP'] as const) {
      test(`${way}: unifiedorder → pay data → paid → orderquery → signed XML notification`, async () => {
        const o = order(way);
        const created = await channel.createPayment(ctx(), o);
        assert.equal(created.status, 'WAITING');
        if (way === 'WX_NATIVE') assert.match(created.payData, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
        if (way === 'WX_H5') assert.match(created.payData, /\/sandbox\/h5\?prepay_id=/);
        if (way === 'WX_JSAPI' || way === 'WX_LITE') {
          const p = JSON.parse(created.payData) as Record<string, string>;
          assert.equal(p.appId, way === 'WX_LITE' ? APPIDS[1] : APPIDS[0]);
          assert.equal(p.signType, signType);
          const { paySign, ...signed } = p;
          assert.equal(paySign, v2Sign(signed, creds.apiKey, signType), 'paySign is the v2 sign over the five keys');
        }
        if (way === 'WX_APP') {
          const p = JSON.parse(created.payData) as Record<string, string>;
          assert.equal(p.partnerid, creds.mchid);
          const { sign, ...signed } = p;
          assert.equal(sign, v2Sign(signed, creds.apiKey, 'MD5'));
        }
        assert.equal((await channel.queryPayment(ctx(), o)).status, 'WAITING');
        await sim.payer.pay(creds.mchid, o.payOrderId);
        const q = await channel.queryPayment(ctx(), o);
        assert.equal(q.status, 'SUCCESS');
        assert.equal(q.amount, 888);
        assert.equal(q.outTradeNo, o.payOrderId);
        assert.ok(q.channelOrderNo && q.successAt);
        const cb = await waitCaptured(`/pay/${o.payOrderId}`);
        assert.match(cb.rawBody.toString(), /^<xml>/);
        const parsed = await channel.parseCallback(ctx(), 'pay', cb);
        assert.equal(parsed.kind, 'pay');
        assert.equal(parsed.kind === 'pay' && parsed.payment.amount, 888);
        const ack = channel.ackReply(cb);
        assert.equal(parseWechatXml(ack.body).return_code, 'SUCCESS');
        await assert.rejects(channel.parseCallback({ config: config(signType, { secrets: { apiKey: 'K'.repeat(32) } }), log: silent }, 'pay', cb), (e: ChannelError) => e.kind === 'bad_signature' || e.kind === 'rejected');
      });
    }

    test('close, close of a paid order, query of an unknown order', async () => {
      const a = order('WX_NATIVE');
      await channel.createPayment(ctx(), a);
      assert.deepEqual(await channel.closePayment(ctx(), a), { status: 'CLOSED' });
      assert.equal((await channel.queryPayment(ctx(), a)).status, 'CLOSED');
      assert.deepEqual(await channel.closePayment(ctx(), a), { status: 'CLOSED' }, 'closing twice (ORDERCLOSED) is still closed');
      const b = order('WX_NATIVE');
      await channel.createPayment(ctx(), b);
      await sim.payer.pay(creds.mchid, b.payOrderId);
      assert.deepEqual(await channel.closePayment(ctx(), b), { status: 'ALREADY_PAID' });
      assert.equal((await channel.queryPayment(ctx(), order('WX_NATIVE'))).status, 'NOT_FOUND');
    });

    test('refund over mutual TLS → PROCESSING → refundquery SUCCESS → req_info notification decrypted', async () => {
      const o = order('WX_NATIVE', 500);
      await channel.createPayment(ctx(), o);
      await sim.payer.pay(creds.mchid, o.payOrderId);
      const outRefundNo = `R${randomBytes(6).toString('hex')}`;
      const r: RefundInput = { refundOrderId: outRefundNo, refundAmount: 200, payAmount: 500, currency: 'CNY', reason: '部分退款', notifyUrl: `${notifyBase}/refund/${outRefundNo}`, channelRefundNo: null };
      const first = await channel.refund(ctx(), o, r);
      assert.equal(first.status, 'PROCESSING');
      assert.equal(first.refundAmount, 200);
      const cb = await waitCaptured(`/refund/${outRefundNo}`);
      const q = await channel.queryRefund(ctx(), o, r);
      assert.equal(q.status, 'SUCCESS');
      assert.equal(q.refundAmount, 200);
      const parsed = await channel.parseCallback(ctx(), 'refund', cb);
      assert.ok(parsed.kind === 'refund' && parsed.refund.status === 'SUCCESS' && parsed.refund.refundAmount === 200 && parsed.refund.outRefundNo === outRefundNo);
      await assert.rejects(channel.parseCallback({ config: config(signType, { secrets: { apiKey: 'K'.repeat(32) } }), log: silent }, 'refund', cb), (e: ChannelError) => e.kind === 'bad_signature');
      assert.equal((await channel.queryRefund(ctx(), o, { ...r, refundOrderId: 'Rnone' })).status, 'NOT_FOUND');
    });
  });
}

test('refund over mutual TLS with apiClientP12 (PKCS#12 from the simulator, password = mch_id) instead of PEM certificate + key', async () => {
  const p12 = await sim.merchantCertificateP12(creds.mchid, creds.merchantPrivateKeyPem as string);
  const viaP12: ChannelContext = { config: { params: { ...config('MD5').params, apiClientCert: '' }, secrets: { apiKey: creds.apiKey, apiClientP12: p12 } }, log: silent };
  const o = order('WX_NATIVE', 300);
  await channel.createPayment(viaP12, o);
  await sim.payer.pay(creds.mchid, o.payOrderId);
  const r: RefundInput = { refundOrderId: `R${randomBytes(6).toString('hex')}`, refundAmount: 100, payAmount: 300, currency: 'CNY', reason: 'p12', notifyUrl: `${notifyBase}/refund/p12`, channelRefundNo: null };
  assert.equal((await channel.refund(viaP12, o, r)).status, 'PROCESSING');
  // A PKCS#12 whose key is not the certificate's: no TLS client identity, no refund.
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const mismatched: ChannelContext = { config: { params: viaP12.config.params, secrets: { ...viaP12.config.secrets, apiClientP12: await sim.merchantCertificateP12(creds.mchid, otherKey) } }, log: silent };
  await assert.rejects(channel.refund(mismatched, o, { ...r, refundOrderId: `R${randomBytes(6).toString('hex')}` }));
});

describe('API v2 strictness', () => {
  test('refund without the API certificate: misconfigured locally; the simulator refuses a TLS call without a client certificate', async () => {
    const o = order('WX_NATIVE');
    const noCert = config('MD5', { params: { apiClientCert: '' } });
    await channel.createPayment({ config: noCert, log: silent }, o);
    const r: RefundInput = { refundOrderId: 'Rnocert1', refundAmount: 1, payAmount: 888, currency: 'CNY', reason: '', notifyUrl: `${notifyBase}/x`, channelRefundNo: null };
    await assert.rejects(channel.refund({ config: noCert, log: silent }, o, r), (e: ChannelError) => e.kind === 'misconfigured');
    const xml = buildWechatXml(signV2({ appid: APPIDS[0], mch_id: creds.mchid, nonce_str: 'n1', out_trade_no: o.payOrderId, out_refund_no: 'Rnocert1', total_fee: '888', refund_fee: '1' }, creds.apiKey, 'MD5'));
    const res = await sendChannelRequest({ method: 'POST', url: `${sim.baseUrl.replace('http://', 'https://')}/secapi/pay/refund`, headers: { 'content-type': 'text/xml' }, body: xml, dispatcher: tlsAgent({ ca: creds.tlsCaCertificatePem }) });
    const answer = parseWechatXml(res.body);
    assert.equal(answer.return_code, 'FAIL');
    assert.match(answer.return_msg ?? '', /证书/);
    assert.equal(answer.sign, undefined, 'a return_code FAIL answer carries no sign');
  });

  test("another merchant's certificate is refused on /secapi", async () => {
    const other = sim.registerMerchant({ appids: ['wxv2other00000001'] });
    const otherCert = await sim.merchantCertificate(other.mchid);
    const o = order('WX_NATIVE');
    await channel.createPayment({ config: config('MD5'), log: silent }, o);
    await sim.payer.pay(creds.mchid, o.payOrderId);
    const wrong = config('MD5', { params: { apiClientCert: otherCert }, secrets: { apiClientKey: other.merchantPrivateKeyPem as string } });
    const r: RefundInput = { refundOrderId: 'Rother1', refundAmount: 1, payAmount: 888, currency: 'CNY', reason: '', notifyUrl: `${notifyBase}/x`, channelRefundNo: null };
    await assert.rejects(channel.refund({ config: wrong, log: silent }, o, r), (e: ChannelError) => e.kind === 'rejected' && /证书/.test(e.channelMessage ?? ''));
  });

  test('a wrong API key is refused by the simulator (return_code FAIL 签名错误); a forged answer is refused by the client', async () => {
    const o = order('WX_NATIVE');
    await assert.rejects(channel.createPayment({ config: config('MD5', { secrets: { apiKey: 'K'.repeat(32) } }), log: silent }, o), (e: ChannelError) => e.kind === 'rejected' && e.channelMessage === '签名错误');
    const tampering = new WechatPayChannel({
      send: async (req) => {
        const res = await sendChannelRequest(req);
        return { ...res, body: res.body.replace(/<code_url><!\[CDATA\[/, '<code_url><![CDATA[x') };
      },
    });
    await assert.rejects(tampering.createPayment({ config: config('HMAC-SHA256'), log: silent }, order('WX_NATIVE')), (e: ChannelError) => e.kind === 'bad_signature');
  });

  test('simulator checks: unbound appid, missing fields, malformed XML, DOCTYPE', async () => {
    const url = `${sim.baseUrl}/pay/unifiedorder`;
    const post = async (body: string) => parseWechatXml(await (await request(url, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })).body.text());
    const base = { mch_id: creds.mchid, nonce_str: 'abc', body: 'x', out_trade_no: `T${randomBytes(4).toString('hex')}`, total_fee: '1', spbill_create_ip: '1.2.3.4', notify_url: 'http://127.0.0.1/n', trade_type: 'NATIVE', product_id: 'p1' };
    const unbound = await post(buildWechatXml(signV2({ ...base, appid: 'wxnotbound0000001' }, creds.apiKey, 'MD5')));
    assert.equal(unbound.result_code, 'FAIL');
    assert.equal(unbound.err_code, 'APPID_MCHID_NOT_MATCH');
    const { product_id: _p, ...noProduct } = base;
    const lack = await post(buildWechatXml(signV2({ ...noProduct, appid: APPIDS[0] }, creds.apiKey, 'MD5')));
    assert.equal(lack.err_code, 'LACK_PARAMS');
    assert.equal((await post('<xml><a>')).return_msg, 'XML格式错误');
    assert.equal((await post('<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><mch_id>&e;</mch_id></xml>')).return_code, 'FAIL');
  });
});

describe('API v2 bills', () => {
  test("downloadbill (GZIP) lists today's payments and refunds by column name; a day without trades is No Bill Exist", async () => {
    const ctx = { config: config('MD5'), log: silent };
    const o = order('WX_NATIVE', 777);
    await channel.createPayment(ctx, o);
    await sim.payer.pay(creds.mchid, o.payOrderId);
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    const bill = await channel.downloadBill(ctx, today);
    const row = bill.rows.find((r) => r.outTradeNo === o.payOrderId);
    assert.ok(row, 'the payment is billed');
    assert.equal(row.kind, 'pay');
    assert.equal(row.amount, 777);
    assert.ok(bill.rows.some((r) => r.kind === 'refund'), 'refunds of the earlier tests are billed too');
    assert.equal(bill.hash, undefined, 'v2 vouches for no digest');
    await assert.rejects(channel.downloadBill(ctx, '2020-01-01'), (e: ChannelError) => e.kind === 'rejected' && e.channelMessage === 'No Bill Exist');
  });
});
