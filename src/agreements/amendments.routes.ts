// Versions of an agreement over HTTP: amendments written by the commercial team
// and decided by someone else, every version readable, and partner sign-off.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../server/errors.ts';
import { errorBody } from '../server/lists.ts';
import { isIsoDate } from '../shared/dates.ts';
import { RULES_PER_AGREEMENT_MAX } from '../shared/limits.ts';
import type { Store } from '../store/database.ts';
import { type PartnerScope, visibleAgreements } from '../users/access.ts';
import { acting } from '../users/users.service.ts';
import {
  AMENDMENT_DECISIONS,
  type AmendmentAction,
  amendAgreement,
  decideAmendment,
  readSignOffs,
  readVersions,
  signOff,
} from './amendments.ts';

const isoDate = z.string().refine(isIsoDate, { message: 'must be a date YYYY-MM-DD' });
const comment = z.string().max(2_000).optional();
const params = z.object({ id: z.string().min(1) });

const versionView = z.object({
  version: z.number(),
  status: z.string(),
  effectiveFrom: z.string(),
  createdBy: z.string(),
  createdAt: z.string().nullable(),
  comment: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionComment: z.string().nullable(),
  terms: z.unknown(),
});

/** 404 unless the agreement exists and the user's scope may see it. */
export async function requireVisibleAgreement(
  store: Store,
  scope: PartnerScope | undefined,
  id: string,
): Promise<void> {
  const visible = await store.db
    .selectFrom('agreements')
    .select('id')
    .where('id', '=', id)
    .where(visibleAgreements(scope))
    .executeTakeFirst();
  if (!visible) throw notFound('agreement', id);
}

export function amendmentRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/agreements/:id/versions',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Every version of an agreement, oldest first, with its terms and who decided it',
          params,
          response: { 200: z.object({ items: z.array(versionView) }), 404: errorBody },
        },
      },
      async (request) => {
        await requireVisibleAgreement(store, request.scope, request.params.id);
        return { items: await readVersions(store.db, request.params.id) };
      },
    );

    app.post(
      '/agreements/:id/amendments',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Amend an approved or active agreement: a new version, in force from a date once approved',
          params,
          body: z.strictObject({
            effectiveFrom: isoDate.describe('the first day the new terms apply to'),
            name: z.string().trim().min(1).max(200).optional(),
            end: isoDate.optional().describe("a new end date for the agreement's terms"),
            rules: z
              .array(z.record(z.string(), z.unknown()))
              .min(1)
              .max(RULES_PER_AGREEMENT_MAX)
              .describe('the rules of the new version, whole, in the agreements format'),
            comment,
          }),
          response: {
            201: versionView,
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
        // A partner user changes no agreement: anything it may not change is answered as unknown.
        if (user.role === 'partner') throw notFound('agreement', request.params.id);
        const { comment, ...input } = request.body;
        const view = await amendAgreement(
          store,
          request.params.id,
          { ...input, ...(comment ? { comment } : {}) },
          acting(user, request.id),
        );
        return reply.code(201).send(view);
      },
    );

    app.post(
      '/agreements/:id/amendments/:version/transitions',
      {
        schema: {
          tags: ['agreements'],
          summary: 'Approve, reject or cancel a submitted amendment (not your own, except to cancel)',
          params: z.object({ id: z.string().min(1), version: z.coerce.number().int().min(2) }),
          body: z.strictObject({
            action: z.enum(Object.keys(AMENDMENT_DECISIONS) as [AmendmentAction, ...AmendmentAction[]]),
            comment,
          }),
          response: { 200: versionView, 400: errorBody, 403: errorBody, 404: errorBody, 409: errorBody },
        },
      },
      async (request) => {
        const user = request.user!;
        if (user.role === 'partner') throw notFound('agreement', request.params.id);
        return decideAmendment(
          store,
          request.params.id,
          request.params.version,
          request.body.action,
          acting(user, request.id),
          request.body.comment,
        );
      },
    );

    app.get(
      '/agreements/:id/sign-offs',
      {
        schema: {
          tags: ['agreements'],
          summary: "The partner's sign-offs of an agreement's terms: which version, who and when",
          params,
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  version: z.number(),
                  signedBy: z.string(),
                  signedAt: z.string(),
                  comment: z.string().nullable(),
                }),
              ),
            }),
            404: errorBody,
          },
        },
      },
      async (request) => {
        await requireVisibleAgreement(store, request.scope, request.params.id);
        return { items: await readSignOffs(store.db, request.params.id) };
      },
    );

    app.post(
      '/agreements/:id/sign-offs',
      {
        schema: {
          tags: ['agreements'],
          summary: "A partner user accepts the agreement's terms as agreed last",
          params,
          body: z.strictObject({ comment }).default({}),
          response: {
            201: z.object({ version: z.number(), signedBy: z.string(), signedAt: z.string() }),
            400: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        await requireVisibleAgreement(store, request.scope, request.params.id);
        if (user.role !== 'partner')
          throw new HttpError(403, 'forbidden', "sign-off is the partner's: only a partner user signs off");
        const signed = await signOff(
          store,
          request.params.id,
          acting(user, request.id),
          request.body.comment,
        );
        return reply.code(201).send(signed);
      },
    );
  };
}
