// Users and their credentials. Passwords are hashed with scrypt (memory-hard,
// in Node's own crypto: 32 MiB and a random salt per password); a session or API
// token is 32 random bytes given to the user once and stored only as its SHA-256.
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { appendAudit } from '../audit/audit.service.ts';
import { DomainError } from '../shared/errors.ts';
import type { Database } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const ROLES: readonly UserRole[] = ['admin', 'commercial', 'sales', 'finance', 'auditor', 'partner'];
export const PASSWORD_LENGTH_MIN = 12;
/** A browser session lasts this long without a new login. */
export const SESSION_HOURS = 12;

// N = 2^15, r = 8: 32 MiB of memory per hash, about 0.1 s on one core.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/** A password for a user who gets one made: 20 characters from 32 (100 bits). */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789AB';
  return [...randomBytes(20)].map((b) => alphabet[b % 32]).join('');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  /** For partner users: the one partner, or the buying group, whose data they see. */
  partnerId: string | null;
  buyingGroup: string | null;
}

export interface NewUser {
  username: string;
  displayName?: string;
  role: UserRole;
  partnerId?: string;
  buyingGroup?: string;
  password: string;
}

/** Who makes a change, for the audit trail. */
export interface Author {
  actor: string;
  requestId?: string;
}

/** A signed-in user acting in a request: the author, and what decides what it may do. */
export interface Acting extends Author {
  username: string;
  role: UserRole;
  partnerId: string | null;
}

export function acting(user: User, requestId: string): Acting {
  return {
    actor: user.username,
    username: user.username,
    role: user.role,
    partnerId: user.partnerId,
    requestId,
  };
}

export async function createUser(db: Database, input: NewUser, author: Author): Promise<User> {
  const problems: { field: string; code: string; message: string }[] = [];
  if (!/^[a-z0-9][a-z0-9._@-]{0,99}$/.test(input.username))
    problems.push({
      field: 'username',
      code: 'bad_username',
      message:
        'username must be 1 to 100 lowercase letters, digits or . _ @ -, starting with a letter or digit',
    });
  if (!ROLES.includes(input.role))
    problems.push({ field: 'role', code: 'bad_role', message: `role must be one of ${ROLES.join(', ')}` });
  if (input.password.length < PASSWORD_LENGTH_MIN)
    problems.push({
      field: 'password',
      code: 'password_too_short',
      message: `the password must have at least ${PASSWORD_LENGTH_MIN} characters`,
    });
  const tied = (input.partnerId ? 1 : 0) + (input.buyingGroup ? 1 : 0);
  if (input.role === 'partner' && tied !== 1)
    problems.push({
      field: 'partner',
      code: 'partner_required',
      message: 'a partner user is tied to exactly one partner or one buying group',
    });
  if (input.role !== 'partner' && tied > 0)
    problems.push({
      field: 'partner',
      code: 'partner_not_allowed',
      message: 'only partner users are tied to a partner',
    });
  if (input.partnerId) {
    const found = await db
      .selectFrom('partners')
      .select('id')
      .where('id', '=', input.partnerId)
      .executeTakeFirst();
    if (!found)
      problems.push({
        field: 'partner',
        code: 'unknown_partner',
        message: `no partner "${input.partnerId}"`,
      });
  }
  if (input.buyingGroup) {
    const found = await db
      .selectFrom('partners')
      .select('id')
      .where('buying_group', '=', input.buyingGroup)
      .executeTakeFirst();
    if (!found)
      problems.push({
        field: 'group',
        code: 'unknown_group',
        message: `no partner in buying group "${input.buyingGroup}"`,
      });
  }
  const taken = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', input.username)
    .executeTakeFirst();
  if (taken)
    problems.push({
      field: 'username',
      code: 'username_taken',
      message: `username "${input.username}" is taken`,
    });
  if (problems.length > 0)
    throw new DomainError('invalid_user', problems.map((p) => p.message).join('; '), problems);
  const passwordHash = await hashPassword(input.password);
  const write = async (trx: Database) => {
    const row = await trx
      .insertInto('users')
      .values({
        username: input.username,
        display_name: input.displayName ?? input.username,
        role: input.role,
        partner_id: input.partnerId ?? null,
        buying_group: input.buyingGroup ?? null,
        password_hash: passwordHash,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    // Never the password or its hash.
    await appendAudit(trx, {
      ...author,
      action: 'user.create',
      entity: 'user',
      entityId: user.username,
      after: {
        username: user.username,
        displayName: user.displayName,
        role: user.role,
        partner: user.partnerId,
        group: user.buyingGroup,
      },
    });
    return user;
  };
  return db.isTransaction ? write(db) : db.transaction().execute(write);
}

function toUser(row: {
  id: string;
  username: string;
  display_name: string;
  role: UserRole;
  partner_id: string | null;
  buying_group: string | null;
}): User {
  return {
    id: String(row.id),
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    partnerId: row.partner_id,
    buyingGroup: row.buying_group,
  };
}

export async function countUsers(db: Database): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The user with this username and password, or undefined (the same answer whichever was wrong). */
export async function authenticate(
  db: Database,
  username: string,
  password: string,
): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('username', '=', username)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  // A missing user costs the same hashing time as a wrong password: no timing tells them apart.
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  return row && ok ? toUser(row) : undefined;
}

const DUMMY_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_BYTES).toString('base64')}`;

/** A new session (browser) or API token (integration) for the user; the token is returned once. */
export async function issueCredential(
  db: Database,
  userId: string,
  kind: 'session' | 'api_token',
  name?: string,
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db
    .insertInto('credentials')
    .values({
      token_hash: tokenHash(token),
      user_id: userId,
      kind,
      name: name ?? null,
      expires_at: kind === 'session' ? new Date(Date.now() + SESSION_HOURS * 3_600_000).toISOString() : null,
    })
    .execute();
  return token;
}

/** The user a live, unrevoked credential belongs to. */
export async function userOfToken(db: Database, token: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('credentials as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['u.id', 'u.username', 'u.display_name', 'u.role', 'u.partner_id', 'u.buying_group'])
    .where('c.token_hash', '=', tokenHash(token))
    .where('c.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .where((eb) => eb.or([eb('c.expires_at', 'is', null), eb('c.expires_at', '>', new Date().toISOString())]))
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function revokeCredential(db: Database, token: string): Promise<void> {
  await db
    .updateTable('credentials')
    .set({ revoked_at: new Date().toISOString() })
    .where('token_hash', '=', tokenHash(token))
    .execute();
}
