// Files imported over HTTP: an ERP export uploaded as multipart/form-data goes
// through the same import as `rebates import` (the same checks, idempotent, the
// accruals kept current, one audit entry), and the import history is readable.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../server/errors.ts';
import { claimIdempotencyKey } from '../server/idempotency.ts';
import { errorBody, fetchPage, pageOf, pageQuery, parseSort, sortQuery } from '../server/lists.ts';
import { DomainError } from '../shared/errors.ts';
import { UPLOAD_BYTES_MAX } from '../shared/limits.ts';
import type { Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import { importFile } from './import.service.ts';
import { parseMapping } from './mapping.ts';
import type { ImportKind } from './source.types.ts';
import { xlsxToCsvFile } from './xlsx-source.ts';

/** Who may import each kind of file: finance records sales, the commercial team keeps master data. */
const IMPORTERS: Record<ImportKind, readonly UserRole[]> = {
  // A partner user sends its own sales reports: lines of its own partners only.
  transactions: ['admin', 'finance', 'partner'],
  partners: ['admin', 'commercial'],
  products: ['admin', 'commercial'],
};
const KINDS = Object.keys(IMPORTERS) as ImportKind[];
/** Problems listed in the answer; the count of every rejected row is always there. */
const PROBLEMS_ANSWERED_MAX = 1_000;

const importRecord = z.object({
  id: z.string(),
  kind: z.string(),
  fileName: z.string(),
  mapping: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  read: z.number().int(),
  imported: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  outcome: z.string(),
});

function toRecord(row: {
  id: string;
  kind: string;
  file_name: string;
  mapping_name: string | null;
  started_at: string;
  finished_at: string | null;
  rows_read: number;
  rows_imported: number;
  rows_duplicate: number;
  rows_rejected: number;
  outcome: string;
}) {
  return {
    id: String(row.id),
    kind: row.kind,
    fileName: row.file_name,
    mapping: row.mapping_name,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    read: Number(row.rows_read),
    imported: Number(row.rows_imported),
    duplicates: Number(row.rows_duplicate),
    rejected: Number(row.rows_rejected),
    outcome: row.outcome,
  };
}

const invalid = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, [{ field, code: 'invalid_field', message }]);

export function importRoutes(store: Store, uploadBytesMax = UPLOAD_BYTES_MAX): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(multipart, {
      limits: { fileSize: uploadBytesMax, files: 2, fields: 4, fieldSize: 1024 * 1024 },
    });

    app.post(
      '/imports',
      {
        // Streamed to a file as it arrives: the JSON body limit does not apply.
        bodyLimit: uploadBytesMax + 2 * 1024 * 1024,
        schema: {
          tags: ['imports'],
          summary:
            'Import a CSV or XLSX file (multipart/form-data: kind, file, optional mapping and skipInvalid)',
          description:
            'Fields: `kind` (transactions, partners or products), `file` (the CSV export), `mapping` (optional, a ' +
            'column mapping as JSON text or file, see mappings/README.md), `skipInvalid` ("true" keeps the good ' +
            'rows of a file with bad ones; by default a file with bad rows imports nothing). Importing the same ' +
            'file again adds nothing.',
          consumes: ['multipart/form-data'],
          response: {
            201: importRecord.extend({
              withheld: z.number().int(),
              problems: z.array(
                z.object({
                  line: z.number().int().nullable(),
                  field: z.string().nullable(),
                  code: z.string(),
                  message: z.string(),
                }),
              ),
            }),
            400: errorBody,
            403: errorBody,
            413: errorBody,
            415: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        if (!KINDS.some((kind) => IMPORTERS[kind].includes(user.role)))
          throw new HttpError(
            403,
            'forbidden',
            'importing files is for administrators, finance and the commercial team',
          );
        if (!request.isMultipart())
          throw new HttpError(415, 'unsupported_media_type', 'send the file as multipart/form-data');
        const dir = await mkdtemp(join(tmpdir(), 'rebates-upload-'));
        try {
          const fields: Record<string, string> = {};
          let file: { path: string; name: string } | undefined;
          // What the request sent, hashed as it arrives: the same upload again replays the first answer.
          const digest = createHash('sha256');
          for await (const part of request.parts()) {
            digest.update(`${part.type} ${part.fieldname}\n`);
            if (part.type === 'field') {
              fields[part.fieldname] = String(part.value);
              digest.update(`${fields[part.fieldname]}\n`);
              continue;
            }
            if (part.fieldname === 'mapping') {
              fields.mapping = (await part.toBuffer()).toString('utf8');
              digest.update(`${fields.mapping}\n`);
              continue;
            }
            if (part.fieldname !== 'file') throw invalid(part.fieldname, 'unknown file field; send "file"');
            const name = basename(part.filename || 'upload.csv');
            const path = join(dir, name);
            digest.update(`${name}\n`);
            await pipeline(
              part.file,
              new Transform({
                transform(chunk, _encoding, done) {
                  digest.update(chunk);
                  done(null, chunk);
                },
              }),
              createWriteStream(path),
            );
            if (part.file.truncated)
              throw new HttpError(413, 'body_too_large', `file: larger than ${uploadBytesMax} bytes`);
            file = { path, name };
          }
          if (await claimIdempotencyKey(store, request, reply, digest.digest('hex'))) return reply;
          const kind = fields.kind as ImportKind | undefined;
          if (kind === undefined || !KINDS.includes(kind))
            throw invalid('kind', `one of ${KINDS.join(', ')}`);
          if (!IMPORTERS[kind].includes(user.role))
            throw new HttpError(
              403,
              'forbidden',
              `importing ${kind} is for ${IMPORTERS[kind].join(', ')} users`,
            );
          if (file === undefined) throw invalid('file', 'attach the CSV file as "file"');
          if (fields.skipInvalid !== undefined && !['true', 'false'].includes(fields.skipInvalid))
            throw invalid('skipInvalid', '"true" or "false"');
          let mapping: ReturnType<typeof parseMapping> | undefined;
          if (fields.mapping !== undefined) {
            try {
              mapping = parseMapping(JSON.parse(fields.mapping), 'mapping');
            } catch (error) {
              throw invalid('mapping', error instanceof Error ? error.message : String(error));
            }
          }
          // A spreadsheet is read as the CSV of its first sheet, under its own name.
          let source = file.path;
          if (/\.xlsx$/i.test(file.name)) {
            await mkdir(join(dir, 'sheet'));
            source = join(dir, 'sheet', file.name);
            await xlsxToCsvFile(file.path, source, file.name);
          }
          const summary = await importFile(store, {
            kind,
            file: source,
            ...(mapping ? { mapping, mappingName: 'uploaded mapping' } : {}),
            skipInvalid: fields.skipInvalid === 'true',
            errorsFile: join(dir, 'errors.csv'),
            rejectsFile: join(dir, 'rejected.csv'),
            actor: user.username,
            requestId: request.id,
            ...(request.scope ? { partnerScope: request.scope.partners } : {}),
          });
          const problems = summary.problems.slice(0, PROBLEMS_ANSWERED_MAX).map((p) => ({
            line: p.line ?? null,
            field: p.field ?? null,
            code: p.code,
            message: p.message,
          }));
          if (
            summary.importId === undefined ||
            (summary.outcome === 'nothing_imported' && summary.rejected > 0)
          )
            return reply.code(422).send({
              code: 'invalid_file',
              message: `${summary.rejected} of ${summary.read} rows of ${file.name} are not valid; nothing was imported`,
              details: problems.map((p) => ({
                field: `line ${p.line ?? '?'}${p.field ? `.${p.field}` : ''}`,
                code: p.code,
                message: p.message,
              })),
            });
          const [row] = await store.db
            .selectFrom('imports')
            .selectAll()
            .where('id', '=', summary.importId)
            .execute();
          return reply.code(201).send({ ...toRecord(row!), withheld: summary.withheld, problems });
        } catch (error) {
          // A file the importer cannot read at all (not CSV, bad header) is the sender's to fix.
          if (error instanceof DomainError) throw new HttpError(422, error.code, error.message);
          throw error;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );

    app.get(
      '/imports',
      {
        schema: {
          tags: ['imports'],
          summary: 'The import history, newest first',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['started', 'file', 'rejected'], '-started'),
            kind: z.enum(['transactions', 'partners', 'products', 'agreements']).optional(),
          }),
          response: { 200: pageOf(importRecord), 400: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        if (request.user!.role === 'partner')
          throw new HttpError(403, 'forbidden', 'the import history is internal');
        const { limit, offset, kind, sort } = request.query;
        const { field, direction } = parseSort(sort);
        let query = store.db.selectFrom('imports');
        if (kind !== undefined) query = query.where('kind', '=', kind);
        const { rows, total } = await fetchPage(query, {
          sortColumn: { started: 'id', file: 'file_name', rejected: 'rows_rejected' }[
            field as 'started' | 'file' | 'rejected'
          ],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return { items: rows.map(toRecord), total, limit, offset };
      },
    );

    app.get(
      '/imports/:id',
      {
        schema: {
          tags: ['imports'],
          summary: 'One import: its file, counts and outcome',
          params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'an import number') }),
          response: { 200: importRecord, 400: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        if (request.user!.role === 'partner')
          throw new HttpError(403, 'forbidden', 'the import history is internal');
        const row = await store.db
          .selectFrom('imports')
          .selectAll()
          .where('id', '=', request.params.id)
          .executeTakeFirst();
        if (!row) throw notFound('import', request.params.id);
        return toRecord(row);
      },
    );
  };
}
