// Accrual positions over HTTP: where each agreement stands now, per rule and
// period, with the distance to the next tier. Figures are exact decimals as text.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, pageOf, pageQuery } from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import { visibleAgreements } from '../users/access.ts';
import { readAccruals } from './accruals.service.ts';

const decimal = z.string().describe('exact decimal, as text');

const position = z.object({
  agreement: z.string(),
  rule: z.string(),
  version: z.number().int().describe('the agreement version the rule belongs to'),
  periodStart: z.string(),
  periodEnd: z.string(),
  currency: z.string(),
  lineCount: z.number().int(),
  quantity: decimal,
  amount: decimal,
  baselineAmount: decimal,
  measure: decimal,
  tier: z.number().int().describe('index of the tier reached, -1 for none'),
  rebate: decimal,
  heldRebate: decimal,
  outcome: z.string(),
  nextTierFrom: decimal.nullable(),
  nextTierRemaining: decimal.nullable(),
  updatedAt: z.string(),
});

export function accrualRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/accruals',
      {
        schema: {
          tags: ['accruals'],
          summary: 'Accrual positions by agreement, rule and period',
          querystring: z.object({
            ...pageQuery,
            agreement: z.string().min(1).optional(),
          }),
          response: { 200: pageOf(position), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, agreement } = request.query;
        let ids = agreement === undefined ? undefined : [agreement];
        if (request.scope) {
          // A partner user reads the positions of the agreements it may see, and no others.
          let visible = store.db
            .selectFrom('agreements')
            .select('id')
            .where(visibleAgreements(request.scope));
          if (agreement !== undefined) visible = visible.where('id', '=', agreement);
          ids = (await visible.execute()).map((a) => a.id);
        }
        const positions = await readAccruals(store, ids);
        return {
          items: positions.slice(offset, offset + limit).map((p) => ({
            agreement: p.agreementId,
            rule: p.ruleId,
            version: p.version,
            periodStart: p.period.start,
            periodEnd: p.period.end,
            currency: p.currency,
            lineCount: p.lineCount,
            quantity: p.quantity.toString(),
            amount: p.amount.toString(),
            baselineAmount: p.baselineAmount.toString(),
            measure: p.measure.toString(),
            tier: p.tierIndex,
            rebate: p.rebate.toString(),
            heldRebate: p.heldRebate.toString(),
            outcome: p.outcome,
            nextTierFrom: p.nextTier?.from.toString() ?? null,
            nextTierRemaining: p.nextTier?.remaining.toString() ?? null,
            updatedAt: p.updatedAt,
          })),
          total: positions.length,
          limit,
          offset,
        };
      },
    );
  };
}
