// Agreements over HTTP: the list (paged, sorted, filtered by status, partner,
// buying group or a text search) and one agreement in the import format.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../server/errors.ts';
import {
  errorBody,
  fetchPage,
  likePattern,
  pageOf,
  pageQuery,
  parseSort,
  sortQuery,
} from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import { canSeeAgreement } from '../users/access.ts';
import { agreementToJson, loadAgreements } from './agreements.repository.ts';

const summary = z.object({
  id: z.string(),
  name: z.string(),
  partner: z.string().nullable(),
  group: z.string().nullable(),
  currency: z.string(),
  start: z.string(),
  end: z.string(),
  calendar: z.string(),
  status: z.string(),
});

const SORTS = { id: 'id', name: 'name', start: 'start_date', end: 'end_date', status: 'status' } as const;

export function agreementRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/agreements',
      {
        schema: {
          tags: ['agreements'],
          summary: 'List agreements',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['id', 'name', 'start', 'end', 'status'], 'id'),
            status: z.string().min(1).optional(),
            partner: z.string().min(1).optional().describe("the agreement's own partner"),
            group: z.string().min(1).optional().describe("the agreement's buying group"),
            q: z.string().min(1).max(100).optional().describe('text in the id or name, any case'),
          }),
          response: { 200: pageOf(summary), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, sort, status, partner, group, q } = request.query;
        let query = store.db.selectFrom('agreements');
        const scope = request.scope;
        if (scope)
          query = query.where((eb) =>
            eb.or([
              eb('partner_id', 'in', scope.partners),
              ...(scope.group !== null ? [eb('buying_group', '=', scope.group)] : []),
            ]),
          );
        if (status !== undefined) query = query.where('status', '=', status);
        if (partner !== undefined) query = query.where('partner_id', '=', partner);
        if (group !== undefined) query = query.where('buying_group', '=', group);
        if (q !== undefined)
          query = query.where((eb) =>
            eb.or([eb('id', 'ilike', likePattern(q)), eb('name', 'ilike', likePattern(q))]),
          );
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: SORTS[field as keyof typeof SORTS],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return {
          items: rows.map((r) => ({
            id: r.id,
            name: r.name,
            partner: r.partner_id,
            group: r.buying_group,
            currency: r.currency.trim(),
            start: r.start_date,
            end: r.end_date,
            calendar: r.calendar,
            status: r.status,
          })),
          total,
          limit,
          offset,
        };
      },
    );

    app.get(
      '/agreements/:id',
      {
        schema: {
          tags: ['agreements'],
          summary: 'One agreement, with its rules and tiers, in the import format',
          params: z.object({ id: z.string().min(1) }),
          response: { 200: z.record(z.string(), z.unknown()), 404: errorBody },
        },
      },
      async (request) => {
        const [stored] = await loadAgreements(store.db, [request.params.id]);
        if (
          !stored ||
          !canSeeAgreement(request.scope, {
            partner_id: stored.agreement.partner ?? null,
            buying_group: stored.agreement.buyingGroup ?? null,
          })
        )
          throw notFound('agreement', request.params.id);
        return agreementToJson(stored.agreement, stored.status);
      },
    );
  };
}
