// A large file is read and checked in pieces on worker threads
// (src/imports/parallel-check.ts). Whichever way a file is read, the import
// keeps the same rows, reports the same problems on the same lines and
// rejects the same records: the same files are imported both ways and compared.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { openCsvSource } from '../src/imports/csv-source.ts';
import { type ImportSummary, importFile } from '../src/imports/import.service.ts';
import { piecesStart } from '../src/imports/parallel-check.ts';
import type { Store } from '../src/store/database.ts';
import { storeTargets, tempFiles } from './support/stores.ts';

const LINES = 100_000;

/** A file of many lines (several pieces) with every kind of bad record among them. */
function transactionsFile(): Buffer {
  const parts: Buffer[] = [Buffer.from('id,date,partner,sku,quantity,amount,currency\n')];
  const text = (s: string) => parts.push(Buffer.from(s));
  for (let i = 0; i < LINES; i++) {
    const partner = `P${(i % 20) + 1}`;
    const sku = `S${(i % 50) + 1}`;
    const day = String((i % 28) + 1).padStart(2, '0');
    const valid = `L${i},2025-03-${day},${partner},${sku},${(i % 9) + 1},${(i % 1000) + 1}.${String(i % 100).padStart(2, '0')},USD`;
    switch (i % 9973) {
      case 11:
        text(`L${i},2025-02-30,${partner},${sku},1,1.00,USD\n`);
        break;
      case 12:
        text(`L${i},2025-03-01,NOBODY,${sku},1,1.00,USD\n`);
        break;
      case 13:
        text(`L${i},2025-03-01,${partner},${sku},1,1.2.3,USD\n`);
        break;
      case 14:
        text(`L${i},2025-03-01,${partner},${sku},1\n`);
        break;
      case 15:
        text('\n   \n');
        break;
      case 16:
        text(`${valid}\r\n`);
        break;
      case 17:
        // The same line again: a duplicate; then the same id with other content: a conflict.
        text(`${valid}\n${valid}\nL${i},2025-03-01,${partner},${sku},1,999.00,USD\n`);
        break;
      case 18:
        parts.push(
          Buffer.from(`L${i},2025-03-01,${partner},`),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(',1,1.00,USD\n'),
        );
        break;
      case 19:
        text(`L${i},2025-03-01,${partner},${sku},1,1.00,${'X'.repeat(70_000)}\n`);
        break;
      case 20:
        text(` ${valid.replaceAll(',', ' , ')} \n`);
        break;
      default:
        text(`${valid}\n`);
    }
  }
  // A line longer than a piece, and a last line without a line end.
  text(`HUGE,2025-03-01,P1,S1,1,1.00,${'Y'.repeat(2_500_000)}\n`);
  text('LAST,2025-03-31,P2,S2,3,30.00,USD');
  return Buffer.concat(parts);
}

interface Outcome {
  summary: Omit<ImportSummary, 'file' | 'errorsFile' | 'rejectsFile' | 'importId'>;
  errors: string[];
  rejects: string[];
  rows: unknown[];
}

async function importBothWays(
  store: Store,
  file: string,
  inPieces: boolean,
  label: string,
  skipInvalid = true,
): Promise<Outcome> {
  const errorsFile = `${file}.${label}.errors.csv`;
  const rejectsFile = `${file}.${label}.rejected.csv`;
  const {
    file: _f,
    errorsFile: e,
    rejectsFile: r,
    importId: _i,
    ...summary
  } = await importFile(store, {
    kind: 'transactions',
    file,
    inPieces,
    skipInvalid,
    errorsFile,
    rejectsFile,
  });
  const lines = (path: string | undefined) => (path ? readFileSync(path, 'utf8').split('\n').sort() : []);
  const rows = await sql`SELECT id, line_date, partner_id, sku, quantity, amount, currency
    FROM transactions ORDER BY id`.execute(store.db);
  return { summary, errors: lines(e), rejects: lines(r), rows: rows.rows };
}

describe('importing a large file in pieces', () => {
  const partners = `id,name,group,region\n${Array.from({ length: 20 }, (_, i) => `P${i + 1},Partner ${i + 1},,EU`).join('\n')}\n`;
  const products = `sku,name,category,list_price\n${Array.from({ length: 50 }, (_, i) => `S${i + 1},Product ${i + 1},C1,1.00`).join('\n')}\n`;
  const dir = tempFiles({ 'partners.csv': partners, 'products.csv': products });
  const file = join(dir, 'transactions.csv');
  writeFileSync(file, transactionsFile());
  // PGlite alone: the pieces are read the same way whatever the store.
  const target = storeTargets().find((t) => t.name === 'pglite')!;
  const fresh = async () => {
    const store = await target.open();
    await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
    await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
    return store;
  };
  /** Two fresh stores with the same master data, disposed after `work`. */
  const withTwoStores = async (work: (one: Store, two: Store) => Promise<void>) => {
    const one = await fresh();
    const two = await fresh();
    try {
      await work(one, two);
    } finally {
      await one.dispose();
      await two.dispose();
    }
  };

  test('only a file without quotes or joined files is cut into pieces', async () => {
    const source = await openCsvSource(file, { kind: 'transactions' });
    source.close();
    assert.equal(await piecesStart(source), 'id,date,partner,sku,quantity,amount,currency\n'.length);
    const quoted = join(dir, 'quoted.csv');
    writeFileSync(
      quoted,
      `${readFileSync(file, 'utf8').slice(0, 200_000)}\nQ1,2025-03-01,P1,S1,1,"1.00",USD\n`,
    );
    const quotedSource = await openCsvSource(quoted, { kind: 'transactions' });
    quotedSource.close();
    assert.equal(await piecesStart(quotedSource), undefined);
  });

  test('the same rows, problems, lines and rejects as on the main thread', async () => {
    await withTwoStores(async (one, two) => {
      const main = await importBothWays(one, file, false, 'main');
      const pieces = await importBothWays(two, file, true, 'pieces');
      // Every kind of bad record is there, 11 of each (one line in 9,973 of 100,000).
      const codes = new Map<string, number>();
      for (const line of main.errors) {
        const code = line.startsWith('transactions.csv,') ? line.split(',')[3] : undefined;
        if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries([...codes].sort()), {
        bad_amount: 11,
        bad_date: 11,
        exists_with_different_content: 11,
        invalid_encoding: 11,
        record_too_long: 12,
        unknown_partner: 11,
        wrong_field_count: 11,
      });
      assert.equal(main.summary.read, LINES + 11 + 2);
      assert.equal(main.summary.duplicates, 11);
      assert.equal(main.summary.rejected, 78);
      assert.equal(main.summary.imported, main.summary.read - 11 - 78);
      assert.deepEqual(pieces.summary, main.summary);
      assert.deepEqual(pieces.errors, main.errors);
      assert.deepEqual(pieces.rejects, main.rejects);
      assert.equal(pieces.rows.length, main.summary.imported);
      assert.deepEqual(pieces.rows, main.rows);

      // Imported again: every stored line is a duplicate, the same bad records are rejected again.
      const mainAgain = await importBothWays(one, file, false, 'main-again');
      const piecesAgain = await importBothWays(two, file, true, 'pieces-again');
      assert.equal(piecesAgain.summary.imported, 0);
      assert.equal(piecesAgain.summary.duplicates, main.summary.imported + 11);
      assert.deepEqual(piecesAgain.summary, mainAgain.summary);
      assert.deepEqual(piecesAgain.errors, mainAgain.errors);
      assert.deepEqual(piecesAgain.rows, main.rows);
    });
  });

  test('a large load that starts with new lines and meets stored ones later: the same either way', async () => {
    // Read in pieces, a load at least as large as the table whose first piece is new is copied
    // without the key, and the keys it repeats are sorted out at the end (decision 0004).
    const keyIndex = async (store: Store) =>
      (
        await sql<{ oid: string }>`
          SELECT oid::text AS oid FROM pg_class WHERE relname = 'transactions_pkey'
            AND relnamespace = current_schema()::regnamespace`.execute(store.db)
      ).rows[0]?.oid;
    const later = join(dir, 'later.csv');
    const stored = readFileSync(file, 'utf8').split('\n').slice(1, 30_001);
    const fresh = Array.from(
      { length: 120_000 },
      (_, i) =>
        `N${i},2025-05-${String((i % 28) + 1).padStart(2, '0')},P${(i % 20) + 1},S${(i % 50) + 1},2,${i % 500}.25,USD`,
    );
    // New lines, then stored ones (with the same and with other content), a new line twice
    // and a new id with two contents.
    writeFileSync(
      later,
      `id,date,partner,sku,quantity,amount,currency\n${[
        ...fresh,
        ...stored,
        'L5,2025-03-06,P6,S6,6,1.00,USD',
        fresh[7],
        'TWICE,2025-05-01,P1,S1,1,1.00,USD',
        'TWICE,2025-05-01,P1,S1,1,2.00,USD',
      ].join('\n')}\n`,
    );
    await withTwoStores(async (one, two) => {
      await importBothWays(one, file, false, 'first-main');
      await importBothWays(two, file, false, 'first-main');
      const keyBefore = await keyIndex(two);
      const main = await importBothWays(one, later, false, 'later-main');
      const pieces = await importBothWays(two, later, true, 'later-pieces');
      assert.notEqual(await keyIndex(two), keyBefore, 'the load was copied without the key');
      assert.equal(main.summary.imported, 120_001);
      assert.ok(main.summary.duplicates > 29_000, `${main.summary.duplicates} duplicates`);
      assert.ok(main.errors.some((l) => l.includes(',L5,') || l.includes('id L5 ')));
      assert.ok(main.errors.some((l) => l.includes('id TWICE ')));
      assert.deepEqual(pieces.summary, main.summary);
      assert.deepEqual(pieces.errors, main.errors);
      assert.deepEqual(pieces.rejects, main.rejects);
      assert.deepEqual(pieces.rows, main.rows);
    });
  });

  test('a file with a bad record keeps nothing, either way', async () => {
    await withTwoStores(async (one, two) => {
      const main = await importBothWays(one, file, false, 'main-strict', false);
      const pieces = await importBothWays(two, file, true, 'pieces-strict', false);
      assert.equal(main.summary.outcome, 'nothing_imported');
      assert.equal(main.rows.length, 0);
      assert.ok(main.summary.withheld > LINES - 100);
      assert.deepEqual(pieces.summary, main.summary);
      assert.deepEqual(pieces.errors, main.errors);
      assert.equal(pieces.rows.length, 0);
    });
  });

  test('two large imports at once share the workers, each with its own rows', async () => {
    await withTwoStores(async (one, two) => {
      const lines = (prefix: string, amount: string) =>
        `id,date,partner,sku,quantity,amount,currency\n${Array.from(
          { length: 90_000 },
          (_, i) =>
            `${prefix}${i},2025-04-${String((i % 30) + 1).padStart(2, '0')},P${(i % 20) + 1},S${(i % 50) + 1},1,${amount},USD`,
        ).join('\n')}\n`;
      const a = join(dir, 'a.csv');
      const b = join(dir, 'b.csv');
      writeFileSync(a, lines('A', '1.25'));
      writeFileSync(b, lines('B', '2.50'));
      const [first, second] = await Promise.all([
        importFile(one, { kind: 'transactions', file: a, inPieces: true }),
        importFile(two, { kind: 'transactions', file: b, inPieces: true }),
      ]);
      assert.equal(first.imported, 90_000);
      assert.equal(second.imported, 90_000);
      const totals = async (store: Store) =>
        (
          await sql<{ n: string; amount: string; ids: string }>`
            SELECT count(*) AS n, sum(amount)::text AS amount, string_agg(DISTINCT left(id, 1), '') AS ids
            FROM transactions`.execute(store.db)
        ).rows[0];
      assert.deepEqual(await totals(one), { n: '90000', amount: '112500.00', ids: 'A' });
      assert.deepEqual(await totals(two), { n: '90000', amount: '225000.00', ids: 'B' });
    });
  });
});
