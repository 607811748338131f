// Settlement results and explanations over HTTP: what an agreement earns per
// rule and period from the stored lines (as `rebates settle` and `rebates
// explain` compute it), for the agreements the user may see.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseAgreement } from '../agreements/agreements.schema.ts';
import { requireVisibleAgreement } from '../agreements/amendments.routes.ts';
import type { RuleResult } from '../calculation/calculation.types.ts';
import { payoutCurve } from '../calculation/curve.ts';
import { HttpError, notFound } from '../server/errors.ts';
import { errorBody, pageOf, pageQuery } from '../server/lists.ts';
import { csvField } from '../shared/csv-text.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { isIsoDate } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import type { Store } from '../store/database.ts';
import { type PartnerScope, visibleAgreements } from '../users/access.ts';
import { requireRole } from '../users/users.routes.ts';
import { acting } from '../users/users.service.ts';
import { payoutDocumentPdf } from './credit-memo.ts';
import { explainAgreement } from './explain.ts';
import { settle, settleDraft } from './settlement.service.ts';
import {
  changeSettlement,
  listSettlements,
  prepareSettlement,
  readSettlement,
  type SettlementView,
} from './settlement-workflow.ts';

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
  /** 404 unless the settlement exists and belongs to an agreement the scope may see. */
  const visibleSettlement = async (id: string, scope: PartnerScope | undefined): Promise<SettlementView> => {
    const settlement = await readSettlement(store.db, id);
    if (!settlement) throw notFound('settlement', id);
    if (scope)
      await requireVisibleAgreement(store, scope, settlement.agreementId).catch(() => {
        throw notFound('settlement', id);
      });
    return settlement;
  };
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
          results: run.results.map(resultJson),
        };
      },
    );

    app.post(
      '/agreements/preview',
      {
        schema: {
          tags: ['settlements'],
          summary:
            'What-if: settle an agreement that is not stored (a draft being designed) over the stored lines, writing nothing',
          body: z.record(z.string(), z.unknown()),
          querystring: query,
          response: {
            200: z.object({
              currency: z.string(),
              total: decimal,
              results: z.array(result),
              curves: z
                .array(
                  z.object({
                    rule: z.string(),
                    points: z.array(z.object({ measure: decimal, rebate: decimal })),
                  }),
                )
                .describe("each rule's payout for one period at measures from zero to past its top tier"),
            }),
            400: errorBody,
            403: errorBody,
            422: errorBody,
          },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner') throw new HttpError(403, 'forbidden', 'previews are for internal users');
        const { asOf } = request.query;
        // The draft needs no id or dates of its own to be previewed.
        const draft = { id: 'preview', status: 'draft', ...request.body };
        const results = await settleDraft(store.db, draft, asOf ? { asOf } : {});
        const parsed = parseAgreement(draft);
        const agreement = parsed.ok ? parsed.value.agreement : undefined;
        return {
          currency: results[0]?.currency ?? agreement?.currency ?? 'USD',
          total: Decimal.sum(results.map((r) => r.rebate)).toString(),
          results: results.map(resultJson),
          curves: (agreement?.rules ?? []).map((rule) => ({
            rule: rule.id,
            points: payoutCurve(agreement!, rule, minorUnitsOf(agreement!.currency)).map((p) => ({
              measure: p.measure.toString(),
              rebate: p.rebate.toString(),
            })),
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

    app.post(
      '/settlements',
      {
        schema: {
          tags: ['settlements'],
          summary:
            'Prepare a settlement for a rule and period (interim: on account; final: nets every earlier payment). A final one that exists is returned as it is',
          body: z.strictObject({
            agreement: z.string().min(1),
            rule: z.string().min(1),
            periodStart: isoDate.describe('the first day of the period settled'),
            kind: z.enum(['interim', 'final']),
            payoutMethod: z.enum(['credit_memo', 'bank_transfer', 'invoice_offset']).default('credit_memo'),
            amount: decimal
              .optional()
              .describe('interim only: what to pay on account (default: all earned, not paid)'),
            clawbackPolicy: z.enum(['carry_forward', 'invoice']).optional(),
            asOf: isoDate.optional().describe('lines dated up to this day count (default: today)'),
            comment: z.string().max(2_000).optional(),
            dryRun: z.boolean().default(false),
          }),
          response: {
            200: settlementBody,
            201: settlementBody,
            400: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        const { agreement, rule, comment, amount, clawbackPolicy, asOf, ...rest } = request.body;
        if (user.role === 'partner') throw notFound('agreement', agreement);
        const { settlement, existing } = await prepareSettlement(
          store,
          {
            agreementId: agreement,
            ruleId: rule,
            ...rest,
            ...(amount !== undefined ? { amount } : {}),
            ...(clawbackPolicy ? { clawbackPolicy } : {}),
            ...(asOf ? { asOf } : {}),
            ...(comment ? { comment } : {}),
          },
          acting(user, request.id),
        );
        return reply.code(existing ? 200 : 201).send(settlement);
      },
    );

    app.get(
      '/settlements',
      {
        schema: {
          tags: ['settlements'],
          summary: 'Settlements, oldest first (a partner user sees those of its own agreements)',
          querystring: z.object({
            ...pageQuery,
            agreement: z.string().min(1).optional(),
            status: z.enum(['draft', 'approved', 'posted', 'cancelled']).optional(),
            kind: z.enum(['interim', 'final']).optional(),
          }),
          response: { 200: pageOf(settlementBody), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, agreement, status, kind } = request.query;
        let ids: string[] | undefined = agreement === undefined ? undefined : [agreement];
        if (request.scope) {
          let visible = store.db
            .selectFrom('agreements')
            .select('id')
            .where(visibleAgreements(request.scope));
          if (agreement !== undefined) visible = visible.where('id', '=', agreement);
          ids = (await visible.execute()).map((a) => a.id);
        }
        const all = (await listSettlements(store.db, ids)).filter(
          (x) => (status === undefined || x.status === status) && (kind === undefined || x.kind === kind),
        );
        return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
      },
    );

    app.get(
      '/settlements/:id',
      {
        schema: {
          tags: ['settlements'],
          summary: 'One settlement',
          params: settlementParams,
          response: { 200: settlementBody, 400: errorBody, 404: errorBody },
        },
      },
      async (request) => visibleSettlement(request.params.id, request.scope),
    );

    app.post(
      '/settlements/:id/transitions',
      {
        schema: {
          tags: ['settlements'],
          summary:
            'Approve (not the preparer), post (once: its payout document and journal entry) or cancel a settlement',
          params: settlementParams,
          body: z.strictObject({
            action: z.enum(['approve', 'post', 'cancel']),
            comment: z.string().max(2_000).optional(),
          }),
          response: { 200: settlementBody, 400: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner') throw notFound('settlement', request.params.id);
        const { settlement } = await changeSettlement(
          store,
          request.params.id,
          request.body.action,
          acting(user, request.id),
          request.body.comment,
        );
        return settlement;
      },
    );

    app.get(
      '/settlements/:id/document',
      {
        schema: {
          tags: ['settlements'],
          summary: "A posted settlement's payout document (credit memo, remittance or offset advice) as PDF",
          params: settlementParams,
          response: { 200: z.any(), 400: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request, reply) => {
        const settlement = await visibleSettlement(request.params.id, request.scope);
        if (settlement.status !== 'posted')
          throw new HttpError(
            409,
            'not_posted',
            `settlement ${settlement.id} is ${settlement.status}: it has no document yet`,
          );
        const beneficiary = await store.db
          .selectFrom('partners')
          .select('name')
          .where('id', '=', settlement.beneficiary)
          .executeTakeFirst();
        const agreement = await store.db
          .selectFrom('agreements')
          .select('name')
          .where('id', '=', settlement.agreementId)
          .executeTakeFirstOrThrow();
        const pdf = await payoutDocumentPdf(settlement, {
          issuer: 'Rebates, finance',
          beneficiaryName: beneficiary?.name ?? settlement.beneficiary,
          agreementName: agreement.name,
        });
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${settlement.documentNumber}.pdf"`)
          .send(Buffer.from(pdf));
      },
    );

    app.get(
      '/settlement-payments',
      {
        schema: {
          tags: ['settlements'],
          summary: 'Posted payouts as CSV for the ERP: one row per settlement that moves money',
          querystring: z.object({
            method: z.enum(['credit_memo', 'bank_transfer', 'invoice_offset']).optional(),
            from: isoDate.optional().describe('posted on or after this day'),
            to: isoDate.optional().describe('posted on or before this day'),
          }),
          response: { 200: z.string(), 400: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        requireRole(request.user!, ['admin', 'finance', 'auditor'], 'payment exports');
        const { method, from, to } = request.query;
        const names = new Map(
          (await store.db.selectFrom('partners').select(['id', 'name']).execute()).map((p) => [p.id, p.name]),
        );
        const rows = (await listSettlements(store.db)).filter(
          (x) =>
            x.status === 'posted' &&
            !Decimal.parse(x.amount).isZero() &&
            (method === undefined || x.payoutMethod === method) &&
            (from === undefined || x.postedAt!.slice(0, 10) >= from) &&
            (to === undefined || x.postedAt!.slice(0, 10) <= to),
        );
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="settlement-payments.csv"')
          .send(paymentsCsv(rows, names));
      },
    );
  };
}

const settlementParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'a settlement number') });
const settlementBody = z.object({
  id: z.string().nullable(),
  agreementId: z.string(),
  ruleId: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  kind: z.string(),
  status: z.string(),
  currency: z.string(),
  asOf: z.string(),
  earned: decimal,
  paidBefore: decimal,
  amount: decimal,
  payoutMethod: z.string(),
  clawbackPolicy: z.string().nullable(),
  beneficiary: z.string(),
  preparedBy: z.string(),
  approvedBy: z.string().nullable(),
  postedBy: z.string().nullable(),
  postedAt: z.string().nullable(),
  documentNumber: z.string().nullable(),
  journalEntry: z.string().nullable(),
  comment: z.string().nullable(),
  claim: z.string().nullable().describe('the claim it pays, if any'),
});

const PAYMENT_COLUMNS = [
  'document',
  'posted',
  'method',
  'beneficiary',
  'beneficiary_name',
  'agreement',
  'rule',
  'period_start',
  'period_end',
  'kind',
  'currency',
  'amount',
  'settlement',
] as const;

export function paymentsCsv(rows: readonly SettlementView[], names: ReadonlyMap<string, string>): string {
  const lines = rows.map((x) =>
    [
      x.documentNumber ?? '',
      x.postedAt?.slice(0, 10) ?? '',
      x.payoutMethod,
      x.beneficiary,
      names.get(x.beneficiary) ?? '',
      x.agreementId,
      x.ruleId,
      x.periodStart,
      x.periodEnd,
      x.kind,
      x.currency,
      x.amount,
      x.id ?? '',
    ]
      .map(csvField)
      .join(','),
  );
  return `${[PAYMENT_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

/** One rule's result for one period, as the API gives it. */
function resultJson(r: RuleResult) {
  return {
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
  };
}
