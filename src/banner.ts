import type { GatewayConfig } from './config.ts';
import type { DemoCredentials } from './demo.ts';
import type { ConsoleLogins } from './console/bootstrap.ts';

/** What a newcomer sees after `npm start`: where things are and a copy-paste first payment. */
export function printBanner(p: { url: string; config: GatewayConfig; demo: DemoCredentials; sandboxUrl: string | null; alipaySandboxUrl?: string | null; unionpaySandboxUrl?: string | null; consoleLogins?: ConsoleLogins }): void {
  const { url, config, demo, sandboxUrl } = p;
  const lines = [
    '',
    '================ Polypay is running ================',
    `gateway      ${url}   (API docs: ${url}/docs, health: ${url}/health)`,
    `database     ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/db`}`,
    sandboxUrl ? `sandbox      WeChat Pay v3 simulator at ${sandboxUrl}   (payer page: ${sandboxUrl}/sandbox/)` : 'sandbox      off',
    ...(p.alipaySandboxUrl ? [`             Alipay simulator at ${p.alipaySandboxUrl}/gateway.do   (trades: ${p.alipaySandboxUrl}/sandbox/)`] : []),
    ...(p.unionpaySandboxUrl ? [`             云闪付 / UnionPay simulator at ${p.unionpaySandboxUrl}/gateway/api/   (orders: ${p.unionpaySandboxUrl}/sandbox/)`] : []),
    ...consoleLines(url, p.consoleLogins),
    `admin token  ${config.adminTokenSource === 'env' ? '(from POLYPAY_ADMIN_TOKEN)' : `${config.dataDir}/admin.token`}`,
    '',
    'Demo merchant credentials (sign requests with appSecret, see docs/api.md):',
    `  mchNo=${demo.mchNo}  appId=${demo.appId}  appSecret=${demo.appSecret}`,
    '',
    'First payment — in a second terminal:',
    `  export POLYPAY_URL=${url} POLYPAY_MCH_NO=${demo.mchNo} POLYPAY_APP_ID=${demo.appId} POLYPAY_APP_SECRET=${demo.appSecret}`,
    '  npm run cli -- demo-receiver --port 9219 &          # a merchant notify endpoint that verifies and prints',
    '  npm run cli -- pay create --way WX_NATIVE --amount 100 --notify-url http://127.0.0.1:9219/notify',
    '  npm run cli -- sandbox wechat pay <code_url printed above>     # or open the payer page, or POST /sandbox/v1/pay',
    '  npm run cli -- pay query <payOrderId>                         # state 2 = paid',
    '  npm run cli -- refund create <payOrderId> --amount 40 --notify-url http://127.0.0.1:9219/notify',
    '  npm run cli -- refund create <payOrderId> --amount 60 --notify-url http://127.0.0.1:9219/notify',
    '  npm run cli -- pay query <payOrderId>                         # state 5 = fully refunded',
    ...(p.alipaySandboxUrl ? ['Alipay: pay create --way ALI_QR …, then: npm run cli -- sandbox alipay pay <qr_code printed above>'] : []),
    ...(p.unionpaySandboxUrl ? ['云闪付: pay create --way UP_QR …, then: npm run cli -- sandbox unionpay pay <qrCode printed above>   (bar code: --way YSF_BAR --auth-code 6200000000000000001)'] : []),
    '====================================================',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** Console URLs and, on the start that created them, the sign-in passwords (shown this once). */
function consoleLines(url: string, logins: ConsoleLogins | undefined): string[] {
  if (!logins) return [];
  const reset = (who: string) => `(password shown at its first start; new one: npm run cli -- console reset-password ${who})`;
  return [
    `console      ${url}/console/   operator: ${logins.admin ? `admin / ${logins.admin.password}   ← shown once, note it` : reset('admin')}`,
    `             ${url}/merchant/  merchant: ${logins.merchant ? `${logins.merchant.username} / ${logins.merchant.password}  (demo merchant ${logins.merchant.mchNo})` : 'users are made in the operator console (Merchants → users)'}`,
  ];
}
