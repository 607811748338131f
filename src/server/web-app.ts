// The web app's files (built by `npm run build:web` into dist/web) served at /,
// with every path outside the API answered by index.html so the app's own
// routes work when typed, bookmarked or reloaded.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths the web app never answers: the API's. */
const API_PREFIX = '/api/';

export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Rebates</title></head>
<body><main><h1>The web app is not built</h1><p>Run <code>npm run build:web</code> (or start with
<code>npm start</code>, which builds it), then reload. The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p></main></body></html>`;

export async function serveWebApp(app: FastifyInstance): Promise<void> {
  if (!existsSync(`${WEB_ROOT}index.html`)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html').send(NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, { root: WEB_ROOT, wildcard: false, index: ['index.html'] });
}

/** For the not-found handler: the app's page for a path of the app, or false for anything else. */
export function webAppPage(request: FastifyRequest, reply: FastifyReply): FastifyReply | false {
  if (request.method !== 'GET' || request.url.startsWith(API_PREFIX) || !('sendFile' in reply)) return false;
  return reply.type('text/html').sendFile('index.html');
}
