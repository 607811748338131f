// The ledger over HTTP: accrual postings (finance posts, auditors read), the
// journal as JSON or CSV for the general ledger, and the account mapping.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import { errorBody, fetchPage, pageOf, pageQuery, parseSort, sortQuery } from '../server/lists.ts';
import { DomainError } from '../shared/errors.ts';
import type { Store } from '../store/database.ts';
import { requireRole } from '../users/users.routes.ts';
import { formatJournal, journalJson } from './journal.format.ts';
import { postAccruals, readJournal } from './ledger.service.ts';

const POSTERS = ['admin', 'finance'] as const;
const READERS = ['admin', 'finance', 'auditor'] as const;
const PURPOSES = ['rebate_expense', 'accrued_rebates', 'partner_payable', 'accounts_receivable'] as const;

const decimal = z.string().describe('exact decimal, as text');
const journalEntry = z.object({
  id: z.string().nullable(),
  posting: z.string().nullable(),
  source: z.string(),
  date: z.string(),
  agreement: z.string(),
  rule: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  currency: z.string(),
  amount: decimal,
  memo: z.string(),
  lines: z.array(z.object({ account: z.string(), debit: decimal, credit: decimal })),
});
const account = z.object({ purpose: z.enum(PURPOSES), account: z.string(), name: z.string() });

export function ledgerRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/accrual-postings',
      {
        schema: {
          tags: ['ledger'],
          summary: "Post the change in every accrual since the last posting, as of the period's last day",
          body: z.strictObject({
            period: z.string().describe('the month posted, YYYY-MM'),
            dryRun: z.boolean().default(false).describe('do the posting and roll it back'),
          }),
          response: {
            201: z.object({
              posting: z.string().nullable(),
              period: z.string(),
              asOf: z.string(),
              dryRun: z.boolean(),
              totals: z.array(z.object({ currency: z.string(), amount: decimal })),
              entries: z.array(journalEntry),
            }),
            400: errorBody,
            403: errorBody,
            409: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        requireRole(user, POSTERS, 'posting accruals');
        const summary = await postAccruals(store, {
          period: request.body.period,
          dryRun: request.body.dryRun,
          actor: user.username,
          requestId: request.id,
        }).catch((error: unknown) => {
          // A later month is posted already: a conflict with the ledger's state, not bad input.
          if (error instanceof DomainError && error.code === 'period_before_last_posting')
            throw new HttpError(409, error.code, error.message, error.problems);
          throw error;
        });
        return reply.code(201).send({
          posting: summary.postingId,
          period: summary.period,
          asOf: summary.asOf,
          dryRun: summary.dryRun,
          totals: summary.totals.map((t) => ({ currency: t.currency, amount: t.amount.toString() })),
          entries: journalJson(summary.entries),
        });
      },
    );

    app.get(
      '/accrual-postings',
      {
        schema: {
          tags: ['ledger'],
          summary: 'The accrual postings, newest first',
          querystring: z.object({ ...pageQuery, sort: sortQuery(['posted', 'period'], '-posted') }),
          response: {
            200: pageOf(
              z.object({
                id: z.string(),
                period: z.string(),
                asOf: z.string(),
                postedBy: z.string(),
                postedAt: z.string(),
                entries: z.number().int(),
              }),
            ),
            400: errorBody,
            403: errorBody,
          },
        },
      },
      async (request) => {
        requireRole(request.user!, READERS, 'the ledger');
        const { limit, offset, sort } = request.query;
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(store.db.selectFrom('accrual_postings'), {
          sortColumn: field === 'period' ? 'period' : 'id',
          direction,
          key: 'id',
          limit,
          offset,
        });
        return {
          items: rows.map((r) => ({
            id: String(r.id),
            period: r.period,
            asOf: r.as_of,
            postedBy: r.posted_by,
            postedAt: new Date(r.posted_at).toISOString(),
            entries: r.entries,
          })),
          total,
          limit,
          offset,
        };
      },
    );

    app.get(
      '/journal',
      {
        schema: {
          tags: ['ledger'],
          summary: 'Journal entries with their lines, oldest first; `format=csv` for a general ledger import',
          querystring: z.object({
            posting: z
              .string()
              .regex(/^\d{1,18}$/, 'a posting number')
              .optional(),
            agreement: z.string().min(1).optional(),
            format: z.enum(['json', 'csv']).default('json'),
          }),
          response: { 200: z.union([z.array(journalEntry), z.string()]), 400: errorBody, 403: errorBody },
        },
      },
      async (request, reply) => {
        requireRole(request.user!, READERS, 'the ledger');
        const { posting, agreement, format } = request.query;
        const entries = await readJournal(store.db, {
          ...(posting ? { postingId: posting } : {}),
          ...(agreement ? { agreementId: agreement } : {}),
        });
        if (format === 'csv')
          return reply
            .type('text/csv; charset=utf-8')
            .header(
              'content-disposition',
              `attachment; filename="journal${posting ? `-${posting}` : ''}.csv"`,
            )
            .send(formatJournal(entries, 'csv'));
        return journalJson(entries);
      },
    );

    app.get(
      '/ledger-accounts',
      {
        schema: {
          tags: ['ledger'],
          summary: 'The general ledger account each kind of journal line posts to',
          response: { 200: z.object({ items: z.array(account) }), 403: errorBody },
        },
      },
      async (request) => {
        requireRole(request.user!, READERS, 'the ledger');
        const items = await store.db.selectFrom('ledger_accounts').selectAll().orderBy('purpose').execute();
        return { items };
      },
    );

    app.put(
      '/ledger-accounts/:purpose',
      {
        schema: {
          tags: ['ledger'],
          summary: 'Set the account a kind of journal line posts to (later entries only; posted ones stay)',
          params: z.object({ purpose: z.enum(PURPOSES) }),
          body: z.strictObject({
            account: z.string().trim().min(1).max(50),
            name: z.string().trim().min(1).max(200),
          }),
          response: { 200: account, 400: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        requireRole(user, POSTERS, 'the account mapping');
        const { purpose } = request.params;
        return store.db.transaction().execute(async (trx) => {
          const before = await trx
            .selectFrom('ledger_accounts')
            .selectAll()
            .where('purpose', '=', purpose)
            .forUpdate()
            .executeTakeFirstOrThrow();
          const after = { purpose, account: request.body.account, name: request.body.name };
          await trx.updateTable('ledger_accounts').set(after).where('purpose', '=', purpose).execute();
          await appendAudit(trx, {
            actor: user.username,
            action: 'ledger_account.update',
            entity: 'ledger_account',
            entityId: purpose,
            before,
            after,
            requestId: request.id,
          });
          return after;
        });
      },
    );
  };
}
