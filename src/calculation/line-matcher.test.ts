// Proves that what the line matcher adds to each window equals the window's totals
// computed from the lines themselves (aggregateLines, the definition), for
// generated agreements, partners in and out of a buying group, scopes by
// category, sku and attribute, mix conditions, and lines of any sign and scale —
// including amounts too large to be summed as whole numbers in a double.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Decimal } from '../shared/decimal.ts';
import { aggregateLines, type Line } from './aggregate.ts';
import type { Agreement, Product, ProductScope, Rule } from './calculation.types.ts';
import { totalsRequests } from './engine.ts';
import { LineMatcher } from './line-matcher.ts';

const PARTNERS = [
  { id: 'P1', buyingGroup: 'G1' },
  { id: 'P2', buyingGroup: 'G1' },
  { id: 'P3', buyingGroup: null },
];
const PRODUCTS = new Map<string, Product>(
  (
    [
      { sku: 'S1', category: 'A', attributes: { brand: 'X' } },
      { sku: 'S2', category: 'A', attributes: { brand: 'Y' } },
      { sku: 'S3', category: 'B', attributes: { brand: 'X' } },
      { sku: 'S4', category: 'C', attributes: {} },
    ] as Product[]
  ).map((p) => [p.sku, p]),
);
const SCOPES: ProductScope[] = [
  {},
  { categories: ['A'] },
  { skus: ['S1', 'S3'] },
  { attributes: { brand: ['X'] } },
  { categories: ['A', 'B'], exclude: { skus: ['S2'] } },
  { categories: ['B', 'C', 'B'] },
  { categories: [] },
];

const ruleArb: fc.Arbitrary<Rule> = fc
  .tuple(fc.integer({ min: 0, max: SCOPES.length - 1 }), fc.boolean())
  .map(([scope, mix]) => ({
    id: `r${scope}${mix ? 'm' : ''}`,
    type: 'volume',
    basis: 'amount',
    method: 'retroactive',
    payout: 'percent',
    tiers: [{ from: Decimal.ZERO, rate: Decimal.ONE }],
    scope: SCOPES[scope]!,
    ...(mix ? { mix: { categories: ['B', 'C'] } } : {}),
  }));

const agreementArb: fc.Arbitrary<Agreement> = fc
  .tuple(
    fc.constantFrom<{ partner: string } | { buyingGroup: string }>(
      { partner: 'P1' },
      { partner: 'P3' },
      { buyingGroup: 'G1' },
    ),
    fc.constantFrom('USD', 'EUR'),
    fc.constantFrom<Agreement['calendar']>('none', 'quarterly', 'monthly'),
    fc.array(ruleArb, { minLength: 1, maxLength: 2 }),
  )
  .map(([owner, currency, calendar, rules]) => ({
    id: 'AG',
    name: 'generated',
    ...owner,
    currency,
    window: { start: '2025-02-10', end: '2025-11-20' },
    calendar,
    // Rule ids are unique within an agreement.
    rules: rules.map((r, j) => ({ ...r, id: `${r.id}-${j}` })),
  }));

/** Units up to ±10^20 at scales 0–4: most batches sum as whole numbers, some are too large to. */
const decimalArb = fc
  .tuple(
    fc.oneof(
      { weight: 9, arbitrary: fc.bigInt({ min: -100_000n, max: 10_000_000n }) },
      { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }) },
    ),
    fc.integer({ min: 0, max: 4 }),
  )
  .map(([units, scale]) => Decimal.of(units, scale));

const lineArb: fc.Arbitrary<Omit<Line, 'id'>> = fc.record({
  date: fc.constantFrom(
    '2025-01-31',
    '2025-02-10',
    '2025-03-31',
    '2025-04-01',
    '2025-07-15',
    '2025-11-20',
    '2025-11-21',
  ),
  partner: fc.constantFrom('P1', 'P2', 'P3', 'P9'),
  sku: fc.constantFrom('S1', 'S2', 'S3', 'S4', 'S9'),
  quantity: decimalArb,
  amount: decimalArb,
  currency: fc.constantFrom('USD', 'EUR'),
});

const show = (d: Decimal) => `${d.toString()}@${d.scale}`;

describe('line matcher', () => {
  test('adds to each window exactly the totals of the lines that qualify for it', () => {
    fc.assert(
      fc.property(
        fc.array(agreementArb, { minLength: 1, maxLength: 4 }),
        fc.array(lineArb, { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 41 }),
        (generated, drawn, slice) => {
          const agreements = generated.map((a, i) => ({ ...a, id: `AG${i}` }));
          const lines = drawn.map((l, i) => ({ ...l, id: `L${i}` }));
          const requests = agreements.flatMap((a) => totalsRequests(a));
          // Matched a slice at a time, as an import does while the database stores the lines.
          const matching = new LineMatcher(requests, PARTNERS, PRODUCTS).matching(lines);
          while (matching.step(slice));
          const { deltas, retotal } = matching.result();
          assert.equal(retotal.size, 0);
          for (const request of requests) {
            const { agreement } = request;
            const members = new Set(
              agreement.partner !== undefined
                ? [agreement.partner]
                : PARTNERS.filter((p) => p.buyingGroup === agreement.buyingGroup).map((p) => p.id),
            );
            const expected = aggregateLines(
              agreement,
              request.rule,
              request.window,
              members,
              PRODUCTS,
              lines,
            );
            const delta = deltas.get(request);
            if (expected.lineCount === 0) {
              assert.equal(delta, undefined);
              continue;
            }
            assert.ok(delta, `${agreement.id} ${request.rule.id} ${request.window.start}`);
            assert.equal(delta.lineCount, expected.lineCount);
            assert.equal(show(delta.quantity), show(expected.quantity));
            assert.equal(show(delta.amount), show(expected.amount));
            assert.equal(show(delta.mixAmount), show(expected.mixAmount));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a window counting distinct mix products is re-totalled, not added to', () => {
    const rule: Rule = {
      id: 'distinct',
      type: 'mix',
      basis: 'amount',
      method: 'retroactive',
      payout: 'percent',
      tiers: [{ from: Decimal.ZERO, rate: Decimal.ONE }],
      scope: {},
      mix: { categories: ['B'], minDistinctProducts: 2 },
    };
    const agreement: Agreement = {
      id: 'MIX',
      name: 'mix',
      partner: 'P3',
      currency: 'USD',
      window: { start: '2025-01-01', end: '2025-12-31' },
      calendar: 'none',
      rules: [rule],
    };
    const matcher = new LineMatcher(totalsRequests(agreement), PARTNERS, PRODUCTS);
    const line = (sku: string): Line => ({
      id: sku,
      date: '2025-05-05',
      partner: 'P3',
      sku,
      quantity: Decimal.ONE,
      amount: Decimal.HUNDRED,
      currency: 'USD',
    });
    const { deltas, retotal } = matcher.deltas([line('S3'), line('S1')]);
    assert.equal(deltas.size, 0);
    assert.deepEqual(
      [...retotal].map((r) => r.agreement.id),
      ['MIX'],
    );
  });
});
