import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MerchantClient } from '../../src/merchant-api/client.ts';
import { PAY_WAYS } from '../../src/domain/pay-way.ts';
import { GatewayProcess } from '../faults/support/gateway-process.ts';
import { orderNo } from '../helpers/stack.ts';

/**
 * The requirement's promise on the product as a newcomer starts it: `npm start`'s process
 * (src/main.ts: embedded database, every sandbox channel, the demo merchant) answers unifiedOrder
 * for every pay way of seed 000, plus AUTO_BAR, on the demo merchant's main app, with the
 * payDataType and payData its users expect (docs/api.md's way table).
 */

const MCH_NO = 'MCOVERAGE1';
const APP_ID = 'coverageapp0001';
const APP_SECRET = 'coverage-app-secret-0123456789ab';

type Data = Record<string, any>;
interface Expectation {
  extra?: Record<string, unknown>;
  returnUrl?: string;
  clientIp?: string;
  currency?: string;
  /** The concrete way the order must carry (generic ways and AUTO_BAR are resolved). */
  storedAs?: string;
  payDataType: string;
  /** What the payData must look like (a regexp over the text, or a check of the parsed JSON). */
  payData: RegExp | ((json: Data) => void);
  /** Bar codes answer synchronously: paid (2) or waiting for the password (1). */
  states?: number[];
}

const jsonWith = (...keys: string[]) => (j: Data) => {
  for (const k of keys) assert.ok(typeof j[k] === 'string' && j[k] !== '', `payData has ${k}: ${JSON.stringify(j)}`);
};
const OPENID = { openid: 'o-coverage-openid' };
const BUYER = { buyerUserId: '2088102177846880' };
const RETURN = 'https://shop.example.com/done';

/** Every way of seed 000 (the order of its list), then AUTO_BAR. */
const EXPECTED: Record<string, Expectation> = {
  WX_H5: { clientIp: '10.1.2.3', returnUrl: RETURN, payDataType: 'payurl', payData: /^https?:\/\/.+redirect_url=/ },
  WX_JSAPI: { extra: OPENID, payDataType: 'wxapp', payData: jsonWith('appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign') },
  WX_LITE: { extra: OPENID, payDataType: 'wxapp', payData: jsonWith('appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign') },
  WX_NATIVE: { payDataType: 'codeUrl', payData: /^weixin:\/\/wxpay\/bizpayurl\?pr=/ },
  WX_BAR: { extra: { authCode: '100000000000000001' }, payDataType: 'none', payData: /^$/, states: [2] },
  WX_APP: { payDataType: 'wxapp', payData: jsonWith('appid', 'partnerid', 'prepayid', 'package', 'noncestr', 'timestamp', 'sign') },
  WX: { storedAs: 'WX_NATIVE', payDataType: 'codeUrl', payData: /^weixin:\/\/wxpay\/bizpayurl\?pr=/ },
  ALI: { storedAs: 'ALI_QR', payDataType: 'codeUrl', payData: /^https?:\/\/\S+/ },
  ALI_APP: { payDataType: 'aliapp', payData: /method=alipay\.trade\.app\.pay/ },
  ALI_BAR: { extra: { authCode: '281000000000000077' }, payDataType: 'none', payData: /^$/, states: [1, 2] },
  ALI_JSAPI: { extra: BUYER, payDataType: 'aliapp', payData: jsonWith('alipayTradeNo') },
  ALI_LITE: { extra: BUYER, payDataType: 'aliapp', payData: jsonWith('alipayTradeNo') },
  ALI_PC: { returnUrl: RETURN, payDataType: 'payurl', payData: /^https?:\/\/\S+/ },
  ALI_QR: { payDataType: 'codeUrl', payData: /^https?:\/\/\S+/ },
  ALI_WAP: { returnUrl: RETURN, payDataType: 'payurl', payData: /^https?:\/\/\S+/ },
  XLALILITE: { extra: BUYER, payDataType: 'aliapp', payData: jsonWith('alipayTradeNo') },
  YSF_BAR: { extra: { authCode: '6200000000000000001' }, payDataType: 'none', payData: /^$/, states: [2] },
  YSF_JSAPI: { extra: { userId: 'coverage-ysf-user' }, payDataType: 'ysfapp', payData: jsonWith('redirectUrl') },
  YSF_LITE: { payDataType: 'ysfapp', payData: jsonWith('tn') },
  UP_QR: { payDataType: 'codeUrl', payData: /^https?:\/\/\S+/ },
  UP_BAR: { extra: { authCode: '6200000000000000001' }, payDataType: 'none', payData: /^$/, states: [2] },
  UP_APP: { payDataType: 'ysfapp', payData: jsonWith('tn') },
  QR_CASHIER: { payDataType: 'payurl', payData: /\/cashier\/\S+$/ },
  QQ_PAY: { payDataType: 'codeUrl', payData: /^https?:\/\/\S+/ },
  PP_PC: { currency: 'usd', returnUrl: RETURN, payDataType: 'payurl', payData: /^https?:\/\/\S+token=\S+/ },
  ICBC_APP: { returnUrl: RETURN, payDataType: 'payurl', payData: /^\S+:\/\/\S+/ },
  AUTO_BAR: { extra: { authCode: '100000000000000001' }, storedAs: 'WX_BAR', payDataType: 'none', payData: /^$/, states: [2] },
};

describe('every pay way answers on the demo merchant of `npm start`', () => {
  let gw: GatewayProcess;
  let client: MerchantClient;
  before(async () => {
    gw = new GatewayProcess({
      databaseUrl: '',
      env: {
        DATABASE_URL: '', // the embedded database, as `npm start` without configuration
        POLYPAY_SANDBOX: 'true',
        POLYPAY_DEMO_MCH_NO: MCH_NO,
        POLYPAY_DEMO_APP_ID: APP_ID,
        POLYPAY_DEMO_APP_SECRET: APP_SECRET,
        ...Object.fromEntries(['', 'ALIPAY_', 'UNIONPAY_', 'SHENGPAY_', 'JDPAY_', 'ABC_', 'PAYPAL_', 'QQPAY_', 'ICBC_', 'XINLIAN_'].map((p) => [`POLYPAY_SANDBOX_${p}PORT`, '0'])),
      },
    });
    await gw.start(120_000);
    client = new MerchantClient({ baseUrl: gw.url, mchNo: MCH_NO, appId: APP_ID, appSecret: APP_SECRET });
  });
  after(async () => {
    await gw?.close();
  });

  test('the list covers the requirement: every way code of seed 000 and AUTO_BAR', () => {
    const acquirerOwn = new Set(['JD_H5', 'JD_PC', 'JD_QR', 'JD_APP', 'ABC_APP']);
    assert.deepEqual(Object.keys(EXPECTED).sort(), Object.keys(PAY_WAYS).filter((w) => !acquirerOwn.has(w)).sort());
  });

  test('AUTO_BAR with a QQ 钱包 payment code (91…) is paid as QQ_PAY MICROPAY', async () => {
    const res = await client.unifiedOrder({ mchOrderNo: orderNo('cov'), wayCode: 'AUTO_BAR', amount: 800, currency: 'cny', subject: 'AUTO_BAR QQ', body: 'b', channelExtra: JSON.stringify({ authCode: '910000000000000001' }) });
    assert.equal(res.code, 0, res.msg);
    const d = res.data as Data;
    assert.deepEqual([d.orderState, d.payDataType], [2, 'none']);
    assert.equal(((await client.query({ payOrderId: d.payOrderId })).data as Data).wayCode, 'QQ_PAY');
  });

  for (const [way, e] of Object.entries(EXPECTED)) {
    test(`${way} → ${e.payDataType}`, async () => {
      const res = await client.unifiedOrder({
        mchOrderNo: orderNo('cov'), wayCode: way, amount: 1200, currency: e.currency ?? 'cny', subject: `${way} coverage`, body: 'b',
        ...(e.clientIp ? { clientIp: e.clientIp } : {}), ...(e.returnUrl ? { returnUrl: e.returnUrl } : {}), ...(e.extra ? { channelExtra: JSON.stringify(e.extra) } : {}),
      });
      assert.equal(res.code, 0, `${way}: ${res.msg}`);
      const d = res.data as Data;
      assert.equal(d.errCode ?? undefined, undefined, `${way}: ${d.errCode} ${d.errMsg}`);
      assert.ok((e.states ?? [1]).includes(d.orderState), `${way}: orderState ${d.orderState}`);
      assert.equal(d.payDataType, e.payDataType, way);
      const payData = String(d.payData ?? '');
      if (e.payData instanceof RegExp) assert.match(payData, e.payData, way);
      else e.payData(JSON.parse(payData) as Data);
      const q = (await client.query({ payOrderId: d.payOrderId })).data as Data;
      assert.equal(q.wayCode, e.storedAs ?? way, `${way}: the order carries the concrete way`);
    });
  }
});
