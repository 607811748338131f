// The tamper-evident audit trail. Every change to master data, agreements,
// users and financial records appends one entry in the transaction that makes
// the change, so the entry and the change are kept or rolled back together.
// Each entry's hash covers its own fields and the previous entry's hash:
// changing or removing any entry afterwards breaks every link after it, and
// `verifyAudit` names the first broken one.
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { sql } from 'kysely';
import type { Database } from '../store/database.ts';
import type { AuditLogTable } from '../store/store.types.ts';

/**
 * Serialises appends: each entry must see the one before it. Advisory locks are
 * taken in one order everywhere — the accruals' (accruals.service.ts) before this
 * one — so two writers never wait for each other: append last in a transaction.
 */
const AUDIT_LOCK_KEY = 7_202_612;
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  /** Who: a username, `cli:<system user>` for the command line, or `system`. */
  actor: string;
  /** What was done, e.g. `user.create`, `import.transactions`. */
  action: string;
  entity: string;
  entityId?: string;
  before?: unknown;
  after?: unknown;
  /** Why, when the user said. */
  comment?: string;
  requestId?: string;
}

/** The actor for changes made from the command line. */
export function commandLineActor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No user name on this system: the command line is still named.
  }
  return `cli:${name}`;
}

type Stored = Omit<AuditLogTable, 'seq' | 'hash' | 'prev_hash'> & { prev_hash: string };

function hashOf(entry: Stored): string {
  // A fixed field order and JSON strings: the same bytes whatever reads them back.
  const fields = [
    entry.at,
    entry.actor,
    entry.action,
    entry.entity,
    entry.entity_id,
    entry.before,
    entry.after,
    entry.comment,
    entry.request_id,
    entry.prev_hash,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** Appends entries, in order; `db` must be the transaction that makes the change. */
export async function appendAudit(db: Database, entries: AuditEntry | readonly AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries as AuditEntry];
  if (list.length === 0) return;
  await sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(db);
  const last = await db
    .selectFrom('audit_log')
    .select('hash')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  let previous = last?.hash ?? GENESIS_HASH;
  const at = new Date().toISOString();
  const rows = list.map((entry) => {
    const stored: Stored = {
      at,
      actor: entry.actor,
      action: entry.action,
      entity: entry.entity,
      entity_id: entry.entityId ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      comment: entry.comment ?? null,
      request_id: entry.requestId ?? null,
      prev_hash: previous,
    };
    previous = hashOf(stored);
    return { ...stored, hash: previous };
  });
  // In statements of a thousand rows: an agreements import may bring thousands at once.
  for (let i = 0; i < rows.length; i += 1_000) {
    await db
      .insertInto('audit_log')
      .values(rows.slice(i, i + 1_000))
      .execute();
  }
}

export interface AuditVerification {
  entries: number;
  /** The first entry whose link or content does not hold, when one does not. */
  broken?: { seq: string; reason: string };
}

/** Recomputes the chain from the first entry and reports the first broken link. */
export async function verifyAudit(db: Database): Promise<AuditVerification> {
  let previous = GENESIS_HASH;
  let entries = 0;
  let after = '0';
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where(sql<boolean>`seq > ${after}::bigint`)
      .orderBy('seq')
      .limit(10_000)
      .execute();
    if (rows.length === 0) return { entries };
    for (const row of rows) {
      if (row.prev_hash !== previous)
        return {
          entries,
          broken: {
            seq: String(row.seq),
            reason: 'it does not link to the entry before it (one was removed or changed)',
          },
        };
      if (hashOf(row) !== row.hash)
        return {
          entries,
          broken: { seq: String(row.seq), reason: 'its content does not match its hash (it was changed)' },
        };
      previous = row.hash;
      entries += 1;
      after = String(row.seq);
    }
  }
}
