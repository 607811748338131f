// Rows reach a table by COPY when their keys are new, and by the idempotent
// insert when some are stored already: either way every value is stored exactly
// as checked, and every row is told inserted, duplicate or conflict.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { importFile } from '../src/imports/import.service.ts';
import { type CopyState, copyNewRows } from '../src/store/bulk-insert.ts';
import type { Database } from '../src/store/database.ts';
import { transactionImport } from '../src/transactions/transactions.schema.ts';
import { storeTargets, tempFiles } from './support/stores.ts';

const spec = transactionImport.table;

/** A transaction row in the table's column order; `invoice` may hold any text COPY must escape. */
function row(id: string, amount: string, invoice: string | null = null): (string | null)[] {
  return [id, '2025-03-01', 'P1', 'S1', '1', amount, 'USD', null, invoice, null, null, null, null, null];
}

for (const target of storeTargets()) {
  describe(`copying new rows (${target.name})`, () => {
    test('values with tabs, backslashes and line breaks are stored exactly', async () => {
      const store = await target.open();
      try {
        const name = 'Tab\there, back\\slash, \\N and \\t as text,\r\nand a second line';
        const dir = tempFiles({
          'partners.csv': `id,name,group,region\nP\\1,"${name}",,\nP2,"""Quoted"" \\\\",,\n`,
        });
        const summary = await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
        assert.equal(summary.imported, 2);
        const stored = await store.db.selectFrom('partners').select(['id', 'name']).orderBy('id').execute();
        assert.deepEqual(stored, [
          { id: 'P2', name: '"Quoted" \\\\' },
          { id: 'P\\1', name },
        ]);
      } finally {
        await store.dispose();
      }
    });

    test('a batch meeting stored keys tells duplicates from conflicts, and copying resumes after', async () => {
      const store = await target.open();
      try {
        const head = async (trx: Database) =>
          (
            await trx
              .insertInto('imports')
              .values({ kind: 'transactions', file_name: 't.csv', outcome: 'imported' })
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id;
        const state: CopyState = { tryCopy: true };
        const statuses = await store.db.transaction().execute(async (trx) => {
          const importId = await head(trx);
          const first = await copyNewRows(
            store,
            trx,
            spec,
            [row('T1', '10.00', 'INV\t1'), row('T2', '20.00')],
            importId,
            state,
          );
          assert.equal(state.tryCopy, true, 'an all-new batch keeps copying');
          const second = await copyNewRows(
            store,
            trx,
            spec,
            [row('T1', '10.0', 'INV\t1'), row('T2', '21.00'), row('T3', '30.00')],
            importId,
            state,
          );
          assert.equal(state.tryCopy, false, 'stored keys turn copying off');
          const third = await copyNewRows(store, trx, spec, [row('T4', '40.00')], importId, state);
          assert.equal(state.tryCopy, true, 'an all-new batch turns copying on again');
          return [first, second, third].map((m) => Object.fromEntries(m));
        });
        assert.deepEqual(statuses, [
          { T1: 'inserted', T2: 'inserted' },
          // 10.0 = 10.00: the same content; 21.00 differs from the stored 20.00.
          { T1: 'duplicate', T2: 'conflict', T3: 'inserted' },
          { T4: 'inserted' },
        ]);
        const stored = await sql<{ id: string; amount: string; invoice_number: string | null }>`
          SELECT id, amount, invoice_number FROM transactions ORDER BY id`.execute(store.db);
        assert.deepEqual(stored.rows, [
          { id: 'T1', amount: '10.00', invoice_number: 'INV\t1' },
          { id: 'T2', amount: '20.00', invoice_number: null },
          { id: 'T3', amount: '30.00', invoice_number: null },
          { id: 'T4', amount: '40.00', invoice_number: null },
        ]);
      } finally {
        await store.dispose();
      }
    });
  });
}
