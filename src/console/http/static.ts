import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The Vite build of web/ (scripts/build-web.mjs; npm start and npm test build it when missing or stale). */
export const WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

// antd writes its styles as <style> elements at run time (CSS-in-JS), hence style-src 'unsafe-inline';
// scripts come only from this origin, so injected markup cannot run code.
const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function notBuilt(reply: FastifyReply): FastifyReply {
  return reply
    .status(503)
    .type('text/html; charset=utf-8')
    .send('<!doctype html><meta charset="utf-8"><title>Polypay console</title><p>The console is not built yet. Run <code>npm run build:web</code> (npm start and npm test do it automatically), then reload.</p>');
}

/** Serves the two console pages and their hashed assets. The pages need no server-side routing (hash routes). */
export async function registerConsolePages(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/ui/', index: false, wildcard: true, decorateReply: true, maxAge: '365d', immutable: true });
  for (const name of ['console', 'merchant'] as const) {
    app.get(`/${name}`, { schema: { hide: true } }, async (_req, reply) => reply.redirect(`/${name}/`, 302));
    app.get(`/${name}/`, { schema: { hide: true } }, async (_req, reply) => {
      if (!existsSync(join(WEB_DIST, name, 'index.html'))) return notBuilt(reply);
      return reply
        .header('content-security-policy', CONSOLE_CSP)
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'same-origin')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .sendFile(`${name}/index.html`, { maxAge: 0, immutable: false });
    });
  }
}
