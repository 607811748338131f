// Agreements over HTTP: the list (paged, sorted, filtered by status, partner,
// buying group or a text search) and one agreement in the import format.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../server/errors.ts';
import {
  containsText,
  errorBody,
  fetchPage,
  pageOf,
  pageQuery,
  parseSort,
  sortQuery,
} from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import { visibleAgreements } from '../users/access.ts';
import { acting } from '../users/users.service.ts';
import { agreementToJson, latestTerms, loadAgreements } from './agreements.repository.ts';
import { importAgreements } from './agreements.service.ts';
import { requireVisibleAgreement } from './amendments.routes.ts';
import { readSignOffs } from './amendments.ts';
import { rewriteDraft } from './drafts.ts';
import { changeStatus, TRANSITIONS, type TransitionAction } from './lifecycle.ts';
import { readTemplate } from './templates.ts';

const summary = z.object({
  id: z.string(),
  name: z.string(),
  partner: z.string().nullable(),
  group: z.string().nullable(),
  currency: z.string(),
  start: z.string(),
  end: z.string(),
  calendar: z.string(),
  status: z.string(),
});

const SORTS = { id: 'id', name: 'name', start: 'start_date', end: 'end_date', status: 'status' } as const;

export function agreementRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/agreements',
      {
        schema: {
          tags: ['agreements'],
          summary:
            "Write a new agreement as a draft, in the import format (README, Agreements); `template` copies a template's calendar, currency and rules",
          body: z.record(z.string(), z.unknown()),
          response: {
            201: z.record(z.string(), z.unknown()),
            400: errorBody,
            403: errorBody,
            409: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        if (user.role !== 'admin' && user.role !== 'commercial')
          throw new HttpError(
            403,
            'forbidden',
            'writing agreements is for administrators and the commercial team',
          );
        const status = request.body.status;
        if (status !== undefined && status !== 'draft')
          throw new HttpError(
            400,
            'invalid_request',
            'status: a new agreement is a draft; submit it for approval next',
          );
        const { template: templateId, ...given } = request.body;
        let body: Record<string, unknown> = given;
        if (templateId !== undefined) {
          const template =
            typeof templateId === 'string' ? await readTemplate(store.db, templateId) : undefined;
          if (!template)
            throw new HttpError(422, 'invalid_agreement', `no template ${JSON.stringify(templateId)}`, [
              { field: 'template', code: 'unknown_template', message: 'no such agreement template' },
            ]);
          // The template's calendar, currency and rules, unless the request gives its own.
          const { calendar, currency, rules } = template;
          body = { calendar, currency, rules, ...given };
        }
        const dir = await mkdtemp(join(tmpdir(), 'rebates-api-agreement-'));
        try {
          const file = join(dir, 'agreement.json');
          await writeFile(file, JSON.stringify([{ ...body, status: 'draft' }]));
          const summary = await importAgreements(store, {
            file,
            actor: user.username,
            requestId: request.id,
            errorsFile: join(dir, 'errors.csv'),
          });
          const id = String(request.body.id ?? '');
          if (summary.duplicates > 0) throw new HttpError(409, 'exists', `agreement ${id} is already stored`);
          if (summary.imported === 0) {
            const conflict = summary.problems.some((p) => p.code === 'exists_with_different_content');
            throw new HttpError(
              conflict ? 409 : 422,
              conflict ? 'exists_with_different_content' : 'invalid_agreement',
              summary.problems.map((p) => p.message).join('; '),
              summary.problems,
            );
          }
          const [stored] = await loadAgreements(store.db, [id]);
          return reply.code(201).send(agreementToJson(stored!.agreement, stored!.status));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );

    app.put(
      '/agreements/:id',
      {
        schema: {
          tags: ['agreements'],
          summary:
            'Rewrite a draft (or rejected) agreement whole, in the import format; approved and active ones are amended instead',
          params: z.object({ id: z.string().min(1) }),
          body: z.record(z.string(), z.unknown()),
          response: {
            200: z.record(z.string(), z.unknown()),
            400: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
            422: errorBody,
          },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner') throw notFound('agreement', request.params.id);
        return rewriteDraft(store, request.params.id, request.body, acting(user, request.id));
      },
    );

    app.post(
      '/agreements/:id/transitions',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Submit, approve, reject, activate, cancel or close an agreement',
          params: z.object({ id: z.string().min(1) }),
          body: z.object({
            action: z.enum(Object.keys(TRANSITIONS) as [TransitionAction, ...TransitionAction[]]),
            comment: z.string().max(2_000).optional(),
          }),
          response: {
            200: z.object({ id: z.string(), status: z.string() }),
            400: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request) => {
        const user = request.user!;
        // A partner user sees only its own agreements and changes none: anything else is 404.
        if (user.role === 'partner') throw notFound('agreement', request.params.id);
        const status = await changeStatus(
          store,
          request.params.id,
          request.body.action,
          acting(user, request.id),
          request.body.comment,
        );
        return { id: request.params.id, status };
      },
    );

    app.get(
      '/agreements',
      {
        schema: {
          tags: ['agreements'],
          summary: 'List agreements',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['id', 'name', 'start', 'end', 'status'], 'id'),
            status: z.string().min(1).optional(),
            partner: z.string().min(1).optional().describe("the agreement's own partner"),
            group: z.string().min(1).optional().describe("the agreement's buying group"),
            q: z.string().min(1).max(100).optional().describe('text in the id or name, any case'),
          }),
          response: { 200: pageOf(summary), 400: errorBody },
        },
      },
      async (request) => {
        const { limit, offset, sort, status, partner, group, q } = request.query;
        let query = store.db.selectFrom('agreements').where(visibleAgreements(request.scope));
        if (status !== undefined) query = query.where('status', '=', status);
        if (partner !== undefined) query = query.where('partner_id', '=', partner);
        if (group !== undefined) query = query.where('buying_group', '=', group);
        if (q !== undefined) query = query.where(containsText(['id', 'name'], q));
        const { field, direction } = parseSort(sort);
        const { rows, total } = await fetchPage(query, {
          sortColumn: SORTS[field as keyof typeof SORTS],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return {
          items: rows.map((r) => ({
            id: r.id,
            name: r.name,
            partner: r.partner_id,
            group: r.buying_group,
            currency: r.currency.trim(),
            start: r.start_date,
            end: r.end_date,
            calendar: r.calendar,
            status: r.status,
          })),
          total,
          limit,
          offset,
        };
      },
    );

    app.get(
      '/agreements/:id',
      {
        schema: {
          tags: ['agreements'],
          summary:
            'One agreement as agreed last (its latest approved version), in the import format, with its sign-offs',
          params: z.object({ id: z.string().min(1) }),
          response: { 200: z.record(z.string(), z.unknown()), 404: errorBody },
        },
      },
      async (request) => {
        await requireVisibleAgreement(store, request.scope, request.params.id);
        const [stored] = await loadAgreements(store.db, [request.params.id]);
        const latest = stored!.versions?.at(-1);
        return {
          ...agreementToJson(latestTerms(stored!), stored!.status),
          version: latest?.version ?? 1,
          effectiveFrom: latest?.effectiveFrom ?? stored!.agreement.window.start,
          signOffs: await readSignOffs(store.db, request.params.id),
        };
      },
    );
  };
}
