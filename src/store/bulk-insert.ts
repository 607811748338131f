// Idempotent bulk insert keyed by the source's own ids: one statement per
// batch inserts the new rows and tells, for every row that was not new,
// whether the stored row has the same content (a duplicate, nothing to do) or
// different content (refused: a stored record is never overwritten).
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Database } from './database.ts';

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
  const arrays = spec.columns.map((_, j) => rows.map((r) => r[j] ?? null));
  const names = spec.columns.map((c) => sql.id(c.name));
  const unnestArgs = spec.columns.map((c, j) => sql`${arrays[j]}::${sql.raw(c.type)}[]`);
  const compared = spec.columns.filter((c) => c.name !== spec.key);
  // jsonb compares by value, numeric by number (1.5 = 1.50): equal content is a duplicate.
  const storedTuple = sql.join(compared.map((c) => sql`s.${sql.id(c.name)}`));
  const inputTuple = sql.join(compared.map((c) => sql`i.${sql.id(c.name)}`));
  const key = sql.id(spec.key);
  const table = sql.id(spec.table);
  const result = await sql<{ key: string; status: BulkRowStatus }>`
    WITH input AS (
      SELECT * FROM unnest(${sql.join(unnestArgs)}) AS i(${sql.join(names)})
    ), existing AS (
      SELECT i.${key} AS key, (${storedTuple}) IS NOT DISTINCT FROM (${inputTuple}) AS same
      FROM input i JOIN ${table} s ON s.${key} = i.${key}
    ), inserted AS (
      INSERT INTO ${table} (${sql.join(names)}, import_id)
      SELECT ${sql.join(names)}, ${importId}::bigint FROM input
      WHERE ${key} NOT IN (SELECT key FROM existing)
      ON CONFLICT (${key}) DO NOTHING
      RETURNING ${key} AS key
    )
    SELECT key, 'inserted' AS status FROM inserted
    UNION ALL
    SELECT key, CASE WHEN same THEN 'duplicate' ELSE 'conflict' END FROM existing
  `.execute(db);
  for (const r of result.rows) statuses.set(r.key, r.status);
  // A row neither inserted nor found was inserted by a concurrent import between
  // the snapshot and the insert; it is reported as a conflict, never dropped.
  for (const r of rows) if (!statuses.has(r[0]!)) statuses.set(r[0]!, 'conflict');
  return statuses;
}
