import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { Type, type Static } from 'typebox';
import { ChannelError } from '../channels/types.ts';
import { apiVersionOf, configuredV2AppIds, parseWechatPayV2Config, type WechatPayV2Config } from '../channels/wechat-pay/v2-config.ts';
import { PRODUCT_ID_RE, bizPayUrl, parseScanCallback, scanReply } from '../channels/wechat-pay/v2-product-qr.ts';
import { buildWechatXml } from '../channels/wechat-pay/v2-xml.ts';
import { ApiError } from '../domain/errors.ts';
import type { Gateway } from '../gateway.ts';
import { adminGuard } from './admin-guard.ts';

/**
 * WeChat Pay Native 模式一 (seed 001 扫码支付一): operators define an app's products and print their
 * signed product codes; WeChat calls POST /api/wxpay/native1/{appId} (the 扫码回调URL to set in the
 * merchant platform) when a payer scans one, and the order is placed through the ordinary order path.
 * Needs the app's wxpay configuration in API v2 mode (the product code and the callback are v2).
 */

const ProductBody = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: 100_000_000_00 }),
  currency: Type.Optional(Type.String({ maxLength: 3 })),
  subject: Type.String({ minLength: 1, maxLength: 64 }),
  body: Type.Optional(Type.String({ maxLength: 256 })),
  notifyUrl: Type.Optional(Type.String({ maxLength: 256, pattern: '^https?://' })),
});

interface ProductRow {
  app_id: string;
  product_id: string;
  amount: string;
  currency: string;
  subject: string;
  body: string;
  notify_url: string | null;
}

function view(row: ProductRow): Record<string, unknown> {
  return { appId: row.app_id, productId: row.product_id, amount: Number(row.amount), currency: row.currency.toLowerCase(), subject: row.subject, body: row.body, notifyUrl: row.notify_url };
}

async function v2Config(gw: Gateway, appId: string): Promise<WechatPayV2Config> {
  const config = await gw.tenancy.getChannelConfig(appId, 'wxpay');
  if (!config) throw new ApiError('NOT_FOUND', `app ${appId} has no wxpay configuration`);
  if (apiVersionOf(config) !== 'v2') throw new ApiError('PARAM_INVALID', 'Native 模式一 product codes need the wxpay configuration in API v2 mode (apiVersion=v2)');
  return parseWechatPayV2Config(config);
}

function xml(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.status(status).type('text/xml; charset=utf-8').send(text);
}

export function registerWechatProductRoutes(app: FastifyInstance, gw: Gateway): void {
  const TAG = ['Admin'];
  const security = [{ adminToken: [] }];
  const product = async (appId: string, productId: string): Promise<ProductRow | undefined> =>
    (await gw.db.query<ProductRow>(`SELECT * FROM wechat_products WHERE app_id = $1 AND product_id = $2 AND state = 1`, [appId, productId])).rows[0];

  app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard(gw.config.adminToken));
    admin.put<{ Params: { appId: string; productId: string }; Body: Static<typeof ProductBody> }>(
      '/apps/:appId/wxpay/products/:productId',
      { schema: { tags: TAG, security, summary: 'Define (or change) a Native 模式一 product', body: ProductBody } },
      async (req) => {
        const { appId, productId } = req.params;
        if (!PRODUCT_ID_RE.test(productId)) throw new ApiError('PARAM_INVALID', 'productId must be 1–32 characters of [0-9A-Za-z_-]');
        if ((req.body.currency ?? 'cny').toUpperCase() !== 'CNY') throw new ApiError('PARAM_INVALID', 'WeChat Pay products are priced in cny');
        await v2Config(gw, appId);
        const r = await gw.db.query<ProductRow>(
          `INSERT INTO wechat_products (app_id, product_id, amount, subject, body, notify_url) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (app_id, product_id) DO UPDATE SET amount = EXCLUDED.amount, subject = EXCLUDED.subject, body = EXCLUDED.body, notify_url = EXCLUDED.notify_url, state = 1, updated_at = now()
           RETURNING *`,
          [appId, productId, req.body.amount, req.body.subject, req.body.body ?? '', req.body.notifyUrl ?? null],
        );
        return view(r.rows[0] as ProductRow);
      },
    );
    admin.get<{ Params: { appId: string } }>('/apps/:appId/wxpay/products', { schema: { tags: TAG, security, summary: 'Native 模式一 products of an app' } }, async (req) => ({
      products: (await gw.db.query<ProductRow>(`SELECT * FROM wechat_products WHERE app_id = $1 AND state = 1 ORDER BY product_id`, [req.params.appId])).rows.map(view),
    }));
    admin.get<{ Params: { appId: string; productId: string }; Querystring: { format?: string } }>(
      '/apps/:appId/wxpay/products/:productId/qr',
      { schema: { tags: TAG, security, summary: 'The signed product code (weixin://wxpay/bizpayurl?sign=…); format=png|svg for an image' } },
      async (req, reply) => {
        const { appId, productId } = req.params;
        const config = await v2Config(gw, appId);
        if (!(await product(appId, productId))) throw new ApiError('NOT_FOUND', `product ${productId}`);
        const codeUrl = bizPayUrl({ appid: config.appId, mchId: config.mchId, productId, apiKey: config.apiKey, timeStamp: String(Math.floor(Date.now() / 1000)) });
        if (req.query.format === 'png') return reply.type('image/png').send(await QRCode.toBuffer(codeUrl, { type: 'png', margin: 2, width: 300 }));
        if (req.query.format === 'svg') return reply.type('image/svg+xml').send(await QRCode.toString(codeUrl, { type: 'svg', margin: 2 }));
        return { appId, productId, codeUrl };
      },
    );
  }, { prefix: '/admin/v1' });

  app.post<{ Params: { appId: string } }>('/api/wxpay/native1/:appId', { schema: { hide: true } }, async (req, reply) => {
    const { appId } = req.params;
    let config: WechatPayV2Config;
    try {
      config = await v2Config(gw, appId);
    } catch (err) {
      if (!(err instanceof ApiError) && !(err instanceof ChannelError)) throw err;
      gw.log.warn({ appId, msg: err.message }, 'product scan for an app without a v2 wxpay configuration');
      return xml(reply, 404, buildWechatXml({ return_code: 'FAIL', return_msg: 'not configured' }));
    }
    let scan;
    try {
      scan = parseScanCallback((req.rawBody ?? Buffer.alloc(0)).toString('utf8'), config.apiKey);
      if (scan.mchId !== config.mchId || !configuredV2AppIds(config).includes(scan.appid)) throw new ChannelError('mismatch', `scan callback names ${scan.mchId}/${scan.appid}`);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      gw.log.warn({ appId, reason: err.kind, msg: err.message }, 'product scan callback refused');
      return xml(reply, 400, buildWechatXml({ return_code: 'FAIL', return_msg: err.kind === 'bad_signature' ? '签名失败' : '参数错误' }));
    }
    const refuse = (error: string) => xml(reply, 200, scanReply({ appid: scan.appid, mchId: config.mchId, apiKey: config.apiKey, error }));
    const row = await product(appId, scan.productId);
    const merchantApp = await gw.tenancy.getApp(appId);
    if (!row || !merchantApp?.usable) return refuse('商品不存在或已下架');
    const result = await gw.payOrders.unifiedOrder(merchantApp, {
      mchOrderNo: `N1${Date.now()}${randomInt(1_000_000).toString().padStart(6, '0')}`,
      wayCode: 'WX_NATIVE',
      amount: Number(row.amount),
      currency: row.currency.toLowerCase(),
      subject: row.subject,
      body: row.body || row.subject,
      ...(row.notify_url ? { notifyUrl: row.notify_url } : {}),
      channelExtra: JSON.stringify({ openid: scan.openid, productId: scan.productId, scanMode: 'product' }),
    });
    const prepayId = result.payDataType === 'wxapp' && result.payData ? (JSON.parse(result.payData) as { prepay_id?: string }).prepay_id : undefined;
    if (result.orderState !== 1 || !prepayId) return refuse(result.errMsg ?? '下单失败，请稍后再试');
    gw.log.info({ appId, productId: scan.productId, payOrderId: result.payOrderId }, 'product code scanned: order placed');
    return xml(reply, 200, scanReply({ appid: scan.appid, mchId: config.mchId, apiKey: config.apiKey, prepayId }));
  });
}
