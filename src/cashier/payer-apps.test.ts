import { test } from 'node:test';
import assert from 'node:assert/strict';
import { payerAppFromUserAgent } from './payer-apps.ts';

test('payer apps are recognised by their in-app browser user agents', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN', 'wechat'],
    ['Mozilla/5.0 (Linux; Android 13; V2254A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110005 MMWEBSDK/20231002 MMWEBID/2585 MicroMessenger/8.0.43.2480(0x28002B51) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64', 'wechat'],
    ['Mozilla/5.0 (Linux; U; Android 12; zh-CN; M2102K1C Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/89.0.4389.58 UCBrowser/3.22.2.1 Mobile Safari/537.36 AlipayClient/10.5.36.8100 Language/zh-Hans', 'alipay'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (cordova 4.5.4) (updebug 0) (version 1015) (UnionPay/1.0 CloudPay) (clientVersion 195) (language zh_CN)', 'unionpay'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', undefined],
    ['', undefined],
  ];
  for (const [ua, app] of cases) assert.equal(payerAppFromUserAgent(ua)?.id, app, ua);
});
