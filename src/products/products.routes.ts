// Products over HTTP: the list (paged, sorted, filtered by category or a text
// search on sku and name) and one product by sku.
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

const product = z.object({
  sku: z.string(),
  name: z.string(),
  category: z.string(),
  listPrice: z.string().nullable().describe('exact decimal, as text'),
  attributes: z.record(z.string(), z.string()),
});

const SORTS = { sku: 'sku', name: 'name', category: 'category' } as const;

const text = z.string().max(1_000);
const productFields = {
  name: text,
  category: text,
  listPrice: text.optional().describe('exact decimal, as text'),
  attributes: z.record(z.string().max(100), text).optional(),
};

export function productRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    const save = async (
      request: { user: User | null; id: string },
      fields: { sku: string } & z.infer<z.ZodObject<typeof productFields>>,
      mode: 'create' | 'replace',
    ) => {
      const { listPrice, ...rest } = fields;
      const row = await saveMasterRecord(
        store,
        'product',
        { ...rest, list_price: listPrice },
        acting(request.user!, request.id),
        mode,
      );
      return toProduct(row as Parameters<typeof toProduct>[0]);
    };

    app.post(
      '/products',
      {
        schema: {
          tags: ['products'],
          summary: 'Add a product',
          body: z.strictObject({ sku: text, ...productFields }),
          response: { 201: product, 400: errorBody, 403: errorBody, 409: errorBody, 422: errorBody },
        },
      },
      async (request, reply) => reply.code(201).send(await save(request, request.body, 'create')),
    );

    app.put(
      '/products/:sku',
      {
        schema: {
          tags: ['products'],
          summary:
            "Replace a product's details; a change of category or attributes recalculates every agreement",
          params: z.object({ sku: z.string().min(1) }),
          body: z.strictObject(productFields),
          response: { 200: product, 400: errorBody, 403: errorBody, 404: errorBody, 422: errorBody },
        },
      },
      async (request) => save(request, { ...request.body, sku: request.params.sku }, 'replace'),
    );

    app.get(
      '/products',
      {
        schema: {
          tags: ['products'],
          summary: 'List products',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['sku', 'name', 'category'], 'sku'),
            category: z.string().min(1).optional(),
            q: z.string().min(1).max(100).optional().describe('text in the sku or name, any case'),
          }),
          response: { 200: pageOf(product), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, sort, category, q } = request.query;
        let query = store.db.selectFrom('products');
        if (category !== undefined) query = query.where('category', '=', category);
        if (q !== undefined) query = query.where(containsText(['sku', 'name'], q));
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: SORTS[field as keyof typeof SORTS],
          direction,
          key: 'sku',
          limit,
          offset,
        });
        return { items: rows.map(toProduct), total, limit, offset };
      },
    );

    app.get(
      '/products/:sku',
      {
        schema: {
          tags: ['products'],
          summary: 'One product',
          params: z.object({ sku: z.string().min(1) }),
          response: { 200: product, 404: errorBody },
        },
      },
      async (request) => {
        const row = await store.db
          .selectFrom('products')
          .selectAll()
          .where('sku', '=', request.params.sku)
          .executeTakeFirst();
        if (!row) throw notFound('product', request.params.sku);
        return toProduct(row);
      },
    );
  };
}

function toProduct(row: {
  sku: string;
  name: string;
  category: string;
  list_price: string | null;
  attributes: Record<string, string>;
}) {
  return {
    sku: row.sku,
    name: row.name,
    category: row.category,
    listPrice: row.list_price,
    attributes: row.attributes,
  };
}
