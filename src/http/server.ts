import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import sjson from 'secure-json-parse';
import type { Logger as PinoLogger } from 'pino';
import { ApiError } from '../domain/errors.ts';
import type { Gateway } from '../gateway.ts';
import { errorBody, sendError } from './envelope.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerMerchantRoutes } from './merchant-routes.ts';
import { registerNotifyRoutes } from './notify-routes.ts';
import { registerClientRoutes } from './client-routes.ts';
import { registerPayerIdentityRoutes } from './payer-identity-routes.ts';
import { registerReturnRoutes } from './return-routes.ts';
import { registerAlipayIsvRoutes } from './alipay-isv-routes.ts';
import { registerAlipayIdentityRoutes } from './alipay-identity-routes.ts';
import { registerWechatProductRoutes } from './wechat-product-routes.ts';
import { registerFundFlowRoutes } from './fund-flow-routes.ts';
import { registerPaypalRoutes } from './paypal-routes.ts';
import { registerConsole } from '../console/http/index.ts';
import { registerCashierRoutes } from '../cashier/routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received: channel signatures are verified over these, never over re-serialised JSON. */
    rawBody?: Buffer;
  }
}

const CALLBACK_URL = /^\/api\/(pay|refund)\/notify\//;
const DB_DOWN = /ECONNREFUSED|ECONNRESET|terminating connection|Connection terminated|connection timeout|the database system is (starting up|shutting down)|Client has encountered a connection error|timeout exceeded when trying to connect/i;

export async function buildHttpServer(gw: Gateway, logger: PinoLogger): Promise<FastifyInstance> {
  // Typed as the default instance: route modules don't care which pino flavour logs for them.
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 256 * 1024, trustProxy: false, return503OnClosing: true }) as unknown as FastifyInstance;

  // One parser for every content type we accept, keeping the raw bytes for callback verification.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, {});
    try {
      done(null, sjson.parse(body.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(new ApiError('PARAM_INVALID', 'the body is not valid JSON'));
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.rawBody = body;
    const out: Record<string, string> = Object.create(null);
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] = v;
    done(null, { ...out });
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.rawBody = body;
    done(null, body.toString('utf8'));
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    // Channel callbacks: to the channel any 2xx means "received, stop retrying", so a callback we
    // refuse (e.g. a body that is not JSON) must get a 4xx, not the merchant API's HTTP 200 error
    // envelope (found by test/faults/fuzz.test.ts).
    const callback = CALLBACK_URL.test(req.url);
    if (err instanceof ApiError) return callback && err.httpStatus < 400 ? reply.status(400).send(errorBody(err.key, err.message)) : sendError(reply, err);
    if (err.validation) {
      const msg = `${err.validationContext ?? 'body'}${err.validation[0]?.instancePath ?? ''} ${err.validation[0]?.message ?? 'is invalid'}`;
      return reply.status(callback ? 400 : 200).send(errorBody('PARAM_INVALID', `a parameter is missing or malformed: ${msg}`));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(errorBody('PARAM_INVALID', err.message));
    }
    // PostgreSQL cannot store a NUL character in text (22021; 22P05 inside jsonb): such input is the
    // caller's error, not a 500 with a stack (found by test/faults/fuzz.test.ts: appId "\u0000").
    const pgCode = String((err as { code?: string }).code ?? '');
    if (pgCode === '22021' || pgCode === '22P05') {
      return reply.status(callback ? 400 : 200).send(errorBody('PARAM_INVALID', 'a parameter contains a character that cannot be stored (NUL, \\u0000)'));
    }
    if (DB_DOWN.test(err.message) || DB_DOWN.test(String((err as { code?: string }).code ?? ''))) {
      req.log.error({ err: err.message, url: req.url }, 'database unavailable');
      return reply.status(503).send(errorBody('SERVICE_UNAVAILABLE', 'the database is unreachable; retry later with the same parameters'));
    }
    req.log.error({ err, url: req.url }, 'unhandled error');
    return reply.status(500).send(errorBody('SYSTEM_ERROR', 'internal error; the request may be retried with the same parameters'));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Polypay merchant API', version: '1.0.0', description: 'Jeepay-compatible aggregated payment API. Signature rules and error codes: docs/api.md.' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/health', { schema: { tags: ['Ops'], summary: 'Ready when 200' } }, async (_req, reply) => {
    try {
      await gw.db.query('SELECT 1');
      return { status: 'ok', db: gw.db.kind };
    } catch {
      return reply.status(503).send({ status: 'unavailable', db: gw.db.kind });
    }
  });
  registerMerchantRoutes(app, gw);
  registerNotifyRoutes(app, gw);
  registerClientRoutes(app, gw);
  registerPayerIdentityRoutes(app, gw);
  registerReturnRoutes(app, gw);
  registerAdminRoutes(app, gw);
  registerAlipayIsvRoutes(app, gw);
  registerAlipayIdentityRoutes(app, gw);
  registerWechatProductRoutes(app, gw);
  registerFundFlowRoutes(app, gw);
  registerPaypalRoutes(app, gw);
  await registerConsole(app, gw);
  registerCashierRoutes(app, gw);
  return app;
}
