import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import type { Gateway } from '../../gateway.ts';
import { ROLES, type Role } from '../rbac.ts';
import type { RealmSettings } from './realm.ts';
import { channelConfigsView } from './app-routes.ts';

const MchParams = Type.Object({ mchNo: Type.String({ pattern: '^[0-9A-Za-z_-]{1,32}$' }) });
const AppParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) });
const ChannelParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }), ifCode: Type.String({ pattern: '^[0-9A-Za-z_-]{1,32}$' }) });
const StringMap = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 16_384 }));
const MerchantBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), mchNo: Type.Optional(Type.String({ maxLength: 32 })), shortName: Type.Optional(Type.String({ maxLength: 32 })) });
const MerchantPatch = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), state: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })) });
const AppBody = Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })) });
const AppPatch = Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), state: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })) });
const ChannelBody = Type.Object({ params: Type.Optional(StringMap), secrets: Type.Optional(StringMap), ways: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 64 }) });
const UserBody = Type.Object({ username: Type.String({ minLength: 2, maxLength: 64 }), role: Type.Union(ROLES.map((r) => Type.Literal(r))) });

/** Operator-only: merchants, apps, channel configuration and pay ways, merchant users, the audit trail. */
export function registerOperatorRoutes(api: FastifyInstance, gw: Gateway, s: RealmSettings): void {
  api.get('/merchants', { schema: { hide: true } }, async () => ({ merchants: await gw.tenancy.listMerchants() }));
  api.post<{ Body: Static<typeof MerchantBody> }>('/merchants', { schema: { hide: true, body: MerchantBody } }, async (req) => {
    const r = await gw.tenancy.createMerchant({ name: req.body.name.trim(), mchNo: req.body.mchNo || undefined, shortName: req.body.shortName || undefined });
    if (!r.created) throw new ApiError('PARAM_INVALID', `merchant ${r.mchNo} exists`);
    return r;
  });
  api.patch<{ Params: Static<typeof MchParams>; Body: Static<typeof MerchantPatch> }>('/merchants/:mchNo', { schema: { hide: true, params: MchParams, body: MerchantPatch } }, async (req) => {
    const r = await gw.db.query(`UPDATE merchants SET name = COALESCE($2, name), state = COALESCE($3, state) WHERE mch_no = $1 RETURNING mch_no AS "mchNo", name, state`, [req.params.mchNo, req.body.name ?? null, req.body.state ?? null]);
    if (!r.rows[0]) throw new ApiError('NOT_FOUND', `merchant ${req.params.mchNo}`);
    return r.rows[0];
  });
  // The app secret is in this answer only (stored sealed under the master key).
  api.post<{ Params: Static<typeof MchParams>; Body: Static<typeof AppBody> }>('/merchants/:mchNo/apps', { schema: { hide: true, params: MchParams, body: AppBody } }, async (req) => {
    const r = await gw.tenancy.createApp({ mchNo: req.params.mchNo, name: req.body.name });
    return { appId: r.appId, appSecret: r.appSecret };
  });
  api.patch<{ Params: Static<typeof AppParams>; Body: Static<typeof AppPatch> }>('/apps/:appId', { schema: { hide: true, params: AppParams, body: AppPatch } }, async (req) => {
    const r = await gw.db.query(`UPDATE merchant_apps SET name = COALESCE($2, name), state = COALESCE($3, state) WHERE app_id = $1 RETURNING app_id AS "appId", name, state`, [req.params.appId, req.body.name ?? null, req.body.state ?? null]);
    if (!r.rows[0]) throw new ApiError('NOT_FOUND', `app ${req.params.appId}`);
    return r.rows[0];
  });

  // One form per channel: parameters, secrets (blank = keep the stored value) and the ways it serves.
  api.put<{ Params: Static<typeof ChannelParams>; Body: Static<typeof ChannelBody> }>('/apps/:appId/channels/:ifCode', { schema: { hide: true, params: ChannelParams, body: ChannelBody } }, async (req) => {
    const { appId, ifCode } = req.params;
    const secrets = Object.fromEntries(Object.entries(req.body.secrets ?? {}).filter(([, v]) => v !== ''));
    // Parameters are sent whole ('' clears one); secrets only when typed.
    await gw.tenancy.setChannelConfig(appId, ifCode, req.body.params ?? {}, secrets);
    // Checked ways get a passage of this channel (default routing: priority 0, weight 100); unchecked ones are switched off.
    await gw.passages.enableWays(appId, ifCode, req.body.ways);
    for (const p of await gw.passages.list(appId)) {
      if (p.ifCode === ifCode && p.enabled && !req.body.ways.includes(p.wayCode)) await gw.passages.upsert(appId, { wayCode: p.wayCode, ifCode, enabled: false });
    }
    return { configs: await channelConfigsView(gw, appId) };
  });

  // Sandbox only: credentials a running simulator just issued, for the operator to review and save.
  api.post<{ Params: Static<typeof ChannelParams> }>('/apps/:appId/channels/:ifCode/sandbox-keys', { schema: { hide: true, params: ChannelParams } }, async (req) => {
    const issue = gw.sandboxKeys.get(req.params.ifCode);
    if (!issue || !(await gw.tenancy.getApp(req.params.appId))) throw new ApiError('NOT_FOUND', `no sandbox for ${req.params.ifCode}`);
    return issue();
  });

  api.get<{ Params: Static<typeof MchParams> }>('/merchants/:mchNo/users', { schema: { hide: true, params: MchParams } }, async (req) => ({ users: await s.accounts.listUsers('merchant', req.params.mchNo) }));
  api.post<{ Params: Static<typeof MchParams>; Body: Static<typeof UserBody> }>('/merchants/:mchNo/users', { schema: { hide: true, params: MchParams, body: UserBody } }, async (req) => {
    return s.accounts.createUser({ realm: 'merchant', username: req.body.username, role: req.body.role as Role, mchNo: req.params.mchNo });
  });

  api.get('/audit', { schema: { hide: true } }, async () => {
    const r = await gw.db.query(`SELECT id, realm, username, mch_no AS "mchNo", action, target, outcome, created_at AS "at" FROM console_audit ORDER BY id DESC LIMIT 200`);
    return { entries: r.rows };
  });
}
