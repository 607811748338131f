// Reports over HTTP, as JSON, CSV or XLSX (and the partner statement as PDF):
// finance's accrual liability, payouts and claims aging, and each partner's
// statement, which a partner user reads for itself only.
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../server/errors.ts';
import { errorBody } from '../server/lists.ts';
import { isIsoDate } from '../shared/dates.ts';
import type { Store } from '../store/database.ts';
import { requireRole } from '../users/users.routes.ts';
import { dashboard } from './dashboard.ts';
import {
  accrualLiabilityReport,
  claimsAgingReport,
  type LiabilityGrouping,
  partnerStatement,
  payoutsReport,
  positionsAsOf,
} from './finance.reports.ts';
import { type Report, reportCsv, reportJson, reportPdf, reportXlsx } from './report.ts';

const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });
const today = () => new Date().toISOString().slice(0, 10);
const FINANCE_READERS = ['admin', 'finance', 'auditor'] as const;
const reportBody = z.object({
  title: z.string(),
  columns: z.array(z.object({ key: z.string(), header: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.string())),
});
const formats = z.enum(['json', 'csv', 'xlsx']).default('json');

async function send(reply: FastifyReply, report: Report, format: string, name: string, subtitle = '') {
  if (format === 'csv')
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}.csv"`)
      .send(reportCsv(report));
  if (format === 'xlsx')
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="${name}.xlsx"`)
      .send(await reportXlsx(report));
  if (format === 'pdf')
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${name}.pdf"`)
      .send(Buffer.from(await reportPdf(report, subtitle)));
  return reply.send(reportJson(report));
}

export function reportRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/reports/accrual-liability',
      {
        schema: {
          tags: ['reports'],
          summary: 'Accrued liability as of a day, by rule and period, agreement, partner or period',
          querystring: z.object({
            asOf: isoDate.optional().describe('default: today'),
            groupBy: z.enum(['rule_period', 'agreement', 'partner', 'period']).default('agreement'),
            format: formats,
          }),
          response: { 200: reportBody, 400: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        requireRole(request.user!, FINANCE_READERS, 'finance reports');
        const asOf = request.query.asOf ?? today();
        const report = accrualLiabilityReport(
          await positionsAsOf(store.db, asOf),
          asOf,
          request.query.groupBy as LiabilityGrouping,
        );
        return send(reply, report, request.query.format, `accrual-liability-${asOf}`);
      },
    );

    app.get(
      '/reports/payouts',
      {
        schema: {
          tags: ['reports'],
          summary: 'Settlements posted between two days',
          querystring: z.object({ from: isoDate, to: isoDate, format: formats }),
          response: { 200: reportBody, 400: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        requireRole(request.user!, FINANCE_READERS, 'finance reports');
        const { from, to, format } = request.query;
        return send(reply, await payoutsReport(store.db, from, to), format, `payouts-${from}-${to}`);
      },
    );

    app.get(
      '/reports/claims-aging',
      {
        schema: {
          tags: ['reports'],
          summary: 'Open claims by age: disputed, or approved and not yet paid',
          querystring: z.object({ asOf: isoDate.optional().describe('default: today'), format: formats }),
          response: { 200: reportBody, 400: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        requireRole(request.user!, FINANCE_READERS, 'finance reports');
        const asOf = request.query.asOf ?? today();
        return send(
          reply,
          await claimsAgingReport(store.db, asOf),
          request.query.format,
          `claims-aging-${asOf}`,
        );
      },
    );

    app.get(
      '/partners/:id/statement',
      {
        schema: {
          tags: ['reports'],
          summary:
            "A partner's statement for the dates asked: earned, accrued, claimed, paid and balance per rule and period",
          params: z.object({ id: z.string().min(1) }),
          querystring: z.object({
            from: isoDate,
            to: isoDate,
            format: z.enum(['json', 'csv', 'xlsx', 'pdf']).default('json'),
          }),
          response: { 200: reportBody, 400: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (request.scope && !request.scope.partners.includes(id)) throw notFound('partner', id);
        const partner = await store.db
          .selectFrom('partners')
          .select(['id', 'name'])
          .where('id', '=', id)
          .executeTakeFirst();
        if (!partner) throw notFound('partner', id);
        const { from, to, format } = request.query;
        const report = partnerStatement(await positionsAsOf(store.db, to), id, from, to);
        return send(
          reply,
          report,
          format,
          `statement-${id}-${from}-${to}`,
          `${partner.name} (${id}), as of ${to}`,
        );
      },
    );

    app.get(
      '/dashboard',
      {
        schema: {
          tags: ['reports'],
          summary:
            'The internal dashboard: accrued and forecast totals, who is nearest the next tier, what waits, and trends',
          querystring: z.object({ asOf: isoDate.optional().describe('default: today') }),
          response: { 200: z.record(z.string(), z.unknown()), 400: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner')
          requireRole(user, ['admin', 'commercial', 'sales', 'finance', 'auditor'], 'the dashboard');
        return (await dashboard(store, request.query.asOf ?? today())) as unknown as Record<string, unknown>;
      },
    );
  };
}
