import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../domain/errors.ts';
import { ChannelError } from '../channels/types.ts';
import type { Gateway } from '../gateway.ts';
import { errorBody } from './envelope.ts';

const TAG = ['Payer identity'];
const LoginBody = Type.Object({
  mchNo: Type.String({ minLength: 1, maxLength: 32 }),
  appId: Type.String({ minLength: 1, maxLength: 64, description: 'Your Polypay app id' }),
  code: Type.String({ minLength: 1, maxLength: 128, description: 'The code from wx.login()' }),
});
const OAuthQuery = Type.Object({
  mchNo: Type.String({ minLength: 1, maxLength: 32 }),
  appId: Type.String({ minLength: 1, maxLength: 64 }),
  returnUrl: Type.String({ minLength: 1, maxLength: 1024, description: 'Where the payer returns with ?sessionToken=…; its host must be in oauthReturnHosts' }),
});

/** WeChat login code → payer session. WeChat's refusals (invalid or reused code) are the client's to fix. */
function channelToApi(err: unknown): never {
  if (err instanceof ChannelError) {
    if (err.kind === 'rejected') throw new ApiError('CHANNEL_REJECTED', `${err.channelCode}: ${err.channelMessage}`);
    if (err.kind === 'misconfigured') throw new ApiError('WAY_NOT_AVAILABLE', err.message);
    throw new ApiError('CHANNEL_UNAVAILABLE', err.message);
  }
  throw err;
}

export function registerPayerIdentityRoutes(app: FastifyInstance, gw: Gateway): void {
  app.post<{ Body: Static<typeof LoginBody> }>('/api/wx/lite/login', {
    schema: { tags: TAG, summary: 'Mini-program login: wx.login code → payer sessionToken (use it as channelExtra.sessionToken for WX_LITE)', body: LoginBody },
  }, async (req) => {
    const data = await gw.payerSessions.miniProgramLogin(req.body.mchNo, req.body.appId, req.body.code).catch(channelToApi);
    return { code: 0, msg: 'SUCCESS', data };
  });

  app.get<{ Querystring: Static<typeof OAuthQuery> }>('/api/wx/oauth/authorize', {
    schema: { tags: TAG, summary: '公众号 H5: redirect the payer through silent snsapi_base OAuth; returns to returnUrl?sessionToken=…', querystring: OAuthQuery },
  }, async (req, reply) => {
    const target = await gw.payerSessions.oauthStart(req.query.mchNo, req.query.appId, req.query.returnUrl, `${gw.config.publicUrl}/api/wx/oauth/callback`).catch(channelToApi);
    return reply.redirect(target, 302);
  });

  app.get<{ Querystring: { code?: string; state?: string } }>('/api/wx/oauth/callback', { schema: { hide: true } }, async (req, reply) => {
    try {
      if (!req.query.code || !req.query.state) throw new ApiError('PARAM_INVALID', 'code and state are required');
      return reply.redirect(await gw.payerSessions.oauthFinish(req.query.code, req.query.state).catch(channelToApi), 302);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return reply.status(400).send(errorBody(err.key, err.message));
    }
  });
}
