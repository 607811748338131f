// Transaction lines over HTTP: one or a batch of lines, through the same import
// path as a file (the same checks, idempotent by line id, accruals kept current
// in the same transaction, one audit entry). All or nothing unless
// `skipInvalid`; every bad line is reported by its index and field.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { importFile } from '../imports/import.service.ts';
import { TRANSACTION_FIELDS } from '../imports/source.types.ts';
import { HttpError } from '../server/errors.ts';
import { errorBody } from '../server/lists.ts';
import { csvField } from '../shared/csv-text.ts';
import type { Store } from '../store/database.ts';

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
  };
}
