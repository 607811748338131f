// Agreement templates over HTTP: internal users read them, the commercial team
// and administrators write them; POST /agreements copies one with `template`.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../server/errors.ts';
import {
  containsText,
  errorBody,
  fetchPage,
  pageOf,
  pageQuery,
  parseSort,
  sortQuery,
} from '../server/lists.ts';
import { RULES_PER_AGREEMENT_MAX, TEXT_LENGTH_MAX } from '../shared/limits.ts';
import type { Store } from '../store/database.ts';
import type { User } from '../users/users.service.ts';
import { readTemplate, saveTemplate } from './templates.ts';

const template = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  calendar: z.string(),
  currency: z.string(),
  rules: z.array(z.unknown()),
  createdBy: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});

const fields = {
  name: z.string().trim().min(1).max(TEXT_LENGTH_MAX),
  description: z.string().max(2_000).optional(),
  calendar: z.enum(['none', 'monthly', 'quarterly', 'yearly']).optional(),
  currency: z.string().optional(),
  rules: z.array(z.record(z.string(), z.unknown())).min(1).max(RULES_PER_AGREEMENT_MAX),
};
const params = z.object({ id: z.string().min(1).max(100) });

/** Templates are the internal teams' working material: partner users do not see them. */
function requireInternal(user: User): void {
  if (user.role === 'partner') throw new HttpError(403, 'forbidden', 'templates are for internal users');
}

function requireWriter(user: User): void {
  if (user.role !== 'admin' && user.role !== 'commercial')
    throw new HttpError(403, 'forbidden', 'templates are written by administrators and the commercial team');
}

export function templateRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/agreement-templates',
      {
        schema: {
          tags: ['agreements'],
          summary: 'List agreement templates',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['id', 'name', 'updated'], 'id'),
            q: z.string().min(1).max(100).optional().describe('text in the id or name, any case'),
          }),
          response: { 200: pageOf(template), 400: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        requireInternal(request.user!);
        const { limit, offset, q, sort } = request.query;
        let query = store.db.selectFrom('agreement_templates');
        if (q !== undefined) query = query.where(containsText(['id', 'name'], q));
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: { id: 'id', name: 'name', updated: 'updated_at' }[field as 'id' | 'name' | 'updated'],
          direction,
          key: 'id',
          limit,
          offset,
        });
        const items = await Promise.all(rows.map((r) => readTemplate(store.db, r.id)));
        return { items: items.filter((t) => t !== undefined), total, limit, offset };
      },
    );

    app.get(
      '/agreement-templates/:id',
      {
        schema: {
          tags: ['agreements'],
          summary: 'One agreement template',
          params,
          response: { 200: template, 403: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        requireInternal(request.user!);
        const found = await readTemplate(store.db, request.params.id);
        if (!found) throw notFound('template', request.params.id);
        return found;
      },
    );

    app.post(
      '/agreement-templates',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Write a new agreement template',
          body: z.strictObject({ id: params.shape.id, ...fields }),
          response: { 201: template, 400: errorBody, 403: errorBody, 409: errorBody, 422: errorBody },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        requireWriter(user);
        const { id, ...input } = request.body;
        const saved = await saveTemplate(
          store.db,
          id,
          input,
          { actor: user.username, requestId: request.id },
          'create',
        );
        return reply.code(201).send(saved);
      },
    );

    app.put(
      '/agreement-templates/:id',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Replace an agreement template (agreements written from it keep their own terms)',
          params,
          body: z.strictObject(fields),
          response: { 200: template, 400: errorBody, 403: errorBody, 404: errorBody, 422: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        requireWriter(user);
        return saveTemplate(
          store.db,
          request.params.id,
          request.body,
          { actor: user.username, requestId: request.id },
          'replace',
        );
      },
    );
  };
}
