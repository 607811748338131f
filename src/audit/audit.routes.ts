// The audit trail over HTTP, for administrators and auditors: the entries (paged,
// newest first, filtered by entity, id, actor or action) and the verification of
// the hash chain.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../server/errors.ts';
import { errorBody, fetchPage, pageOf, pageQuery } from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import type { User } from '../users/users.service.ts';
import { verifyAudit } from './audit.service.ts';

const entry = z.object({
  seq: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  entity: z.string(),
  entityId: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  comment: z.string().nullable(),
  requestId: z.string().nullable(),
  hash: z.string(),
});

function mayReadAudit(user: User | null): void {
  if (user?.role !== 'admin' && user?.role !== 'auditor')
    throw new HttpError(403, 'forbidden', 'the audit trail is for administrators and auditors');
}

export function auditRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'Audit trail entries, newest first',
          querystring: z.object({
            ...pageQuery,
            entity: z.string().min(1).optional(),
            entityId: z.string().min(1).optional(),
            actor: z.string().min(1).optional(),
            action: z.string().min(1).optional(),
          }),
          response: { 200: pageOf(entry), 400: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        mayReadAudit(request.user);
        const { limit, offset, entity, entityId, actor, action } = request.query;
        let query = store.db.selectFrom('audit_log');
        if (entity !== undefined) query = query.where('entity', '=', entity);
        if (entityId !== undefined) query = query.where('entity_id', '=', entityId);
        if (actor !== undefined) query = query.where('actor', '=', actor);
        if (action !== undefined) query = query.where('action', '=', action);
        const { rows, total } = await fetchPage(query, {
          sortColumn: 'seq',
          direction: 'desc',
          key: 'seq',
          limit,
          offset,
        });
        return {
          items: rows.map((r) => ({
            seq: String(r.seq),
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entityId: r.entity_id,
            before: r.before === null ? null : JSON.parse(r.before),
            after: r.after === null ? null : JSON.parse(r.after),
            comment: r.comment,
            requestId: r.request_id,
            hash: r.hash,
          })),
          total,
          limit,
          offset,
        };
      },
    );

    app.get(
      '/audit/verify',
      {
        schema: {
          tags: ['audit'],
          summary: "Recompute the trail's hash chain; names the first broken link",
          response: {
            200: z.object({
              intact: z.boolean(),
              entries: z.number().int().describe('entries verified before the first broken link, or all'),
              broken: z.object({ seq: z.string(), reason: z.string() }).optional(),
            }),
            403: errorBody,
          },
        },
      },
      async (request) => {
        mayReadAudit(request.user);
        const result = await verifyAudit(store.db);
        return {
          intact: result.broken === undefined,
          entries: result.entries,
          ...(result.broken ? { broken: result.broken } : {}),
        };
      },
    );
  };
}
