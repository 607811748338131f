// Claims over HTTP: partners (and internal users on their behalf) submit claims
// one at a time or as a CSV file; finance records deductions, resolves disputes
// and pays approved claims through settlements; the tolerance is finance's.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import multipart from '@fastify/multipart';
import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireVisibleAgreement } from '../agreements/amendments.routes.ts';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError, notFound } from '../server/errors.ts';
import { errorBody, pageOf, pageQuery } from '../server/lists.ts';
import { isIsoDate } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Problem } from '../shared/errors.ts';
import { CLAIM_ATTACHMENT_BYTES_MAX } from '../shared/limits.ts';
import type { Store } from '../store/database.ts';
import type { PartnerScope } from '../users/access.ts';
import { requireRole } from '../users/users.routes.ts';
import { acting, type User } from '../users/users.service.ts';
import {
  type ClaimView,
  claimComments,
  commentOnClaim,
  disputeClaim,
  listClaims,
  readClaim,
  recordDeduction,
  resolveClaim,
  settleClaim,
  submitClaim,
} from './claims.service.ts';

/** Internal users who may enter claims for partners. */
const CLAIM_ENTRY = ['admin', 'finance', 'sales'] as const;
const CLAIMS_PER_FILE_MAX = 10_000;

const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });
const decimal = z.string().describe('exact decimal, as text');
const params = z.object({ id: z.string().regex(/^\d{1,18}$/, 'a claim number') });
const claimBody = z.object({
  id: z.string(),
  source: z.string(),
  agreementId: z.string().nullable(),
  ruleId: z.string().nullable(),
  periodStart: z.string().nullable(),
  periodEnd: z.string().nullable(),
  partnerId: z.string(),
  reference: z.string(),
  invoiceNumber: z.string().nullable(),
  currency: z.string(),
  claimed: decimal,
  due: decimal.describe('earned less paid and held by other claims, when validated'),
  tolerance: decimal,
  approved: decimal,
  difference: decimal.describe('claimed less approved'),
  status: z.string(),
  reasonCode: z.string(),
  resolution: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  submittedBy: z.string(),
  submittedAt: z.string(),
  settlement: z
    .object({ id: z.string(), status: z.string(), documentNumber: z.string().nullable() })
    .nullable(),
});
const attachmentBody = z.object({
  id: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  uploadedBy: z.string(),
  uploadedAt: z.string(),
});

function attachmentJson(r: {
  id: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}) {
  return {
    id: String(r.id),
    fileName: r.file_name,
    contentType: r.content_type,
    size: r.size,
    sha256: r.sha256,
    uploadedBy: r.uploaded_by,
    uploadedAt: new Date(r.uploaded_at).toISOString(),
  };
}

const newClaim = {
  agreement: z.string().min(1).max(100),
  rule: z.string().min(1).max(100).optional(),
  periodStart: isoDate,
  reference: z.string().trim().min(1).max(100).describe("the partner's own claim number"),
  claimed: decimal,
};

/** A partner user sees the claims of its own partners; anyone else's is answered 404. */
function visible(claim: ClaimView | undefined, scope: PartnerScope | undefined, id: string): ClaimView {
  if (!claim || (scope && !scope.partners.includes(claim.partnerId))) throw notFound('claim', id);
  return claim;
}

export function claimRoutes(store: Store): FastifyPluginAsyncZod {
  const submit = async (
    user: User,
    requestId: string,
    scope: PartnerScope | undefined,
    input: z.infer<z.ZodObject<typeof newClaim>> & { partner?: string },
  ) => {
    if (user.role !== 'partner') requireRole(user, CLAIM_ENTRY, 'entering claims');
    await requireVisibleAgreement(store, scope, input.agreement);
    return submitClaim(
      store,
      {
        agreementId: input.agreement,
        ...(input.rule ? { ruleId: input.rule } : {}),
        periodStart: input.periodStart,
        reference: input.reference,
        claimed: input.claimed,
        ...(input.partner && user.role !== 'partner' ? { partnerId: input.partner } : {}),
      },
      acting(user, requestId),
    );
  };

  return async (app) => {
    app.post(
      '/claims',
      {
        schema: {
          tags: ['claims'],
          summary:
            'Submit a claim for an agreement, rule and period; it is validated against what is due at once',
          body: z.strictObject({ ...newClaim, partner: z.string().min(1).max(100).optional() }),
          response: {
            201: claimBody,
            400: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await submit(request.user!, request.id, request.scope, request.body)),
    );

    app.post(
      '/claims/files',
      {
        schema: {
          tags: ['claims'],
          summary:
            'Submit claims as CSV text (columns agreement, rule, period_start, reference, claimed); every bad row is reported by line',
          body: z.strictObject({
            csv: z
              .string()
              .min(1)
              .max(4 * 1024 * 1024),
          }),
          response: {
            201: z.object({
              submitted: z.array(claimBody),
              problems: z.array(
                z.object({
                  line: z.number().int(),
                  field: z.string().nullable(),
                  code: z.string(),
                  message: z.string(),
                }),
              ),
            }),
            400: errorBody,
            403: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        if (user.role !== 'partner') requireRole(user, CLAIM_ENTRY, 'entering claims');
        let records: Record<string, string>[];
        try {
          records = parseCsv(request.body.csv.replace(/^\uFEFF/, ''), {
            columns: true,
            skip_empty_lines: true,
            trim: true,
          });
        } catch (error) {
          throw new HttpError(422, 'invalid_csv', `csv: ${(error as Error).message}`, [
            { field: 'csv', code: 'invalid_csv', message: (error as Error).message },
          ]);
        }
        if (records.length > CLAIMS_PER_FILE_MAX)
          throw new HttpError(422, 'too_many_claims', `csv: at most ${CLAIMS_PER_FILE_MAX} claims a file`);
        const submitted: ClaimView[] = [];
        const problems: { line: number; field: string | null; code: string; message: string }[] = [];
        for (const [i, r] of records.entries()) {
          const line = i + 2; // line 1 is the header
          const parsed = z.object(newClaim).safeParse({
            agreement: r.agreement,
            ...(r.rule ? { rule: r.rule } : {}),
            periodStart: r.period_start,
            reference: r.reference,
            claimed: r.claimed,
          });
          if (!parsed.success) {
            for (const issue of parsed.error.issues)
              problems.push({
                line,
                field: String(issue.path[0] ?? ''),
                code: 'invalid_field',
                message: issue.message,
              });
            continue;
          }
          try {
            submitted.push(await submit(user, request.id, request.scope, parsed.data));
          } catch (error) {
            if (!(error instanceof HttpError) || error.status >= 500) throw error;
            const detail = (error.details as Problem[] | undefined)?.[0];
            problems.push({ line, field: detail?.field ?? null, code: error.code, message: error.message });
          }
        }
        return reply.code(201).send({ submitted, problems });
      },
    );

    app.get(
      '/claims',
      {
        schema: {
          tags: ['claims'],
          summary: 'Claims and deductions, oldest first (a partner user sees its own)',
          querystring: z.object({
            ...pageQuery,
            status: z.enum(['approved', 'partially_approved', 'disputed', 'rejected']).optional(),
            source: z.enum(['claim', 'deduction']).optional(),
            agreement: z.string().min(1).optional(),
          }),
          response: { 200: pageOf(claimBody), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, status, source, agreement } = request.query;
        const all = (
          await listClaims(store.db, request.scope ? { partners: request.scope.partners } : {})
        ).filter(
          (c) =>
            (status === undefined || c.status === status) &&
            (source === undefined || c.source === source) &&
            (agreement === undefined || c.agreementId === agreement),
        );
        return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
      },
    );

    app.get(
      '/claims/:id',
      {
        schema: {
          tags: ['claims'],
          summary: 'One claim, with its comment thread',
          params,
          response: {
            200: claimBody.extend({
              comments: z.array(z.object({ author: z.string(), at: z.string(), text: z.string() })),
            }),
            400: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const claim = visible(await readClaim(store.db, request.params.id), request.scope, request.params.id);
        return { ...claim, comments: await claimComments(store.db, claim.id) };
      },
    );

    app.post(
      '/claims/:id/comments',
      {
        schema: {
          tags: ['claims'],
          summary: "Add to a claim's comment thread",
          params,
          body: z.strictObject({ text: z.string().trim().min(1).max(4_000) }),
          response: {
            201: z.object({ ok: z.literal(true) }),
            400: errorBody,
            403: errorBody,
            404: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        visible(await readClaim(store.db, request.params.id), request.scope, request.params.id);
        if (user.role === 'auditor')
          throw new HttpError(403, 'forbidden', 'auditors read claims; they do not comment');
        await commentOnClaim(store, request.params.id, request.body.text, acting(user, request.id));
        return reply.code(201).send({ ok: true as const });
      },
    );

    app.post(
      '/claims/:id/dispute',
      {
        schema: {
          tags: ['claims'],
          summary: 'Dispute a partially approved or rejected claim, with a reason code and a comment',
          params,
          body: z.strictObject({
            reasonCode: z.enum(['missing_lines', 'pricing', 'tier_or_rate', 'returns', 'other']),
            comment: z.string().trim().min(1).max(4_000),
          }),
          response: { 200: claimBody, 400: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        visible(await readClaim(store.db, request.params.id), request.scope, request.params.id);
        return disputeClaim(
          store,
          request.params.id,
          request.body.reasonCode,
          request.body.comment,
          acting(request.user!, request.id),
        );
      },
    );

    app.post(
      '/claims/:id/resolution',
      {
        schema: {
          tags: ['claims'],
          summary:
            "Resolve a dispute: uphold the calculation, accept the partner's amount, or reject the claim",
          params,
          body: z.strictObject({
            resolution: z.enum(['uphold', 'accept', 'reject']),
            comment: z.string().trim().min(1).max(4_000),
          }),
          response: { 200: claimBody, 400: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner') throw notFound('claim', request.params.id);
        return resolveClaim(
          store,
          request.params.id,
          request.body.resolution,
          request.body.comment,
          acting(user, request.id),
        );
      },
    );

    app.post(
      '/claims/:id/settlement',
      {
        schema: {
          tags: ['claims'],
          summary:
            'Pay an approved claim: prepares its interim settlement (then approved and posted as any other)',
          params,
          body: z.strictObject({
            payoutMethod: z.enum(['credit_memo', 'bank_transfer', 'invoice_offset']).default('credit_memo'),
          }),
          response: {
            201: z.record(z.string(), z.unknown()),
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
        if (user.role === 'partner') throw notFound('claim', request.params.id);
        requireRole(user, ['admin', 'finance'], 'paying claims');
        const settlement = await settleClaim(
          store,
          request.params.id,
          request.body.payoutMethod,
          acting(user, request.id),
        );
        return reply.code(201).send(settlement as unknown as Record<string, unknown>);
      },
    );

    app.post(
      '/deductions',
      {
        schema: {
          tags: ['claims'],
          summary: 'Record a deduction a partner took from an invoice: matched to what is due, or a dispute',
          body: z.strictObject({
            partner: z.string().min(1).max(100),
            invoiceNumber: z.string().trim().min(1).max(100),
            amount: decimal,
            currency: z.string().length(3),
            agreement: z.string().min(1).max(100).optional(),
            rule: z.string().min(1).max(100).optional(),
            periodStart: isoDate.optional(),
          }),
          response: { 201: claimBody, 400: errorBody, 403: errorBody, 409: errorBody, 422: errorBody },
        },
      },
      async (request, reply) => {
        const { partner, agreement, rule, periodStart, ...rest } = request.body;
        const claim = await recordDeduction(
          store,
          {
            partnerId: partner,
            ...rest,
            ...(agreement ? { agreementId: agreement } : {}),
            ...(rule ? { ruleId: rule } : {}),
            ...(periodStart ? { periodStart } : {}),
          },
          acting(request.user!, request.id),
        );
        return reply.code(201).send(claim);
      },
    );

    app.get(
      '/claim-settings',
      {
        schema: {
          tags: ['claims'],
          summary: 'The tolerance claims are approved within',
          response: {
            200: z.object({ toleranceAbsolute: decimal, tolerancePercent: decimal }),
            403: errorBody,
          },
        },
      },
      async (request) => {
        requireRole(request.user!, ['admin', 'finance', 'auditor'], 'claim settings');
        const row = await store.db.selectFrom('claim_settings').selectAll().executeTakeFirstOrThrow();
        return { toleranceAbsolute: row.tolerance_absolute, tolerancePercent: row.tolerance_percent };
      },
    );

    app.put(
      '/claim-settings',
      {
        schema: {
          tags: ['claims'],
          summary: 'Set the tolerance: the larger of a fixed amount and a percent of what is due',
          body: z.strictObject({ toleranceAbsolute: decimal, tolerancePercent: decimal }),
          response: {
            200: z.object({ toleranceAbsolute: decimal, tolerancePercent: decimal }),
            400: errorBody,
            403: errorBody,
            422: errorBody,
          },
        },
      },
      async (request) => {
        const user = request.user!;
        requireRole(user, ['admin', 'finance'], 'claim settings');
        const values = {
          tolerance_absolute: request.body.toleranceAbsolute,
          tolerance_percent: request.body.tolerancePercent,
        };
        const problems: Problem[] = Object.entries({
          toleranceAbsolute: values.tolerance_absolute,
          tolerancePercent: values.tolerance_percent,
        })
          .filter(([, v]) => {
            const d = Decimal.tryParse(v);
            return d === undefined || d.sign() < 0;
          })
          .map(([field]) => ({ field, code: 'invalid_amount', message: 'a decimal of 0 or more' }));
        if (problems.length > 0)
          throw new HttpError(
            422,
            'invalid_settings',
            problems.map((p) => `${p.field}: ${p.message}`).join('; '),
            problems,
          );
        return store.db.transaction().execute(async (trx) => {
          const before = await trx
            .selectFrom('claim_settings')
            .selectAll()
            .forUpdate()
            .executeTakeFirstOrThrow();
          await trx.updateTable('claim_settings').set(values).execute();
          await appendAudit(trx, {
            actor: user.username,
            action: 'claim_settings.update',
            entity: 'claim_settings',
            before,
            after: values,
            requestId: request.id,
          });
          return request.body;
        });
      },
    );

    // Uploads are read by their handler (multipart), in a scope of their own.
    await app.register(async (scope) => {
      const files = scope.withTypeProvider<ZodTypeProvider>();
      await files.register(multipart, {
        limits: { fileSize: CLAIM_ATTACHMENT_BYTES_MAX, files: 1, fields: 0 },
      });
      files.post(
        '/claims/:id/attachments',
        {
          bodyLimit: CLAIM_ATTACHMENT_BYTES_MAX + 64 * 1024,
          schema: {
            tags: ['claims'],
            summary: 'Attach evidence to a claim (multipart/form-data, one `file`, up to 10 MiB)',
            consumes: ['multipart/form-data'],
            params,
            response: {
              201: attachmentBody,
              400: errorBody,
              403: errorBody,
              404: errorBody,
              413: errorBody,
              415: errorBody,
            },
          },
        },
        async (request, reply) => {
          const user = request.user!;
          const claim = visible(
            await readClaim(store.db, request.params.id),
            request.scope,
            request.params.id,
          );
          if (user.role === 'auditor')
            throw new HttpError(403, 'forbidden', 'auditors read claims; they do not add to them');
          if (!request.isMultipart())
            throw new HttpError(415, 'unsupported_media_type', 'send the file as multipart/form-data');
          const part = await request.file();
          if (part?.fieldname !== 'file')
            throw new HttpError(400, 'invalid_request', 'file: attach the evidence as "file"', [
              { field: 'file', code: 'missing_value', message: 'attach the evidence as "file"' },
            ]);
          const content = await part.toBuffer().catch((error: unknown) => {
            if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
              throw new HttpError(
                413,
                'body_too_large',
                `file: larger than ${CLAIM_ATTACHMENT_BYTES_MAX} bytes`,
              );
            throw error;
          });
          const saved = await store.db.transaction().execute(async (trx) => {
            const row = await trx
              .insertInto('claim_attachments')
              .values({
                claim_id: claim.id,
                file_name: basename(part.filename || 'evidence'),
                content_type: part.mimetype || 'application/octet-stream',
                size: content.length,
                sha256: createHash('sha256').update(content).digest('hex'),
                content,
                uploaded_by: user.username,
              })
              .returning(['id', 'file_name', 'content_type', 'size', 'sha256', 'uploaded_by', 'uploaded_at'])
              .executeTakeFirstOrThrow();
            await appendAudit(trx, {
              actor: user.username,
              action: 'claim.attach',
              entity: 'claim',
              entityId: claim.id,
              after: { attachment: String(row.id), file: row.file_name, size: row.size, sha256: row.sha256 },
              requestId: request.id,
            });
            return row;
          });
          return reply.code(201).send(attachmentJson(saved));
        },
      );
    });

    app.get(
      '/claims/:id/attachments',
      {
        schema: {
          tags: ['claims'],
          summary: "A claim's evidence",
          params,
          response: { 200: z.object({ items: z.array(attachmentBody) }), 400: errorBody, 404: errorBody },
        },
      },
      async (request) => {
        const claim = visible(await readClaim(store.db, request.params.id), request.scope, request.params.id);
        const rows = await store.db
          .selectFrom('claim_attachments')
          .select(['id', 'file_name', 'content_type', 'size', 'sha256', 'uploaded_by', 'uploaded_at'])
          .where('claim_id', '=', claim.id)
          .orderBy('id')
          .execute();
        return { items: rows.map(attachmentJson) };
      },
    );

    app.get(
      '/claims/:id/attachments/:attachment',
      {
        schema: {
          tags: ['claims'],
          summary: 'Download one piece of evidence',
          params: params.extend({ attachment: z.string().regex(/^\d{1,18}$/, 'an attachment number') }),
          response: { 200: z.any(), 400: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const claim = visible(await readClaim(store.db, request.params.id), request.scope, request.params.id);
        const row = await store.db
          .selectFrom('claim_attachments')
          .selectAll()
          .where('claim_id', '=', claim.id)
          .where('id', '=', request.params.attachment)
          .executeTakeFirst();
        if (!row) throw notFound('attachment', request.params.attachment);
        return reply
          .type(row.content_type)
          .header('content-disposition', `attachment; filename="${row.file_name.replaceAll('"', '')}"`)
          .send(Buffer.from(row.content));
      },
    );
  };
}
