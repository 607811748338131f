// The HTTP API under /api/v1: Fastify with zod schemas for every request and
// response (validated both ways), an OpenAPI document generated from those
// schemas, interactive docs, structured JSON logs with a request id, and health
// and readiness endpoints (decision 0009).
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { accrualRoutes } from '../accruals/accruals.routes.ts';
import { agreementRoutes } from '../agreements/agreements.routes.ts';
import { amendmentRoutes } from '../agreements/amendments.routes.ts';
import { templateRoutes } from '../agreements/templates.routes.ts';
import { auditRoutes } from '../audit/audit.routes.ts';
import { claimRoutes } from '../claims/claims.routes.ts';
import { importRoutes } from '../imports/imports.routes.ts';
import { ledgerRoutes } from '../ledger/ledger.routes.ts';
import { partnerRoutes } from '../partners/partners.routes.ts';
import { productRoutes } from '../products/products.routes.ts';
import { reportRoutes } from '../reports/reports.routes.ts';
import { settlementRoutes } from '../settlements/settlements.routes.ts';
import type { Store } from '../store/database.ts';
import { transactionRoutes } from '../transactions/transactions.routes.ts';
import { type PartnerScope, partnerScope } from '../users/access.ts';
import { SESSION_COOKIE, userRoutes } from '../users/users.routes.ts';
import { type User, userOfToken } from '../users/users.service.ts';
import { HttpError, installErrorHandler } from './errors.ts';
import { installIdempotency } from './idempotency.ts';
import { errorBody } from './lists.ts';
import { serveWebApp, webAppPage } from './web-app.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user (set for every route that is not public). */
    user: User | null;
    /** The session or API token the request came with. */
    credential: string | null;
    /** The partners a partner user may see; undefined for internal roles. */
    scope: PartnerScope | undefined;
  }
  interface FastifyContextConfig {
    /** Served without signing in. */
    public?: boolean;
  }
}

export const API_PREFIX = '/api/v1';
/** Largest request body accepted (a file upload goes through its own limit). */
export const BODY_BYTES_MAX = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** Largest file an upload may carry (bytes; default UPLOAD_BYTES_MAX). */
  uploadBytesMax?: number;
}

export async function buildApp(store: Store, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_BYTES_MAX,
    // A caller's own request id is kept (so its logs and ours line up); otherwise one is made.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Requests in flight are finished on shutdown; new ones are refused with 503.
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandler(app, webAppPage);
  await app.register(cookie);
  await serveWebApp(app);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'too_many_requests',
      message: `too many attempts; try again in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  app.decorateRequest('user', null);
  app.decorateRequest('credential', null);
  app.decorateRequest('scope', undefined);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'rebates API',
        description: 'Partners, products, agreements and accrual positions of the rebate management system.',
        version: options.version ?? '1',
      },
      servers: [{ url: '/' }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs` });

  await app.register(
    async (api) => {
      // Every route needs a signed-in user unless it says it is public.
      api.addHook('onRequest', async (request) => {
        if (request.routeOptions.config?.public) return;
        const header = request.headers.authorization;
        const token = header?.startsWith('Bearer ') ? header.slice(7) : request.cookies[SESSION_COOKIE];
        const user = token ? await userOfToken(store.db, token) : undefined;
        if (!user)
          throw new HttpError(
            401,
            'unauthenticated',
            'sign in first (POST /api/v1/sessions), or send an API token',
          );
        request.user = user;
        request.credential = token ?? null;
        request.scope = await partnerScope(store.db, user);
      });
      installIdempotency(api, store);
      api.get(
        '/health',
        {
          config: { public: true },
          schema: {
            tags: ['service'],
            summary: 'The process is up',
            response: { 200: z.object({ status: z.literal('ok') }) },
          },
        },
        async () => ({ status: 'ok' as const }),
      );
      api.get(
        '/ready',
        {
          config: { public: true },
          schema: {
            tags: ['service'],
            summary: 'The store answers: ready for requests',
            response: { 200: z.object({ status: z.literal('ready'), store: z.string() }), 503: errorBody },
          },
        },
        async (_request, reply) => {
          try {
            await sql`SELECT 1`.execute(store.db);
            return { status: 'ready' as const, store: store.kind };
          } catch {
            return reply.code(503).send({ code: 'store_unavailable', message: 'the store does not answer' });
          }
        },
      );
      api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
      await api.register(userRoutes(store));
      await api.register(partnerRoutes(store));
      await api.register(productRoutes(store));
      await api.register(agreementRoutes(store));
      await api.register(amendmentRoutes(store));
      await api.register(templateRoutes(store));
      await api.register(accrualRoutes(store));
      await api.register(auditRoutes(store));
      await api.register(transactionRoutes(store));
      await api.register(importRoutes(store, options.uploadBytesMax));
      await api.register(settlementRoutes(store));
      await api.register(ledgerRoutes(store));
      await api.register(claimRoutes(store));
      await api.register(reportRoutes(store));
    },
    { prefix: API_PREFIX },
  );
  await app.ready();
  return app;
}
