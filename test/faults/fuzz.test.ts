import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { ensureDemoMerchant } from '../../src/demo.ts';
import { ERRORS, type ErrorKey } from '../../src/domain/errors.ts';
import { PAY_WAYS } from '../../src/domain/pay-way.ts';
import { parseSignType, signParams, verifySignature } from '../../src/merchant-api/sign.ts';
import { type DbLeg, openTestDb, type TestDb } from '../helpers/db.ts';
import { ADMIN_TOKEN, TEST_MASTER_KEY, freePort } from '../helpers/stack.ts';
import { FULL, SEED, Violations, postgresAvailable, report } from './support/harness.ts';
import { type SimHandle, forgeCallback, paidTransaction, refundResource, startSim } from './support/wechat.ts';
import { WX_APPID } from './support/gateway-process.ts';

/**
 * Bad input: property-based fuzzing (fast-check) of every merchant endpoint (JSON and form
 * bodies) and both WeChat callback endpoints with malformed, oversized, wrongly typed, wrongly
 * signed and replayed input, in-process through Fastify's inject(). For every case: never a 5xx;
 * merchant errors carry a documented error code (docs/api.md table = src/domain/errors.ts) with
 * its HTTP status; success answers are signed and name rows that exist; a rejected request
 * writes nothing (pay_orders, refund_orders, merchant_notifications, order_events — a refused
 * callback may only add its 'refused' event); a callback with a forged, tampered or mismatched
 * claim is never acknowledged. FAULTS_FUZZ_RUNS sets the case count (default 10,000; 50,000
 * with FAULTS_SCALE=full); FAULTS_SEED replays a run.
 */

const TOTAL = Number(process.env.FAULTS_FUZZ_RUNS ?? (FULL ? 50_000 : 10_000));
const MCH = 'MFUZZ001';
const APP = 'fuzzapp0001';
const SECRET = 'fuzz-app-secret-0123456789abcdef';
const MCH2 = 'MFUZZ002';
const APP2 = 'fuzzapp0002';
const SECRET2 = 'fuzz-app-secret-2-0123456789abcd';
const SECRETS: Record<string, string> = { [APP]: SECRET, [APP2]: SECRET2 };

/** The documented error keys: the table in docs/api.md, which must match ERRORS. */
function documentedKeys(): Set<string> {
  const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const keys = new Set<string>();
  for (const m of doc.matchAll(/^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|/gm)) {
    const key = m[2] as string;
    if (ERRORS[key as ErrorKey]?.code === Number(m[1])) keys.add(key);
  }
  return keys;
}

// ---- arbitraries ------------------------------------------------------------------------------

const NASTY_STRINGS = ['', ' ', '0', '-1', '1e3', '1.5', 'NaN', 'Infinity', '-0', '9007199254740993', '１００', ' 100', '100 ', '0x64', "' OR 1=1 --", '"; DROP TABLE pay_orders; --', '<script>alert(1)</script>', '../../etc/passwd', '\u0000', '%00', '\ud800', '{"a":1}', '[]', '{}', 'null', 'true', '__proto__', 'constructor', 'P00000000000000000000000', 'javascript:alert(1)', 'http://', 'https://127.0.0.1:1/x y', '😀'.repeat(40), 'ａ'.repeat(65), 'cny', 'CNY', 'usd', 'WX_NATIVE', 'ALI_QR', 'AUTO_BAR'];
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 257, maxLength: 3000 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 100_000_000_001, 1.5, -0.5, Number.MAX_VALUE) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) },
);

const FIELDS = ['mchNo', 'appId', 'reqTime', 'version', 'signType', 'sign', 'mchOrderNo', 'wayCode', 'amount', 'currency', 'subject', 'body', 'clientIp', 'notifyUrl', 'returnUrl', 'expiredTime', 'channelExtra', 'extParam', 'divisionMode',
  'payOrderId', 'sync', 'mchRefundNo', 'refundAmount', 'refundReason', 'refundOrderId', 'clientResult', 'unknownField', '__proto__', 'constructor', 'prototype'];

const ENDPOINTS = ['/api/pay/unifiedOrder', '/api/pay/query', '/api/pay/close', '/api/refund/refundOrder', '/api/refund/query', '/api/pay/confirm'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

const merchantPlan = fc.record({
  kind: fc.oneof(
    { weight: 5, arbitrary: fc.constant('valid' as const) },
    { weight: 8, arbitrary: fc.constant('mutate' as const) },
    { weight: 3, arbitrary: fc.constant('badsign' as const) },
    { weight: 2, arbitrary: fc.constant('time' as const) },
    { weight: 2, arbitrary: fc.constant('auth' as const) },
    { weight: 3, arbitrary: fc.constant('raw' as const) },
    { weight: 2, arbitrary: fc.constant('replay' as const) },
    { weight: 1, arbitrary: fc.constant('route' as const) },
  ),
  form: fc.boolean(),
  app2: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  signType: fc.constantFrom('MD5', 'MD5', 'HMAC-SHA256', undefined, 'md5', 'hmac-sha256', 'HMAC_SHA256'),
  pick: fc.nat(),
  pick2: fc.nat(),
  byMch: fc.boolean(),
  way: fc.oneof({ weight: 6, arbitrary: fc.constant('WX_NATIVE') }, { weight: 3, arbitrary: fc.constantFrom(...Object.keys(PAY_WAYS)) }),
  amount: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000_000_000 }) }),
  text: fc.string({ minLength: 1, maxLength: 30 }).filter((x) => x.trim() !== ''),
  optional: fc.record({
    notifyUrl: fc.option(fc.constantFrom('http://127.0.0.1:9/notify', 'https://merchant.example/notify?a=1'), { nil: undefined }),
    expiredTime: fc.option(fc.integer({ min: 60, max: 2_592_000 }), { nil: undefined }),
    channelExtra: fc.option(fc.oneof(fc.constant('{"payDataType":"codeImgUrl"}'), fc.constant('{"openid":"o-fuzz"}'), fc.jsonValue({ maxDepth: 2 }).map((j) => JSON.stringify(j)), fc.string({ maxLength: 20 })), { nil: undefined }),
    extParam: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    clientIp: fc.option(fc.constantFrom('127.0.0.1', '::1', '10.0.0.1'), { nil: undefined }),
    sync: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
  }),
  mutations: fc.array(fc.record({ field: fc.constantFrom(...FIELDS), op: fc.constantFrom('set', 'set', 'delete'), value: nasty, resign: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  sig: fc.constantFrom('random', 'otherSecret', 'changedAfter', 'empty', 'long', 'lower', 'wrongType', 'missing'),
  time: fc.constantFrom('stale', 'future', 'digits12', 'negative', 'alpha', 'float', 'empty', 'secondsStale', 'missing'),
  auth: fc.constantFrom('unknownApp', 'otherMerchantsApp', 'emptyMch', 'mchOfOtherApp', 'appIdCase'),
  raw: fc.record({
    body: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((j) => JSON.stringify(j)),
      fc.constantFrom('{"mchNo": ', '{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {"x": 1}}}', '[1,2,3]', 'null', '"x"', '1', '{"a":' .repeat(200) + '1' + '}'.repeat(200), 'a=1&a=2&b', '%ZZ=%', '=&=&', 'mchNo=M&mchNo=N'),
      fc.constant(null).map(() => 'x'.repeat(300 * 1024)),
    ),
    contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/JSON', undefined, ''),
  }),
  route: fc.record({ method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), suffix: fc.constantFrom('', '/', '/x', '?a=1', '%2e%2e/admin/v1/merchants', '/../../admin/v1/merchants') }),
});
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
type MerchantPlan = ValueOf<typeof merchantPlan>;

const callbackPlan = fc.record({
  kind: fc.oneof(
    { weight: 2, arbitrary: fc.constant('garbage' as const) },
    { weight: 5, arbitrary: fc.constant('forged' as const) },
    { weight: 2, arbitrary: fc.constant('bitflip' as const) },
    { weight: 2, arbitrary: fc.constant('replay' as const) },
    { weight: 2, arbitrary: fc.constant('valid' as const) },
  ),
  target: fc.oneof({ weight: 8, arbitrary: fc.constant('known' as const) }, { weight: 1, arbitrary: fc.constant('unknown' as const) }, { weight: 1, arbitrary: fc.constant('weird' as const) }),
  pick: fc.nat(),
  pick2: fc.nat(),
  ifCode: fc.oneof({ weight: 9, arbitrary: fc.constant('wxpay') }, { weight: 1, arbitrary: fc.constantFrom('WXPAY', 'wx', 'unknown', '%00', 'x'.repeat(40)) }),
  forge: fc.record({
    key: fc.constantFrom('real', 'real', 'real', 'other'),
    serial: fc.constantFrom('real', 'real', 'real', 'other', 'empty'),
    ts: fc.constantFrom(0, 0, 0, -600, 600, -299, 1e9),
    apiV3: fc.constantFrom('real', 'real', 'real', 'other'),
    eventType: fc.constantFrom('right', 'right', 'right', 'other', 'garbage'),
    originalType: fc.constantFrom('right', 'right', 'right', 'other'),
    status: fc.constantFrom('SUCCESS', 'SUCCESS', 'NOTPAY', 'CLOSED', 'PAYERROR', 'REFUND', 'PROCESSING', 'ABNORMAL', 'garbage'),
    field: fc.constantFrom('none', 'none', 'mchid', 'appid', 'out_trade_no', 'amount', 'currency', 'out_refund_no', 'refund', 'dropMchid', 'dropAmount', 'nasty'),
    nastyValue: nasty,
    dropHeader: fc.constantFrom('none', 'none', 'none', 'wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-serial', 'wechatpay-signature', 'signature-type'),
  }),
  flip: fc.record({ where: fc.constantFrom('body', 'signature', 'timestamp', 'nonce'), at: fc.nat() }),
  garbage: fc.record({ body: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 4 }).map((j) => JSON.stringify(j)), fc.constant('x'.repeat(300 * 1024))), headers: fc.dictionary(fc.constantFrom('wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-serial', 'wechatpay-signature', 'wechatpay-signature-type', 'content-type'), fc.string({ maxLength: 60 })) }),
});

// ---- the world -----------------------------------------------------------------------------------

interface World {
  gw: Gateway;
  testDb: TestDb;
  h: SimHandle;
  pays: Array<{ id: string; mchOrderNo: string; amount: number }>;
  paid: Array<{ id: string; mchOrderNo: string; amount: number }>;
  refunds: Array<{ id: string; mchRefundNo: string; payOrderId: string; amount: number }>;
  otherMchOrder: string;
}

async function buildWorld(leg: DbLeg): Promise<World> {
  const h = await startSim({ appids: [WX_APPID], timeScale: 1000 });
  h.sim.faults.holdRefunds = true; // refunds stay in flight: no channel callbacks race the fuzzer
  const testDb = await openTestDb(leg);
  const config = loadConfig({
    PORT: String(await freePort()),
    POLYPAY_PUBLIC_URL: 'http://127.0.0.1:9', // channel callbacks from the simulator go nowhere: only the fuzzer calls back
    POLYPAY_DATA_DIR: '/tmp/polypay-fuzz-unused',
    POLYPAY_MASTER_KEY: TEST_MASTER_KEY,
    POLYPAY_ADMIN_TOKEN: ADMIN_TOKEN,
    POLYPAY_DEMO_MCH_NO: MCH,
    POLYPAY_DEMO_APP_ID: APP,
    POLYPAY_DEMO_APP_SECRET: SECRET,
    LOG_LEVEL: 'silent',
  });
  const gw = await createGateway(config, { db: testDb.db, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), workers: false });
  await ensureDemoMerchant(gw, null);
  const params = { mchId: h.creds.mchid, appId: WX_APPID, merchantSerialNo: h.creds.merchantSerialNo, verifyMode: 'publicKey', wxpayPublicKeyId: h.creds.wxpayPublicKeyId, wxpayPublicKey: h.creds.wxpayPublicKeyPem, baseUrl: h.sim.baseUrl };
  const secrets = { apiClientKey: h.creds.merchantPrivateKeyPem as string, apiV3Key: h.creds.apiV3Key };
  await gw.tenancy.setChannelConfig(APP, 'wxpay', params, secrets);
  await gw.passages.enableWays(APP, 'wxpay', ['WX_NATIVE', 'WX_JSAPI', 'WX_H5', 'WX_APP']);
  await gw.tenancy.createMerchant({ mchNo: MCH2, name: 'second merchant' });
  await gw.tenancy.createApp({ mchNo: MCH2, appId: APP2, appSecret: SECRET2 });
  await gw.tenancy.setChannelConfig(APP2, 'wxpay', params, secrets);
  await gw.passages.enableWays(APP2, 'wxpay', ['WX_NATIVE']);
  await gw.http.ready();
  await installWriteCounter(gw);

  const world: World = { gw, testDb, h, pays: [], paid: [], refunds: [], otherMchOrder: '' };
  const call = async (appId: string, path: string, fields: Record<string, unknown>) => {
    const body: Record<string, unknown> = { ...fields, mchNo: appId === APP ? MCH : MCH2, appId, reqTime: String(Date.now()), version: '1.0', signType: 'MD5' };
    body.sign = signParams(body, SECRETS[appId] as string);
    const res = await gw.http.inject({ method: 'POST', url: path, payload: body });
    return res.json() as { code: number; msg: string; data: Record<string, unknown> };
  };
  for (let i = 0; i < 8; i++) {
    const mchOrderNo = `seed${i}${randomBytes(3).toString('hex')}`;
    const amount = i < 4 ? 100_000_000 : 100 + i;
    const a = await call(APP, '/api/pay/unifiedOrder', { mchOrderNo, wayCode: 'WX_NATIVE', amount, currency: 'cny', subject: 'seed', body: 'seed', notifyUrl: 'http://127.0.0.1:9/notify' });
    if (a.code !== 0) throw new Error(`seed order: ${a.msg}`);
    const id = a.data.payOrderId as string;
    world.pays.push({ id, mchOrderNo, amount });
    if (i < 4) {
      await h.sim.payer.pay(h.creds.mchid, id);
      const q = await call(APP, '/api/pay/query', { payOrderId: id, sync: 1 });
      if ((q.data as { state: number }).state !== 2) throw new Error('seed order not paid');
      world.paid.push({ id, mchOrderNo, amount });
      for (let k = 0; k < 2; k++) {
        const mchRefundNo = `seedr${i}${k}${randomBytes(3).toString('hex')}`;
        const r = await call(APP, '/api/refund/refundOrder', { payOrderId: id, mchRefundNo, refundAmount: 1000 + k, currency: 'cny', refundReason: 'seed', notifyUrl: 'http://127.0.0.1:9/notify' });
        if (r.code !== 0) throw new Error(`seed refund: ${r.msg}`);
        world.refunds.push({ id: r.data.refundOrderId as string, mchRefundNo, payOrderId: id, amount: 1000 + k });
      }
    }
  }
  const o2 = await call(APP2, '/api/pay/unifiedOrder', { mchOrderNo: `seed2${randomBytes(3).toString('hex')}`, wayCode: 'WX_NATIVE', amount: 500, currency: 'cny', subject: 'other', body: 'other' });
  world.otherMchOrder = o2.data.payOrderId as string;
  return world;
}

/**
 * Every row write that matters, counted by triggers installed in the test database only: inserts
 * and deletes in pay_orders, refund_orders, merchant_notifications, notification_attempts and
 * order_events (except a refused callback's 'refused' event), and updates of the business columns
 * of orders and refunds (scheduling columns such as next_check_at are not business data: a refused
 * callback schedules an active query). Transactional, so a rolled-back write does not count.
 */
async function installWriteCounter(gw: Gateway): Promise<void> {
  await gw.db.exec(`
    CREATE TABLE fuzz_writes (n int8 NOT NULL);
    INSERT INTO fuzz_writes VALUES (0);
    CREATE FUNCTION fuzz_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE fuzz_writes SET n = n + 1; RETURN NULL; END $$;
    CREATE TRIGGER fuzz_w1 AFTER INSERT OR DELETE ON pay_orders FOR EACH ROW EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w2 AFTER UPDATE ON pay_orders FOR EACH ROW
      WHEN (ROW(OLD.state, OLD.updated_at, OLD.amount, OLD.refund_amount, OLD.refund_pending, OLD.late_success, OLD.err_code, OLD.pay_data, OLD.channel_order_no, OLD.mch_order_no)
            IS DISTINCT FROM ROW(NEW.state, NEW.updated_at, NEW.amount, NEW.refund_amount, NEW.refund_pending, NEW.late_success, NEW.err_code, NEW.pay_data, NEW.channel_order_no, NEW.mch_order_no))
      EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w3 AFTER INSERT OR DELETE ON refund_orders FOR EACH ROW EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w4 AFTER UPDATE ON refund_orders FOR EACH ROW
      WHEN (ROW(OLD.state, OLD.updated_at, OLD.refund_amount, OLD.err_code, OLD.channel_order_no) IS DISTINCT FROM ROW(NEW.state, NEW.updated_at, NEW.refund_amount, NEW.err_code, NEW.channel_order_no))
      EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w5 AFTER INSERT OR UPDATE OR DELETE ON merchant_notifications FOR EACH ROW EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w6 AFTER INSERT OR UPDATE OR DELETE ON notification_attempts FOR EACH ROW EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w7 AFTER INSERT ON order_events FOR EACH ROW WHEN (NEW.kind <> 'refused') EXECUTE FUNCTION fuzz_count();
    CREATE TRIGGER fuzz_w8 AFTER UPDATE OR DELETE ON order_events FOR EACH ROW EXECUTE FUNCTION fuzz_count();
  `);
}

async function fingerprint(gw: Gateway): Promise<string> {
  const r = await gw.db.query<{ n: number }>(`SELECT n FROM fuzz_writes`);
  return String(r.rows[0]?.n);
}

/** Row counts, compared before and after the whole run against the writes the accepted requests made. */
async function rowCounts(gw: Gateway): Promise<Record<string, number>> {
  const r = await gw.db.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM pay_orders)::int AS pay_orders, (SELECT count(*) FROM refund_orders)::int AS refund_orders, (SELECT count(*) FROM merchant_notifications)::int AS merchant_notifications`,
  );
  return r.rows[0] as Record<string, number>;
}

// ---- the merchant endpoints ---------------------------------------------------------------------

function encode(body: Record<string, unknown>, form: boolean): { payload: string; contentType: string } {
  if (!form) return { payload: JSON.stringify(body), contentType: 'application/json' };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) params.append(k, typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return { payload: params.toString(), contentType: 'application/x-www-form-urlencoded' };
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Sent {
  method: string;
  url: string;
  payload: string;
  contentType: string | undefined;
  body: Record<string, unknown> | null;
  endpoint: Endpoint;
  /** The order or refund id a success answer named (a replay must name the same). */
  answered?: string;
  /** What the request really is (a replay falls back to a fresh request while the pool is empty). */
  replay?: boolean;
}

let freshSeq = 0;
/** A new merchant order/refund number, deterministic for a seed (FAULTS_SEED replays a run). */
const fresh = (prefix: string) => `${prefix}${SEED.toString(36)}x${(++freshSeq).toString(36)}`;

function baseFields(w: World, endpoint: Endpoint, p: MerchantPlan, app2: boolean): Record<string, unknown> {
  const pays = app2 ? [{ id: w.otherMchOrder, mchOrderNo: 'x' }] : w.pays;
  const order = (p.pick % 5 === 0 ? w.paid : pays)[p.pick % (p.pick % 5 === 0 ? w.paid.length : pays.length)] ?? w.pays[0]!;
  const refund = w.refunds[p.pick2 % w.refunds.length]!;
  const o = p.optional;
  const idOrNo = (id: string, no: string, idName: string, noName: string) => (p.byMch ? { [noName]: no } : { [idName]: id });
  switch (endpoint) {
    case '/api/pay/unifiedOrder': {
      // A small pool of merchant order numbers exercises idempotency (same / different parameters).
      const mchOrderNo = p.pick % 3 === 0 ? `fz${p.pick2 % 40}` : fresh('fz');
      return { mchOrderNo, wayCode: p.way, amount: p.amount, currency: p.pick2 % 11 === 0 ? 'usd' : 'cny', subject: p.text, body: p.text, notifyUrl: o.notifyUrl, expiredTime: o.expiredTime, channelExtra: o.channelExtra, extParam: o.extParam, clientIp: o.clientIp };
    }
    case '/api/pay/query':
      return { ...idOrNo(order.id, order.mchOrderNo, 'payOrderId', 'mchOrderNo'), sync: o.sync };
    case '/api/pay/close':
      // Closing seed orders would drain the pools: close mostly what the fuzzer itself created.
      return p.pick % 4 === 0 ? idOrNo(order.id, order.mchOrderNo, 'payOrderId', 'mchOrderNo') : { mchOrderNo: `fz${p.pick2 % 40}` };
    case '/api/refund/refundOrder': {
      const target = w.paid[p.pick % w.paid.length]!;
      const mchRefundNo = p.pick2 % 3 === 0 ? `fzr${p.pick % 30}` : fresh('fzr');
      return { ...idOrNo(app2 ? w.otherMchOrder : target.id, target.mchOrderNo, 'payOrderId', 'mchOrderNo'), mchRefundNo, refundAmount: p.amount, currency: p.pick2 % 13 === 0 ? 'usd' : 'cny', refundReason: p.text, notifyUrl: o.notifyUrl, extParam: o.extParam };
    }
    case '/api/refund/query':
      return { ...idOrNo(refund.id, refund.mchRefundNo, 'refundOrderId', 'mchRefundNo'), sync: o.sync };
    case '/api/pay/confirm':
      return { ...idOrNo(order.id, order.mchOrderNo, 'payOrderId', 'mchOrderNo'), clientResult: ['ok', 'cancel', 'fail'][p.pick2 % 3] };
  }
}

function buildMerchantRequest(w: World, endpoint: Endpoint, p: MerchantPlan, replays: Sent[]): Sent | null {
  if (p.kind === 'replay') {
    const r = replays.filter((x) => x.endpoint === endpoint);
    return r.length > 0 ? { ...(r[p.pick % r.length] as Sent), replay: true } : null;
  }
  if (p.kind === 'raw') return { method: 'POST', url: endpoint, payload: p.raw.body, contentType: p.raw.contentType, body: null, endpoint };
  if (p.kind === 'route') return { method: p.route.method, url: `${endpoint}${p.route.suffix}`, payload: p.route.method === 'GET' || p.route.method === 'HEAD' ? '' : '{}', contentType: 'application/json', body: null, endpoint };
  const app2 = p.app2;
  const appId = app2 ? APP2 : APP;
  const secret = SECRETS[appId] as string;
  const body: Record<string, unknown> = { ...baseFields(w, endpoint, p, app2), mchNo: app2 ? MCH2 : MCH, appId, reqTime: String(Date.now()), version: '1.0', signType: p.signType };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const sign = (b: Record<string, unknown>, s = secret) => signParams(b, s, parseSignType(b.signType) ?? 'MD5');
  if (p.kind === 'time') {
    const now = Date.now();
    const t: Record<string, string | undefined> = { stale: String(now - 301_000), future: String(now + 301_000), digits12: String(now).slice(0, 12), negative: `-${now}`, alpha: `${now}x`.slice(1), float: `${Math.floor(now / 1000)}.5`, empty: '', secondsStale: String(Math.floor(now / 1000) - 400), missing: undefined };
    if (t[p.time] === undefined) delete body.reqTime;
    else body.reqTime = t[p.time];
  }
  if (p.kind === 'auth') {
    if (p.auth === 'unknownApp') body.appId = 'nosuchapp0000';
    if (p.auth === 'otherMerchantsApp') body.appId = app2 ? APP : APP2;
    if (p.auth === 'emptyMch') body.mchNo = '';
    if (p.auth === 'mchOfOtherApp') body.mchNo = app2 ? MCH : MCH2;
    if (p.auth === 'appIdCase') body.appId = appId.toUpperCase();
  }
  if (p.kind === 'mutate') {
    for (const m of p.mutations) {
      if (m.op === 'delete') delete body[m.field];
      else setOwn(body, m.field, m.value);
      if (m.resign) body.sign = sign(body);
    }
  }
  if (body.sign === undefined || p.kind !== 'mutate') body.sign = sign(body);
  if (p.kind === 'badsign') {
    const good = String(body.sign);
    const map: Record<string, () => void> = {
      random: () => (body.sign = randomBytes(16).toString('hex').toUpperCase()),
      otherSecret: () => (body.sign = sign(body, 'not-the-app-secret-0000000000000')),
      changedAfter: () => (body.reqTime = String(Number(body.reqTime) + 1)),
      empty: () => (body.sign = ''),
      long: () => (body.sign = good + good + good),
      lower: () => (body.sign = good.toLowerCase()),
      wrongType: () => (body.signType = parseSignType(body.signType) === 'MD5' ? 'HMAC-SHA256' : 'MD5'),
      missing: () => delete body.sign,
    };
    map[p.sig]?.();
  }
  const { payload, contentType } = encode(body, p.form);
  return { method: 'POST', url: endpoint, payload, contentType, body, endpoint };
}

// ---- the callback endpoints ----------------------------------------------------------------------

interface CallbackSent {
  url: string;
  headers: Record<string, string>;
  payload: string;
  /** Set when the request carries a deliberate defect that must make the gateway refuse it. */
  defect: string | null;
  kind: 'pay' | 'refund';
  /** The order or refund the URL names, and the decrypted claim sent (for the post-acknowledgement check). */
  targetId?: string;
  claim?: Record<string, unknown>;
}

type CallbackPlanValue = ValueOf<typeof callbackPlan>;

async function buildCallback(w: World, kind: 'pay' | 'refund', p: CallbackPlanValue, replays: CallbackSent[]): Promise<CallbackSent | null> {
  if (p.kind === 'replay') {
    const r = replays.filter((x) => x.kind === kind);
    if (r.length === 0) return null;
    const src = r[p.pick % r.length] as CallbackSent;
    // Replayed to its own URL (a duplicate, may be acknowledged) or to another order's (must not be).
    if (p.pick2 % 2 === 0) return { ...src, defect: src.defect };
    const others = kind === 'pay' ? w.pays.map((x) => x.id) : w.refunds.map((x) => x.id);
    const other = others[p.pick2 % others.length] as string;
    const url = `/api/${kind}/notify/wxpay/${other}`;
    return { ...src, url, targetId: other, defect: url === src.url ? src.defect : 'replayed to another order' };
  }
  let targetId: string;
  let order: { id: string; amount: number } | undefined;
  let refund: (typeof w.refunds)[number] | undefined;
  if (p.target === 'unknown') targetId = kind === 'pay' ? 'P20990101000000' + String(p.pick).padStart(8, '0').slice(0, 8) : 'R20990101000000' + String(p.pick).padStart(8, '0').slice(0, 8);
  else if (p.target === 'weird') targetId = encodeURIComponent(['..', '%', ' ', '\u0000x', 'x'.repeat(300), "'", '😀'][p.pick % 7] as string);
  else if (kind === 'pay') {
    order = w.pays[p.pick % w.pays.length];
    targetId = order!.id;
  } else {
    refund = w.refunds[p.pick % w.refunds.length];
    targetId = refund!.id;
    order = w.pays.find((x) => x.id === refund!.payOrderId);
  }
  const url = `/api/${kind}/notify/${encodeURIComponent(p.ifCode)}/${targetId}`;
  if (p.kind === 'garbage') return { url, headers: { 'content-type': 'application/json', ...p.garbage.headers }, payload: p.garbage.body, defect: 'garbage', kind, targetId };

  const f = p.forge;
  const defects: string[] = [];
  if (p.ifCode !== 'wxpay') defects.push('unknown channel');
  if (p.target !== 'known') defects.push('unknown order');
  const outTradeNo = order?.id ?? targetId;
  const amount = order?.amount ?? 100;
  let resource: Record<string, unknown>;
  if (kind === 'pay') {
    resource = paidTransaction(w.h, WX_APPID, outTradeNo, amount, { trade_state: f.status });
    if (f.status === 'garbage') defects.push('unknown trade_state');
  } else {
    resource = refundResource(w.h, refund?.payOrderId ?? outTradeNo, targetId, refund?.amount ?? 100, order?.amount ?? 100, { refund_status: f.status });
    if (!['SUCCESS', 'PROCESSING', 'ABNORMAL', 'CLOSED'].includes(f.status)) defects.push('unknown refund_status');
  }
  const set = (k: string, v: unknown, what: string) => {
    resource[k] = v;
    defects.push(what);
  };
  switch (f.field) {
    case 'mchid': set('mchid', '1900009999', 'other mchid'); break;
    case 'appid': if (kind === 'pay') set('appid', 'wxnotours000001', 'other appid'); break;
    case 'out_trade_no': set('out_trade_no', `${outTradeNo}X`, 'other out_trade_no'); break;
    case 'amount': if (kind === 'pay' && f.status === 'SUCCESS') set('amount', { total: amount + 1, currency: 'CNY' }, 'other amount'); else if (kind === 'refund') set('amount', { total: amount, refund: (refund?.amount ?? 100) + 1 }, 'other refund amount'); break;
    case 'currency': if (kind === 'pay' && f.status === 'SUCCESS') set('amount', { total: amount, currency: 'USD' }, 'other currency'); break;
    case 'out_refund_no': if (kind === 'refund') set('out_refund_no', `${targetId}X`, 'other out_refund_no'); break;
    case 'refund': if (kind === 'refund') set('amount', { total: amount, refund: 0 }, 'refund 0'); break;
    case 'dropMchid': delete resource.mchid; defects.push('no mchid'); break;
    case 'dropAmount': if (kind === 'pay' && f.status === 'SUCCESS') { delete resource.amount; defects.push('success without amount'); } break;
    case 'nasty': {
      // A wrongly typed or absurd value: a refusal unless it is the owner (mchid/appid), which must refuse;
      // whatever the gateway does with the rest is checked after the fact (a paid claim must hold up).
      const fields = kind === 'pay' ? ['amount', 'trade_state', 'out_trade_no', 'success_time', 'payer', 'transaction_id', 'mchid', 'appid'] : ['amount', 'refund_status', 'out_refund_no', 'out_trade_no', 'success_time', 'refund_id', 'mchid'];
      const field = fields[p.pick2 % fields.length] as string;
      resource[field] = f.nastyValue;
      if (field === 'mchid' || field === 'appid') defects.push(`nasty ${field}`);
      break;
    }
  }
  const o: Parameters<typeof forgeCallback>[3] = {};
  if (f.key === 'other') { o.key = OTHER_KEY; defects.push('signed by another key'); }
  if (f.serial === 'other') { o.serial = 'PUB_KEY_ID_0199999999999999999999999999'; defects.push('other serial'); }
  if (f.serial === 'empty') { o.serial = ''; defects.push('no serial'); }
  if (f.ts !== 0) { o.timestamp = Math.floor(Date.now() / 1000) + f.ts; if (Math.abs(f.ts) > 300) defects.push('stale or future timestamp'); }
  if (f.apiV3 === 'other') { o.apiV3Key = 'Y'.repeat(32); defects.push('other APIv3 key'); }
  if (f.eventType === 'other') { o.eventType = kind === 'pay' ? 'REFUND.SUCCESS' : 'TRANSACTION.SUCCESS'; defects.push('event of the other kind'); }
  if (f.eventType === 'garbage') { o.eventType = 'TRANSACTION.NONSENSE'; defects.push('unknown event'); }
  if (f.originalType === 'other') { o.originalType = kind === 'pay' ? 'refund' : 'transaction'; defects.push('other original_type'); }
  const cb = forgeCallback(w.h, kind, resource, o);
  const headers = { ...cb.headers };
  let payload = cb.body;
  if (f.dropHeader !== 'none') {
    delete headers[f.dropHeader === 'signature-type' ? 'wechatpay-signature-type' : f.dropHeader];
    if (f.dropHeader !== 'signature-type') defects.push(`no ${f.dropHeader}`);
  }
  if (p.kind === 'bitflip') {
    const flip = (s: string) => {
      if (s.length === 0) return 'x';
      const i = p.flip.at % s.length;
      const c = s.charCodeAt(i);
      return s.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : c ^ 1 || 0x41) + s.slice(i + 1);
    };
    if (p.flip.where === 'body') payload = flip(payload);
    else if (p.flip.where === 'signature') headers['wechatpay-signature'] = flip(headers['wechatpay-signature'] ?? '');
    else if (p.flip.where === 'timestamp') headers['wechatpay-timestamp'] = flip(headers['wechatpay-timestamp'] ?? '');
    else headers['wechatpay-nonce'] = flip(headers['wechatpay-nonce'] ?? '');
    defects.push(`bit flipped in ${p.flip.where}`);
  }
  return { url, headers, payload, defect: defects.length > 0 ? defects.join(', ') : null, kind, targetId, claim: resource };
}

interface Prior {
  state: number;
  amount: number;
  payOrderId?: string;
}

async function priorOf(w: World, kind: 'pay' | 'refund', id: string | undefined): Promise<Prior | null> {
  if (!id || !/^[0-9A-Za-z]+$/.test(id)) return null;
  const r = kind === 'pay'
    ? await w.gw.db.query<Prior>(`SELECT state, amount FROM pay_orders WHERE pay_order_id = $1`, [id])
    : await w.gw.db.query<Prior>(`SELECT state, refund_amount AS amount, pay_order_id AS "payOrderId" FROM refund_orders WHERE refund_order_id = $1`, [id]);
  return r.rows[0] ?? null;
}

/** An acknowledged callback that moved an order to paid (or a refund to refunded) must have claimed exactly that. */
function claimHoldsUp(cb: CallbackSent, mchid: string, before: Prior, after: Prior): string | null {
  if (before.state === after.state) return null;
  const c = cb.claim ?? {};
  const amount = (typeof c.amount === 'object' && c.amount !== null ? c.amount : {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (c.mchid !== mchid) problems.push(`mchid ${String(c.mchid)}`);
  if (cb.kind === 'pay' && (after.state === 2 || after.state === 5)) {
    if (c.appid !== WX_APPID) problems.push(`appid ${String(c.appid)}`);
    if (c.trade_state !== 'SUCCESS' && c.trade_state !== 'REFUND') problems.push(`trade_state ${String(c.trade_state)}`);
    if (amount.total !== before.amount) problems.push(`amount ${String(amount.total)} for ${before.amount}`);
    if (amount.currency !== undefined && String(amount.currency).toUpperCase() !== 'CNY') problems.push(`currency ${String(amount.currency)}`);
    if (c.out_trade_no !== undefined && c.out_trade_no !== cb.targetId) problems.push(`out_trade_no ${String(c.out_trade_no)}`);
  }
  if (cb.kind === 'refund' && after.state === 2) {
    if (c.refund_status !== 'SUCCESS' && c.status !== 'SUCCESS') problems.push(`refund_status ${String(c.refund_status)}`);
    if (amount.refund !== undefined && amount.refund !== before.amount) problems.push(`refund ${String(amount.refund)} for ${before.amount}`);
    if (c.out_refund_no !== undefined && c.out_refund_no !== cb.targetId) problems.push(`out_refund_no ${String(c.out_refund_no)}`);
    if (c.out_trade_no !== undefined && c.out_trade_no !== before.payOrderId) problems.push(`out_trade_no ${String(c.out_trade_no)}`);
  }
  return problems.length > 0 ? `state ${before.state} → ${after.state} on a claim with ${problems.join(', ')}` : null;
}

const OTHER_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

// ---- the test ------------------------------------------------------------------------------------

const legs: DbLeg[] = postgresAvailable() && FULL ? ['pglite', 'postgres'] : ['pglite'];

for (const leg of legs) {
  describe(`faults: bad input (fuzz) on ${leg}`, () => {
    let w: World;
    before(async () => {
      w = await buildWorld(leg);
    });
    after(async () => {
      await w?.gw.stop();
      await w?.testDb.drop();
      await w?.h.close();
    });

    test(`${TOTAL} fuzzed merchant requests and channel callbacks: documented answers, nothing written by a rejection`, async () => {
      const v = new Violations();
      const documented = documentedKeys();
      v.check(documented.size === Object.keys(ERRORS).length, `docs/api.md documents ${documented.size} of ${Object.keys(ERRORS).length} error keys`);
      const perMerchant = Math.ceil((TOTAL * 0.75) / ENDPOINTS.length);
      const perCallback = Math.ceil((TOTAL * 0.25) / 2);
      let cases = 0;
      const stats = { accepted: 0, rejected: 0, byKey: new Map<string, number>(), callbacksAcked: 0, callbacksRefused: 0, statuses: new Map<number, number>() };
      const replays: Sent[] = [];
      const cbReplays: CallbackSent[] = [];
      const describeCase = (x: unknown) => JSON.stringify(x, (_k, val) => (typeof val === 'string' && val.length > 120 ? `${val.slice(0, 120)}…(${val.length})` : val)).slice(0, 700);

      for (const [ei, endpoint] of ENDPOINTS.entries()) {
        await fc.assert(
          fc.asyncProperty(merchantPlan, async (p) => {
            const req = buildMerchantRequest(w, endpoint, p, replays) ?? buildMerchantRequest(w, endpoint, { ...p, kind: 'mutate' }, replays);
            if (!req) return true;
            cases++;
            const sample = cases % 10 === 0; // every 10th case also counts the rows themselves
            const countsBefore = sample ? JSON.stringify(await rowCounts(w.gw)) : '';
            const before = await fingerprint(w.gw);
            const res = await w.gw.http.inject({ method: req.method as 'POST', url: req.url, payload: req.payload, headers: req.contentType === undefined ? {} : { 'content-type': req.contentType } });
            const after = await fingerprint(w.gw);
            const countsAfter = sample ? JSON.stringify(await rowCounts(w.gw)) : '';
            stats.statuses.set(res.statusCode, (stats.statuses.get(res.statusCode) ?? 0) + 1);
            const where = () => `${endpoint} ${p.kind}: ${describeCase({ method: req.method, url: req.url, ct: req.contentType, payload: req.payload })} → ${res.statusCode} ${res.body.slice(0, 300)}`;
            if (!v.check(res.statusCode < 500, () => `5xx: ${where()}`)) return true;
            if (req.method === 'HEAD') return true;
            let json: { code?: unknown; msg?: unknown; errorKey?: unknown; data?: Record<string, unknown>; sign?: unknown };
            try {
              json = JSON.parse(res.body);
            } catch {
              v.add(`answer is not JSON: ${where()}`);
              return true;
            }
            if (json.code === 0) {
              stats.accepted++;
              const appId = String(req.body?.appId ?? '');
              const secret = SECRETS[appId];
              v.check(secret && json.data && typeof json.sign === 'string' && verifySignature(json.data, secret, parseSignType(req.body?.signType) ?? 'MD5', json.sign), () => `success answer not signed for ${appId}: ${where()}`);
              v.check(!json.data || json.data.mchNo === undefined || json.data.mchNo === req.body?.mchNo, () => `answer shows another merchant's order: ${where()}`);
              if (endpoint === '/api/pay/unifiedOrder' && json.data) {
                const row = (await w.gw.db.query<{ mch_order_no: string; amount: number; mch_no: string }>(`SELECT mch_order_no, amount, mch_no FROM pay_orders WHERE pay_order_id = $1`, [json.data.payOrderId])).rows[0];
                v.check(row && row.mch_order_no === String(req.body?.mchOrderNo) && row.amount === Number(req.body?.amount) && row.mch_no === req.body?.mchNo, () => `success answer names no matching order: ${where()}`);
                if (row && !w.pays.some((x) => x.id === json.data!.payOrderId) && w.pays.length < 400) w.pays.push({ id: String(json.data.payOrderId), mchOrderNo: row.mch_order_no, amount: row.amount });
              }
              if (endpoint === '/api/refund/refundOrder' && json.data) {
                const row = (await w.gw.db.query<{ mch_refund_no: string; refund_amount: number }>(`SELECT mch_refund_no, refund_amount FROM refund_orders WHERE refund_order_id = $1`, [json.data.refundOrderId])).rows[0];
                v.check(row && row.mch_refund_no === String(req.body?.mchRefundNo) && row.refund_amount === Number(req.body?.refundAmount), () => `success answer names no matching refund: ${where()}`);
              }
              const named = json.data ? String(json.data.payOrderId ?? '') + String(json.data.refundOrderId ?? '') : '';
              if (!req.replay && replays.length < 200 && req.body) replays.push({ ...req, answered: named });
              if (req.replay && (endpoint === '/api/pay/unifiedOrder' || endpoint === '/api/refund/refundOrder')) {
                v.check(req.answered === named, () => `a replay named ${named}, the original ${req.answered}: ${where()}`);
              }
            } else {
              stats.rejected++;
              const key = String(json.errorKey);
              stats.byKey.set(key, (stats.byKey.get(key) ?? 0) + 1);
              const spec = ERRORS[key as ErrorKey];
              v.check(spec !== undefined && documented.has(key), () => `undocumented errorKey ${key}: ${where()}`);
              v.check(spec && json.code === spec.code, () => `code ${String(json.code)} does not match ${key}: ${where()}`);
              v.check(spec && (res.statusCode === spec.http || (res.statusCode >= 400 && res.statusCode < 500 && (key === 'PARAM_INVALID' || key === 'NOT_FOUND'))), () => `HTTP ${res.statusCode} for ${key}: ${where()}`);
              v.check(typeof json.msg === 'string' && json.msg.length > 0 && !/\n\s+at /.test(json.msg), () => `message missing or a stack trace: ${where()}`);
              v.check(before === after, () => `a rejected request wrote ${Number(after) - Number(before)} row(s): ${where()}`);
              v.check(countsBefore === countsAfter, () => `a rejected request changed row counts ${countsBefore} → ${countsAfter}: ${where()}`);
              if (req.replay && (key === 'SIGN_INVALID' || key === 'MERCHANT_INVALID')) v.add(`a replay of an accepted request was refused ${key}: ${where()}`);
            }
            return true;
          }),
          { numRuns: perMerchant, seed: SEED + ei, endOnFailure: true },
        );
      }

      for (const [ki, kind] of (['pay', 'refund'] as const).entries()) {
        await fc.assert(
          fc.asyncProperty(callbackPlan, async (p) => {
            const cb = (await buildCallback(w, kind, p, cbReplays)) ?? (await buildCallback(w, kind, { ...p, kind: 'forged' }, cbReplays));
            if (!cb) return true;
            cases++;
            const sample = cases % 10 === 0;
            const countsBefore = sample ? JSON.stringify(await rowCounts(w.gw)) : '';
            const prior = await priorOf(w, kind, cb.targetId);
            const before = await fingerprint(w.gw);
            const res = await w.gw.http.inject({ method: 'POST', url: cb.url, payload: cb.payload, headers: cb.headers });
            const after = await fingerprint(w.gw);
            const countsAfter = sample ? JSON.stringify(await rowCounts(w.gw)) : '';
            stats.statuses.set(res.statusCode, (stats.statuses.get(res.statusCode) ?? 0) + 1);
            const where = () => `${kind} callback ${p.kind} [${cb.defect ?? 'no defect'}]: ${describeCase({ url: cb.url, headers: cb.headers, payload: cb.payload })} → ${res.statusCode} ${res.body.slice(0, 200)}`;
            v.check(res.statusCode < 500, () => `5xx: ${where()}`);
            const acked = res.statusCode >= 200 && res.statusCode < 300;
            if (acked) {
              stats.callbacksAcked++;
              v.check(cb.defect === null, () => `acknowledged a defective callback: ${where()}`);
              const now = prior ? await priorOf(w, kind, cb.targetId) : null;
              const wrong = prior && now ? claimHoldsUp(cb, w.h.creds.mchid, prior, now) : null;
              v.check(wrong === null, () => `an acknowledged callback recorded something wrong (${wrong}): ${where()}`);
              if (p.kind !== 'replay' && cbReplays.length < 100) cbReplays.push(cb);
            } else {
              stats.callbacksRefused++;
              v.check(before === after, () => `a refused callback wrote ${Number(after) - Number(before)} row(s): ${where()}`);
              v.check(countsBefore === countsAfter, () => `a refused callback changed row counts ${countsBefore} → ${countsAfter}: ${where()}`);
              if (![404, 413, 414, 415].includes(res.statusCode)) {
                let ok = false;
                try {
                  const j = JSON.parse(res.body) as { code?: string; message?: string; errorKey?: string };
                  ok = (j.code === 'FAIL' && typeof j.message === 'string') || (typeof j.errorKey === 'string' && ERRORS[j.errorKey as ErrorKey] !== undefined);
                } catch {
                  ok = false;
                }
                v.check(ok, () => `a refusal not in WeChat's {code:"FAIL"} shape nor a documented error: ${where()}`);
              }
            }
            return true;
          }),
          { numRuns: perCallback, seed: SEED + 100 + ki, endOnFailure: true },
        );
      }
      const keys = [...stats.byKey.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      const statuses = [...stats.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}×${n}`).join(' ');
      console.log(`faults: fuzz on ${leg}: merchant answers: ${stats.accepted} accepted, ${stats.rejected} rejected (${keys}); callbacks: ${stats.callbacksAcked} acknowledged, ${stats.callbacksRefused} refused; HTTP ${statuses}; seed ${SEED}`);
      report(`bad input (fuzz, ${leg})`, cases, v);
    });
  });
}
