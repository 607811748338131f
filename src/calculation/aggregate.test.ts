// Proves aggregateLines totals exactly the qualifying lines: right partners (incl. buying groups), in the window, in the currency, and in the product scope, with mix figures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import { aggregateLines, type Line, lineQualifies } from './aggregate.ts';
import type {
  Agreement,
  DateWindow,
  MixCondition,
  Product,
  ProductScope,
  Rule,
  Totals,
} from './calculation.types.ts';
import { agreementPartners, productInMix, productInScope, scopeIsAllProducts } from './scope.ts';

const D = (text: string) => Decimal.parse(text);

const WINDOW: DateWindow = { start: '2025-01-01', end: '2025-03-31' };

const PRODUCT_LIST: Product[] = [
  { sku: 'A1', category: 'TOOLS', attributes: { brand: 'Acme', color: 'red' } },
  { sku: 'A2', category: 'TOOLS', attributes: { brand: 'Acme', color: 'blue' } },
  { sku: 'B1', category: 'PAINT', attributes: { brand: 'Brite' } },
  { sku: 'C1', category: 'GARDEN', attributes: {} },
];
const PRODUCTS = new Map(PRODUCT_LIST.map((p) => [p.sku, p]));

const PARTNERS = [
  { id: 'P1', buyingGroup: null },
  { id: 'P2', buyingGroup: 'G1' },
  { id: 'P3', buyingGroup: 'G1' },
  { id: 'P4', buyingGroup: 'G2' },
];

const AGREEMENT: Agreement = {
  id: 'AG1',
  name: 'Test',
  partner: 'P1',
  currency: 'USD',
  window: WINDOW,
  calendar: 'none',
  rules: [],
};

/** The same agreement earned by a buying group instead of one partner. */
function groupAgreement(buyingGroup: string): Agreement {
  const { partner: _partner, ...rest } = AGREEMENT;
  return { ...rest, buyingGroup };
}

function rule(scope: ProductScope, mix?: MixCondition): Rule {
  return {
    id: 'R1',
    type: mix ? 'mix' : 'volume',
    basis: 'amount',
    method: 'retroactive',
    payout: 'percent',
    tiers: [{ from: D('0'), rate: D('1') }],
    scope,
    ...(mix ? { mix } : {}),
  };
}

let nextId = 1;
function line(sku: string, quantity: string, amount: string, extra: Partial<Line> = {}): Line {
  return {
    id: String(nextId++),
    date: '2025-02-15',
    partner: 'P1',
    sku,
    quantity: D(quantity),
    amount: D(amount),
    currency: 'USD',
    ...extra,
  };
}

// One line of each product for P1 inside the window.
const ONE_OF_EACH = [
  line('A1', '1', '100.00'),
  line('A2', '2', '20.00'),
  line('B1', '4', '3.00'),
  line('C1', '8', '0.40'),
];

function aggregate(
  r: Rule,
  lines: Line[],
  partners: Iterable<string> = ['P1'],
  agreement = AGREEMENT,
): Totals {
  return aggregateLines(agreement, r, WINDOW, new Set(partners), PRODUCTS, lines);
}

/** Totals as text for one deepEqual. */
function text(t: Totals) {
  return {
    lineCount: t.lineCount,
    quantity: t.quantity.toString(),
    amount: t.amount.toString(),
    mixAmount: t.mixAmount.toString(),
    mixDistinctProducts: t.mixDistinctProducts,
  };
}

/** Which products of ONE_OF_EACH a scope selects, read back from the summed amount's digits. */
function amountFor(scope: ProductScope): string {
  return aggregate(rule(scope), ONE_OF_EACH).amount.toString();
}

describe('product scope', () => {
  test('an empty scope takes every product', () => {
    // 100.00 + 20.00 + 3.00 + 0.40 = 123.40; 1 + 2 + 4 + 8 = 15 units
    assert.deepEqual(text(aggregate(rule({}), ONE_OF_EACH)), {
      lineCount: 4,
      quantity: '15',
      amount: '123.40',
      mixAmount: '0',
      mixDistinctProducts: 0,
    });
    assert.ok(scopeIsAllProducts({}));
    assert.ok(scopeIsAllProducts({ exclude: {} }));
    assert.ok(!scopeIsAllProducts({ skus: ['A1'] }));
    assert.ok(!scopeIsAllProducts({ exclude: { categories: ['PAINT'] } }));
  });

  test('by sku', () => {
    // A1 + B1 = 100.00 + 3.00
    assert.equal(amountFor({ skus: ['A1', 'B1'] }), '103.00');
    assert.equal(amountFor({ skus: ['ZZ'] }), '0');
    assert.equal(amountFor({ skus: [] }), '0');
  });

  test('by category', () => {
    // TOOLS = A1 + A2 = 100.00 + 20.00
    assert.equal(amountFor({ categories: ['TOOLS'] }), '120.00');
    // PAINT + GARDEN = 3.00 + 0.40
    assert.equal(amountFor({ categories: ['PAINT', 'GARDEN'] }), '3.40');
  });

  test('by attribute: every listed attribute must have one of its values', () => {
    // brand Acme = A1 + A2
    assert.equal(amountFor({ attributes: { brand: ['Acme'] } }), '120.00');
    // color red or green = A1 only
    assert.equal(amountFor({ attributes: { color: ['red', 'green'] } }), '100.00');
    // brand Acme and color blue = A2
    assert.equal(amountFor({ attributes: { brand: ['Acme'], color: ['blue'] } }), '20.00');
    // a product without the attribute (B1, C1 have no color) is not in scope
    assert.equal(amountFor({ attributes: { color: ['red', 'blue'] } }), '120.00');
    // brand Acme or Brite = A1 + A2 + B1
    assert.equal(amountFor({ attributes: { brand: ['Acme', 'Brite'] } }), '123.00');
  });

  test('criteria combine: sku and category must both match', () => {
    // skus A1, B1 within TOOLS = A1
    assert.equal(amountFor({ skus: ['A1', 'B1'], categories: ['TOOLS'] }), '100.00');
  });

  test('exclusions remove matching products', () => {
    // TOOLS without A2 = A1
    assert.equal(amountFor({ categories: ['TOOLS'], exclude: { skus: ['A2'] } }), '100.00');
    // everything but PAINT = 100.00 + 20.00 + 0.40
    assert.equal(amountFor({ exclude: { categories: ['PAINT'] } }), '120.40');
    // everything but blue products = 100.00 + 3.00 + 0.40
    assert.equal(amountFor({ exclude: { attributes: { color: ['blue'] } } }), '103.40');
    // an exclusion must match on all its criteria: TOOLS and sku B1 matches nothing
    assert.equal(amountFor({ exclude: { categories: ['TOOLS'], skus: ['B1'] } }), '123.40');
    // an empty exclusion excludes nothing
    assert.equal(amountFor({ exclude: {} }), '123.40');
  });

  test('productInScope directly', () => {
    const a1 = PRODUCTS.get('A1')!;
    assert.ok(productInScope({}, a1));
    assert.ok(productInScope({ categories: ['TOOLS'] }, a1));
    assert.ok(!productInScope({ categories: ['TOOLS'], exclude: { attributes: { color: ['red'] } } }, a1));
  });
});

describe('partners', () => {
  test('a partner agreement takes only that partner', () => {
    assert.deepEqual(agreementPartners(AGREEMENT, PARTNERS), ['P1']);
  });

  test('a buying-group agreement takes every member of the group', () => {
    const group = groupAgreement('G1');
    assert.deepEqual(agreementPartners(group, PARTNERS), ['P2', 'P3']);
    assert.deepEqual(agreementPartners(groupAgreement('G9'), PARTNERS), []);
  });

  test('a partner without a group is never swept into a group agreement', () => {
    const group = groupAgreement('G1');
    assert.ok(!agreementPartners(group, PARTNERS).includes('P1'));
  });

  test('lines of partners outside the set are excluded', () => {
    const group = groupAgreement('G1');
    const members = agreementPartners(group, PARTNERS);
    const lines = [
      line('A1', '1', '10.00', { partner: 'P1' }),
      line('A1', '2', '20.00', { partner: 'P2' }),
      line('A1', '3', '30.00', { partner: 'P3' }),
      line('A1', '4', '40.00', { partner: 'P4' }),
    ];
    // P2 + P3 = 20.00 + 30.00 = 50.00, 5 units
    const t = aggregate(rule({}), lines, members, group);
    assert.equal(t.lineCount, 2);
    assert.equal(t.amount.toString(), '50.00');
    assert.equal(t.quantity.toString(), '5');
  });
});

describe('window, currency and unknown products', () => {
  test('lines outside the window are excluded; both ends are inclusive', () => {
    const lines = [
      line('A1', '1', '1.00', { date: '2024-12-31' }),
      line('A1', '1', '2.00', { date: '2025-01-01' }),
      line('A1', '1', '4.00', { date: '2025-03-31' }),
      line('A1', '1', '8.00', { date: '2025-04-01' }),
    ];
    // 2.00 + 4.00
    const t = aggregate(rule({}), lines);
    assert.equal(t.amount.toString(), '6.00');
    assert.equal(t.lineCount, 2);
  });

  test('lines in another currency are excluded', () => {
    const lines = [line('A1', '1', '10.00'), line('A1', '1', '1000.00', { currency: 'EUR' })];
    assert.equal(aggregate(rule({}), lines).amount.toString(), '10.00');
  });

  test('lines for a product not in the catalogue are excluded', () => {
    const lines = [line('A1', '1', '10.00'), line('UNKNOWN', '1', '1000.00')];
    assert.equal(aggregate(rule({}), lines).amount.toString(), '10.00');
  });

  test('lineQualifies names each reason', () => {
    const partners = new Set(['P1']);
    const a1 = PRODUCTS.get('A1');
    const ok = line('A1', '1', '1.00');
    assert.ok(lineQualifies(AGREEMENT, rule({}), WINDOW, partners, a1, ok));
    assert.ok(!lineQualifies(AGREEMENT, rule({}), WINDOW, partners, a1, { ...ok, partner: 'P2' }));
    assert.ok(!lineQualifies(AGREEMENT, rule({}), WINDOW, partners, a1, { ...ok, date: '2025-04-01' }));
    assert.ok(!lineQualifies(AGREEMENT, rule({}), WINDOW, partners, a1, { ...ok, currency: 'EUR' }));
    assert.ok(!lineQualifies(AGREEMENT, rule({}), WINDOW, partners, undefined, ok));
    assert.ok(!lineQualifies(AGREEMENT, rule({ categories: ['PAINT'] }), WINDOW, partners, a1, ok));
  });

  test('no qualifying lines give zero totals', () => {
    assert.deepEqual(text(aggregate(rule({}), [])), {
      lineCount: 0,
      quantity: '0',
      amount: '0',
      mixAmount: '0',
      mixDistinctProducts: 0,
    });
  });
});

describe('returns and mix figures', () => {
  test('returns subtract', () => {
    const lines = [line('A1', '10', '1000.00'), line('A1', '-3', '-300.00'), line('B1', '1', '0.10')];
    // 10 − 3 + 1 = 8 units; 1,000.00 − 300.00 + 0.10 = 700.10
    const t = aggregate(rule({}), lines);
    assert.equal(t.quantity.toString(), '8');
    assert.equal(t.amount.toString(), '700.10');
    assert.equal(t.lineCount, 3, 'a return is a qualifying line too');
  });

  test('mixAmount sums the in-scope lines of the mix categories, returns included', () => {
    const mix: MixCondition = { categories: ['TOOLS'], minSharePercent: D('20') };
    const lines = [
      line('A1', '5', '500.00'),
      line('A1', '-1', '-100.00'),
      line('A2', '1', '50.00'),
      line('B1', '10', '1000.00'),
    ];
    // TOOLS: 500.00 − 100.00 + 50.00 = 450.00 of 1,450.00
    const t = aggregate(rule({}, mix), lines);
    assert.equal(t.mixAmount.toString(), '450.00');
    assert.equal(t.amount.toString(), '1450.00');
  });

  test('mix figures only count in-scope lines', () => {
    const mix: MixCondition = { categories: ['TOOLS'] };
    const lines = [line('A1', '1', '10.00'), line('A2', '1', '20.00'), line('B1', '1', '30.00')];
    // scope excludes A2: mix = A1 only
    const t = aggregate(rule({ exclude: { skus: ['A2'] } }, mix), lines);
    assert.equal(t.mixAmount.toString(), '10.00');
    assert.equal(t.mixDistinctProducts, 1);
  });

  test('mixDistinctProducts counts only products with a positive net quantity', () => {
    const mix: MixCondition = { categories: ['TOOLS', 'GARDEN'], minDistinctProducts: 2 };
    const lines = [
      // A1: 5 − 5 = 0, fully returned: not counted
      line('A1', '5', '50.00'),
      line('A1', '-5', '-50.00'),
      // A2: 3 − 1 = 2: counted
      line('A2', '3', '30.00'),
      line('A2', '-1', '-10.00'),
      // C1: −2 (a return of an earlier period's sale): not counted
      line('C1', '-2', '-4.00'),
      // B1 is not a mix category
      line('B1', '7', '70.00'),
    ];
    const t = aggregate(rule({}, mix), lines);
    assert.equal(t.mixDistinctProducts, 1);
    // 50 − 50 + 30 − 10 − 4 = 16.00
    assert.equal(t.mixAmount.toString(), '16.00');
    // a later sale of C1 in the same window lifts its net quantity to 1: now counted
    const more = aggregate(rule({}, mix), [...lines, line('C1', '3', '6.00')]);
    assert.equal(more.mixDistinctProducts, 2);
  });

  test('a product counts once however many lines it has', () => {
    const mix: MixCondition = { categories: ['TOOLS'], minDistinctProducts: 2 };
    const lines = [line('A1', '1', '1.00'), line('A1', '1', '1.00'), line('A1', '1', '1.00')];
    assert.equal(aggregate(rule({}, mix), lines).mixDistinctProducts, 1);
  });

  test('without a mix condition the mix figures are zero', () => {
    const t = aggregate(rule({}), ONE_OF_EACH);
    assert.ok(t.mixAmount.isZero());
    assert.equal(t.mixDistinctProducts, 0);
    assert.ok(!productInMix(undefined, PRODUCTS.get('A1')!));
  });
});
