import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startWechatPaySimulator, type SandboxCredentials, type WechatPaySimulator } from './index.ts';
import { nativeOrder, startReceiver, wxCall } from './test-support.ts';

/** The sandbox's own surface: state file, admin/payer HTTP API, payer pages. */

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('persistLedger false: the state file keeps keys and merchants but no orders (load runs)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wxsim-'));
  const stateFile = join(dir, 'wechatpay.json');
  try {
    const sim = await startWechatPaySimulator({ stateFile, persistLedger: false, timeScale: 1000 });
    const creds = sim.registerMerchant({ mchid: '1900009192', appids: ['wxd678efh567hg6787'] });
    const created = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', nativeOrder(creds, 'https://shop.example.com/notify'));
    assert.ok(created.json.code_url);
    await sim.close();
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { merchants: Array<{ mchid: string }>; orders: unknown[]; platform?: unknown };
    assert.deepEqual(saved.merchants.map((m) => m.mchid), ['1900009192']);
    assert.deepEqual(saved.orders, []);
    assert.ok(saved.platform);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('stateFile keeps merchants, orders, refunds, keys and pending callbacks across a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wxsim-'));
  const stateFile = join(dir, 'state', 'wechatpay.json');
  const rcv = await startReceiver();
  try {
    let sim = await startWechatPaySimulator({ stateFile, timeScale: 1000, refundDelayMs: 60_000_000 });
    const creds = sim.registerMerchant({ mchid: '1900009191', appids: ['wxd678efh567hg6787'] });
    rcv.respond = () => 500;
    const body = nativeOrder(creds, rcv.url);
    const created = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
    await sim.payer.payByCodeUrl(created.json.code_url);
    const refund = await wxCall(sim.baseUrl, creds, 'POST', '/v3/refund/domestic/refunds', {
      out_trade_no: body.out_trade_no,
      out_refund_no: 'RFD0001',
      notify_url: rcv.url,
      amount: { refund: 100, total: 1000, currency: 'CNY' },
    });
    assert.equal(refund.json.status, 'PROCESSING');
    await rcv.waitFor(1);
    await sim.close();
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600);
    assert.doesNotMatch(await readFile(stateFile, 'utf8'), new RegExp(creds.merchantPrivateKeyPem?.split('\n')[1] as string));

    // Retries 1000× compressed; the refund delay (60 s after scaling) keeps the refund PROCESSING over the restart.
    sim = await startWechatPaySimulator({ stateFile, timeScale: 1000, refundDelayMs: 60_000_000 });
    try {
      const again = sim.registerMerchant({ mchid: '1900009191' });
      assert.equal(again.platformCertificateSerial, creds.platformCertificateSerial);
      assert.equal(again.wxpayPublicKeyId, creds.wxpayPublicKeyId);
      assert.equal(again.merchantSerialNo, creds.merchantSerialNo);
      assert.equal(again.merchantPrivateKeyPem, undefined, 'no new key for a known merchant');
      const q = await wxCall(sim.baseUrl, creds, 'GET', `/v3/pay/transactions/out-trade-no/${String(body.out_trade_no)}?mchid=${creds.mchid}`);
      assert.equal(q.status, 200, 'the old private key still authenticates');
      assert.equal(q.json.trade_state, 'SUCCESS');
      assert.equal((await wxCall(sim.baseUrl, creds, 'GET', '/v3/refund/domestic/refunds/RFD0001')).json.status, 'PROCESSING');
      rcv.respond = () => 200;
      const cb = () => sim.ledger().callbacks[0];
      await until(() => cb()?.delivered === true);
      assert.ok((cb()?.attempts ?? 0) >= 2);
      await sim.refunds.complete(creds.mchid, 'RFD0001', 'SUCCESS');
    } finally {
      await sim.close();
    }
    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.equal(saved.refunds[0].status, 'SUCCESS', 'close() flushes the last change');
  } finally {
    await rcv.close();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('HTTP sandbox API and pages', () => {
  let sim: WechatPaySimulator;
  let creds: SandboxCredentials;
  const TOKEN = 's3cret-admin-token';
  const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  before(async () => {
    sim = await startWechatPaySimulator({ adminToken: TOKEN });
    const res = await fetch(`${sim.baseUrl}/sandbox/v1/merchants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ appids: ['wxpages000000001'], verifyMode: 'platformCert' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as SandboxCredentials & { merchantCertificatePem: string };
    creds = body;
    // merchantSerialNo is the serial of a real certificate issued by the sandbox CA (the platform cert).
    const cert = new X509Certificate(body.merchantCertificatePem);
    assert.equal(cert.serialNumber.toUpperCase(), body.merchantSerialNo);
    assert.ok(cert.verify(new X509Certificate(body.platformCertificatePem).publicKey));
  });
  after(() => sim.close());

  test('admin routes need the bearer token; listings carry no private key', async () => {
    assert.equal((await fetch(`${sim.baseUrl}/sandbox/v1/ledger`)).status, 401);
    assert.equal((await fetch(`${sim.baseUrl}/sandbox/v1/faults`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const list = await fetch(`${sim.baseUrl}/sandbox/v1/merchants`, { headers: admin });
    const text = await list.text();
    assert.match(text, new RegExp(creds.mchid));
    assert.doesNotMatch(text, /PRIVATE KEY/);
  });

  test('faults can be read and changed over HTTP, with validation', async () => {
    const put = await fetch(`${sim.baseUrl}/sandbox/v1/faults`, { method: 'PUT', headers: admin, body: JSON.stringify({ holdRefunds: true, failNextRequests: 0 }) });
    assert.equal(put.status, 200);
    assert.equal(sim.faults.holdRefunds, true);
    const bad = await fetch(`${sim.baseUrl}/sandbox/v1/faults`, { method: 'PUT', headers: admin, body: JSON.stringify({ nope: true }) });
    assert.equal(bad.status, 400);
    sim.faults.holdRefunds = false;
  });

  test('payer routes need no token; paying twice is refused', async () => {
    const body = nativeOrder(creds, 'http://127.0.0.1:9/n');
    const created = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
    const pay = await fetch(`${sim.baseUrl}/sandbox/v1/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: created.json.code_url }) });
    assert.equal(pay.status, 200);
    assert.equal(((await pay.json()) as { trade_state: string }).trade_state, 'SUCCESS');
    const twice = await fetch(`${sim.baseUrl}/sandbox/v1/orders/${creds.mchid}/${String(body.out_trade_no)}/pay`, { method: 'POST' });
    assert.equal(twice.status, 409);
    const ledger = (await (await fetch(`${sim.baseUrl}/sandbox/v1/ledger?mchid=${creds.mchid}`, { headers: admin })).json()) as { orders: unknown[] };
    assert.ok(ledger.orders.length >= 1);
  });

  test('scan page escapes merchant text, formats fen as yuan, and its Pay form pays', async () => {
    const evil = `<script>alert("x")</script>&'`;
    const body = nativeOrder(creds, 'http://127.0.0.1:9/n', { description: evil, attach: '<b>', amount: { total: 1001, currency: 'CNY' } });
    const created = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
    const page = `/sandbox/scan?code_url=${encodeURIComponent(created.json.code_url)}`;
    const res = await fetch(`${sim.baseUrl}${page}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script>|<b>/);
    assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;/);
    assert.match(html, /¥10\.01/);
    assert.match(html, /<img class="qr" alt="QR code" src="\/sandbox\/qr\.png\?text=weixin%3A%2F%2F/);

    const form = new URLSearchParams({ return_to: page });
    const post = await fetch(`${sim.baseUrl}/sandbox/v1/orders/${creds.mchid}/${String(body.out_trade_no)}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'manual',
    });
    assert.equal(post.status, 303);
    const location = post.headers.get('location') ?? '';
    assert.ok(location.startsWith('/sandbox/scan?code_url='));
    const after = await (await fetch(`${sim.baseUrl}${location}`)).text();
    assert.match(after, /SUCCESS: 支付成功/);
    assert.doesNotMatch(after, /确认支付/);
  });

  test('form posts never redirect off-site', async () => {
    const body = nativeOrder(creds, 'http://127.0.0.1:9/n');
    await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/native', body);
    for (const target of ['https://evil.example/', '//evil.example/x', '/elsewhere']) {
      const res = await fetch(`${sim.baseUrl}/sandbox/v1/orders/${creds.mchid}/${String(body.out_trade_no)}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ return_to: target }).toString(),
        redirect: 'manual',
      });
      assert.equal(res.status, 303);
      assert.ok((res.headers.get('location') ?? '').startsWith('/sandbox/'), String(res.headers.get('location')));
    }
  });

  test('h5 page, index page, QR image, unknown pages', async () => {
    const body = nativeOrder(creds, 'http://127.0.0.1:9/n', { scene_info: { payer_client_ip: '127.0.0.1', h5_info: { type: 'Wap' } } });
    const created = await wxCall(sim.baseUrl, creds, 'POST', '/v3/pay/transactions/h5', body);
    const h5 = await fetch(`${created.json.h5_url}&redirect_url=${encodeURIComponent('javascript:alert(1)')}`);
    const html = await h5.text();
    assert.equal(h5.status, 200);
    assert.match(html, /MWEB/);
    assert.doesNotMatch(html, /javascript:/);
    const index = await (await fetch(`${sim.baseUrl}/sandbox/`)).text();
    assert.match(index, new RegExp(String(body.out_trade_no)));
    const qr = await fetch(`${sim.baseUrl}/sandbox/qr.png?text=${encodeURIComponent('weixin://wxpay/bizpayurl?pr=abc')}`);
    assert.equal(qr.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await qr.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal((await fetch(`${sim.baseUrl}/sandbox/qr.png`)).status, 400);
    assert.equal((await fetch(`${sim.baseUrl}/sandbox/scan?code_url=nope`)).status, 404);
  });
});
