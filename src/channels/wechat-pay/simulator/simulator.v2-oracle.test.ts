import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Aes, Hash, Transformer, Wechatpay } from 'wechatpay-axios-plugin';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';

/**
 * Oracle for API v2: npm wechatpay-axios-plugin 0.9.6 (its own XML Transformer, Hash.sign and
 * AES-ECB, not our v2-sign / v2-xml) drives the simulator. It signs its requests, checks
 * return_code → result_code and the answer's sign itself, presents the merchant certificate on
 * /secapi, and reads our XML notifications (sign and req_info) with its own helpers.
 */

let sim: WechatPaySimulator;
let creds: SandboxCredentials;
let cert: string;
let server: Server;
let notifyUrl: string;
const bodies: string[] = [];

before(async () => {
  sim = await startWechatPaySimulator({ timeScale: 1000, refundDelayMs: 20, logger: false });
  creds = sim.registerMerchant({ appids: ['wxoracle0000v2001'] });
  cert = await sim.merchantCertificate(creds.mchid);
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      bodies.push(raw);
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
});
after(async () => {
  await sim?.close();
  await new Promise((r) => server?.close(r));
});

function plugin(): Wechatpay {
  return new Wechatpay({
    mchid: creds.mchid,
    serial: creds.merchantSerialNo,
    privateKey: creds.merchantPrivateKeyPem as string,
    certs: { [creds.wxpayPublicKeyId]: creds.wxpayPublicKeyPem },
    secret: creds.apiKey,
    merchant: { cert, key: creds.merchantPrivateKeyPem as string, ca: creds.tlsCaCertificatePem } as never,
    baseURL: `${sim.baseUrl.replace('http:', 'https:')}/`,
  });
}
// Non-/secapi calls: the sandbox's HTTPS certificate is trusted through its CA.
const trusted = () => ({ httpsAgent: new Agent({ ca: creds.tlsCaCertificatePem }) });

async function waitBody(match: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = bodies.find((b) => b.includes(match));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no notification containing ${match}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the plugin signs (MD5 and HMAC-SHA256), our answers pass its sign check, the notifications its helpers', async () => {
  const wx = plugin();
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    const no = `O${randomBytes(6).toString('hex')}`;
    const prepay = await wx.chain('v2/pay/unifiedorder').post(
      { appid: 'wxoracle0000v2001', mch_id: creds.mchid, sign_type: signType, body: '预言 oracle', out_trade_no: no, total_fee: '321', spbill_create_ip: '10.0.0.1', notify_url: notifyUrl, trade_type: 'NATIVE', product_id: 'p1' },
      trusted() as never,
    );
    const data = prepay.data as Record<string, string>;
    assert.equal(data.result_code, 'SUCCESS');
    assert.match(data.code_url ?? '', /^weixin:\/\/wxpay\/bizpayurl/);
    assert.equal((data.sign ?? '').length, signType === 'MD5' ? 32 : 64);

    await sim.payer.pay(creds.mchid, no);
    const q = (await wx.chain('v2/pay/orderquery').post({ appid: 'wxoracle0000v2001', mch_id: creds.mchid, sign_type: signType, out_trade_no: no }, trusted() as never)).data as Record<string, string>;
    assert.equal(q.trade_state, 'SUCCESS');
    assert.equal(q.total_fee, '321');

    const notify = Transformer.toObject(await waitBody(no)) as Record<string, string>;
    assert.equal(notify.sign, Hash.sign(signType, notify, creds.apiKey), 'the plugin verifies our pay notification');
    assert.notEqual(notify.sign, Hash.sign(signType, { ...notify, total_fee: '1' }, creds.apiKey));

    const refundNo = `R${randomBytes(6).toString('hex')}`;
    const refund = await wx.chain('v2/secapi/pay/refund').post(
      { appid: 'wxoracle0000v2001', mch_id: creds.mchid, sign_type: signType, out_trade_no: no, out_refund_no: refundNo, total_fee: '321', refund_fee: '21', notify_url: notifyUrl },
      { security: true } as never,
    );
    assert.equal((refund.data as Record<string, string>).refund_fee, '21');
    const outer = Transformer.toObject(await waitBody('<req_info>')) as Record<string, string>;
    const inner = Transformer.toObject(Aes.AesEcb.decrypt(outer.req_info as string, Hash.md5(creds.apiKey))) as Record<string, string>;
    assert.equal(inner.out_refund_no, refundNo, 'the plugin decrypts req_info with md5(API key)');
    assert.equal(inner.refund_fee, '21');
    bodies.length = 0;
  }
});

test('without the merchant certificate the plugin gets the simulator refusal for /secapi', async () => {
  const wx = plugin();
  await assert.rejects(
    wx.chain('v2/secapi/pay/refund').post({ appid: 'wxoracle0000v2001', mch_id: creds.mchid, out_trade_no: 'none00001', out_refund_no: 'rnone0001', total_fee: '1', refund_fee: '1' }, trusted() as never),
    (err: Error & { response?: { data?: Record<string, string> } }) => err.response?.data?.return_code === 'FAIL' && /证书/.test(err.response.data.return_msg ?? ''),
  );
});
