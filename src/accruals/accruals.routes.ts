// Accrual positions over HTTP: where each agreement stands now, per rule and
// period, with the distance to the next tier. Figures are exact decimals as text.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, pageOf, pageQuery, parseSort, sortQuery } from '../server/lists.ts';
import { isIsoDate } from '../shared/dates.ts';
import type { Store } from '../store/database.ts';
import { visibleAgreements } from '../users/access.ts';
import { type AccrualPosition, readAccruals } from './accruals.service.ts';

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
  nextTierRate: decimal
    .nullable()
    .describe("the next tier's rate (percent, per unit or lump sum, as `payout` says)"),
  basis: z.enum(['amount', 'quantity']),
  payout: z.enum(['percent', 'per_unit', 'lump_sum']),
  forecastAmount: decimal.describe('the period amount projected to its end at the run rate so far'),
  forecastQuantity: decimal,
  forecastTier: z.number().int().describe('index of the tier the forecast reaches, -1 for none'),
  forecastRebate: decimal,
  accrualBasis: z.enum(['earned', 'forecast']),
  accrued: decimal.describe("what is accrued on the agreement's basis"),
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
            sort: sortQuery(['agreement', 'period', 'rebate', 'remaining'], 'agreement'),
            agreement: z.string().min(1).optional(),
            asOf: z
              .string()
              .refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' })
              .optional()
              .describe('the day forecasts run to (default: today)'),
          }),
          response: { 200: pageOf(position), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, agreement, sort, asOf } = request.query;
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
        const positions = sortPositions(await readAccruals(store, ids, asOf), sort);
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
            nextTierRate: p.nextTier?.rate.toString() ?? null,
            basis: p.basis,
            payout: p.payout,
            forecastAmount: p.forecast.amount.toString(),
            forecastQuantity: p.forecast.quantity.toString(),
            forecastTier: p.forecast.tierIndex,
            forecastRebate: p.forecast.rebate.toString(),
            accrualBasis: p.accrualBasis,
            accrued: p.accrued.toString(),
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

/**
 * Positions in the order asked for; ties keep the agreement, rule and period
 * order. `remaining` (to the next tier) puts positions with no next tier last.
 */
function sortPositions(positions: AccrualPosition[], sort: string): AccrualPosition[] {
  const { field, direction } = parseSort(sort);
  const sign = direction === 'asc' ? 1 : -1;
  const compare: Record<string, (a: AccrualPosition, b: AccrualPosition) => number> = {
    agreement: () => 0,
    period: (a, b) => (a.period.start < b.period.start ? -1 : a.period.start > b.period.start ? 1 : 0),
    rebate: (a, b) => a.rebate.cmp(b.rebate),
    remaining: (a, b) => {
      if (!a.nextTier || !b.nextTier) return a.nextTier ? -sign : b.nextTier ? sign : 0;
      return a.nextTier.remaining.cmp(b.nextTier.remaining);
    },
  };
  const byField = compare[field]!;
  const indexed = positions.map((p, i) => [p, i] as const);
  indexed.sort(([a, i], [b, j]) => sign * byField(a, b) || (field === 'agreement' ? sign * (i - j) : i - j));
  return indexed.map(([p]) => p);
}
