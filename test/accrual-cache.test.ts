// A process keeps the window totals and positions it has read, and an import in
// that process brings them forward itself (src/accruals/totals-cache.ts). What
// it shows must be what a process reading the store afresh calculates: after
// its own imports, after another process's, with periods under way (forecasts,
// forecast-basis accruals), and after an import that was rolled back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import {
  type AccrualPosition,
  addLinesToAccruals,
  lineFromColumns,
  readAccruals,
  transactionRecalculating,
} from '../src/accruals/accruals.service.ts';
import { keptTotals, TotalsCache } from '../src/accruals/totals-cache.ts';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import { demoFiles } from '../src/demo/demo.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { saveMasterRecord } from '../src/imports/master-records.ts';
import { settle } from '../src/settlements/settlement.service.ts';
import { Decimal } from '../src/shared/decimal.ts';
import { dropSchema, openStore, type Store } from '../src/store/database.ts';

const today = new Date().toISOString().slice(0, 10);
const year = today.slice(0, 4);
const monthStart = `${today.slice(0, 7)}-01`;

/** The demo data, one more agreement accruing on its forecast over this year, and the transactions in three files. */
function files(): { dir: string; parts: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-accrual-cache-'));
  const demo = demoFiles();
  for (const [name, text] of Object.entries(demo)) writeFileSync(join(dir, name), text);
  const agreements = JSON.parse(demo['agreements.json']!) as unknown[];
  agreements.push({
    id: 'CACHE-FORECAST',
    name: 'This year, accrued on the forecast',
    partner: 'D-1001',
    period: { start: `${year}-01-01`, end: `${year}-12-31` },
    calendar: 'quarterly',
    accrual: 'forecast',
    rules: [
      {
        id: 'volume',
        type: 'volume',
        basis: 'amount',
        method: 'retroactive',
        payout: 'percent',
        tiers: [
          { from: '0', rate: '1.00' },
          { from: '5000', rate: '2.50' },
        ],
      },
    ],
  });
  writeFileSync(join(dir, 'agreements.json'), JSON.stringify(agreements));
  const [header, ...lines] = readFileSync(join(dir, 'transactions.csv'), 'utf8').trimEnd().split('\n');
  const size = Math.ceil(lines.length / 3);
  const parts = [0, 1, 2].map((i) => {
    const part = join(dir, `part-${i}.csv`);
    // Each part also sells to the forecast agreement's partner this month.
    const now = `CACHE-${i},${monthStart},D-1001,SF-430,${i + 1},${(i + 1) * 1200}.00,USD`;
    writeFileSync(part, `${header}\n${lines.slice(i * size, (i + 1) * size).join('\n')}\n${now}\n`);
    return part;
  });
  return { dir, parts };
}

/** Every figure of every position as text, exact decimals included. */
function show(positions: readonly AccrualPosition[]): string[] {
  return positions.map((p) =>
    JSON.stringify(p, (_key, value: unknown) => (value instanceof Decimal ? value.toString() : value)),
  );
}

/** Each position's line count and amount, as a settlement from the stored lines gives them. */
function amounts(
  rows: readonly Pick<AccrualPosition, 'agreementId' | 'ruleId' | 'period' | 'lineCount' | 'amount'>[],
) {
  return new Map(
    rows.map((r) => [
      `${r.agreementId}/${r.ruleId}/${r.period.start}`,
      `${r.lineCount} ${r.amount.toString()}`,
    ]),
  );
}

async function loadMasterAndAgreements(store: Store, dir: string) {
  await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
  await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
  const agreements = await importAgreements(store, { file: join(dir, 'agreements.json') });
  assert.equal(agreements.rejected, 0);
}

/** The forecast agreement's position for the quarter under way: its accrual is a share of its forecast. */
function underWay(positions: readonly AccrualPosition[]): AccrualPosition {
  const p = positions.find(
    (x) => x.agreementId === 'CACHE-FORECAST' && x.period.start <= today && today <= x.period.end,
  )!;
  assert.equal(p.accrualBasis, 'forecast');
  assert.ok(p.forecast.elapsedDays > 0 && p.forecast.elapsedDays < p.forecast.totalDays);
  assert.ok(p.lineCount > 0);
  return p;
}

/** Every agreement's windows (number, rule, role, dates, totals) and when they last changed, as text. */
function windowsOf(cache: TotalsCache<unknown>) {
  const text = (value: unknown) =>
    JSON.stringify(value, (_key, v: unknown) => (v instanceof Decimal ? v.toString() : v));
  return [...cache.agreements]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, c]) => ({
      id,
      updatedAt: c.updatedAt,
      windows: [...c.windows].sort((a, b) => Number(a.id) - Number(b.id)).map(text),
    }));
}

/** The process's copy holds every agreement's windows as the store has them now, and is known to be current. */
async function assertCopyIsTheStore(store: Store) {
  const kept = keptTotals(store);
  assert.ok(kept, 'the process keeps a copy');
  const revision = await sql<{ revision: string }>`
    SELECT revision::text AS revision FROM accrual_totals_revision`.execute(store.db);
  assert.equal(kept.revision, revision.rows[0]!.revision, 'the copy is at the store’s revision');
  assert.ok(kept.complete, 'the copy holds every agreement');
  const fresh = new TotalsCache<unknown>('fresh');
  await fresh.load(store.db);
  assert.ok(fresh.agreements.size > 0);
  assert.deepEqual(windowsOf(kept), windowsOf(fresh));
}

describe('positions kept by the process that reads them', () => {
  test('pglite: after its own imports, what the process shows equals a fresh read of the store', async () => {
    const { dir, parts } = files();
    const dataDir = mkdtempSync(join(tmpdir(), 'rebates-accrual-cache-store-'));
    try {
      let store = await openStore({ dataDir });
      await loadMasterAndAgreements(store, dir);
      const seen: string[][] = [show(await readAccruals(store))];
      for (const part of parts) {
        await importFile(store, { kind: 'transactions', file: part });
        seen.push(show(await readAccruals(store)));
      }
      // A file with a line already stored and a new one: only the new line is added.
      const lines = readFileSync(parts[0]!, 'utf8').trimEnd().split('\n');
      const mixed = join(dir, 'mixed.csv');
      writeFileSync(
        mixed,
        `${lines[0]}\n${lines.at(-1)}\nCACHE-NEW,${monthStart},D-1001,SF-430,1,100.00,USD\n`,
      );
      const summary = await importFile(store, { kind: 'transactions', file: mixed });
      assert.deepEqual([summary.imported, summary.duplicates], [1, 1]);
      seen.push(show(await readAccruals(store)));
      assert.deepEqual(amounts(await readAccruals(store)), amounts((await settle(store.db)).results));
      const kept = await readAccruals(store);
      const forecastRebate = underWay(kept).forecast.rebate;
      assert.ok(forecastRebate.sign() > 0);
      // Every import moved something: the kept positions were brought forward, not left behind.
      for (let i = 1; i < seen.length; i++) assert.notDeepEqual(seen[i], seen[i - 1]);
      await store.close();
      store = await openStore({ dataDir });
      try {
        assert.deepEqual(show(await readAccruals(store)), seen.at(-1));
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pglite: a change to the totals that is rolled back leaves the positions shown as they were', async () => {
    const { dir, parts } = files();
    const store = await openStore({});
    try {
      await loadMasterAndAgreements(store, dir);
      await importFile(store, { kind: 'transactions', file: parts[0]! });
      const before = show(await readAccruals(store));
      const line = lineFromColumns(['ROLLED-BACK', monthStart, 'D-1001', 'SF-430', '5', '900.00', 'USD']);
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          const change = await addLinesToAccruals(store, trx, [line]);
          assert.deepEqual(change.agreements, ['CACHE-FORECAST']);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.deepEqual(show(await readAccruals(store)), before);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pglite: a recalculation, an import of agreements and an edited product leave the copy current, as the store has it', async () => {
    const { dir, parts } = files();
    const store = await openStore({});
    try {
      await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
      await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
      const all = JSON.parse(readFileSync(join(dir, 'agreements.json'), 'utf8')) as { id: string }[];
      const later = all.find((a) => a.id === 'CACHE-FORECAST')!;
      writeFileSync(join(dir, 'first.json'), JSON.stringify(all.filter((a) => a !== later)));
      writeFileSync(join(dir, 'later.json'), JSON.stringify([later]));
      await importAgreements(store, { file: join(dir, 'first.json') });
      await importFile(store, { kind: 'transactions', file: parts[0]! });
      const before = show(await readAccruals(store));

      await transactionRecalculating(store, (_trx, recalculate) => recalculate());
      await assertCopyIsTheStore(store);
      // Nothing but when the totals were last written.
      const figures = (shown: string[]) => shown.map((p) => p.replace(/"updatedAt":"[^"]*"/, ''));
      assert.deepEqual(figures(show(await readAccruals(store))), figures(before));

      // The next batch names the windows by the numbers the recalculation gave
      // them: a wrong number would move another window's totals in the store.
      await importFile(store, { kind: 'transactions', file: parts[1]! });
      await assertCopyIsTheStore(store);
      assert.deepEqual(amounts(await readAccruals(store)), amounts((await settle(store.db)).results));

      // An agreement imported over the stored lines has its totals built; the copy takes them.
      await importAgreements(store, { file: join(dir, 'later.json') });
      await assertCopyIsTheStore(store);
      assert.ok(keptTotals(store)!.agreements.has('CACHE-FORECAST'));
      await importFile(store, { kind: 'transactions', file: parts[2]! });
      await assertCopyIsTheStore(store);
      const shown = await readAccruals(store);
      assert.deepEqual(amounts(shown), amounts((await settle(store.db)).results));
      underWay(shown);

      // An edited product moves its lines out of a brand rule: that agreement is
      // rebuilt, and the copy takes it.
      await saveMasterRecord(
        store,
        'product',
        {
          sku: 'PT-100',
          name: 'Cordless drill 18V',
          category: 'power-tools',
          list_price: '149.00',
          attributes: { brand: 'Forge' },
        },
        { actor: 'carla', username: 'carla', role: 'commercial', partnerId: null },
        'replace',
      );
      await assertCopyIsTheStore(store);
      const edited = await readAccruals(store);
      assert.notDeepEqual(amounts(edited), amounts(shown));
      assert.deepEqual(amounts(edited), amounts((await settle(store.db)).results));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const url = process.env.TEST_DATABASE_URL;
  test('postgres: two processes each see the other’s imports, as a fresh read does', {
    skip: !url,
  }, async () => {
    const { dir, parts } = files();
    const schema = `test_cache_${process.pid}_${Date.now()}`;
    const a = await openStore({ databaseUrl: url!, schema });
    const b = await openStore({ databaseUrl: url!, schema });
    const fresh = async () => {
      const c = await openStore({ databaseUrl: url!, schema });
      try {
        return show(await readAccruals(c));
      } finally {
        await c.close();
      }
    };
    try {
      await loadMasterAndAgreements(a, dir);
      let shown = show(await readAccruals(a));
      assert.deepEqual(show(await readAccruals(b)), shown);
      for (const [i, part] of parts.entries()) {
        // The processes take turns importing; both read after each import.
        const [importer, other] = i % 2 === 0 ? [a, b] : [b, a];
        await importFile(importer, { kind: 'transactions', file: part });
        const expected = await fresh();
        assert.notDeepEqual(expected, shown);
        assert.deepEqual(show(await readAccruals(importer)), expected, `importer after part ${i}`);
        assert.deepEqual(show(await readAccruals(other)), expected, `other process after part ${i}`);
        shown = expected;
      }
      underWay(await readAccruals(a));
    } finally {
      await dropSchema(a.db, schema);
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
