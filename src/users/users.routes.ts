// Logging in and out, the current user, and API tokens for integrations.
// A browser gets its session in an HTTP-only cookie; an integration sends
// `Authorization: Bearer <token>`. Logins are rate limited per address and user.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import { errorBody, fetchPage, pageOf, pageQuery, parseSort, sortQuery } from '../server/lists.ts';
import type { Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import {
  authenticate,
  createUser,
  generatePassword,
  issueCredential,
  revokeCredential,
  SESSION_HOURS,
  type User,
} from './users.service.ts';

export const SESSION_COOKIE = 'rebates_session';
/** Failed or not, logins per address and username per minute. */
export const LOGINS_PER_MINUTE = 5;

export const userBody = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'commercial', 'sales', 'finance', 'auditor', 'partner']),
  partner: z.string().nullable(),
  group: z.string().nullable(),
});

export function userJson(user: User): z.infer<typeof userBody> {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    partner: user.partnerId,
    group: user.buyingGroup,
  };
}

/** Refuses the request unless the user has one of the roles. */
export function requireRole(user: User, roles: readonly UserRole[], what: string): void {
  if (!roles.includes(user.role))
    throw new HttpError(403, 'forbidden', `${what} is for ${roles.join(', ')} users`);
}

export function userRoutes(store: Store): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/sessions',
      {
        config: {
          public: true,
          rateLimit: {
            max: LOGINS_PER_MINUTE,
            timeWindow: 60_000,
            hook: 'preHandler',
            keyGenerator: (request) =>
              `${request.ip}\u0000${String((request.body as { username?: unknown } | undefined)?.username ?? '')}`,
          },
        },
        schema: {
          tags: ['users'],
          summary: 'Log in: a session cookie for the browser',
          body: z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1000) }),
          response: { 201: userBody, 400: errorBody, 401: errorBody, 429: errorBody },
        },
      },
      async (request, reply) => {
        const user = await authenticate(store.db, request.body.username, request.body.password);
        if (!user) throw new HttpError(401, 'bad_credentials', 'the username or the password is wrong');
        const token = await issueCredential(store.db, user.id, 'session');
        reply.setCookie(SESSION_COOKIE, token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          path: '/',
          maxAge: SESSION_HOURS * 3600,
        });
        return reply.code(201).send(userJson(user));
      },
    );

    app.delete(
      '/sessions/current',
      {
        schema: {
          tags: ['users'],
          summary: 'Log out: the session ends',
          response: { 204: z.null(), 401: errorBody },
        },
      },
      async (request, reply) => {
        if (request.credential) await revokeCredential(store.db, request.credential);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/me',
      {
        schema: {
          tags: ['users'],
          summary: 'The user making the request',
          response: { 200: userBody, 401: errorBody },
        },
      },
      async (request) => userJson(request.user!),
    );

    app.post(
      '/tokens',
      {
        schema: {
          tags: ['users'],
          summary: 'A new API token for the current user (shown once)',
          body: z.object({ name: z.string().min(1).max(100) }),
          response: {
            201: z.object({ token: z.string(), name: z.string() }),
            400: errorBody,
            401: errorBody,
          },
        },
      },
      async (request, reply) => {
        const user = request.user!;
        const token = await store.db.transaction().execute(async (trx) => {
          const made = await issueCredential(trx, user.id, 'api_token', request.body.name);
          await appendAudit(trx, {
            actor: user.username,
            action: 'user.token.create',
            entity: 'user',
            entityId: user.username,
            after: { token: request.body.name },
            requestId: request.id,
          });
          return made;
        });
        return reply.code(201).send({ token, name: request.body.name });
      },
    );

    app.get(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'The users (administrators and auditors)',
          querystring: z.object({
            ...pageQuery,
            sort: sortQuery(['username', 'role', 'created'], 'username'),
            role: userBody.shape.role.optional(),
          }),
          response: {
            200: pageOf(userBody.extend({ disabled: z.boolean() })),
            400: errorBody,
            403: errorBody,
          },
        },
      },
      async (request) => {
        requireRole(request.user!, ['admin', 'auditor'], 'the list of users');
        const { limit, offset, role, sort } = request.query;
        const { field, direction } = parseSort(sort);
        let query = store.db.selectFrom('users');
        if (role !== undefined) query = query.where('role', '=', role);
        const { rows, total } = await fetchPage(query, {
          sortColumn: { username: 'username', role: 'role', created: 'created_at' }[
            field as 'username' | 'role' | 'created'
          ],
          direction,
          key: 'id',
          limit,
          offset,
        });
        return {
          items: rows.map((r) => ({
            ...userJson({
              id: String(r.id),
              username: r.username,
              displayName: r.display_name,
              role: r.role,
              partnerId: r.partner_id,
              buyingGroup: r.buying_group,
            }),
            disabled: r.disabled_at !== null,
          })),
          total,
          limit,
          offset,
        };
      },
    );

    app.post(
      '/users',
      {
        schema: {
          tags: ['users'],
          summary: 'Add a user; the password is generated and shown once in the answer',
          body: z.strictObject({
            username: z.string().min(1).max(100),
            role: userBody.shape.role,
            name: z.string().min(1).max(200).optional(),
            partner: z.string().min(1).max(100).optional().describe('for partner users: the partner'),
            group: z.string().min(1).max(100).optional().describe('for partner users: the buying group'),
          }),
          response: {
            201: z.object({ user: userBody, password: z.string() }),
            400: errorBody,
            403: errorBody,
            422: errorBody,
          },
        },
      },
      async (request, reply) => {
        const admin = request.user!;
        requireRole(admin, ['admin'], 'adding users');
        const { username, role, name, partner, group } = request.body;
        const password = generatePassword();
        const user = await createUser(
          store.db,
          {
            username,
            role,
            password,
            ...(name ? { displayName: name } : {}),
            ...(partner ? { partnerId: partner } : {}),
            ...(group ? { buyingGroup: group } : {}),
          },
          { actor: admin.username, requestId: request.id },
        );
        return reply.code(201).send({ user: userJson(user), password });
      },
    );
  };
}
