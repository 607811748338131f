// Products over HTTP: the list (paged, sorted, filtered by category or a text
// search on sku and name) and one product by sku.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
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

const product = z.object({
  sku: z.string(),
  name: z.string(),
  category: z.string(),
  listPrice: z.string().nullable().describe('exact decimal, as text'),
  attributes: z.record(z.string(), z.string()),
});

const SORTS = { sku: 'sku', name: 'name', category: 'category' } as const;

export function productRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
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
