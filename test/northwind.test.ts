// Proves that a real ERP export loads through column mappings without editing
// it (Northwind: order lines joined with orders, amounts net of line
// discounts), on PGlite and PostgreSQL, and that settling example agreements
// over it matches figures computed independently from the raw CSV files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { loadMapping } from '../src/imports/mapping.ts';
import { settle } from '../src/settlements/settlement.service.ts';
import { Decimal } from '../src/shared/decimal.ts';
import { storeTargets } from './support/stores.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'test', 'fixtures', 'northwind');
const MAPPINGS = join(ROOT, 'mappings', 'northwind');

/** Net amount per (customer, order date) straight from the raw files, rounded per line like the mapping says. */
function independentLines() {
  const orders = new Map<string, { customer: string; date: string }>();
  for (const row of readFileSync(join(DATA, 'orders.csv'), 'utf8').trim().split('\n').slice(1)) {
    // orderID, customerID, employeeID, orderDate parse correctly in every row (see the data's README).
    const [orderId, customer, , orderDate] = row.split(',');
    orders.set(orderId!, { customer: customer!, date: orderDate!.slice(0, 10) });
  }
  return readFileSync(join(DATA, 'order-details.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => {
      const [orderId, , unitPrice, quantity, discount] = row.trim().split(',');
      const gross = Decimal.parse(unitPrice!).mul(Decimal.parse(quantity!));
      const net = gross.mul(Decimal.ONE.sub(Decimal.parse(discount!))).roundHalfAwayFromZero(2);
      return { ...orders.get(orderId!)!, amount: net };
    });
}

function amountOf(customer: string, start: string, end: string): Decimal {
  return Decimal.sum(
    independentLines()
      .filter((l) => l.customer === customer && l.date >= start && l.date <= end)
      .map((l) => l.amount),
  );
}

for (const target of storeTargets()) {
  describe(`Northwind through mappings on ${target.name}`, () => {
    let store: Awaited<ReturnType<typeof target.open>>;
    before(async () => {
      store = await target.open();
    });
    after(async () => store.dispose());

    test('every customer, product and order line loads', async () => {
      const load = async (kind: 'partners' | 'products' | 'transactions', file: string) =>
        importFile(store, {
          kind,
          file: join(DATA, file),
          mapping: await loadMapping(join(MAPPINGS, `${kind}.json`)),
        });
      assert.deepEqual(
        [
          (await load('partners', 'customers.csv')).imported,
          (await load('products', 'products.csv')).imported,
        ],
        [91, 77],
      );
      const lines = await load('transactions', 'order-details.csv');
      assert.deepEqual([lines.read, lines.imported, lines.rejected], [2155, 2155, 0]);
      const stored = await store.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.sum<string>('amount').as('total'))
        .executeTakeFirstOrThrow();
      assert.equal(stored.total, Decimal.sum(independentLines().map((l) => l.amount)).toString());
      const again = await load('transactions', 'order-details.csv');
      assert.deepEqual([again.imported, again.duplicates], [0, 2155]);
    });

    test('example agreements settle to independently computed figures', async () => {
      const imported = await importAgreements(store, {
        file: join(ROOT, 'examples', 'northwind', 'agreements.json'),
      });
      assert.equal(imported.imported, 4);
      const run = await settle(store.db);
      const savea = run.results.filter((r) => r.agreementId === 'NW-SAVEA-1997');
      const quarters = [
        ['1997-01-01', '1997-03-31'],
        ['1997-04-01', '1997-06-30'],
        ['1997-07-01', '1997-09-30'],
        ['1997-10-01', '1997-12-31'],
      ];
      assert.equal(savea.length, 4);
      for (const [i, [start, end]] of quarters.entries()) {
        const amount = amountOf('SAVEA', start!, end!);
        assert.equal(savea[i]!.amount.toString(), amount.toString());
        // Retroactive tiers: 1% from 0, 2% from 10,000, 3% from 25,000, on the whole amount.
        const rate = amount.gte(Decimal.parse('25000'))
          ? '3'
          : amount.gte(Decimal.parse('10000'))
            ? '2'
            : '1';
        const expected = amount.mul(Decimal.parse(rate)).shift(2).roundHalfAwayFromZero(2);
        assert.equal(savea[i]!.rebate.toString(), expected.toString(), `quarter ${i + 1}`);
      }
      // Growth paid on the increment: (A − B) × rate, where growth ≥ 50% pays 5%, else 3%.
      const growth = run.results.find((r) => r.agreementId === 'NW-ERNSH-GROWTH')!;
      const a = amountOf('ERNSH', '1997-07-01', '1997-12-31');
      const b = amountOf('ERNSH', '1996-07-01', '1996-12-31');
      assert.equal(growth.baselineAmount.toString(), b.toString());
      const rate = a.sub(b).mul(Decimal.HUNDRED).gte(Decimal.parse('50').mul(b)) ? '5' : '3';
      assert.equal(
        growth.rebate.toString(),
        a.sub(b).mul(Decimal.parse(rate)).shift(2).roundHalfAwayFromZero(2).toString(),
      );
    });
  });
}
