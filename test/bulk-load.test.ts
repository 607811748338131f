// A load at least as large as the table builds the secondary indexes once at the
// end instead of row by row; the table ends with the same indexes and rows
// whether the load is kept or rolled back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { importFile } from '../src/imports/import.service.ts';
import type { Database } from '../src/store/database.ts';
import { generateWorkload } from '../src/workload/generate.ts';
import { storeTargets } from './support/stores.ts';

/** The table's indexes with their object ids: an index built again has a new one. */
async function indexes(db: Database): Promise<Map<string, string>> {
  const rows = await sql<{ name: string; oid: string }>`
    SELECT indexname AS name, (quote_ident(schemaname) || '.' || quote_ident(indexname))::regclass::oid::text AS oid
    FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'transactions'`.execute(db);
  return new Map(rows.rows.map((r) => [r.name, r.oid]));
}

async function count(db: Database): Promise<number> {
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM transactions`.execute(db);
  return Number(rows.rows[0]!.n);
}

describe('bulk loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-bulk-load-'));
  const generated = generateWorkload({ out: dir, lines: 120_000, seed: 5 });
  // PGlite alone: the SQL is the same on a server, and one large load is enough.
  const target = storeTargets().find((t) => t.name === 'pglite')!;

  test('a large load keeps the indexes, and a rolled-back one leaves them and the rows as they were', async () => {
    await generated;
    const store = await target.open();
    try {
      await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
      const before = await indexes(store.db);
      assert.deepEqual([...before.keys()].sort(), ['transactions_partner_date_idx', 'transactions_pkey']);

      // The same lines with new ids and one bad row at the end: nothing is kept.
      const bad = join(dir, 'bad.csv');
      const text = readFileSync(join(dir, 'transactions.csv'), 'utf8').replaceAll('\nTX', '\nBAD-TX');
      writeFileSync(bad, `${text}BAD-LAST,2025-13-01,P1,S1,1,1.00,USD\n`);
      const rejected = await importFile(store, { kind: 'transactions', file: bad });
      assert.equal(rejected.outcome, 'nothing_imported');
      assert.equal(rejected.withheld, 120_000);
      assert.deepEqual(await indexes(store.db), before);
      assert.equal(await count(store.db), 0);

      const loaded = await importFile(store, { kind: 'transactions', file: join(dir, 'transactions.csv') });
      assert.equal(loaded.imported, 120_000);
      const after = await indexes(store.db);
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
      assert.equal(after.get('transactions_pkey'), before.get('transactions_pkey'), 'the key is kept');
      assert.notEqual(
        after.get('transactions_partner_date_idx'),
        before.get('transactions_partner_date_idx'),
        'the secondary index was built again',
      );
      assert.equal(await count(store.db), 120_000);
      // The rebuilt index answers a lookup the way the table does.
      const byIndex = await sql<{ n: string }>`
        SELECT count(*) AS n FROM transactions WHERE partner_id = (SELECT min(partner_id) FROM transactions)
          AND line_date >= '2025-01-01'`.execute(store.db);
      assert.ok(Number(byIndex.rows[0]!.n) > 0);

      // Loaded again: every line is a duplicate, nothing changes.
      const again = await importFile(store, { kind: 'transactions', file: join(dir, 'transactions.csv') });
      assert.equal(again.duplicates, 120_000);
      assert.equal(await count(store.db), 120_000);
      // A small load into a large table updates the indexes as it goes.
      const small = join(dir, 'small.csv');
      writeFileSync(
        small,
        `${text.split('\n').slice(0, 5_001).join('\n').replaceAll('BAD-TX', 'MORE-TX')}\n`,
      );
      assert.equal((await importFile(store, { kind: 'transactions', file: small })).imported, 5_000);
      assert.deepEqual(await indexes(store.db), after);
      assert.equal(await count(store.db), 125_000);
    } finally {
      await store.dispose();
    }
  });
});
