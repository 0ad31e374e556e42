import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import { appAuthServiceFor } from '../../channels/alipay/app-auth-service.ts';
import type { Gateway } from '../../gateway.ts';

const IsvParams = Type.Object({ isvNo: Type.String({ pattern: '^[0-9A-Za-z_-]{2,32}$' }) });
const IsvChannelParams = Type.Object({ isvNo: Type.String({ pattern: '^[0-9A-Za-z_-]{2,32}$' }), ifCode: Type.String({ pattern: '^[0-9A-Za-z_-]{1,32}$' }) });
const AppParams = Type.Object({ appId: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) });
const StringMap = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 16_384 }));
const IsvChannelBody = Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), params: Type.Optional(StringMap), secrets: Type.Optional(StringMap) });
const SubMerchantBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), mchNo: Type.Optional(Type.String({ maxLength: 32 })) });

/**
 * Service providers (服务商) in the operator console, over the same tenancy service as the admin
 * API: their channel credentials (forms generated from the channel's fields; secrets write-only),
 * their sub-merchants, and the Alipay authorisation link a sub-merchant's app owner opens.
 */
export function registerIsvRoutes(api: FastifyInstance, gw: Gateway): void {
  api.get('/isvs', { schema: { hide: true } }, async () => ({
    isvs: (await gw.tenancy.listIsvs()).map(({ secrets, ...isv }) => ({ ...isv, secretsSet: Object.fromEntries(Object.keys(secrets).map((k) => [k, true])) })),
  }));
  api.put<{ Params: Static<typeof IsvChannelParams>; Body: Static<typeof IsvChannelBody> }>('/isvs/:isvNo/channels/:ifCode', { schema: { hide: true, params: IsvChannelParams, body: IsvChannelBody } }, async (req) => {
    const secrets = Object.fromEntries(Object.entries(req.body.secrets ?? {}).filter(([, v]) => v !== ''));
    await gw.tenancy.setIsvChannelConfig(req.params.isvNo, req.params.ifCode, req.body.params ?? {}, secrets, req.body.name);
    return { saved: true };
  });
  api.post<{ Params: Static<typeof IsvParams>; Body: Static<typeof SubMerchantBody> }>('/isvs/:isvNo/merchants', { schema: { hide: true, params: IsvParams, body: SubMerchantBody } }, async (req) => {
    const r = await gw.tenancy.createSubMerchant({ isvNo: req.params.isvNo, name: req.body.name.trim(), mchNo: req.body.mchNo || undefined });
    if (!r.created) throw new ApiError('PARAM_INVALID', `merchant ${r.mchNo} exists`);
    return r;
  });
  api.post<{ Params: Static<typeof AppParams> }>('/apps/:appId/alipay/app-auth', { schema: { hide: true, params: AppParams } }, async (req) => {
    const service = appAuthServiceFor(gw);
    if (!service) throw new ApiError('WAY_NOT_AVAILABLE', 'the Alipay channel is not installed');
    return service.authorizationUrl(req.params.appId);
  });
}
