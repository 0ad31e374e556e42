import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { PAY_WAYS } from '../../domain/pay-way.ts';
import type { Gateway } from '../../gateway.ts';
import type { RealmSettings } from './realm.ts';
import { appInScope, scopeOf } from './order-routes.ts';

const AppParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) });
const AppsQuery = Type.Object({ mchNo: Type.Optional(Type.String({ maxLength: 32 })) });

/**
 * A channel configuration as the consoles show it: parameters in clear, and for each secret only
 * whether it is set — never the value, not even a masked part of it (secrets are write-only).
 */
export async function channelConfigsView(gw: Gateway, appId: string): Promise<Array<{ ifCode: string; params: Record<string, string>; secretsSet: Record<string, boolean>; ways: string[] }>> {
  const ways = await gw.db.query<{ if_code: string; way_code: string }>(`SELECT if_code, way_code FROM pay_passages WHERE app_id = $1 AND state = 1 ORDER BY way_code`, [appId]);
  const out = [];
  for (const ifCode of gw.descriptors.keys()) {
    const config = await gw.tenancy.getChannelConfig(appId, ifCode);
    const enabled = ways.rows.filter((w) => w.if_code === ifCode).map((w) => w.way_code);
    if (!config && enabled.length === 0) continue;
    const secretsSet = Object.fromEntries(Object.entries(config?.secrets ?? {}).map(([k, v]) => [k, v !== '']));
    out.push({ ifCode, params: config?.params ?? {}, secretsSet, ways: enabled });
  }
  return out;
}

/** Apps and their keys, the installed channels and their configuration forms — both realms, scoped. */
export function registerAppRoutes(api: FastifyInstance, gw: Gateway, s: RealmSettings): void {
  api.get('/channels', { schema: { hide: true } }, async () => ({
    channels: [...gw.descriptors.values()].map((c) => ({ ifCode: c.ifCode, name: c.name, ways: c.ways.map((w) => ({ wayCode: w, name: PAY_WAYS[w] })), configFields: c.configFields })),
    ways: Object.entries(PAY_WAYS).map(([wayCode, name]) => ({ wayCode, name })),
  }));

  api.get<{ Querystring: Static<typeof AppsQuery> }>('/apps', { schema: { hide: true, querystring: AppsQuery } }, async (req) => {
    const scope = scopeOf(s, req);
    return { apps: await gw.tenancy.listApps(scope.mchNo ?? req.query.mchNo) };
  });

  api.get<{ Params: Static<typeof AppParams> }>('/apps/:appId/channels', { schema: { hide: true, params: AppParams } }, async (req) => {
    await appInScope(gw, scopeOf(s, req), req.params.appId);
    return { configs: await channelConfigsView(gw, req.params.appId) };
  });

  // The new secret is in this answer only; it is stored sealed and never shown again.
  api.post<{ Params: Static<typeof AppParams> }>('/apps/:appId/secret', { schema: { hide: true, params: AppParams } }, async (req) => {
    const app = await appInScope(gw, scopeOf(s, req), req.params.appId);
    return { appId: app.appId, appSecret: await gw.tenancy.rotateAppSecret(app.appId) };
  });
}
