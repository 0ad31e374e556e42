import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barWayForCode, concreteWay, isBarCodeOrder, isWayCode } from './pay-way.ts';

test('AUTO_BAR resolves the payer code by prefix and length', () => {
  assert.equal(barWayForCode('134567890123456789'), 'WX_BAR');
  assert.equal(barWayForCode('104567890123456789'), 'WX_BAR');
  assert.equal(barWayForCode('164567890123456789'), undefined, 'WeChat codes start 10–15');
  assert.equal(barWayForCode('13456789012345678'), undefined, 'WeChat codes have 18 digits');
  assert.equal(barWayForCode('2812345678901234'), 'ALI_BAR');
  assert.equal(barWayForCode('301234567890123456789012'), 'ALI_BAR');
  assert.equal(barWayForCode('3112345678901234'), undefined);
  assert.equal(barWayForCode('6212345678901234567'), 'YSF_BAR');
  assert.equal(barWayForCode('910000000000000001'), 'QQ_PAY');
  assert.equal(barWayForCode('91000000000000001'), undefined, 'QQ codes have 18 digits');
  assert.equal(barWayForCode('abc'), undefined);
});

test('every requirement way code exists, plus AUTO_BAR', () => {
  for (const w of ['WX_H5', 'WX_JSAPI', 'WX_LITE', 'WX_NATIVE', 'WX_BAR', 'WX_APP', 'WX', 'ALI', 'ALI_APP', 'ALI_BAR', 'ALI_JSAPI', 'ALI_LITE', 'ALI_PC', 'ALI_QR', 'ALI_WAP', 'XLALILITE', 'YSF_BAR', 'YSF_JSAPI', 'YSF_LITE', 'UP_QR', 'UP_BAR', 'UP_APP', 'QR_CASHIER', 'QQ_PAY', 'PP_PC', 'ICBC_APP', 'AUTO_BAR']) {
    assert.ok(isWayCode(w), w);
  }
  assert.ok(!isWayCode('toString'));
});

test('generic WX and ALI become one concrete product, first match wins', () => {
  for (const [way, bar, jsapi, browser, qr] of [['WX', 'WX_BAR', 'WX_JSAPI', 'WX_H5', 'WX_NATIVE'], ['ALI', 'ALI_BAR', 'ALI_JSAPI', 'ALI_WAP', 'ALI_QR']] as const) {
    assert.equal(concreteWay(way, { authCode: '134567890123456789', identifiedPayer: true, returnUrl: 'https://m.shop/x' }), bar);
    assert.equal(concreteWay(way, { identifiedPayer: true, returnUrl: 'https://m.shop/x' }), jsapi);
    assert.equal(concreteWay(way, { identifiedPayer: false, returnUrl: 'https://m.shop/x' }), browser);
    assert.equal(concreteWay(way, { identifiedPayer: false, returnUrl: null }), qr);
  }
});

test('bar-code orders: the *_BAR ways, and QQ_PAY only as MICROPAY (tradeType, or an authCode without a tradeType)', () => {
  assert.equal(isBarCodeOrder('WX_BAR', null), true);
  assert.equal(isBarCodeOrder('QQ_PAY', null), false);
  assert.equal(isBarCodeOrder('QQ_PAY', '{"tradeType":"MICROPAY","authCode":"910000000000000001"}'), true);
  assert.equal(isBarCodeOrder('QQ_PAY', { authCode: '910000000000000001' }), true);
  assert.equal(isBarCodeOrder('QQ_PAY', '{"tradeType":"JSAPI"}'), false);
  assert.equal(isBarCodeOrder('QQ_PAY', 'not json'), false);
  assert.equal(isBarCodeOrder('WX_NATIVE', '{"authCode":"134567890123456789"}'), false);
});
