// Transaction lines over HTTP: one or a batch of lines, through the same import
// path as a file (the same checks, idempotent by line id, accruals kept current
// in the same transaction, one audit entry). All or nothing unless
// `skipInvalid`; every bad line is reported by its index and field.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { importFile } from '../imports/import.service.ts';
import { TRANSACTION_FIELDS } from '../imports/source.types.ts';
import { HttpError, notFound } from '../server/errors.ts';
import { errorBody, fetchPage, pageOf, pageQuery, parseSort, sortQuery } from '../server/lists.ts';
import { csvField } from '../shared/csv-text.ts';
import { isIsoDate } from '../shared/dates.ts';
import type { Store } from '../store/database.ts';
import type { TransactionsTable } from '../store/store.types.ts';

const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });

/** Lines one request may carry; larger loads go as files. */
export const LINES_PER_REQUEST_MAX = 10_000;
/** Room for the most lines a request may carry, at up to 1.6 KB each. */
export const LINES_BODY_BYTES_MAX = 16 * 1024 * 1024;
const WRITERS = new Set(['admin', 'finance']);

const text = z.string().max(1_000);
const line = z.object({
  id: text,
  date: text.describe('YYYY-MM-DD'),
  partner: text,
  sku: text,
  quantity: text.describe('exact decimal, as text'),
  amount: text.describe('exact decimal, as text, in the currency'),
  currency: text,
  document_type: text.optional(),
  invoice_number: text.optional(),
  ship_to: text.optional(),
  end_customer: text.optional(),
  unit_price: text.optional(),
  list_price: text.optional(),
  cost: text.optional(),
});

const FIELDS = [...TRANSACTION_FIELDS.required, ...TRANSACTION_FIELDS.optional] as const;

export function transactionRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/transactions',
      {
        bodyLimit: LINES_BODY_BYTES_MAX,
        schema: {
          tags: ['transactions'],
          summary: 'Record transaction lines (one or a batch), idempotently by line id',
          querystring: z.object({
            skipInvalid: z
              .enum(['true', 'false'])
              .default('false')
              .describe('keep the good lines when some are bad (default: all or nothing)'),
          }),
          body: z.object({ lines: z.array(line).min(1).max(LINES_PER_REQUEST_MAX) }),
          response: {
            201: z.object({
              importId: z.string(),
              outcome: z.string(),
              received: z.number().int(),
              imported: z.number().int(),
              duplicates: z.number().int(),
              rejected: z.number().int(),
            }),
            400: errorBody,
            403: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        if (!WRITERS.has(user.role))
          throw new HttpError(403, 'forbidden', 'recording transactions is for administrators and finance');
        const dir = await mkdtemp(join(tmpdir(), 'rebates-api-lines-'));
        try {
          const file = join(dir, 'lines.csv');
          const rows = request.body.lines.map((l) =>
            FIELDS.map((f) => csvField((l as Record<string, string | undefined>)[f] ?? '')).join(','),
          );
          await writeFile(file, `${FIELDS.join(',')}\n${rows.join('\n')}\n`);
          const summary = await importFile(store, {
            kind: 'transactions',
            file,
            skipInvalid: request.query.skipInvalid === 'true',
            actor: user.username,
            requestId: request.id,
          });
          // The file's line n is the request's lines[n - 2] (line 1 is the header).
          const details = summary.problems.map((p) => ({
            field: `lines[${(p.line ?? 2) - 2}]${p.field ? `.${p.field}` : ''}`,
            code: p.code,
            message: p.message,
          }));
          if (summary.outcome === 'nothing_imported' && summary.rejected > 0)
            return reply.code(422).send({
              code: 'invalid_lines',
              message: `${summary.rejected} of ${summary.read} lines are not valid; nothing was recorded`,
              details,
            });
          return reply.code(201).send({
            importId: summary.importId!,
            outcome: summary.outcome,
            received: summary.read,
            imported: summary.imported,
            duplicates: summary.duplicates,
            rejected: summary.rejected,
          });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );

    app.get(
      '/transactions',
      {
        schema: {
          tags: ['transactions'],
          summary: "List transaction lines (a partner user sees its own partners' lines only)",
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['date', 'id', 'amount'], 'date'),
            partner: z.string().min(1).optional(),
            sku: z.string().min(1).optional(),
            from: isoDate.optional().describe('lines dated on or after this day'),
            to: isoDate.optional().describe('lines dated on or before this day'),
            import: z
              .string()
              .regex(/^\d{1,18}$/, 'an import number')
              .optional(),
          }),
          response: { 200: pageOf(storedLine), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, sort, partner, sku, from, to } = request.query;
        let query = store.db.selectFrom('transactions');
        if (request.scope) query = query.where('partner_id', 'in', request.scope.partners);
        if (partner !== undefined) query = query.where('partner_id', '=', partner);
        if (sku !== undefined) query = query.where('sku', '=', sku);
        if (from !== undefined) query = query.where('line_date', '>=', from);
        if (to !== undefined) query = query.where('line_date', '<=', to);
        if (request.query.import !== undefined) query = query.where('import_id', '=', request.query.import);
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: { date: 'line_date', id: 'id', amount: 'amount' }[field as 'date' | 'id' | 'amount'],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return { items: rows.map(toStoredLine), total, limit, offset };
      },
    );

    app.get(
      '/transactions/:id',
      {
        schema: {
          tags: ['transactions'],
          summary: 'One transaction line',
          params: z.object({ id: z.string().min(1) }),
          response: { 200: storedLine, 404: errorBody },
        },
      },
      async (request) => {
        const row = await store.db
          .selectFrom('transactions')
          .selectAll()
          .where('id', '=', request.params.id)
          .executeTakeFirst();
        if (!row || (request.scope && !request.scope.partners.includes(row.partner_id)))
          throw notFound('transaction line', request.params.id);
        return toStoredLine(row);
      },
    );
  };
}

const storedLine = z.object({
  id: z.string(),
  date: z.string(),
  partner: z.string(),
  sku: z.string(),
  quantity: z.string(),
  amount: z.string(),
  currency: z.string(),
  documentType: z.string().nullable(),
  invoiceNumber: z.string().nullable(),
  importId: z.string(),
});

function toStoredLine(row: Selectable<TransactionsTable>) {
  return {
    id: row.id,
    date: row.line_date,
    partner: row.partner_id,
    sku: row.sku,
    quantity: row.quantity,
    amount: row.amount,
    currency: row.currency.trim(),
    documentType: row.document_type,
    invoiceNumber: row.invoice_number,
    importId: String(row.import_id),
  };
}
