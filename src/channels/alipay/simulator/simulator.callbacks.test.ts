import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import iconv from 'iconv-lite';
import { parseBillFiles, readBillArchive } from '../bill.ts';
import { NOTIFY_UNSIGNED, rsa2Verify, signContent } from '../sign.ts';
import { RETRY_SCHEDULE_S, defaultFaults, startAlipaySimulator, type AlipaySimulator, type AppCredentials } from './index.ts';
import { gatewayCall, inner, startReceiver, type Receiver } from './test-support.ts';

/** Notifications and their retry schedule, fault switches, cashier pages, bills and the state file. */

let sim: AlipaySimulator;
let app: AppCredentials;
let rcv: Receiver;
const SCALE = 1000;

before(async () => {
  sim = await startAlipaySimulator({ timeScale: SCALE });
  app = await sim.registerApp({ openId: false });
  rcv = await startReceiver();
});
after(async () => {
  await rcv.close();
  await sim.close();
});
beforeEach(() => {
  Object.assign(sim.faults, defaultFaults());
  rcv.received.length = 0;
  rcv.respond = () => 'success';
});

let n = 0;
const no = () => `N${Date.now()}${++n}`;
const alipayKey = () => createPublicKey(app.alipayPublicKeyPem);
const verified = (f: Record<string, string>) => rsa2Verify(signContent(f, NOTIFY_UNSIGNED), f.sign as string, alipayKey());

async function precreate(total = '1.00', subject = 's'): Promise<{ out: string; qr: string }> {
  const out = no();
  const a = await gatewayCall(app, 'alipay.trade.precreate', { out_trade_no: out, total_amount: total, subject }, { params: { notify_url: rcv.url } });
  return { out, qr: inner(a, 'alipay.trade.precreate').qr_code };
}

describe('notifications', () => {
  test('retried until the body is exactly "success", on the 4m/10m/10m… schedule divided by timeScale; same notify_id', async () => {
    const answers = ['fail', 'SUCCESS', 'success\n', 'success'];
    rcv.respond = (_r, i) => answers[i] ?? 'success';
    const { out, qr } = await precreate('12.34');
    sim.payer.payByQr(qr);
    const got = await rcv.waitFor(4, 10_000);
    assert.deepEqual(new Set(got.map((r) => r.fields.notify_id)).size, 1, 'one notify_id for every retry');
    for (const r of got) assert.ok(verified(r.fields), 'each attempt is signed (sign and sign_type excluded)');
    for (let i = 1; i < 4; i++) {
      const gap = (got[i] as { at: number }).at - (got[i - 1] as { at: number }).at;
      assert.ok(gap >= ((RETRY_SCHEDULE_S[i - 1] as number) * 1000) / SCALE - 20, `gap ${i}: ${gap} ms`);
    }
    const f = got[0]!.fields;
    assert.deepEqual([f.trade_status, f.total_amount, f.out_trade_no, f.app_id, f.notify_type, f.buyer_id], ['TRADE_SUCCESS', '12.34', out, app.appId, 'trade_status_sync', '2088102177846880']);
    assert.equal(f.seller_id, app.pid);
    await new Promise((r) => setTimeout(r, 100));
    const led = sim.ledger(app.appId).notifications.find((x) => x.out_trade_no === out)!;
    assert.deepEqual([led.attempts, led.delivered], [4, true]);
  });

  test('gives up after 8 deliveries', async () => {
    const fast = await startAlipaySimulator({ timeScale: 1_000_000 });
    try {
      const a = await fast.registerApp();
      rcv.respond = () => 'failure';
      const out = no();
      const res = await gatewayCall(a, 'alipay.trade.precreate', { out_trade_no: out, total_amount: '1.00', subject: 's' }, { params: { notify_url: rcv.url } });
      fast.payer.payByQr(inner(res, 'alipay.trade.precreate').qr_code);
      await rcv.waitFor(8, 5000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(rcv.received.length, 8);
      assert.equal(fast.ledger(a.appId).notifications[0]?.gave_up, true);
    } finally {
      await fast.close();
    }
  });

  test('fault switches: bad signature, tampered amount (signed), wrong app_id (signed), duplicates', async () => {
    for (const [fault, check] of [
      ['badNotifySignature', (f: Record<string, string>) => assert.ok(!verified(f))],
      ['tamperNotifyAmount', (f: Record<string, string>) => assert.ok(verified(f) && f.total_amount === '1.01')],
      ['wrongNotifyAppId', (f: Record<string, string>) => assert.ok(verified(f) && f.app_id !== app.appId)],
    ] as const) {
      Object.assign(sim.faults, defaultFaults(), { [fault]: true });
      rcv.received.length = 0;
      const { qr } = await precreate('1.00');
      sim.payer.payByQr(qr);
      check((await rcv.waitFor(1))[0]!.fields);
    }
    Object.assign(sim.faults, defaultFaults(), { duplicateNotifications: true });
    rcv.received.length = 0;
    const { qr } = await precreate();
    sim.payer.payByQr(qr);
    const two = await rcv.waitFor(2);
    assert.equal(two[0]!.fields.notify_id, two[1]!.fields.notify_id);
  });

  test('refunds and closes notify too: partial → TRADE_SUCCESS + refund_fee, full → TRADE_CLOSED', async () => {
    const { out, qr } = await precreate('3.00');
    sim.payer.payByQr(qr);
    await rcv.waitFor(1);
    await gatewayCall(app, 'alipay.trade.refund', { out_trade_no: out, refund_amount: '1.00', out_request_no: 'p1' });
    await gatewayCall(app, 'alipay.trade.refund', { out_trade_no: out, refund_amount: '2.00', out_request_no: 'p2' });
    const got = await rcv.waitFor(3);
    assert.deepEqual(got.map((r) => [r.fields.trade_status, r.fields.refund_fee, r.fields.out_biz_no]), [['TRADE_SUCCESS', undefined, undefined], ['TRADE_SUCCESS', '1.00', 'p1'], ['TRADE_CLOSED', '3.00', 'p2']]);
  });
});

describe('pages and bills', () => {
  test('cashier: subject escaped, CSP set; pay redirects to return_url with signed parameters', async () => {
    const out = no();
    const biz = JSON.stringify({ out_trade_no: out, total_amount: '2.50', subject: '<script>alert(1)</script>', product_code: 'FAST_INSTANT_TRADE_PAY' });
    const params: Record<string, string> = { return_url: 'https://shop.example/ret?a=1' };
    const opened = await gatewayOpen(app, 'alipay.trade.page.pay', biz, params);
    assert.equal(opened.statusCode, 303);
    const cashier = `${sim.baseUrl}${String(opened.headers.location)}`;
    const pageRes = await request(cashier);
    const html = await pageRes.body.text();
    assert.ok(!html.includes('<script>alert(1)'), 'escaped');
    assert.ok(html.includes('&lt;script&gt;'));
    assert.match(String(pageRes.headers['content-security-policy']), /default-src 'none'/);
    const paid = await request(cashier.replace('/sandbox/cashier/', '/sandbox/v1/cashier/') + '/pay', { method: 'POST' });
    const ret = new URL(String(paid.headers.location));
    assert.equal(ret.searchParams.get('a'), '1');
    const fields = Object.fromEntries(ret.searchParams);
    delete fields.a;
    assert.ok(verified(fields), 'return parameters are signed like notifications');
    assert.deepEqual([fields.method, fields.out_trade_no, fields.total_amount], ['alipay.trade.page.pay.return', out, '2.50']);
    const bad = await gatewayOpen(app, 'alipay.trade.page.pay', biz, params, 'Zm9yZ2Vk');
    assert.equal(bad.statusCode, 400);
    assert.match(await bad.body.text(), /isv.invalid-signature/);
    const unknown = await request(`${sim.baseUrl}/sandbox/cashier/123`);
    assert.equal(unknown.statusCode, 404);
    await unknown.body.dump();
  });

  test('QR page: scan only, then pay; the index lists trades', async () => {
    const { out, qr } = await precreate('1.00', '<b>x</b>');
    const pageRes = await request(qr);
    assert.ok((await pageRes.body.text()).includes('&lt;b&gt;x&lt;/b&gt;'));
    const scan = await request(`${qr.replace('/sandbox/qr/', '/sandbox/v1/qr/')}/scan`, { method: 'POST' });
    await scan.body.dump();
    assert.equal(sim.ledger(app.appId).trades.find((t) => t.out_trade_no === out)?.trade_status, 'WAIT_BUYER_PAY');
    const pay = await request(`${qr.replace('/sandbox/qr/', '/sandbox/v1/qr/')}/pay`, { method: 'POST' });
    await pay.body.dump();
    assert.equal(sim.ledger(app.appId).trades.find((t) => t.out_trade_no === out)?.trade_status, 'TRADE_SUCCESS');
    assert.match(await (await request(`${sim.baseUrl}/sandbox/`)).body.text(), new RegExp(out));
  });

  test('bill: signed 30 s link, a zip of GBK detail and summary CSVs our parser reads and cross-checks; tampered link refused', async () => {
    const { out, qr } = await precreate('7.00', 'bill, "quoted"');
    sim.payer.payByQr(qr);
    await gatewayCall(app, 'alipay.trade.refund', { out_trade_no: out, refund_amount: '2.00', out_request_no: 'br1' });
    const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
    const url = inner(await gatewayCall(app, 'alipay.data.dataservice.bill.downloadurl.query', { bill_type: 'trade', bill_date: today }), 'alipay.data.dataservice.bill.downloadurl.query').bill_download_url as string;
    const file = await request(url);
    assert.equal(file.headers['content-type'], 'application/zip');
    const bytes = Buffer.from(await file.body.arrayBuffer());
    const gbkName = iconv.encode('_业务明细(汇总).csv', 'gbk');
    assert.ok(bytes.includes(gbkName) && !bytes.includes(Buffer.from('业务明细')), 'entry names are GBK, not UTF-8');
    const files = readBillArchive(bytes);
    assert.match(files.summary ?? '', /,合计,/);
    const rows = parseBillFiles(files).rows.filter((r) => r.outTradeNo === out);
    assert.deepEqual(rows.map((r) => [r.type, r.amount, r.refundRequestNo, r.subject]), [['交易', 700, undefined, 'bill, "quoted"'], ['退款', -200, 'br1', 'bill, "quoted"']]);
    const tampered = await request(url.replace(/bill_date=[^&]+/, 'bill_date=2020-01-01'));
    assert.equal(tampered.statusCode, 403);
    await tampered.body.dump();
    const future = inner(await gatewayCall(app, 'alipay.data.dataservice.bill.downloadurl.query', { bill_type: 'trade', bill_date: '2999-01-01' }), 'alipay.data.dataservice.bill.downloadurl.query');
    assert.equal(future.sub_code, 'isp.bill_not_exist');
  });

  test('admin API: register over HTTP; faults validated; a state file keeps apps, trades and keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-sim-'));
    const file = join(dir, 'alipay.json');
    let s = await startAlipaySimulator({ stateFile: file, adminToken: 'tok' });
    const denied = await request(`${s.baseUrl}/sandbox/v1/apps`, { method: 'POST', body: '{}' });
    assert.equal(denied.statusCode, 401);
    await denied.body.dump();
    const reg = await request(`${s.baseUrl}/sandbox/v1/apps`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'cert' }) });
    const creds = (await reg.body.json()) as AppCredentials;
    assert.ok(creds.appPrivateKeyPem && creds.appCertPem && creds.alipayRootCertPem);
    const badFault = await request(`${s.baseUrl}/sandbox/v1/faults`, { method: 'PUT', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ nope: true }) });
    assert.equal(badFault.statusCode, 400);
    await badFault.body.dump();
    const out = no();
    await gatewayCall(creds, 'alipay.trade.create', { out_trade_no: out, total_amount: '1.00', subject: 's', buyer_id: '2088102177846880' });
    await s.close();
    s = await startAlipaySimulator({ stateFile: file });
    try {
      const again = await gatewayCall({ ...creds, gatewayUrl: `${s.baseUrl}/gateway.do` }, 'alipay.trade.query', { out_trade_no: out });
      assert.equal(inner(again, 'alipay.trade.query').trade_status, 'WAIT_BUYER_PAY', 'same app, same keys, same trade after a restart');
      assert.equal(again.json.alipay_cert_sn, creds.alipayCertSn);
    } finally {
      await s.close();
    }
  });
});

/** Opens a page.pay the way a browser does: a GET of the signed gateway link. */
async function gatewayOpen(creds: AppCredentials, method: string, biz: string, extra: Record<string, string>, signature?: string) {
  const { chinaTime, rsa2Sign, signContent: content, REQUEST_UNSIGNED } = await import('../sign.ts');
  const { createPrivateKey } = await import('node:crypto');
  const p: Record<string, string> = { app_id: creds.appId, method, charset: 'utf-8', sign_type: 'RSA2', timestamp: chinaTime(Date.now()), version: '1.0', biz_content: biz, ...extra };
  p.sign = signature ?? rsa2Sign(content(p, REQUEST_UNSIGNED), createPrivateKey(creds.appPrivateKeyPem as string));
  const res = await request(`${creds.gatewayUrl}?${new URLSearchParams(p)}`);
  return res;
}
