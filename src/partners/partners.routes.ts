// Partners over HTTP: the list (paged, sorted, filtered by buying group, region
// or a text search on id and name) and one partner by id.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { saveMasterRecord } from '../imports/master-records.ts';
import { notFound } from '../server/errors.ts';
import {
  containsText,
  errorBody,
  fetchPage,
  pageOf,
  pageQuery,
  parseSort,
  sortQuery,
} from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import { acting, type User } from '../users/users.service.ts';

const partner = z.object({
  id: z.string(),
  name: z.string(),
  group: z.string().nullable(),
  region: z.string().nullable(),
  attributes: z.record(z.string(), z.string()),
});

const SORTS = { id: 'id', name: 'name', group: 'buying_group', region: 'region' } as const;

const text = z.string().max(1_000);
const partnerFields = {
  name: text,
  group: text.optional().describe('buying group id'),
  region: text.optional(),
  attributes: z.record(z.string().max(100), text).optional(),
};

export function partnerRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    const save = async (
      request: { user: User | null; id: string },
      fields: { id: string } & z.infer<z.ZodObject<typeof partnerFields>>,
      mode: 'create' | 'replace',
    ) =>
      toPartner(
        (await saveMasterRecord(
          store,
          'partner',
          fields,
          acting(request.user!, request.id),
          mode,
        )) as Parameters<typeof toPartner>[0],
      );

    app.post(
      '/partners',
      {
        schema: {
          tags: ['partners'],
          summary: 'Add a partner',
          body: z.strictObject({ id: text, ...partnerFields }),
          response: { 201: partner, 400: errorBody, 403: errorBody, 409: errorBody, 422: errorBody },
        },
      },
      async (request, reply) => reply.code(201).send(await save(request, request.body, 'create')),
    );

    app.put(
      '/partners/:id',
      {
        schema: {
          tags: ['partners'],
          summary: "Replace a partner's details; a change of buying group recalculates the groups' accruals",
          params: z.object({ id: z.string().min(1) }),
          body: z.strictObject(partnerFields),
          response: { 200: partner, 400: errorBody, 403: errorBody, 404: errorBody, 422: errorBody },
        },
      },
      async (request) => save(request, { ...request.body, id: request.params.id }, 'replace'),
    );

    app.get(
      '/partners',
      {
        schema: {
          tags: ['partners'],
          summary: 'List partners',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['id', 'name', 'group', 'region'], 'id'),
            group: z.string().min(1).optional().describe('buying group id'),
            region: z.string().min(1).optional(),
            q: z.string().min(1).max(100).optional().describe('text in the id or name, any case'),
          }),
          response: { 200: pageOf(partner), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, sort, group, region, q } = request.query;
        let query = store.db.selectFrom('partners');
        if (request.scope) query = query.where('id', 'in', request.scope.partners);
        if (group !== undefined) query = query.where('buying_group', '=', group);
        if (region !== undefined) query = query.where('region', '=', region);
        if (q !== undefined) query = query.where(containsText(['id', 'name'], q));
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: SORTS[field as keyof typeof SORTS],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return { items: rows.map(toPartner), total, limit, offset };
      },
    );

    app.get(
      '/partners/:id',
      {
        schema: {
          tags: ['partners'],
          summary: 'One partner',
          params: z.object({ id: z.string().min(1) }),
          response: { 200: partner, 404: errorBody },
        },
      },
      async (request) => {
        const row = await store.db
          .selectFrom('partners')
          .selectAll()
          .where('id', '=', request.params.id)
          .executeTakeFirst();
        if (!row || (request.scope && !request.scope.partners.includes(row.id)))
          throw notFound('partner', request.params.id);
        return toPartner(row);
      },
    );
  };
}

function toPartner(row: {
  id: string;
  name: string;
  buying_group: string | null;
  region: string | null;
  attributes: Record<string, string>;
}) {
  return {
    id: row.id,
    name: row.name,
    group: row.buying_group,
    region: row.region,
    attributes: row.attributes,
  };
}
