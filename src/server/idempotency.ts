// Idempotency-Key on mutating requests (POST, PUT, PATCH, DELETE). The first
// request with a key claims it before it is carried out; when it has been
// answered, the answer is kept with the key. The same key again with the same
// method, path and body gets that answer again, marked `Idempotent-Replayed`;
// with anything else, or while the first is still running, it is refused with
// 409. A request that fails with a server error releases its key, so it can be
// tried again.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/database.ts';
import { HttpError } from './errors.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The claimed Idempotency-Key, to store the answer under. */
    idempotencyKey: string | null;
  }
}

function bodyHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

/**
 * Claims the request's Idempotency-Key (if it has one) for a body with this hash,
 * or answers the request: with the first answer again, or with 409. Returns true
 * when the request has been answered and must not be carried out.
 */
export async function claimIdempotencyKey(
  store: Store,
  request: FastifyRequest,
  reply: FastifyReply,
  hash: string,
): Promise<boolean> {
  const header = request.headers['idempotency-key'];
  if (!MUTATING.has(request.method) || header === undefined || !request.user) return false;
  const key = Array.isArray(header) ? header[0]! : header;
  if (!KEY.test(key))
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    );
  const path = request.url.split('?')[0]!;
  const claimed = await store.db
    .insertInto('idempotency_keys')
    .values({ user_id: request.user.id, key, method: request.method, path, body_hash: hash })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst();
  if (claimed) {
    request.idempotencyKey = key;
    return false;
  }
  const first = await store.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', request.user.id)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  if (first.method !== request.method || first.path !== path || first.body_hash !== hash)
    throw new HttpError(
      409,
      'idempotency_key_reused',
      `Idempotency-Key "${key}" was used for another request (${first.method} ${first.path} with another body)`,
    );
  if (first.status === null)
    throw new HttpError(
      409,
      'request_in_progress',
      `the request with Idempotency-Key "${key}" is still being answered`,
    );
  reply.header('idempotent-replayed', 'true');
  reply.code(first.status).type('application/json; charset=utf-8');
  await reply.send(first.response ?? '');
  return true;
}

/** Installs the hooks on a scope whose routes set `request.user` in onRequest. */
export function installIdempotency(api: FastifyInstance, store: Store): void {
  api.decorateRequest('idempotencyKey', null);
  // After the body is parsed and validated, before the handler runs.
  api.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    // An upload's body is read by its handler, which claims the key itself (claimIdempotencyKey).
    if (String(request.headers['content-type'] ?? '').startsWith('multipart/')) return;
    if (await claimIdempotencyKey(store, request, reply, bodyHash(request))) return reply;
  });
  api.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (key === null || !request.user) return payload;
    request.idempotencyKey = null;
    if (reply.statusCode >= 500) {
      await store.db
        .deleteFrom('idempotency_keys')
        .where('user_id', '=', request.user.id)
        .where('key', '=', key)
        .execute();
      return payload;
    }
    await store.db
      .updateTable('idempotency_keys')
      .set({ status: reply.statusCode, response: typeof payload === 'string' ? payload : '' })
      .where('user_id', '=', request.user.id)
      .where('key', '=', key)
      .execute();
    return payload;
  });
}
