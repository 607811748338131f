// Lists over HTTP: every list is paged (limit, offset), sorted by a named field
// (`-field` for descending) and filtered by query parameters; the answer carries
// the total so a client can page through it.
import { type ExpressionBuilder, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { StoreSchema } from '../store/store.types.ts';

export const LIST_LIMIT_MAX = 1_000;

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

/** A `sort` parameter over these fields: `name` ascending, `-name` descending. */
export function sortQuery<const F extends readonly [string, ...string[]]>(
  fields: F,
  fallback: F[number] | `-${F[number]}`,
) {
  const values = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z.enum(values).default(fallback);
}

export function parseSort(sort: string): { field: string; direction: 'asc' | 'desc' } {
  return sort.startsWith('-')
    ? { field: sort.slice(1), direction: 'desc' }
    : { field: sort, direction: 'asc' };
}

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}

export const errorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z
    .array(z.object({ field: z.string().optional(), code: z.string(), message: z.string() }))
    .optional(),
});

/** A LIKE pattern finding `text` anywhere, its own % and _ taken literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** The `q` search of a list: `text` anywhere in any of these columns, in any case. */
export function containsText<TB extends keyof StoreSchema>(columns: readonly string[], text: string) {
  return (eb: ExpressionBuilder<StoreSchema, TB>) =>
    eb.or(columns.map((column) => eb(sql.ref(column), 'ilike', likePattern(text))));
}

/**
 * One page of a filtered query, sorted by `sort` (a column, `-` for descending)
 * then by the key so that pages never overlap, with the total of the filter.
 */
export async function fetchPage<TB extends keyof StoreSchema>(
  query: SelectQueryBuilder<StoreSchema, TB, object>,
  options: { sortColumn: string; direction: 'asc' | 'desc'; key: string; limit: number; offset: number },
): Promise<{ rows: Selectable<StoreSchema[TB]>[]; total: number }> {
  const [rows, count] = await Promise.all([
    query
      .selectAll()
      .orderBy(sql.ref(options.sortColumn), options.direction)
      .orderBy(sql.ref(options.key))
      .limit(options.limit)
      .offset(options.offset)
      .execute(),
    query.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    rows: rows as unknown as Selectable<StoreSchema[TB]>[],
    total: Number((count as { n: string }).n),
  };
}
