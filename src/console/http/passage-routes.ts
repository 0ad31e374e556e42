import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import type { Gateway } from '../../gateway.ts';
import { type PassageSettings, assertChannelConfigured, checkPassageSettings, passagesView } from '../passages-view.ts';
import { appInScope, scopeOf } from './order-routes.ts';
import type { RealmSettings } from './realm.ts';

const AppParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) });
const PassageParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }), passageId: Type.String({ pattern: '^[0-9]{1,15}$' }) });
// The same ranges as the admin API and the pay_passages CHECK constraints; amounts in minor units (fen).
// A type list, not Type.Union: fastify's Ajv coerces types, and inside anyOf it turns null into 0 (a
// 00:00 window) before it tries the null branch. With ['integer', 'null'] a null is already valid.
const nullableInteger = (minimum: number, maximum: number) => Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum, maximum });
const Amount = nullableInteger(1, Number.MAX_SAFE_INTEGER);
const Minute = nullableInteger(0, 1439);
const Settings = {
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
  weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  minAmount: Type.Optional(Amount),
  maxAmount: Type.Optional(Amount),
  dailyLimit: Type.Optional(Amount),
  windowStart: Type.Optional(Minute),
  windowEnd: Type.Optional(Minute),
  feeRatePpm: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  enabled: Type.Optional(Type.Boolean()),
};
const NewPassageBody = Type.Object({ wayCode: Type.String({ minLength: 1, maxLength: 32 }), ifCode: Type.String({ minLength: 1, maxLength: 32 }), ...Settings }, { additionalProperties: false });
const PassagePatch = Type.Object(Settings, { additionalProperties: false });

/** Omitted fields keep their stored value (PassageService.upsert's rule); what the row would become. */
const merge = (stored: PassageSettings, body: PassageSettings): PassageSettings => ({ ...stored, ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) });

/**
 * Pay passages of an app (docs/routing.md) over PassageService, the admin API's service: both
 * realms read them (merchant users their own apps only); operators with the admin or operations
 * role add, change and remove them. CSRF and the audit trail come with every console write (realm.ts).
 */
export function registerPassageRoutes(api: FastifyInstance, gw: Gateway, s: RealmSettings): void {
  api.get<{ Params: Static<typeof AppParams> }>('/apps/:appId/passages', { schema: { hide: true, params: AppParams } }, async (req) => {
    await appInScope(gw, scopeOf(s, req), req.params.appId);
    return passagesView(gw, req.params.appId);
  });
  if (s.realm !== 'operator') return;

  api.post<{ Params: Static<typeof AppParams>; Body: Static<typeof NewPassageBody> }>('/apps/:appId/passages', { schema: { hide: true, params: AppParams, body: NewPassageBody } }, async (req) => {
    const { appId } = req.params;
    const { wayCode, ifCode, ...settings } = req.body;
    await appInScope(gw, scopeOf(s, req), appId);
    await assertChannelConfigured(gw, appId, ifCode, wayCode);
    const existing = (await gw.passages.list(appId)).find((p) => p.wayCode === wayCode && p.ifCode === ifCode);
    // One passage per (way, channel): adding it again would silently overwrite the first one's settings.
    if (existing) throw new ApiError('PARAM_INVALID', `${wayCode} already has a passage through ${ifCode} (#${existing.passageId}): edit that one`);
    checkPassageSettings(settings);
    return { passage: await gw.passages.upsert(appId, { wayCode, ifCode, ...settings }) };
  });

  api.put<{ Params: Static<typeof PassageParams>; Body: Static<typeof PassagePatch> }>('/apps/:appId/passages/:passageId', { schema: { hide: true, params: PassageParams, body: PassagePatch } }, async (req) => {
    const { appId } = req.params;
    await appInScope(gw, scopeOf(s, req), appId);
    const stored = (await gw.passages.list(appId)).find((p) => p.passageId === Number(req.params.passageId));
    if (!stored) throw new ApiError('NOT_FOUND', `passage ${req.params.passageId} of app ${appId}`);
    const merged = merge(stored, req.body);
    checkPassageSettings(merged);
    // The service keeps a stored window only when both ends are omitted: a change to one end sends the pair.
    const window = req.body.windowStart !== undefined || req.body.windowEnd !== undefined ? { windowStart: merged.windowStart, windowEnd: merged.windowEnd } : {};
    return { passage: await gw.passages.upsert(appId, { wayCode: stored.wayCode, ifCode: stored.ifCode, ...req.body, ...window }) };
  });

  api.delete<{ Params: Static<typeof PassageParams> }>('/apps/:appId/passages/:passageId', { schema: { hide: true, params: PassageParams } }, async (req) => {
    await appInScope(gw, scopeOf(s, req), req.params.appId);
    await gw.passages.remove(req.params.appId, Number(req.params.passageId));
    return { removed: Number(req.params.passageId) };
  });
}
