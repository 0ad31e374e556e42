import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../domain/errors.ts';
import { ChannelError } from '../channels/types.ts';
import { AlipayChannel } from '../channels/alipay/channel.ts';
import type { Gateway } from '../gateway.ts';
import { errorBody } from './envelope.ts';

/**
 * Alipay payer identity (issue 5 item 5), mirroring the WeChat routes: a mini program's
 * my.getAuthCode code, or a 生活号 H5 page's silent web authorisation (scope auth_base), becomes a
 * payer session token for channelExtra.sessionToken on ALI_LITE / ALI_JSAPI — naming the buyer's
 * user_id (older apps) or open_id (apps created after 2023).
 */

const TAG = ['Payer identity'];
const LoginBody = Type.Object({
  mchNo: Type.String({ minLength: 1, maxLength: 32 }),
  appId: Type.String({ minLength: 1, maxLength: 64, description: 'Your Polypay app id' }),
  code: Type.String({ minLength: 1, maxLength: 128, description: 'The authCode from my.getAuthCode({ scopes: "auth_base" })' }),
});
const OAuthQuery = Type.Object({
  mchNo: Type.String({ minLength: 1, maxLength: 32 }),
  appId: Type.String({ minLength: 1, maxLength: 64 }),
  returnUrl: Type.String({ minLength: 1, maxLength: 1024, description: "Where the payer returns with ?sessionToken=…; its host must be in the Alipay configuration's oauthReturnHosts" }),
});

/** Alipay's refusals (isv.code-invalid: an invalid, expired or reused code) are the client's to fix. */
function channelToApi(err: unknown): never {
  if (!(err instanceof ChannelError)) throw err;
  if (err.kind === 'rejected') throw new ApiError('CHANNEL_REJECTED', `${err.channelCode}: ${err.channelMessage}`);
  throw new ApiError(err.kind === 'misconfigured' ? 'WAY_NOT_AVAILABLE' : 'CHANNEL_UNAVAILABLE', err.message);
}

export function registerAlipayIdentityRoutes(app: FastifyInstance, gw: Gateway): void {
  // The channel resolves channelExtra.sessionToken through the payer-session service.
  const channel = gw.channels.get('alipay');
  if (channel instanceof AlipayChannel) {
    gw.payerSessions.useAlipay(channel);
    channel.resolveBuyerSession = (token, alipayAppId) => gw.payerSessions.resolveAlipayBuyer(token, alipayAppId);
  }

  app.post<{ Body: Static<typeof LoginBody> }>('/api/alipay/lite/login', {
    schema: { tags: TAG, summary: 'Alipay mini program: my.getAuthCode code → payer sessionToken (channelExtra.sessionToken for ALI_LITE)', body: LoginBody },
  }, async (req) => {
    const data = await gw.payerSessions.alipayLogin(req.body.mchNo, req.body.appId, req.body.code).catch(channelToApi);
    return { code: 0, msg: 'SUCCESS', data };
  });

  app.get<{ Querystring: Static<typeof OAuthQuery> }>('/api/alipay/oauth/authorize', {
    schema: { tags: TAG, summary: '生活号 H5: redirect the payer through silent auth_base authorisation; returns to returnUrl?sessionToken=…', querystring: OAuthQuery },
  }, async (req, reply) => {
    const target = await gw.payerSessions.alipayOauthStart(req.query.mchNo, req.query.appId, req.query.returnUrl, `${gw.config.publicUrl}/api/alipay/oauth/callback`).catch(channelToApi);
    return reply.redirect(target, 302);
  });

  app.get<{ Querystring: { auth_code?: string; state?: string } }>('/api/alipay/oauth/callback', { schema: { hide: true } }, async (req, reply) => {
    try {
      if (!req.query.auth_code || !req.query.state) throw new ApiError('PARAM_INVALID', 'auth_code and state are required');
      return reply.redirect(await gw.payerSessions.alipayOauthFinish(req.query.auth_code, req.query.state).catch(channelToApi), 302);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return reply.status(400).send(errorBody(err.key, err.message));
    }
  });
}
