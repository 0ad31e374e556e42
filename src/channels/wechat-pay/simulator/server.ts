import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { NonceCache } from './auth.ts';
import type { SimContext } from './context.ts';
import { SimError, errors } from './errors.ts';
import { registerPages } from './pages.ts';
import { registerSandboxRoutes } from './routes-sandbox.ts';
import { registerV3Routes, sendError } from './routes-v3.ts';
import { registerOpenPlatformRoutes } from './routes-open.ts';
import { registerV2BarRoutes, registerV2BillRoute, registerV2Routes } from './routes-v2.ts';
import { registerV3BarRoutes } from './routes-v3-bar.ts';
import { registerV3PartnerRoutes } from './routes-partner.ts';
import { buildWechatXml } from '../v2-xml.ts';
import type { OpenPlatform } from './open-platform.ts';
import type { WechatPaySimulatorOptions } from './types.ts';

/**
 * The Fastify app. All bodies are kept as raw strings: WeChat's request signature covers the exact
 * bytes (protocols.md §A.3), so parsing happens only after verification, in the handlers.
 */
export function buildServer(ctx: SimContext, nonces: NonceCache, opts: WechatPaySimulatorOptions, open: OpenPlatform): FastifyInstance {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    // Our own events (rejections at info, orders at debug) replace the two lines per request
    // Fastify would log: the simulator sits on the benchmark path.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors and 404s under /v3 must be signed like any WeChat answer, so they go through our handlers.
    return503OnClosing: true,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  registerV3Routes(app, ctx, nonces);
  registerV2Routes(app, ctx);
  registerV2BarRoutes(app, ctx);
  registerV2BillRoute(app, ctx);
  registerV3BarRoutes(app, ctx, nonces);
  registerV3PartnerRoutes(app, ctx, nonces);
  registerSandboxRoutes(app, ctx, opts.adminToken);
  registerPages(app, ctx);
  registerOpenPlatformRoutes(app, open);

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/v3/')) return sendError(ctx, req, reply, errors.notFound());
    return reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (req.url.startsWith('/v3/')) {
      // Framework-level rejections (oversized body, bad encoding) become WeChat-shaped, signed errors.
      const e = status < 500 ? new SimError(400, 'PARAM_ERROR', err.message) : err;
      return sendError(ctx, req, reply, e);
    }
    if (status >= 500) ctx.log.error({ err: err.message, url: req.url }, 'sandbox route failed');
    // API v2 answers XML even to a message the framework refused (oversized body…).
    if (/^\/(pay|secapi)\//.test(req.url)) return reply.code(200).type('text/xml').send(buildWechatXml({ return_code: 'FAIL', return_msg: status < 500 ? '参数格式校验错误' : '系统错误' }));
    return reply.code(status).send({ code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL', message: err.message });
  });

  return app;
}
