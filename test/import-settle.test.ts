// Proves, on PGlite and on PostgreSQL, that imports are idempotent and
// all-or-nothing with every bad row reported, and that settle produces the
// hand-checked figures of a small data set.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { explainAgreement } from '../src/settlements/explain.ts';
import { settle } from '../src/settlements/settlement.service.ts';
import { storeTargets, tempFiles } from './support/stores.ts';

const PARTNERS = 'id,name,group,region\nA,Alpha Supply,G1,NA\nB,Beta Trade,G1,EU\nC,Gamma Stores,,NA\n';
const PRODUCTS =
  'sku,name,category,list_price,brand\nS1,Drill,X,100.00,Apex\nS2,Saw,Y,100.00,Forge\nS3,Bits,X,10.00,Forge\n';
const TRANSACTIONS = [
  'id,date,partner,sku,quantity,amount,currency',
  'T1,2025-01-10,A,S1,10,1000.00,USD',
  'T2,2025-02-10,A,S2,5,500.00,USD',
  'T3,2025-02-11,B,S1,20,2000.00,USD',
  'T4,2025-03-01,A,S1,-2,-200.00,USD',
  'T5,2024-01-15,A,S1,8,800.00,USD',
  'T6,2025-04-02,A,S1,1,100.00,USD',
  '',
].join('\n');
const AGREEMENTS = JSON.stringify([
  {
    id: 'AG1',
    partner: 'A',
    period: { start: '2025-01-01', end: '2025-03-31' },
    scope: {},
    type: 'volume',
    basis: 'amount',
    method: 'retroactive',
    payout: 'percent',
    tiers: [
      { from: '0', rate: '1' },
      { from: '1000', rate: '2' },
    ],
  },
  {
    id: 'AG2',
    group: 'G1',
    period: { start: '2025-01-01', end: '2025-03-31' },
    scope: { categories: ['X'] },
    type: 'volume',
    basis: 'amount',
    method: 'incremental',
    payout: 'percent',
    tiers: [
      { from: '0', rate: '1' },
      { from: '2000', rate: '3' },
    ],
  },
  {
    id: 'AG3',
    partner: 'A',
    period: { start: '2025-01-01', end: '2025-03-31' },
    baseline: { start: '2024-01-01', end: '2024-03-31' },
    scope: {},
    type: 'growth',
    basis: 'amount',
    method: 'retroactive',
    payout: 'percent',
    apply: 'increment',
    tiers: [{ from: '0', rate: '5' }],
  },
]);

for (const target of storeTargets()) {
  describe(`import and settle on ${target.name}`, () => {
    let store: Awaited<ReturnType<typeof target.open>>;
    let dir: string;
    before(async () => {
      store = await target.open();
      dir = tempFiles({
        'partners.csv': PARTNERS,
        'products.csv': PRODUCTS,
        'transactions.csv': TRANSACTIONS,
        'agreements.json': AGREEMENTS,
      });
    });
    after(async () => store.dispose());

    test('imports every row once, and a second import adds nothing', async () => {
      for (const kind of ['partners', 'products', 'transactions'] as const) {
        const first = await importFile(store, { kind, file: join(dir, `${kind}.csv`) });
        assert.equal(first.outcome, 'imported');
        assert.equal(first.rejected, 0);
        assert.equal(first.imported, first.read);
        const again = await importFile(store, { kind, file: join(dir, `${kind}.csv`) });
        assert.deepEqual(
          [again.read, again.imported, again.duplicates, again.rejected],
          [first.read, 0, first.read, 0],
        );
      }
      assert.equal((await importAgreements(store, { file: join(dir, 'agreements.json') })).imported, 3);
      const again = await importAgreements(store, { file: join(dir, 'agreements.json') });
      assert.deepEqual([again.imported, again.duplicates], [0, 3]);
      const count = await store.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 6);
    });

    test('settles the hand-checked figures', async () => {
      const run = await settle(store.db);
      const byId = new Map(run.results.map((r) => [r.agreementId, r]));
      // AG1: A in Q1 = 1000 + 500 − 200 = 1300 ≥ 1000 → tier 2 → 2% × 1300 = 26.00
      assert.equal(byId.get('AG1')!.rebate.toString(), '26.00');
      assert.equal(byId.get('AG1')!.tierIndex, 1);
      // AG2: group G1 (A, B), category X: 1000 + 2000 − 200 = 2800 → 1% × 2000 + 3% × 800 = 44.00
      assert.equal(byId.get('AG2')!.amount.toString(), '2800.00');
      assert.equal(byId.get('AG2')!.rebate.toString(), '44.00');
      // AG3: growth (1300 − 800) / 800 = 62.5% → 5% × 500 = 25.00
      assert.equal(byId.get('AG3')!.baselineAmount.toString(), '800.00');
      assert.equal(byId.get('AG3')!.rebate.toString(), '25.00');
      // As of 2025-02-10 only T1 and T2 count for AG1: 1500 → 2% × 1500 = 30.00
      const early = await settle(store.db, { asOf: '2025-02-10', agreementIds: ['AG1'] });
      assert.equal(early.results[0]!.rebate.toString(), '30.00');
    });

    test('explains a figure with its lines, tiers and arithmetic', async () => {
      const text = await explainAgreement(store.db, 'AG2', '2026-01-01');
      assert.match(text, /Qualifying lines: 3 \(2 partners/);
      assert.match(text, /> tier 1: from 0 USD up to 2,000 USD: 1%\s+<- reached|> tier 2/);
      assert.match(text, /tier 1 slice 0 to 2,000: 1% × 2,000 = 20/);
      assert.match(text, /tier 2 slice 2,000 to 2,800: 3% × 800 = 24/);
      assert.match(text, /Rebate: 44\.00 USD/);
    });

    test('a file with bad rows imports nothing and names each line and field', async () => {
      const bad = tempFiles({
        'transactions.csv': [
          'id,date,partner,sku,quantity,amount,currency',
          'N1,2025-05-01,A,S1,1,100.00,USD',
          'N2,2025-13-01,A,S1,1,100.00,USD',
          'N3,2025-05-01,ZZ,S1,1,100.00,USD',
          'N4,2025-05-01,A,S1,1,10.005,USD',
          'N5,2025-05-01,A,S1,1,100.00,XXX',
          'T1,2025-01-10,A,S1,10,999.00,USD',
          'N6,2025-05-01,A,S9,1,100.00,USD',
          '',
        ].join('\n'),
      });
      const file = join(bad, 'transactions.csv');
      const summary = await importFile(store, { kind: 'transactions', file });
      assert.equal(summary.outcome, 'nothing_imported');
      assert.deepEqual([summary.read, summary.imported, summary.rejected, summary.withheld], [7, 0, 6, 1]);
      const found = summary.problems.map((p) => `${p.line}:${p.field}:${p.code}`);
      assert.deepEqual(found, [
        '3:date:bad_date',
        '4:partner:unknown_partner',
        '5:amount:amount_has_too_many_decimals',
        '6:currency:bad_currency',
        '7:id:exists_with_different_content',
        '8:sku:unknown_product',
      ]);
      const stored = await store.db.selectFrom('transactions').select('id').where('id', '=', 'N1').execute();
      assert.equal(stored.length, 0, 'the good row of a bad file is not imported');
      const t1 = await store.db
        .selectFrom('transactions')
        .select('amount')
        .where('id', '=', 'T1')
        .executeTakeFirstOrThrow();
      assert.equal(t1.amount, '1000.00', 'a stored line is never overwritten');
      assert.ok(summary.errorsFile);
      assert.equal(readFileSync(summary.errorsFile, 'utf8').trim().split('\n').length, 7);

      const partial = await importFile(store, { kind: 'transactions', file, skipInvalid: true });
      assert.equal(partial.outcome, 'partially_imported');
      assert.deepEqual([partial.read, partial.imported, partial.rejected], [7, 1, 6]);
      const rejects = readFileSync(partial.rejectsFile!, 'utf8').split('\n');
      assert.equal(rejects[0], 'id,date,partner,sku,quantity,amount,currency');
      assert.equal(rejects[1], 'N2,2025-13-01,A,S1,1,100.00,USD', 'rejected rows are written unchanged');
      assert.equal(rejects.filter((l) => l !== '').length, 7);
    });

    test('a partner and a product stored another way are known to the next import', async () => {
      // The ids checked against are kept between imports while partners and products are
      // unchanged; a row written by any other way (another process, the API) moves the revision.
      const line = (id: string, partner: string, sku: string) =>
        `id,date,partner,sku,quantity,amount,currency\n${id},2025-05-01,${partner},${sku},1,10.00,USD\n`;
      const files = tempFiles({ 'known.csv': line('K1', 'A', 'S1'), 'new.csv': line('K2', 'E', 'S9') });
      assert.equal(
        (await importFile(store, { kind: 'transactions', file: join(files, 'known.csv') })).imported,
        1,
      );
      await sql`INSERT INTO partners (id, name, region) VALUES ('E', 'Epsilon', 'EU')`.execute(store.db);
      await sql`INSERT INTO products (sku, name, category) VALUES ('S9', 'Level', 'X')`.execute(store.db);
      const summary = await importFile(store, { kind: 'transactions', file: join(files, 'new.csv') });
      assert.deepEqual([summary.imported, summary.rejected], [1, 0]);
    });

    test('agreements with bad tiers or unknown references are reported by line and field', async () => {
      const bad = tempFiles({
        'agreements.json': `[
  {"id": "B1", "partner": "A", "period": {"start": "2025-01-01", "end": "2025-12-31"}, "type": "volume", "basis": "amount", "method": "retroactive", "payout": "percent",
   "tiers": [{"from": "100", "rate": "1"}, {"from": "50", "rate": "2"}]},
  {"id": "B2", "partner": "NOPE", "period": {"start": "2025-01-01", "end": "2025-12-31"}, "tiers": [{"from": "0", "rate": "1"}]},
  {"id": "B3", "partner": "A", "period": {"start": "2025-01-01", "end": "2025-12-31"}, "tiers": [{"from": "0", "rate": "1"}]}
]`,
      });
      const summary = await importAgreements(store, { file: join(bad, 'agreements.json') });
      assert.equal(summary.outcome, 'nothing_imported');
      assert.deepEqual(
        summary.problems.map((p) => `${p.line}:${p.field}:${p.code}`),
        ['2:[0].tiers[1].from:tier_thresholds_must_ascend', '4:[1].partner:unknown_partner'],
      );
      assert.equal(
        (await store.db.selectFrom('agreements').select('id').where('id', '=', 'B3').execute()).length,
        0,
      );
    });

    test('a partner and a product added after a file of lines are known to the next file', async () => {
      const later = tempFiles({
        'lines.csv': 'id,date,partner,sku,quantity,amount,currency\nT7,2025-05-01,D,S4,1,10.00,USD\n',
        'partners.csv': 'id,name,group,region\nD,Delta Depot,,NA\n',
        'products.csv': 'sku,name,category,list_price\nS4,Chisel,X,10.00\n',
      });
      const unknown = await importFile(store, { kind: 'transactions', file: join(later, 'lines.csv') });
      assert.deepEqual(
        unknown.problems.map((p) => p.code),
        ['unknown_partner', 'unknown_product'],
      );
      await importFile(store, { kind: 'partners', file: join(later, 'partners.csv') });
      const stillUnknown = await importFile(store, { kind: 'transactions', file: join(later, 'lines.csv') });
      assert.deepEqual(
        stillUnknown.problems.map((p) => p.code),
        ['unknown_product'],
      );
      await importFile(store, { kind: 'products', file: join(later, 'products.csv') });
      const known = await importFile(store, { kind: 'transactions', file: join(later, 'lines.csv') });
      assert.equal(known.imported, 1);
    });
  });
}
