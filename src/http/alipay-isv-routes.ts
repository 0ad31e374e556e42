import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../domain/errors.ts';
import { ChannelError } from '../channels/types.ts';
import { CALLBACK_PATH, appAuthServiceFor } from '../channels/alipay/app-auth-service.ts';
import type { Gateway } from '../gateway.ts';
import { adminGuard } from './admin-guard.ts';

/**
 * Service providers (服务商, ISV) and Alipay's app-to-app authorisation (jeepay.md §5.3):
 * operators register a provider's credentials per channel and its sub-merchants, hand each
 * sub-merchant an authorisation link, and Alipay sends the merchant's browser back to the
 * public callback, where the code becomes a stored app_auth_token.
 */

const TAG = ['Service providers'];
const StringMap = Type.Record(Type.String(), Type.String({ maxLength: 8192 }));
const IsvChannelBody = Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), params: Type.Optional(StringMap), secrets: Type.Optional(StringMap) });
const SubMerchantBody = Type.Object({ mchNo: Type.Optional(Type.String({ maxLength: 32 })), name: Type.String({ minLength: 1, maxLength: 64 }), shortName: Type.Optional(Type.String({ maxLength: 32 })) });

/** The channel's refusal (an invalid or reused code, a spent refresh token) is the caller's to act on. */
function channelFault(err: unknown): never {
  if (err instanceof ChannelError) {
    if (err.kind === 'rejected') throw new ApiError('CHANNEL_REJECTED', `${err.channelCode ?? ''}: ${err.channelMessage ?? err.message}`);
    if (err.kind === 'misconfigured') throw new ApiError('WAY_NOT_AVAILABLE', err.message);
    throw new ApiError('CHANNEL_UNAVAILABLE', err.message);
  }
  throw err;
}

function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(reply: FastifyReply, status: number, title: string, line: string): FastifyReply {
  return reply
    .code(status)
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:sans-serif;max-width:480px;margin:40px auto"><h1>${esc(title)}</h1><p>${esc(line)}</p></body></html>`);
}

export function registerAlipayIsvRoutes(app: FastifyInstance, gw: Gateway): void {
  const service = () => {
    const s = appAuthServiceFor(gw);
    if (!s) throw new ApiError('WAY_NOT_AVAILABLE', 'the Alipay channel is not installed');
    return s;
  };

  // Alipay's redirect after the merchant authorised (app_id, source=alipay_app_auth, app_auth_code, state).
  app.get<{ Querystring: Record<string, string | undefined> }>(CALLBACK_PATH, { schema: { hide: true } }, async (req, reply) => {
    try {
      const stored = await service().complete(req.query).catch(channelFault);
      return page(reply, 200, '授权成功 (authorised)', `支付宝应用 ${stored.authAppId} 已授权，服务商可代为收款。 The provider can now take payments for app ${stored.authAppId}.`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      gw.log.warn({ msg: err.message }, 'alipay app authorisation callback refused');
      return page(reply, 400, '授权未完成 (not authorised)', err.message);
    }
  });

  const security = [{ adminToken: [] }];

  app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard(gw.config.adminToken));
    admin.put<{ Params: { isvNo: string; ifCode: string }; Body: Static<typeof IsvChannelBody> }>('/isvs/:isvNo/channels/:ifCode', { schema: { tags: TAG, security, summary: "Set a service provider's channel credentials (created on first use; omitted secrets keep their value)", body: IsvChannelBody } }, async (req) => {
      await gw.tenancy.setIsvChannelConfig(req.params.isvNo, req.params.ifCode, req.body.params ?? {}, req.body.secrets ?? {}, req.body.name);
      return { isvs: (await gw.tenancy.listIsvs()).filter((i) => i.isvNo === req.params.isvNo) };
    });
    admin.get('/isvs', { schema: { tags: TAG, security, summary: 'Service providers and their channels (secrets masked)' } }, async () => ({ isvs: await gw.tenancy.listIsvs() }));
    admin.post<{ Params: { isvNo: string }; Body: Static<typeof SubMerchantBody> }>('/isvs/:isvNo/merchants', { schema: { tags: TAG, security, summary: 'Create a sub-merchant of a service provider (idempotent on mchNo)', body: SubMerchantBody } }, async (req) => {
      return gw.tenancy.createSubMerchant({ ...req.body, isvNo: req.params.isvNo });
    });
    admin.post<{ Params: { appId: string } }>('/apps/:appId/alipay/app-auth', { schema: { tags: TAG, security, summary: "Alipay authorisation link for a sub-merchant's app (valid 24 h): the merchant opens it and authorises the provider" } }, async (req) => {
      return service().authorizationUrl(req.params.appId);
    });
    admin.post<{ Params: { appId: string } }>('/apps/:appId/alipay/app-auth/refresh', { schema: { tags: TAG, security, summary: "Refresh a sub-merchant's app_auth_token now" } }, async (req) => {
      return service().refresh(req.params.appId).catch(channelFault);
    });
    admin.post<{ Querystring: { withinDays?: string } }>('/alipay/app-auth/refresh-due', { schema: { tags: TAG, security, summary: 'Refresh every sub-merchant token expiring within withinDays (default 30)' } }, async (req) => {
      const days = req.query.withinDays === undefined ? 30 : Number(req.query.withinDays);
      if (!Number.isFinite(days) || days < 0 || days > 400) throw new ApiError('PARAM_INVALID', 'withinDays must be 0–400');
      return service().refreshDue(days * 24 * 3600_000);
    });
    admin.get<{ Params: { appId: string } }>('/apps/:appId/alipay/app-auth', { schema: { tags: TAG, security, summary: "A sub-merchant's authorisation as Alipay reports it (alipay.open.auth.token.app.query)" } }, async (req) => {
      return service().status(req.params.appId).catch(channelFault);
    });
  }, { prefix: '/admin/v1' });
}
