import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

/**
 * The HTTP server of a channel simulator: request bodies kept as raw strings (each protocol parses
 * its own forms, JSON or XML, and signatures cover exact bytes), JSON 404s, and errors that never
 * leak a stack. `listenSandbox` starts it and works out the base URL the simulator hands out.
 */

export function createSandboxApp(logger: FastifyBaseLogger | false | undefined, log: { error(obj: object, msg?: string): void }): FastifyInstance {
  const app = Fastify({ ...(logger ? { loggerInstance: logger } : { logger: false }), bodyLimit: 1024 * 1024, logController: new LogController({ disableRequestLogging: true }), return503OnClosing: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) log.error({ err: err.message, url: req.url.split('?')[0] }, 'sandbox route failed');
    return reply.code(status).send({ code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL', message: err.message });
  });
  return app;
}

/** Listens (port 0 = any free port) and returns the base URL: `publicUrl` when given, else the address reached. */
export async function listenSandbox(app: FastifyInstance, o: { port?: number; host?: string; publicUrl?: string }): Promise<string> {
  const host = o.host ?? '127.0.0.1';
  await app.listen({ port: o.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 0);
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return (o.publicUrl ?? `http://${listenHost}:${port}`).replace(/\/+$/, '');
}
