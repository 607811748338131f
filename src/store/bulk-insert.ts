// Idempotent bulk insert keyed by the source's own ids: one statement per
// batch inserts the new rows and tells, for every row that was not new,
// whether the stored row has the same content (a duplicate, nothing to do) or
// different content (refused: a stored record is never overwritten).
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { copyText } from './copy-text.ts';
import type { Database, Store } from './database.ts';
import { sqlArray } from './sql-arrays.ts';

export interface BulkColumn {
  name: string;
  /** PostgreSQL type of the column, for the unnest of its array parameter. */
  type: 'text' | 'numeric' | 'date' | 'jsonb';
}

export interface BulkTable {
  table: string;
  /** The key column (first in `columns`). */
  key: string;
  columns: readonly BulkColumn[];
}

export type BulkRowStatus = 'inserted' | 'duplicate' | 'conflict';

/**
 * Inserts rows whose key is not stored yet. `rows[i][j]` is the text of column j
 * (null for absent). Keys must be unique within the batch. `importId` is written
 * to the table's import_id column. Returns each key's status.
 */
export async function insertNewRows(
  db: Database,
  spec: BulkTable,
  rows: readonly (readonly (string | null)[])[],
  importId: string,
): Promise<Map<string, BulkRowStatus>> {
  const statuses = new Map<string, BulkRowStatus>();
  if (rows.length === 0) return statuses;
  assert.equal(spec.columns[0]?.name, spec.key, 'the key must be the first column');
  const names = spec.columns.map((c) => sql.id(c.name));
  const input = (subset: readonly (readonly (string | null)[])[]) => {
    const args = spec.columns.map((c, j) =>
      sqlArray(
        subset.map((r) => r[j] ?? null),
        c.type,
      ),
    );
    return sql`SELECT * FROM unnest(${sql.join(args)}) AS i(${sql.join(names)})`;
  };
  const key = sql.id(spec.key);
  const table = sql.id(spec.table);
  // Insert first: the conflict check uses the key's unique index row by row, so
  // its cost does not depend on table statistics (which an open import
  // transaction cannot refresh). Only the rows not inserted are then compared.
  const inserted = await sql<{ key: string }>`
    INSERT INTO ${table} (${sql.join(names)}, import_id)
    SELECT ${sql.join(names)}, ${importId}::bigint FROM (${input(rows)}) AS i
    ON CONFLICT (${key}) DO NOTHING
    RETURNING ${key} AS key`.execute(db);
  for (const r of inserted.rows) statuses.set(r.key, 'inserted');
  const rest = rows.filter((r) => !statuses.has(r[0]!));
  if (rest.length > 0) {
    const compared = spec.columns.filter((c) => c.name !== spec.key);
    // jsonb compares by value, numeric by number (1.5 = 1.50): equal content is a duplicate.
    const storedTuple = sql.join(compared.map((c) => sql`s.${sql.id(c.name)}`));
    const inputTuple = sql.join(compared.map((c) => sql`i.${sql.id(c.name)}`));
    const existing = await sql<{ key: string; same: boolean }>`
      SELECT i.${key} AS key, (${storedTuple}) IS NOT DISTINCT FROM (${inputTuple}) AS same
      FROM (${input(rest)}) AS i JOIN ${table} s ON s.${key} = i.${key}
      WHERE s.${key} = ANY(${sqlArray(
        rest.map((r) => r[0]!),
        'text',
      )})`.execute(db);
    for (const r of existing.rows) statuses.set(r.key, r.same ? 'duplicate' : 'conflict');
  }
  // A row neither inserted nor found was inserted by a concurrent import between
  // the snapshot and the insert; it is reported as a conflict, never dropped.
  for (const r of rows) if (!statuses.has(r[0]!)) statuses.set(r[0]!, 'conflict');
  return statuses;
}

/** A batch of rows written by `copyNewRows`; `tryCopy` is cleared once a batch meets stored keys. */
export interface CopyState {
  tryCopy: boolean;
}

/**
 * The same as `insertNewRows`, by the fastest way into a table: COPY. A batch
 * whose keys are all new (the usual case: new lines from an export) is copied
 * whole. When one of its keys is already stored, the unique key stops the COPY,
 * its savepoint undoes it, and the batch goes through `insertNewRows`, which
 * tells duplicates from conflicts; later batches then take that path too until
 * one of them is all new again, so a file imported twice pays for one failed
 * COPY, not one per batch. `trx` must be a transaction of `store`.
 */
export async function copyNewRows(
  store: Store,
  trx: Database,
  spec: BulkTable,
  rows: readonly (readonly (string | null)[])[],
  importId: string,
  state: CopyState,
): Promise<Map<string, BulkRowStatus>> {
  if (rows.length === 0) return new Map();
  if (state.tryCopy) {
    // Joined once (copy-text.ts says why): appending row by row builds the same tree of fragments.
    const text = rows.map((row) => copyText(row, importId)).join('');
    if (await copyIfAllNew(store, trx, spec, text)) return new Map(rows.map((r) => [r[0]!, 'inserted']));
  }
  const statuses = await insertNewRows(trx, spec, rows, importId);
  state.tryCopy = [...statuses.values()].every((s) => s === 'inserted');
  return statuses;
}

/**
 * Copies rows given as COPY text, import id last, when none of their keys is
 * stored or repeated among them; returns false, with nothing written, otherwise.
 */
export async function copyIfAllNew(
  store: Store,
  trx: Database,
  spec: BulkTable,
  text: string,
): Promise<boolean> {
  return unlessKeyRepeats(trx, () => copyRows(store, trx, spec, text));
}

/** Copies rows given as COPY text, import id last, whatever their keys (for a table loaded without its key). */
export async function copyRows(store: Store, trx: Database, spec: BulkTable, text: string): Promise<void> {
  await store.copyRows(trx, spec.table, [...spec.columns.map((c) => c.name), 'import_id'], text);
}

const UNIQUE_VIOLATION = '23505';

/**
 * Runs `work` in a savepoint of `trx`: true once done; false, with everything it
 * did undone, when it would store a key twice. Any other failure is thrown.
 */
async function unlessKeyRepeats(trx: Database, work: () => Promise<void>): Promise<boolean> {
  await sql`SAVEPOINT unless_key_repeats`.execute(trx);
  try {
    await work();
    await sql`RELEASE SAVEPOINT unless_key_repeats`.execute(trx);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    await sql`ROLLBACK TO SAVEPOINT unless_key_repeats`.execute(trx);
    return false;
  }
}

/**
 * Drops the table's secondary indexes (not those behind a primary key or unique
 * constraint, which the idempotent insert needs) and returns their definitions
 * for `createIndexes`. A large load then builds each index once, by sorting,
 * instead of updating it row by row. Inside a transaction, the drop holds an
 * exclusive lock on the table until commit and is undone by a rollback.
 */
export async function dropSecondaryIndexes(db: Database, table: string): Promise<string[]> {
  const indexes = await sql<{ name: string; definition: string }>`
    SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = ${table}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = ${table}::regclass AND c.conname = i.indexname)
    ORDER BY i.indexname`.execute(db);
  for (const index of indexes.rows) await sql`DROP INDEX ${sql.id(index.name)}`.execute(db);
  return indexes.rows.map((i) => i.definition);
}

/** A primary key dropped for a bulk load, as `restorePrimaryKey` adds it back. */
export interface DroppedKey {
  name: string;
  definition: string;
}

/**
 * Drops the table's primary key for a load that copies its rows blindly, when no
 * foreign key refers to it; undefined (nothing dropped) otherwise. Keeping a unique
 * index current row by row costs a bulk load as much again as writing the rows
 * (decision 0004); building it once at the end, from sorted keys, a fraction of that.
 * Inside a transaction, the drop holds an exclusive lock on the table until commit
 * (so no other import writes a key meanwhile) and is undone by a rollback.
 */
export async function dropPrimaryKey(db: Database, table: string): Promise<DroppedKey | undefined> {
  const key = await sql<{ name: string; definition: string; referred: boolean }>`
    SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS definition,
      EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.conrelid) AS referred
    FROM pg_constraint c WHERE c.conrelid = ${table}::regclass AND c.contype = 'p'`.execute(db);
  const found = key.rows[0];
  if (!found || found.referred) return undefined;
  await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT ${sql.id(found.name)}`.execute(db);
  return { name: found.name, definition: found.definition };
}

/** Adds a dropped primary key back; false, with nothing changed, when the rows repeat a key. */
export async function restorePrimaryKey(db: Database, table: string, key: DroppedKey): Promise<boolean> {
  return unlessKeyRepeats(db, async () => {
    await sql`ALTER TABLE ${sql.table(table)} ADD CONSTRAINT ${sql.id(key.name)} ${sql.raw(key.definition)}`.execute(
      db,
    );
  });
}

/**
 * After a blind load whose key could not be restored: removes the rows this import
 * wrote under keys the table now holds more than once (a key stored before, or
 * repeated in the file), so the key can be added back. Returns those keys and how
 * many rows were removed; their lines are then written again the idempotent way.
 */
export async function removeRepeatedKeys(
  db: Database,
  spec: BulkTable,
  importId: string,
): Promise<{ keys: Set<string>; removed: number }> {
  const key = sql.id(spec.key);
  const table = sql.table(spec.table);
  const removed = await sql<{ key: string }>`
    WITH repeated AS (SELECT ${key} AS key FROM ${table} GROUP BY ${key} HAVING count(*) > 1)
    DELETE FROM ${table} t USING repeated r
    WHERE t.${key} = r.key AND t.import_id = ${importId}::bigint
    RETURNING t.${key} AS key`.execute(db);
  return { keys: new Set(removed.rows.map((r) => r.key)), removed: removed.rows.length };
}

export async function createIndexes(db: Database, definitions: readonly string[]): Promise<void> {
  for (const definition of definitions) await sql.raw(definition).execute(db);
}

/** The table's row count: the planner's estimate when it has one, else counted. */
export async function estimatedRows(db: Database, table: string): Promise<number> {
  const estimate = await sql<{ n: number }>`
    SELECT reltuples::float8 AS n FROM pg_class WHERE oid = ${table}::regclass`.execute(db);
  const n = Number(estimate.rows[0]?.n ?? -1);
  if (n >= 0) return n;
  const counted = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
  return Number(counted.rows[0]!.n);
}
