// The embedded store's process keeps a columnar copy of the lines (kept-lines.ts)
// and a full recalculation sums it instead of the stored lines: the copy follows
// every import, in pieces or in batches, a rolled-back file leaves it as it was,
// and whenever it could be wrong (another writer, a figure it cannot sum exactly)
// the store sums the lines itself; every recalculation equals the one from the
// stored lines, scales of the sums included.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { rebuildAccruals, transactionRecalculating } from '../src/accruals/accruals.service.ts';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import type { RuleResult } from '../src/calculation/calculation.types.ts';
import { importFile } from '../src/imports/import.service.ts';
import { openStore, type Store } from '../src/store/database.ts';
import { currentLines, keptLines } from '../src/transactions/kept-lines.ts';
import { LINE_COLUMNS_FILE, readLineColumns } from '../src/transactions/line-columns.file.ts';
import { generateWorkload } from '../src/workload/generate.ts';
import { awkwardFigures } from './support/awkward-figures.ts';
import { storeTargets } from './support/stores.ts';

/** Every figure of every position, as text: a sum's scale counts. */
function figures(rows: readonly RuleResult[]): string[] {
  return rows
    .map((r) =>
      [
        r.agreementId,
        r.ruleId,
        r.period.start,
        r.lineCount,
        r.quantity,
        r.amount,
        r.baselineAmount,
        r.tierIndex,
        r.rebate,
      ].join(' '),
    )
    .sort();
}

/** A full recalculation as the product runs it (from the copy when current), and one from the stored lines. */
async function recalculations(store: Store) {
  const kept = await transactionRecalculating(store, (_trx, recalculate) => recalculate());
  const stored = await rebuildAccruals(store.db);
  return { kept: figures(kept), stored: figures(stored) };
}

async function storedLines(store: Store): Promise<number> {
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM transactions`.execute(store.db);
  return Number(rows.rows[0]!.n);
}

/** A recalculation reads the copy: amounts changed in it, and only there, show, and are gone once restored. */
async function assertSummedFromCopy(store: Store) {
  const chunk = keptLines(store)!.chunks[0]!;
  const amounts = chunk.amount.slice();
  for (let k = 0; k < chunk.length; k++) chunk.amount[k]! += 10_000;
  try {
    const changed = await recalculations(store);
    assert.notDeepEqual(changed.kept, changed.stored);
  } finally {
    chunk.amount.set(amounts);
  }
  const { kept, stored } = await recalculations(store);
  assert.deepEqual(kept, stored);
}

const pglite = storeTargets().find((t) => t.name === 'pglite')!;

describe('the columnar copy of the lines', () => {
  test('follows imports in pieces and in batches, and a recalculation from it equals one from the stored lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebates-kept-lines-'));
    await generateWorkload({ out: dir, lines: 6_000, seed: 41 });
    const agreementsFile = join(dir, 'agreements.json');
    const { header, lines } = awkwardFigures(dir);
    const write = (name: string, rows: string[]) => {
      const file = join(dir, name);
      writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
      return file;
    };
    const store = await pglite.open();
    try {
      await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
      // The first half checked in pieces on worker threads, the rest in batches on this one.
      const half = lines.length / 2;
      const first = await importFile(store, {
        kind: 'transactions',
        file: write('first.csv', lines.slice(0, half)),
        inPieces: true,
      });
      assert.equal(first.imported, half);
      assert.equal(keptLines(store)?.length, half);
      await importAgreements(store, { file: agreementsFile });
      for (let from = half; from < lines.length; from += 1_000)
        await importFile(store, {
          kind: 'transactions',
          file: write(`batch-${from}.csv`, lines.slice(from, from + 1_000)),
        });
      // A file imported again adds nothing, to the store or to the copy.
      const again = await importFile(store, { kind: 'transactions', file: join(dir, 'first.csv') });
      assert.equal(again.duplicates, half);
      assert.equal(keptLines(store)?.length, await storedLines(store));
      assert.equal(keptLines(store)?.length, lines.length);
      assert.ok(await currentLines(store, store.db));

      const { kept, stored } = await recalculations(store);
      assert.deepEqual(kept, stored);
      // The figures the lines were made for are there.
      const field = (f: string, i: number) => f.split(' ')[i]!;
      assert.ok(
        kept.some((f) => /\.25$/.test(field(f, 4))),
        'a quantity with decimals',
      );
      assert.ok(
        kept.some((f) => /\.0$/.test(field(f, 4))),
        'a quantity with a trailing zero',
      );
      assert.ok(
        kept.some((f) => /\.\d{3}$/.test(field(f, 5))),
        'an amount with three decimals',
      );
      assert.ok(
        kept.some((f) => /\.\d$/.test(field(f, 5))),
        'an amount with one decimal',
      );

      await assertSummedFromCopy(store);
    } finally {
      await store.dispose();
    }
  });

  test('a rolled-back file leaves it current; another writer, or a figure it cannot sum, leaves the sums to the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebates-kept-lines-'));
    await generateWorkload({ out: dir, lines: 3_000, seed: 43 });
    const store = await pglite.open();
    try {
      await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
      await importAgreements(store, { file: join(dir, 'agreements.json') });
      await importFile(store, { kind: 'transactions', file: join(dir, 'transactions.csv') });
      const [header, first] = readFileSync(join(dir, 'transactions.csv'), 'utf8').split('\n');
      const fields = first!.split(',');
      const line = (id: string, amount: string) =>
        [id, fields[1], fields[2], fields[3], fields[4], amount, fields[6]].join(',');

      // A file with a bad row is rolled back whole; the copy still holds what the store holds.
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, `${header}\n${line('NEW-1', '10.00')}\n${line('NEW-2', 'ten')}\n`);
      assert.equal(
        (await importFile(store, { kind: 'transactions', file: bad })).outcome,
        'nothing_imported',
      );
      assert.ok(await currentLines(store, store.db), 'current after a rolled-back file');
      assert.equal(keptLines(store)?.length, await storedLines(store));
      // So does a file checked in pieces whose bad row comes after pieces were stored.
      const rows = Array.from({ length: 400 }, (_, i) => line(`PIECE-${i}`, `${i}.50`));
      writeFileSync(bad, `${header}\n${rows.join('\n')}\n${line('PIECE-BAD', 'ten')}\n`);
      const piecewise = await importFile(store, { kind: 'transactions', file: bad, inPieces: true });
      assert.equal(piecewise.outcome, 'nothing_imported');
      assert.equal(piecewise.withheld, 400);
      assert.ok(await currentLines(store, store.db), 'current after a rolled-back file in pieces');
      assert.equal(keptLines(store)?.length, await storedLines(store));
      const { kept: afterRollBack, stored: storedAfterRollBack } = await recalculations(store);
      assert.deepEqual(afterRollBack, storedAfterRollBack);

      // A line stored by another writer than an import: the copy is behind and let go;
      // the next recalculation reads the stored lines into a new one.
      const before = await recalculations(store);
      await sql`INSERT INTO transactions (id, line_date, partner_id, sku, quantity, amount, currency, import_id)
        SELECT 'OTHER-1', ${fields[1]}::date, ${fields[2]}, ${fields[3]}, 1, 1000000.00, ${fields[6]}, id
        FROM imports LIMIT 1`.execute(store.db);
      assert.equal(await currentLines(store, store.db), undefined);
      assert.equal(keptLines(store), undefined);
      const after = await recalculations(store);
      assert.deepEqual(after.kept, after.stored);
      assert.notDeepEqual(after.kept, before.kept, 'the other writer’s line counts');
      assert.equal(keptLines(store)?.length, await storedLines(store));
      await assertSummedFromCopy(store);
    } finally {
      await store.dispose();
    }

    // An amount too large to sum exactly as a double: the store sums the lines.
    const huge = await pglite.open();
    try {
      await importFile(huge, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(huge, { kind: 'products', file: join(dir, 'products.csv') });
      await importAgreements(huge, { file: join(dir, 'agreements.json') });
      const [header, first, ...rest] = readFileSync(join(dir, 'transactions.csv'), 'utf8')
        .trimEnd()
        .split('\n');
      const fields = first!.split(',');
      fields[5] = '100000000000000.00';
      const file = join(dir, 'huge.csv');
      writeFileSync(file, `${header}\n${fields.join(',')}\n${rest.join('\n')}\n`);
      await importFile(huge, { kind: 'transactions', file });
      assert.equal(await currentLines(huge, huge.db), undefined);
      const { kept, stored } = await recalculations(huge);
      assert.deepEqual(kept, stored);
      assert.equal(keptLines(huge), undefined, 'not read from the lines either');
      assert.ok(
        kept.some((f) => f.includes(' 1000000000')),
        'the huge amount is counted',
      );
    } finally {
      await huge.dispose();
    }
  });

  test('is kept in the data directory: a process opening the store reads it, unless the store moved on without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebates-kept-lines-'));
    await generateWorkload({ out: dir, lines: 4_000, seed: 47 });
    const dataDir = join(dir, 'data');
    const file = join(dataDir, LINE_COLUMNS_FILE);
    const [header, ...lines] = readFileSync(join(dir, 'transactions.csv'), 'utf8').trimEnd().split('\n');
    const write = (name: string, rows: string[]) => {
      const path = join(dir, name);
      writeFileSync(path, `${header}\n${rows.join('\n')}\n`);
      return path;
    };
    let store = await openStore({ dataDir });
    try {
      await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
      await importAgreements(store, { file: join(dir, 'agreements.json') });
      await importFile(store, {
        kind: 'transactions',
        file: write('a.csv', lines.slice(0, 3_000)),
        inPieces: true,
      });
      await importFile(store, { kind: 'transactions', file: write('b.csv', lines.slice(3_000, 3_500)) });
    } finally {
      await store.close();
    }

    // New processes that import a file, and one whose file is rolled back, without reading
    // the copy: each appends to its file.
    for (const [name, rows] of [
      ['c.csv', lines.slice(3_500, 3_600)],
      ['d.csv', lines.slice(3_600, 3_700)],
      ['bad.csv', [...lines.slice(3_700, 3_800), 'BAD-1,someday,P,S,1,1.00,USD']],
    ] as const) {
      store = await openStore({ dataDir });
      try {
        const summary = await importFile(store, { kind: 'transactions', file: write(name, [...rows]) });
        assert.equal(summary.imported, name === 'bad.csv' ? 0 : 100);
        assert.equal(keptLines(store), undefined, 'the copy is not read to add to it');
      } finally {
        await store.close();
      }
    }
    // The file holds every stored line, at the store's revision.
    const inFile = readLineColumns(file);
    assert.equal(inFile?.lines.length, 3_700);
    assert.equal(inFile?.records, 6, 'the empty copy it began as, and a record per import');
    store = await openStore({ dataDir });
    try {
      const revision = await sql<{
        n: string;
      }>`SELECT last_value AS n FROM transaction_lines_revision`.execute(store.db);
      assert.equal(inFile?.lines.revision, Number(revision.rows[0]!.n));
    } finally {
      await store.close();
    }
    // The next process reads the copy from the file for a recalculation, and an import adds to it.
    store = await openStore({ dataDir });
    try {
      const first = await recalculations(store);
      assert.equal(keptLines(store)?.length, 3_700, 'read for the recalculation');
      assert.deepEqual(first.kept, first.stored);
      await assertSummedFromCopy(store);
      await importFile(store, { kind: 'transactions', file: write('e.csv', lines.slice(3_700)) });
      assert.equal(keptLines(store)?.length, lines.length);
      const { kept, stored } = await recalculations(store);
      assert.deepEqual(kept, stored);
    } finally {
      await store.close();
    }
    store = await openStore({ dataDir });
    try {
      assert.equal((await currentLines(store, store.db))?.length, lines.length);
      assert.equal(keptLines(store)?.length, await storedLines(store));
    } finally {
      await store.close();
    }

    // Cut short, as by a crash while it was written: behind the store, so not used, and
    // removed; the next recalculation reads the stored lines into a new copy, and keeps it.
    truncateSync(file, statSync(file).size - 100);
    store = await openStore({ dataDir });
    try {
      assert.equal(await currentLines(store, store.db), undefined);
      assert.equal(existsSync(file), false);
      const { kept, stored } = await recalculations(store);
      assert.deepEqual(kept, stored);
      assert.equal(keptLines(store)?.length, lines.length);
      assert.ok(existsSync(file));
      await assertSummedFromCopy(store);
    } finally {
      await store.close();
    }
  });
});
