// Settlement results and explanations over HTTP: what an agreement earns per
// rule and period from the stored lines (as `rebates settle` and `rebates
// explain` compute it), for the agreements the user may see.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireVisibleAgreement } from '../agreements/amendments.routes.ts';
import { HttpError } from '../server/errors.ts';
import { errorBody } from '../server/lists.ts';
import { isIsoDate } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import type { Store } from '../store/database.ts';
import { explainAgreement } from './explain.ts';
import { settle } from './settlement.service.ts';

const decimal = z.string().describe('exact decimal, as text');
const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });
const params = z.object({ id: z.string().min(1) });
const query = z.object({
  asOf: isoDate.optional().describe('count only lines dated on or before this day (default: every line)'),
});

const result = z.object({
  rule: z.string(),
  version: z.number().int(),
  periodStart: z.string(),
  periodEnd: z.string(),
  baselineStart: z.string().nullable(),
  baselineEnd: z.string().nullable(),
  currency: z.string(),
  lineCount: z.number().int(),
  quantity: decimal,
  amount: decimal,
  baselineAmount: decimal,
  measure: decimal,
  tier: z.number().int(),
  rawRebate: decimal,
  rebate: decimal,
  heldRebate: decimal,
  outcome: z.string(),
  steps: z.array(z.object({ label: z.string(), formula: z.string(), value: decimal })),
});

/** An agreement that is not yet (or no longer) settled has no figures to show. */
function notSettled(error: unknown): never {
  if (error instanceof DomainError && error.code === 'agreement_not_settled')
    throw new HttpError(409, error.code, error.message);
  throw error;
}

export function settlementRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/agreements/:id/settlement',
      {
        schema: {
          tags: ['settlements'],
          summary: 'What the agreement earns per rule and period, with the arithmetic of each figure',
          params,
          querystring: query,
          response: {
            200: z.object({
              agreement: z.string(),
              status: z.string(),
              asOf: z.string().nullable(),
              currency: z.string(),
              total: decimal,
              results: z.array(result),
            }),
            400: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        await requireVisibleAgreement(store, request.scope, id);
        const { asOf } = request.query;
        const run = await settle(store.db, { agreementIds: [id], ...(asOf ? { asOf } : {}) });
        const stored = run.agreements[0];
        if (!stored)
          notSettled(
            new DomainError('agreement_not_settled', `agreement ${id} is not approved, active or ended`),
          );
        return {
          agreement: id,
          status: stored.status,
          asOf: asOf ?? null,
          currency: stored.agreement.currency,
          total: Decimal.sum(run.results.map((r) => r.rebate)).toString(),
          results: run.results.map((r) => ({
            rule: r.ruleId,
            version: r.version ?? 1,
            periodStart: r.period.start,
            periodEnd: r.period.end,
            baselineStart: r.baselineWindow?.start ?? null,
            baselineEnd: r.baselineWindow?.end ?? null,
            currency: r.currency,
            lineCount: r.lineCount,
            quantity: r.quantity.toString(),
            amount: r.amount.toString(),
            baselineAmount: r.baselineAmount.toString(),
            measure: r.measure.toString(),
            tier: r.tierIndex,
            rawRebate: r.rawRebate.toString(),
            rebate: r.rebate.toString(),
            heldRebate: r.heldRebate.toString(),
            outcome: r.outcome,
            steps: r.steps.map((s) => ({ label: s.label, formula: s.formula, value: s.value.toString() })),
          })),
        };
      },
    );

    app.get(
      '/agreements/:id/explanation',
      {
        schema: {
          tags: ['settlements'],
          summary:
            'How every figure of the agreement was reached, in words: lines, tiers, arithmetic, rounding, cap',
          params,
          querystring: query,
          response: {
            200: z.object({ agreement: z.string(), text: z.string() }),
            400: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        await requireVisibleAgreement(store, request.scope, id);
        const today = new Date().toISOString().slice(0, 10);
        const text = await explainAgreement(store.db, id, today, request.query.asOf).catch(notSettled);
        return { agreement: id, text };
      },
    );
  };
}
