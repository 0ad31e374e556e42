import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import QRCode from 'qrcode';
import { request } from 'undici';
import { MerchantClient } from './merchant-api/client.ts';
import { verifySignature } from './merchant-api/sign.ts';
import { registerWechatSandboxCommands } from './channels/wechat-pay/simulator/cli.ts';
import { registerAlipaySandboxCommands } from './channels/alipay/simulator/cli.ts';
import { registerUnionPaySandboxCommands } from './channels/unionpay/simulator/cli.ts';
import { registerShengpaySandboxCommands } from './channels/shengpay/simulator/cli.ts';
import { registerJdpaySandboxCommands } from './channels/jdpay/simulator/cli.ts';
import { registerPaypalSandboxCommands } from './channels/paypal/simulator/cli.ts';
import { registerAbcSandboxCommands } from './channels/abcpay/simulator/cli.ts';
import { registerQqpaySandboxCommands } from './channels/qqpay/simulator/cli.ts';
import { registerIcbcSandboxCommands } from './channels/icbc/simulator/cli.ts';
import { registerXinlianSandboxCommands } from './channels/xinlian/simulator/cli.ts';

const program = new Command('polypay').description('Polypay command line: merchant API calls, a demo notify receiver, admin and sandbox tools');

function merchant(opts: { url?: string; mchNo?: string; appId?: string; appSecret?: string }): MerchantClient {
  const c = {
    baseUrl: opts.url ?? process.env.POLYPAY_URL ?? 'http://127.0.0.1:9216',
    mchNo: opts.mchNo ?? process.env.POLYPAY_MCH_NO,
    appId: opts.appId ?? process.env.POLYPAY_APP_ID,
    appSecret: opts.appSecret ?? process.env.POLYPAY_APP_SECRET,
  };
  if (!c.mchNo || !c.appId || !c.appSecret) {
    console.error('merchant credentials missing: pass --mch-no/--app-id/--app-secret or export POLYPAY_MCH_NO, POLYPAY_APP_ID, POLYPAY_APP_SECRET (npm start prints them)');
    process.exit(2);
  }
  return new MerchantClient(c as { baseUrl: string; mchNo: string; appId: string; appSecret: string });
}

const withMerchant = (cmd: Command) =>
  cmd.option('--url <url>', 'gateway URL (env POLYPAY_URL)').option('--mch-no <mchNo>').option('--app-id <appId>').option('--app-secret <secret>');

function print(answer: unknown): void {
  console.log(JSON.stringify(answer, null, 2));
}

const pay = program.command('pay').description('pay orders through the merchant API');
withMerchant(pay.command('create'))
  .requiredOption('--way <wayCode>', 'pay way, e.g. WX_NATIVE')
  .requiredOption('--amount <fen>', 'amount in fen (integer)')
  .option('--order-no <mchOrderNo>', 'merchant order number (default: random)')
  .option('--subject <text>', 'subject', 'Polypay demo')
  .option('--notify-url <url>')
  .option('--return-url <url>')
  .option('--currency <code>', 'ISO currency; --amount is in its minor unit (usd: cents, jpy: yen)', 'cny')
  .option('--openid <openid>', 'payer openid (WX_JSAPI, WX_LITE)')
  .option('--auth-code <code>', "the payer's payment code (bar-code ways, AUTO_BAR)")
  .option('--user-id <userId>', '云闪付 user id from the user authorisation (YSF_JSAPI)')
  .option('--buyer-id <id>', "the payer's Alipay user id 2088… or open_id (ALI_JSAPI, ALI_LITE, XLALILITE)")
  .option('--client-ip <ip>', 'payer ip', '127.0.0.1')
  .option('--pay-data-type <type>', 'codeUrl | codeImgUrl | payurl …')
  .action(async (o) => {
    const extra: Record<string, string> = {};
    if (o.openid) extra.openid = o.openid;
    if (o.authCode) extra.authCode = o.authCode;
    if (o.userId) extra.userId = o.userId;
    if (o.buyerId) extra.buyerUserId = o.buyerId;
    if (o.payDataType) extra.payDataType = o.payDataType;
    const answer = await merchant(o).unifiedOrder({
      mchOrderNo: o.orderNo ?? `demo${Date.now()}${randomUUID().slice(0, 4)}`, wayCode: o.way, amount: Number(o.amount), currency: o.currency, subject: o.subject, body: o.subject,
      clientIp: o.clientIp, notifyUrl: o.notifyUrl, returnUrl: o.returnUrl, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined,
    });
    print(answer);
    const data = answer.data as { payDataType?: string; payData?: string } | undefined;
    if (data?.payDataType === 'codeUrl' && data.payData) console.log(await QRCode.toString(data.payData, { type: 'terminal', small: true }));
  });
withMerchant(pay.command('query <payOrderId>')).option('--sync', 'ask the channel first').action(async (id, o) => print(await merchant(o).query({ payOrderId: id, sync: o.sync ? 1 : undefined })));
withMerchant(pay.command('close <payOrderId>')).action(async (id, o) => print(await merchant(o).close({ payOrderId: id })));

const refund = program.command('refund').description('refunds through the merchant API');
withMerchant(refund.command('create <payOrderId>'))
  .requiredOption('--amount <fen>', 'refund amount in fen')
  .option('--refund-no <mchRefundNo>')
  .option('--reason <text>', 'reason', 'demo refund')
  .option('--notify-url <url>')
  .option('--currency <code>', 'the order\'s currency', 'cny')
  .action(async (id, o) => print(await merchant(o).refund({ payOrderId: id, mchRefundNo: o.refundNo ?? `r${Date.now()}`, refundAmount: Number(o.amount), currency: o.currency, refundReason: o.reason, notifyUrl: o.notifyUrl })));
withMerchant(refund.command('query <refundOrderId>')).option('--sync').action(async (id, o) => print(await merchant(o).refundQuery({ refundOrderId: id, sync: o.sync ? 1 : undefined })));

program
  .command('demo-receiver')
  .description('a merchant notify endpoint: verifies each notification signature, prints it, answers SUCCESS')
  .option('--port <port>', 'port', '9219')
  .option('--app-secret <secret>', 'app secret (env POLYPAY_APP_SECRET)')
  .action((o) => {
    const secret = o.appSecret ?? process.env.POLYPAY_APP_SECRET;
    if (!secret) {
      console.error('--app-secret or POLYPAY_APP_SECRET is required to verify notifications');
      process.exit(2);
    }
    createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const fields = Object.fromEntries(new URLSearchParams(raw));
        const ok = typeof fields.sign === 'string' && verifySignature(fields, secret, 'MD5', fields.sign);
        console.log(`${new Date().toISOString()} ${req.url} signature ${ok ? 'VALID' : 'INVALID'}\n${JSON.stringify(fields, null, 2)}`);
        res.end(ok ? 'SUCCESS' : 'FAIL');
      });
    }).listen(Number(o.port), '127.0.0.1', () => console.log(`demo receiver on http://127.0.0.1:${o.port}/notify`));
  });

function adminToken(): string {
  if (process.env.POLYPAY_ADMIN_TOKEN) return process.env.POLYPAY_ADMIN_TOKEN;
  const file = join(resolve(process.env.POLYPAY_DATA_DIR ?? './data'), 'admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  console.error('admin token not found: set POLYPAY_ADMIN_TOKEN or run from the folder holding data/admin.token');
  process.exit(2);
}

async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const base = process.env.POLYPAY_URL ?? 'http://127.0.0.1:9216';
  const res = await request(`${base}/admin/v1${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${adminToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  print(await res.body.json());
}

const merchants = program.command('merchant').description('operator: merchants and apps (admin API)');
merchants.command('list').action(() => admin('GET', '/merchants'));
merchants.command('create <name>').option('--mch-no <mchNo>').action((name, o) => admin('POST', '/merchants', { name, mchNo: o.mchNo }));
merchants.command('add-app <mchNo>').option('--app-id <appId>').option('--name <name>').action((mchNo, o) => admin('POST', `/merchants/${mchNo}/apps`, { appId: o.appId, name: o.name }));
merchants.command('apps').option('--mch-no <mchNo>').action((o) => admin('GET', `/apps${o.mchNo ? `?mchNo=${encodeURIComponent(o.mchNo)}` : ''}`));
merchants
  .command('set-channel <appId> <ifCode>')
  .description('set channel parameters; --param k=v (repeatable), --secret k=v or k=@file.pem')
  .option('--param <kv...>', 'plain parameter')
  .option('--secret <kv...>', 'secret parameter (k=@path reads a file)')
  .action((appId, ifCode, o) => {
    const kv = (list: string[] = []) => Object.fromEntries(list.map((s) => {
      const i = s.indexOf('=');
      const v = s.slice(i + 1);
      return [s.slice(0, i), v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v];
    }));
    return admin('PUT', `/apps/${appId}/channels/${ifCode}`, { params: kv(o.param), secrets: kv(o.secret) });
  });
merchants.command('enable-ways <appId> <ifCode> <ways...>').action((appId, ifCode, ways) => admin('PUT', `/apps/${appId}/ways`, { ifCode, ways }));
program.command('bill <appId> <ifCode> <date>').description('fetch, verify and store a channel bill (date yyyy-MM-dd)').action((appId, ifCode, date) => admin('POST', `/apps/${appId}/bills/${ifCode}`, { date }));
program.command('notifications').option('--order <id>').action((o) => admin('GET', `/notifications${o.order ? `?orderId=${o.order}` : ''}`));
program.command('resend <notificationId>').action((id) => admin('POST', `/notifications/${id}/resend`));

program
  .command('console')
  .description('operator and merchant consoles (http://127.0.0.1:9216/console/, /merchant/)')
  .command('reset-password <username>')
  .description('a new password for a console user (printed once); lifts a lockout')
  .option('--merchant', 'a merchant-console user (default: operator)')
  .action((username, o) => admin('POST', `/console-users/${o.merchant ? 'merchant' : 'operator'}/${encodeURIComponent(username)}/password`));

const sandbox = program.command('sandbox').description('channel simulators (the sandbox)');
registerWechatSandboxCommands(sandbox);
registerAlipaySandboxCommands(sandbox);
registerUnionPaySandboxCommands(sandbox);
registerShengpaySandboxCommands(sandbox);
registerJdpaySandboxCommands(sandbox);
registerAbcSandboxCommands(sandbox);
registerPaypalSandboxCommands(sandbox);
registerQqpaySandboxCommands(sandbox);
registerIcbcSandboxCommands(sandbox);
registerXinlianSandboxCommands(sandbox);

program.parseAsync().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
