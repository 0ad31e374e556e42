import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../domain/errors.ts';
import type { Gateway } from '../gateway.ts';
import { adminGuard } from './admin-guard.ts';

const TAG = ['Admin'];
const StringMap = Type.Record(Type.String(), Type.String({ maxLength: 8192 }));

const MerchantBody = Type.Object({ mchNo: Type.Optional(Type.String({ maxLength: 32 })), name: Type.String({ minLength: 1, maxLength: 64 }), shortName: Type.Optional(Type.String({ maxLength: 32 })) });
const AppBody = Type.Object({ appId: Type.Optional(Type.String({ maxLength: 64 })), appSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 128 })), name: Type.Optional(Type.String({ maxLength: 64 })) });
const ChannelBody = Type.Object({ params: Type.Optional(StringMap), secrets: Type.Optional(StringMap) });
const WaysBody = Type.Object({ ifCode: Type.String({ maxLength: 32 }), ways: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 64 }) });
// Null first: with type coercion on, Ajv would turn null into 0 if the integer branch came first.
const Amount = Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })]);
const Minute = Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 1439 })]);
const PassageBody = Type.Object({
  wayCode: Type.String({ maxLength: 32 }),
  ifCode: Type.String({ maxLength: 32 }),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: 'lower is tried first' })),
  weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'share among passages of equal priority' })),
  minAmount: Type.Optional(Amount),
  maxAmount: Type.Optional(Amount),
  dailyLimit: Type.Optional(Amount),
  windowStart: Type.Optional(Minute),
  windowEnd: Type.Optional(Minute),
  feeRatePpm: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'merchant fee in parts per million (0.38 % = 3800)' })),
  enabled: Type.Optional(Type.Boolean()),
});

/**
 * Operator API (Bearer POLYPAY_ADMIN_TOKEN). Secrets are accepted, never returned: channel
 * secrets come back masked, an app secret only in the answer that created or rotated it.
 */
export function registerAdminRoutes(app: FastifyInstance, gw: Gateway): void {
  const guard = adminGuard(gw.config.adminToken);
  const security = [{ adminToken: [] }];

  app.register(async (admin) => {
    admin.addHook('onRequest', guard);

    admin.post<{ Body: Static<typeof MerchantBody> }>('/merchants', { schema: { tags: TAG, security, summary: 'Create a merchant (idempotent on mchNo)', body: MerchantBody } }, async (req) => {
      return gw.tenancy.createMerchant(req.body);
    });
    admin.get('/merchants', { schema: { tags: TAG, security, summary: 'List merchants' } }, async () => ({ merchants: await gw.tenancy.listMerchants() }));

    admin.post<{ Params: { mchNo: string }; Body: Static<typeof AppBody> }>('/merchants/:mchNo/apps', { schema: { tags: TAG, security, summary: 'Create an app; the secret is shown only in this answer', body: AppBody } }, async (req) => {
      return gw.tenancy.createApp({ mchNo: req.params.mchNo, ...req.body });
    });
    admin.get<{ Querystring: { mchNo?: string } }>('/apps', { schema: { tags: TAG, security, summary: 'List apps with their enabled ways' } }, async (req) => ({ apps: await gw.tenancy.listApps(req.query.mchNo) }));
    admin.post<{ Params: { appId: string } }>('/apps/:appId/secret', { schema: { tags: TAG, security, summary: 'Rotate the app secret (shown once)' } }, async (req) => ({ appId: req.params.appId, appSecret: await gw.tenancy.rotateAppSecret(req.params.appId) }));

    admin.get('/channels', { schema: { tags: TAG, security, summary: 'Installed channels, their ways and configuration fields' } }, async () => ({
      channels: [...gw.descriptors.values()].map((c) => ({ ifCode: c.ifCode, name: c.name, ways: c.ways, configFields: c.configFields })),
    }));
    admin.put<{ Params: { appId: string; ifCode: string }; Body: Static<typeof ChannelBody> }>('/apps/:appId/channels/:ifCode', { schema: { tags: TAG, security, summary: 'Set channel configuration; omitted secrets keep their value', body: ChannelBody } }, async (req) => {
      await gw.tenancy.setChannelConfig(req.params.appId, req.params.ifCode, req.body.params ?? {}, req.body.secrets ?? {});
      return { configs: await gw.tenancy.describeChannelConfigs(req.params.appId) };
    });
    admin.get<{ Params: { appId: string } }>('/apps/:appId/channels', { schema: { tags: TAG, security, summary: 'Channel configuration with secrets masked' } }, async (req) => ({ configs: await gw.tenancy.describeChannelConfigs(req.params.appId) }));
    admin.put<{ Params: { appId: string }; Body: Static<typeof WaysBody> }>('/apps/:appId/ways', { schema: { tags: TAG, security, summary: 'Enable pay ways for an app through a channel', body: WaysBody } }, async (req) => {
      await gw.passages.enableWays(req.params.appId, req.body.ifCode, req.body.ways);
      return { apps: await gw.tenancy.listApps() };
    });
    admin.get<{ Params: { appId: string } }>('/apps/:appId/passages', { schema: { tags: TAG, security, summary: 'Pay passages of an app (docs/routing.md)' } }, async (req) => ({ passages: await gw.passages.list(req.params.appId) }));
    admin.put<{ Params: { appId: string }; Body: Static<typeof PassageBody> }>('/apps/:appId/passages', { schema: { tags: TAG, security, summary: 'Create or update the passage of (way, channel); omitted fields keep their value', body: PassageBody } }, async (req) => ({
      passage: await gw.passages.upsert(req.params.appId, req.body),
    }));
    admin.delete<{ Params: { appId: string; passageId: string } }>('/apps/:appId/passages/:passageId', { schema: { tags: TAG, security, summary: 'Remove a passage' } }, async (req) => {
      await gw.passages.remove(req.params.appId, Number(req.params.passageId));
      return { removed: Number(req.params.passageId) };
    });
    admin.get('/passages/health', { schema: { tags: TAG, security, summary: "Circuit breakers of this process and the latest trips and recoveries" } }, async () => gw.passages.health());

    admin.post<{ Params: { appId: string; ifCode: string }; Body: { date?: string } }>('/apps/:appId/bills/:ifCode', { schema: { tags: TAG, security, summary: 'Fetch, verify, parse and store a channel bill for one day', body: Type.Object({ date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'yyyy-MM-dd (China time)' }) }) } }, async (req) => {
      return gw.bills.fetch(req.params.appId, req.params.ifCode, String(req.body.date));
    });
    admin.get<{ Params: { appId: string; ifCode: string; date: string } }>('/apps/:appId/bills/:ifCode/:date', { schema: { tags: TAG, security, summary: 'A stored bill with its rows' } }, async (req) => {
      const bill = await gw.db.query(`SELECT * FROM channel_bills WHERE app_id = $1 AND if_code = $2 AND bill_date = $3`, [req.params.appId, req.params.ifCode, req.params.date]);
      if (!bill.rows[0]) throw new ApiError('NOT_FOUND', `bill ${req.params.date}`);
      const rows = await gw.db.query(`SELECT line_no AS "lineNo", kind, trade_time AS "time", out_trade_no AS "outTradeNo", channel_order_no AS "channelOrderNo", out_refund_no AS "outRefundNo", amount, fee FROM channel_bill_rows WHERE bill_id = $1 ORDER BY line_no`, [bill.rows[0].id]);
      return { bill: bill.rows[0], rows: rows.rows };
    });

    admin.get<{ Params: { payOrderId: string } }>('/orders/:payOrderId', { schema: { tags: TAG, security, summary: 'A pay order with its refunds, timeline and notifications' } }, async (req) => {
      const order = await gw.db.query(`SELECT * FROM pay_orders WHERE pay_order_id = $1`, [req.params.payOrderId]);
      if (!order.rows[0]) throw new ApiError('NOT_FOUND', req.params.payOrderId);
      const refunds = await gw.db.query(`SELECT * FROM refund_orders WHERE pay_order_id = $1 ORDER BY created_at`, [req.params.payOrderId]);
      const ids = [req.params.payOrderId, ...refunds.rows.map((r) => String(r.refund_order_id))];
      const events = await gw.db.query(`SELECT * FROM order_events WHERE order_id = ANY($1::text[]) ORDER BY id`, [ids]);
      const notifications = (await Promise.all(ids.map((id) => gw.notifications.list({ orderId: id })))).flat();
      return { order: order.rows[0], refunds: refunds.rows, events: events.rows, notifications };
    });
    admin.get<{ Querystring: { orderId?: string; mchNo?: string; state?: string } }>('/notifications', { schema: { tags: TAG, security, summary: 'Merchant notifications with their attempts' } }, async (req) => ({
      notifications: await gw.notifications.list({ orderId: req.query.orderId, mchNo: req.query.mchNo, state: req.query.state === undefined ? undefined : Number(req.query.state) }),
    }));
    admin.post<{ Params: { id: string } }>('/notifications/:id/resend', { schema: { tags: TAG, security, summary: 'Send a notification again now' } }, async (req) => {
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || !(await gw.notifications.resend(id))) throw new ApiError('NOT_FOUND', `notification ${req.params.id}`);
      return { resent: id };
    });

    // A console password nobody knows any more (the banner shows it once): a new one, shown in this answer.
    admin.post<{ Params: { realm: string; username: string } }>('/console-users/:realm/:username/password', { schema: { tags: TAG, security, summary: 'Console: reset a user\'s password (lifts a lockout, ends its sessions)' } }, async (req) => {
      const realm = req.params.realm === 'merchant' ? 'merchant' : req.params.realm === 'operator' ? 'operator' : null;
      if (!realm) throw new ApiError('PARAM_INVALID', 'realm must be operator or merchant');
      const user = (await gw.consoleAccounts.listUsers(realm)).find((u) => u.username === req.params.username);
      if (!user) throw new ApiError('NOT_FOUND', `${realm} user ${req.params.username}`);
      return { realm, username: user.username, password: await gw.consoleAccounts.resetPassword(realm, user.id) };
    });
  }, { prefix: '/admin/v1' });
}
