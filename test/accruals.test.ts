// Accrual positions stay equal to a settlement from the stored lines, whichever
// order data arrives in: agreements before lines (each import adds its lines to
// the positions), lines before agreements (the agreements' positions are built
// from the stored lines), in several files, with repeats and a rejected file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import {
  type AccrualPosition,
  readAccruals,
  rebuildAccruals,
  transactionRecalculating,
} from '../src/accruals/accruals.service.ts';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import type { RuleResult } from '../src/calculation/calculation.types.ts';
import { demoFiles } from '../src/demo/demo.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { settle } from '../src/settlements/settlement.service.ts';
import { Decimal } from '../src/shared/decimal.ts';
import { parallelReaders, type Store } from '../src/store/database.ts';
import { generateWorkload } from '../src/workload/generate.ts';
import { awkwardFigures } from './support/awkward-figures.ts';
import { storeTargets } from './support/stores.ts';

type Figures = Pick<
  RuleResult,
  'quantity' | 'amount' | 'baselineAmount' | 'tierIndex' | 'rebate' | 'lineCount'
>;

function figures(rows: readonly (Figures & Pick<RuleResult, 'agreementId' | 'ruleId' | 'period'>)[]) {
  return new Map(
    rows.map((r) => [
      `${r.agreementId}/${r.ruleId}/${r.period.start}`,
      [r.lineCount, r.quantity, r.amount, r.baselineAmount, r.tierIndex, r.rebate].map(String).join(' '),
    ]),
  );
}

/** The stored positions equal a settlement of every agreement from the stored lines. */
async function assertCurrent(store: Store): Promise<AccrualPosition[]> {
  const positions = await readAccruals(store);
  const settled = await settle(store.db);
  assert.ok(settled.results.length > 0);
  assert.deepEqual(figures(positions), figures(settled.results));
  return positions;
}

/** Imports lines, with the agreements the import says it changed. */
async function importNamingChanges(store: Store, file: string) {
  let named: readonly string[] = [];
  const summary = await importFile(store, {
    kind: 'transactions',
    file,
    onAccrualsChanged: (ids) => {
      named = ids;
    },
  });
  return { summary, named };
}

/** Splits a CSV file into `parts` files with the same header. */
function split(file: string, parts: number, dir: string): string[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const size = Math.ceil(lines.length / parts);
  return Array.from({ length: parts }, (_, i) => {
    const part = join(dir, `part-${i}.csv`);
    writeFileSync(part, `${header}\n${lines.slice(i * size, (i + 1) * size).join('\n')}\n`);
    return part;
  });
}

function demoDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-accruals-demo-'));
  for (const [name, text] of Object.entries(demoFiles())) writeFileSync(join(dir, name), text);
  return dir;
}

describe('accrual positions', () => {
  // A server vacuums by itself; the embedded store does not, and without help
  // every rebuild appended a new copy of the totals it replaced.
  test('pglite: repeated full recalculations reuse the space of the totals they replace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebates-accruals-space-'));
    await generateWorkload({ out: dir, lines: 5_000, seed: 23 });
    const store = await storeTargets()[0]!.open();
    try {
      for (const kind of ['partners', 'products', 'transactions'] as const)
        await importFile(store, { kind, file: join(dir, `${kind}.csv`) });
      await importAgreements(store, { file: join(dir, 'agreements.json') });
      const pages = async () =>
        Number(
          (
            await sql<{ n: string }>`SELECT (pg_relation_size('accrual_totals') / 8192)::text AS n`.execute(
              store.db,
            )
          ).rows[0]!.n,
        );
      const recalculate = () => transactionRecalculating(store, (_trx, rebuild) => rebuild());
      await recalculate();
      const first = await pages();
      for (let i = 0; i < 5; i++) await recalculate();
      assert.ok(first > 0);
      assert.ok(
        (await pages()) <= first,
        `${await pages()} pages after six recalculations, ${first} after one`,
      );
      await assertCurrent(store);
    } finally {
      await store.dispose();
    }
  });

  for (const target of storeTargets()) {
    test(`${target.name}: agreements first, then lines in several files, repeats and a rejected file`, async () => {
      const dir = demoDir();
      const store = await target.open();
      try {
        await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
        await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
        await importAgreements(store, { file: join(dir, 'agreements.json') });
        const empty = await assertCurrent(store);
        assert.ok(empty.every((p) => p.lineCount === 0 && p.rebate.isZero()));

        const parts = split(join(dir, 'transactions.csv'), 3, dir);
        let before = figures(empty);
        for (const part of parts) {
          const { summary, named } = await importNamingChanges(store, part);
          assert.ok(summary.imported > 0);
          const after = figures(await assertCurrent(store));
          // The import names exactly the agreements whose positions moved.
          const moved = new Set(
            [...after].filter(([key, value]) => before.get(key) !== value).map(([key]) => key.split('/')[0]!),
          );
          assert.ok(moved.size > 0);
          assert.deepEqual([...named].sort(), [...moved].sort());
          before = after;
        }
        // Every demo agreement earns something once all lines are in, and the
        // mix rule counting distinct products (re-totalled, not added) is among them.
        const full = await assertCurrent(store);
        assert.ok(full.filter((p) => p.rebate.sign() > 0).length >= 5);
        assert.ok(full.some((p) => p.agreementId.includes('MIX')));

        // A repeated file adds nothing; a file with a bad row stores nothing and moves no position.
        const again = await importFile(store, { kind: 'transactions', file: parts[0]! });
        assert.equal(again.imported, 0);
        const header = 'id,date,partner,sku,quantity,amount,currency';
        // A sale by the partner of DEMO-01-VOLUME inside its program period.
        const line = 'NEW-LINE-1,2025-05-15,D-1001,SF-430,10,304.00,USD';
        const bad = join(dir, 'bad.csv');
        writeFileSync(bad, `${header}\n${line}\nNEW-LINE-2,not-a-date,x,y,1,1,USD\n`);
        const rejected = await importFile(store, { kind: 'transactions', file: bad });
        assert.equal(rejected.outcome, 'nothing_imported');
        assert.deepEqual(figures(await assertCurrent(store)), figures(full));

        // The same good line alone moves the positions of its partner's agreements.
        const good = join(dir, 'good.csv');
        writeFileSync(good, `${header}\n${line}\n`);
        const { summary: one, named } = await importNamingChanges(store, good);
        assert.equal(one.imported, 1);
        assert.deepEqual(named, ['DEMO-01-VOLUME']);
        const moved = await assertCurrent(store);
        const was = figures(full);
        const changed = [...figures(moved)]
          .filter(([key, value]) => was.get(key) !== value)
          .map(([key]) => key);
        assert.deepEqual(changed, ['DEMO-01-VOLUME/volume/2025-04-01']);
        const q2 = (positions: AccrualPosition[]) =>
          positions.find((p) => p.agreementId === 'DEMO-01-VOLUME' && p.period.start === '2025-04-01')!;
        assert.equal(q2(moved).lineCount, q2(full).lineCount + 1);
        assert.equal(q2(moved).amount.sub(q2(full).amount).toFixedScale(2), '304.00');
      } finally {
        await store.dispose();
      }
    });

    test(`${target.name}: lines first, then agreements; a rebuild changes nothing`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rebates-accruals-workload-'));
      await generateWorkload({ out: dir, lines: 5_000, seed: 17 });
      const store = await target.open();
      try {
        for (const kind of ['partners', 'products', 'transactions'] as const)
          await importFile(store, { kind, file: join(dir, `${kind}.csv`) });
        await importAgreements(store, { file: join(dir, 'agreements.json') });
        const built = await assertCurrent(store);
        assert.ok(built.filter((p) => p.rebate.sign() > 0).length > 10);
        const rebuilt = await rebuildAccruals(store.db);
        assert.deepEqual(figures(rebuilt), figures(built));
        assert.deepEqual(figures(await readAccruals(store)), figures(built));
        // On a server the lines are read in two halves of the partners side by side
        // (the agreements import above did so too); a buying group with members in both
        // halves has its totals summed from both.
        const readers = parallelReaders(store);
        assert.equal(readers !== undefined, target.name === 'postgres');
        const partners = readFileSync(join(dir, 'partners.csv'), 'utf8').trim().split('\n').slice(1);
        const ids = partners.map((l) => l.split(',')[0]!).sort();
        const splitId = ids[ids.length >> 1]!;
        const sides = new Map<string, Set<boolean>>();
        for (const [id, , group] of partners.map((l) => l.split(',')))
          if (group) sides.set(group, (sides.get(group) ?? new Set()).add(id! < splitId));
        assert.ok(
          [...sides.values()].some((s) => s.size === 2),
          'a buying group straddles the split',
        );
        const sideBySide = await rebuildAccruals(store.db, undefined, readers);
        assert.deepEqual(figures(sideBySide), figures(built));
      } finally {
        await store.dispose();
      }
    });

    test(`${target.name}: quantities with decimals, amounts with fewer or more than two, and figures beyond a bigint`, async () => {
      // The store sums quantities as whole units and amounts as cents where that
      // is exact (bulk-totals.ts); these lines take every other way: quantities
      // with decimals (one with a trailing zero), amounts in a currency with
      // three decimals, amounts with one or none, and one amount and one quantity
      // too large for a bigint in cents or units. Agreements first: the imports
      // add each line to the positions, and a settlement totals the stored lines.
      const dir = mkdtempSync(join(tmpdir(), 'rebates-accruals-figures-'));
      await generateWorkload({ out: dir, lines: 3_000, seed: 29 });
      const agreementsFile = join(dir, 'agreements.json');
      const { header, lines: awkward } = awkwardFigures(dir);
      const agreements = JSON.parse(readFileSync(agreementsFile, 'utf8')) as {
        id: string;
        currency?: string;
        partner?: string;
        scope: object;
        period: { start: string };
      }[];
      const store = await target.open();
      try {
        await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
        await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
        await importAgreements(store, { file: agreementsFile });
        const regular = join(dir, 'awkward.csv');
        writeFileSync(regular, `${header}\n${awkward.join('\n')}\n`);
        assert.equal((await importFile(store, { kind: 'transactions', file: regular })).rejected, 0);
        const positions = await assertCurrent(store);
        assert.deepEqual(figures(await rebuildAccruals(store.db)), figures(positions));
        // The figures the lines were made for are there.
        assert.ok(positions.some((p) => p.amount.significantScale() === 3 && p.lineCount > 0));
        assert.ok(positions.some((p) => p.amount.scale === 1 && p.lineCount > 0));
        assert.ok(positions.some((p) => p.amount.scale === 0 && p.lineCount > 0));
        assert.ok(positions.some((p) => p.quantity.significantScale() === 2 && p.lineCount > 0));
        assert.ok(positions.some((p) => p.quantity.toString().endsWith('.0') && p.lineCount > 0));

        // Sales beyond a bigint, in cents and in units, of partners whose agreements take every product.
        const every = (currency: string) =>
          agreements.find(
            (a) =>
              (a.currency ?? 'USD') === currency &&
              a.partner !== undefined &&
              Object.keys(a.scope).length === 0,
          )!;
        const [usd, kwd] = [every('USD'), every('KWD')];
        const sku = awkward[0]!.split(',')[3];
        const huge = join(dir, 'huge.csv');
        writeFileSync(
          huge,
          `${header}\nHUGE-1,${usd.period.start},${usd.partner},${sku},1,100000000000000000.00,USD\n` +
            `HUGE-2,${kwd.period.start},${kwd.partner},${sku},20000000000000000000,1.000,KWD\n`,
        );
        assert.equal((await importFile(store, { kind: 'transactions', file: huge })).imported, 2);
        const after = await assertCurrent(store);
        assert.deepEqual(figures(await rebuildAccruals(store.db)), figures(after));
        // On a server, also when the lines are read in two halves side by side.
        assert.deepEqual(
          figures(await rebuildAccruals(store.db, undefined, parallelReaders(store))),
          figures(after),
        );
        const huger = (id: string, figure: 'amount' | 'quantity', than: string) =>
          after.some((p) => p.agreementId === id && p[figure].gt(Decimal.parse(than)));
        assert.ok(huger(usd.id, 'amount', '100000000000000000'));
        assert.ok(huger(kwd.id, 'quantity', '20000000000000000000'));
      } finally {
        await store.dispose();
      }
    });

    test(`${target.name}: workload agreements first, lines in batches, equal to the lines settled`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rebates-accruals-batches-'));
      await generateWorkload({ out: dir, lines: 6_000, seed: 23 });
      const store = await target.open();
      try {
        await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
        await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
        await importAgreements(store, { file: join(dir, 'agreements.json') });
        for (const part of split(join(dir, 'transactions.csv'), 4, dir))
          await importFile(store, { kind: 'transactions', file: part });
        const positions = await assertCurrent(store);
        assert.ok(positions.filter((p) => p.rebate.sign() > 0).length > 10);
      } finally {
        await store.dispose();
      }
    });
  }
});
