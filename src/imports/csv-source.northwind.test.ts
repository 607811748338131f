// Proves that the Northwind mappings read the whole Northwind fixture (verbatim, dirty rows included) into canonical rows without a single problem, and that the figures match the dataset's published totals to the cent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Decimal } from '../shared/decimal.ts';
import { openCsvSource } from './csv-source.ts';
import { loadMapping, type Mapping, parseMapping } from './mapping.ts';
import type { ImportKind, SourceItem, SourceRow } from './source.types.ts';

const fixtures = fileURLToPath(new URL('../../test/fixtures/northwind/', import.meta.url));
const mappings = fileURLToPath(new URL('../../mappings/northwind/', import.meta.url));

async function readRows(kind: ImportKind, file: string, mapping: Mapping): Promise<SourceRow[]> {
  const source = await openCsvSource(`${fixtures}${file}`, { kind, mapping });
  const items: SourceItem[] = [];
  for await (const item of source.items()) items.push(item);
  assert.deepEqual(
    items.flatMap((i) => (i.ok ? [] : [i.problem])),
    [],
    'no problems',
  );
  assert.equal(source.bytesRead(), source.totalBytes);
  return items.flatMap((i) => (i.ok ? [i.row] : []));
}

function sum(rows: SourceRow[], field: string): Decimal {
  return Decimal.sum(rows.map((r) => Decimal.parse(r.values[field]!)));
}

/** The shipped transactions mapping with the amount expression replaced. */
function withAmount(base: Mapping, amount: Record<string, unknown>): Mapping {
  const json = JSON.parse(readFileSync(`${mappings}transactions.json`, 'utf8'));
  json.fields.amount = amount;
  const mapping = parseMapping(json, 'transactions.json (amount replaced)');
  assert.deepEqual(mapping.joins, base.joins);
  return mapping;
}

describe('Northwind through mappings/northwind', () => {
  test('order-details.csv: every one of the 2,155 order lines becomes a transaction', async () => {
    const mapping = await loadMapping(`${mappings}transactions.json`);
    const rows = await readRows('transactions', 'order-details.csv', mapping);
    assert.equal(rows.length, 2155);
    assert.equal(new Set(rows.map((r) => r.values.id)).size, 2155, 'orderID-productID is unique');
    assert.deepEqual(rows[0], {
      line: 2,
      raw: '10248,11,14.00,12,0',
      values: {
        id: '10248-11',
        date: '1996-07-04',
        partner: 'VINET',
        sku: '11',
        quantity: '12',
        amount: '168.00',
        currency: 'USD',
        document_type: 'invoice',
        invoice_number: '10248',
        ship_to: '',
        end_customer: '',
        unit_price: '14.00',
        list_price: '21.00',
        cost: '',
      },
    });
    const dates = rows.map((r) => r.values.date!).sort();
    assert.equal(dates[0], '1996-07-04');
    assert.equal(dates.at(-1), '1998-05-06');
    assert.equal(
      new Set(rows.map((r) => r.values.partner)).size,
      89,
      '91 customers, FISSA and PARIS never ordered',
    );
    // The README's "658 lines sold at other than the current list price".
    assert.equal(
      rows.filter((r) => !Decimal.parse(r.values.unit_price!).eq(Decimal.parse(r.values.list_price!))).length,
      658,
    );

    // Each line rounded to cents, half away from zero, then summed.
    assert.equal(sum(rows, 'amount').toString(), '1265793.29');
    assert.ok(rows.every((r) => Decimal.parse(r.values.amount!).significantScale() <= 2));
  });

  test('the unrounded amounts add up to the published totals', async () => {
    const base = await loadMapping(`${mappings}transactions.json`);
    const exact = await readRows(
      'transactions',
      'order-details.csv',
      withAmount(base, { expression: 'unitPrice * quantity * (1 - discount)' }),
    );
    const net = sum(exact, 'amount');
    assert.equal(net.toPlainString(), '1265793.0395');
    assert.equal(net.roundHalfAwayFromZero(2).toString(), '1265793.04');
    const gross = await readRows(
      'transactions',
      'order-details.csv',
      withAmount(base, { expression: 'unitPrice * quantity' }),
    );
    assert.equal(sum(gross, 'amount').roundHalfAwayFromZero(2).toString(), '1354458.59');
  });

  test('customers.csv: 91 partners; the 24 rows with an unquoted comma keep city and country', async () => {
    const rows = await readRows('partners', 'customers.csv', await loadMapping(`${mappings}partners.json`));
    assert.equal(rows.length, 91);
    assert.equal(new Set(rows.map((r) => r.values.id)).size, 91);
    assert.equal(new Set(rows.map((r) => r.values['attributes.country'])).size, 21, '21 countries');
    const blonp = rows.find((r) => r.values.id === 'BLONP');
    assert.equal(blonp?.line, 8);
    assert.deepEqual(blonp?.values, {
      id: 'BLONP',
      name: 'Blondesddsl père et fils',
      group: '',
      region: '',
      'attributes.contact_name': 'Frédérique Citeaux',
      'attributes.contact_title': 'Marketing Manager',
      'attributes.city': 'Strasbourg',
      'attributes.country': 'France',
    });
    assert.equal(rows.find((r) => r.values.id === 'ALFKI')?.values['attributes.city'], 'Berlin');
  });

  test('products.csv: 77 products, each with its category name from categories.csv', async () => {
    const rows = await readRows('products', 'products.csv', await loadMapping(`${mappings}products.json`));
    assert.equal(rows.length, 77);
    const perCategory = new Map<string, number>();
    for (const r of rows) perCategory.set(r.values.category!, (perCategory.get(r.values.category!) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...perCategory].sort()), {
      Beverages: 12,
      Condiments: 12,
      Confections: 13,
      'Dairy Products': 10,
      'Grains/Cereals': 7,
      'Meat/Poultry': 6,
      Produce: 5,
      Seafood: 12,
    });
    assert.deepEqual(rows[0]?.values, {
      sku: '1',
      name: 'Chai',
      category: 'Beverages',
      list_price: '18.00',
      'attributes.supplier': '1',
      'attributes.quantity_per_unit': '10 boxes x 20 bags',
      'attributes.discontinued': '0',
    });
    assert.equal(new Set(rows.map((r) => r.values['attributes.supplier'])).size, 29, '29 suppliers');
    assert.equal(sum(rows, 'list_price').toString(), '2222.71');
  });
});
