// Proves by property-based testing that the calculation core keeps its invariants (method ordering, returns cancel, order independence, rounding, non-negativity, cap) on generated exact decimals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Decimal } from '../shared/decimal.ts';
import { aggregateLines, type Line } from './aggregate.ts';
import { calculateRule } from './calculate.ts';
import type {
  Agreement,
  Basis,
  DateWindow,
  GrowthApply,
  Method,
  Payout,
  Product,
  Rule,
  RuleType,
  Tier,
  Totals,
} from './calculation.types.ts';

const RUNS = { numRuns: 300 };

const PERIOD: DateWindow = { start: '2025-01-01', end: '2025-03-31' };
const AGREEMENT: Agreement = {
  id: 'AG1',
  name: 'Property',
  partner: 'P1',
  currency: 'USD',
  window: PERIOD,
  calendar: 'none',
  rules: [],
};
const METHODS: Method[] = ['retroactive', 'incremental', 'rolling', 'total'];

// ---- generators: decimals are bigint units at a scale, never floats ----

/** A decimal `units / 10^scale` with units in [min, max]. */
function decimal(min: bigint, max: bigint, maxScale = 4): fc.Arbitrary<Decimal> {
  return fc
    .tuple(fc.bigInt({ min, max }), fc.integer({ min: 0, max: maxScale }))
    .map(([units, scale]) => Decimal.of(units, scale));
}

const nonNegative = decimal(0n, 10_000_000_00n, 2);
const anySign = decimal(-1_000_000_00n, 10_000_000_00n, 2);

/** Ascending `from` (first ≥ 0) and, when asked, ascending non-negative rates. */
function tiersArb(options: { ascendingRates: boolean; allowNegativeRates?: boolean }): fc.Arbitrary<Tier[]> {
  const rate = options.allowNegativeRates ? decimal(-500n, 2_000n, 2) : decimal(0n, 2_000n, 2);
  return fc
    .tuple(
      decimal(0n, 50_000n, 1), // first bound
      fc.array(fc.tuple(decimal(1n, 5_000_000n, 1), rate), { minLength: 0, maxLength: 5 }), // gaps and rates
      rate,
    )
    .map(([first, rest, firstRate]) => {
      const tiers: Tier[] = [{ from: first, rate: firstRate }];
      let from = first;
      for (const [gap, r] of rest) {
        from = from.add(gap);
        tiers.push({ from, rate: r });
      }
      if (options.ascendingRates) {
        const rates = tiers.map((t) => t.rate).sort((a, b) => a.cmp(b));
        return tiers.map((t, i) => ({ from: t.from, rate: rates[i]! }));
      }
      return tiers;
    });
}

function totals(quantity: Decimal, amount: Decimal, extra: Partial<Totals> = {}): Totals {
  return { lineCount: 1, quantity, amount, mixAmount: Decimal.ZERO, mixDistinctProducts: 0, ...extra };
}

function volumeRule(method: Method, basis: Basis, payout: Payout, tiers: Tier[]): Rule {
  return { id: 'R', type: 'volume', basis, method, payout, tiers, scope: {} };
}

function rebateOf(rule: Rule, period: Totals, baseline?: Totals, minorUnits = 2) {
  return calculateRule(
    AGREEMENT,
    rule,
    PERIOD,
    { period, ...(baseline ? { baseline } : {}) },
    { minorUnits },
  );
}

/** A basis with the payout measured in the same unit: percent of amount, or per unit of quantity. */
const consistentPayout = fc.constantFrom<[Basis, Payout]>(['amount', 'percent'], ['quantity', 'per_unit']);

// ---- line generators for aggregate properties ----

const PRODUCTS = new Map<string, Product>(
  [
    { sku: 'S1', category: 'MIX', attributes: {} },
    { sku: 'S2', category: 'MIX', attributes: {} },
    { sku: 'S3', category: 'OTHER', attributes: {} },
    { sku: 'S4', category: 'OUT', attributes: {} },
  ].map((p) => [p.sku, p]),
);
const LINE_RULE: Rule = {
  id: 'R',
  type: 'mix',
  basis: 'amount',
  method: 'incremental',
  payout: 'percent',
  tiers: [
    { from: Decimal.parse('0'), rate: Decimal.parse('1') },
    { from: Decimal.parse('500'), rate: Decimal.parse('2.5') },
    { from: Decimal.parse('5000'), rate: Decimal.parse('4') },
  ],
  scope: { exclude: { categories: ['OUT'] } },
  mix: { categories: ['MIX'], minSharePercent: Decimal.parse('10'), minDistinctProducts: 1 },
};
const PARTNER_SET = new Set(['P1', 'P2']);

const lineArb: fc.Arbitrary<Line> = fc.record({
  id: fc.uuid(),
  date: fc.constantFrom('2024-12-31', '2025-01-01', '2025-02-14', '2025-03-31', '2025-04-01'),
  partner: fc.constantFrom('P1', 'P2', 'P3'),
  sku: fc.constantFrom('S1', 'S2', 'S3', 'S4', 'NOPE'),
  quantity: decimal(-20n, 200n, 0),
  amount: decimal(-2_000_00n, 20_000_00n, 2),
  currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
});

function aggregate(lines: Line[]): Totals {
  return aggregateLines(AGREEMENT, LINE_RULE, PERIOD, PARTNER_SET, PRODUCTS, lines);
}

function sameTotals(a: Totals, b: Totals): boolean {
  return (
    a.quantity.eq(b.quantity) &&
    a.amount.eq(b.amount) &&
    a.mixAmount.eq(b.mixAmount) &&
    a.mixDistinctProducts === b.mixDistinctProducts
  );
}

function lineRebate(t: Totals) {
  const r = rebateOf(LINE_RULE, t);
  return { rebate: r.rebate.toString(), tier: r.tierIndex, outcome: r.outcome };
}

describe('properties of the calculation', () => {
  test('(a) incremental ≤ retroactive for ascending tiers, ascending rates and a non-negative measure', () => {
    fc.assert(
      fc.property(
        tiersArb({ ascendingRates: true }),
        consistentPayout,
        nonNegative,
        nonNegative,
        (tiers, [basis, payout], quantity, amount) => {
          const t = totals(quantity, amount);
          const inc = rebateOf(volumeRule('incremental', basis, payout, tiers), t);
          const retro = rebateOf(volumeRule('retroactive', basis, payout, tiers), t);
          assert.ok(
            inc.rawRebate.lte(retro.rawRebate),
            `incremental ${inc.rawRebate} > retroactive ${retro.rawRebate}`,
          );
          assert.ok(inc.rebate.lte(retro.rebate));
        },
      ),
      RUNS,
    );
  });

  test('(d) rolling ≥ incremental and total ≥ retroactive for non-negative rates', () => {
    fc.assert(
      fc.property(
        tiersArb({ ascendingRates: false }),
        fc.constantFrom<[Basis, Payout]>(
          ['amount', 'percent'],
          ['quantity', 'per_unit'],
          ['amount', 'lump_sum'],
        ),
        nonNegative,
        nonNegative,
        (tiers, [basis, payout], quantity, amount) => {
          const t = totals(quantity, amount);
          const raw = (method: Method) => rebateOf(volumeRule(method, basis, payout, tiers), t).rawRebate;
          const [retro, inc, rolling, total] = METHODS.map(raw) as [Decimal, Decimal, Decimal, Decimal];
          assert.ok(rolling.gte(inc), `rolling ${rolling} < incremental ${inc}`);
          assert.ok(total.gte(retro), `total ${total} < retroactive ${retro}`);
        },
      ),
      RUNS,
    );
  });

  test('(d′) with a percent rate on a quantity basis, total ≥ retroactive still holds', () => {
    fc.assert(
      fc.property(
        tiersArb({ ascendingRates: false }),
        nonNegative,
        nonNegative,
        (tiers, quantity, amount) => {
          const t = totals(quantity, amount);
          const total = rebateOf(volumeRule('total', 'quantity', 'percent', tiers), t).rawRebate;
          const retro = rebateOf(volumeRule('retroactive', 'quantity', 'percent', tiers), t).rawRebate;
          assert.ok(total.gte(retro));
        },
      ),
      RUNS,
    );
  });

  test('(b) a sale and its return cancel: totals and rebate as if both were absent', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 30 }), lineArb, fc.nat(), fc.nat(), (lines, sale, i, j) => {
        const refund: Line = {
          ...sale,
          id: `${sale.id}-R`,
          quantity: sale.quantity.neg(),
          amount: sale.amount.neg(),
        };
        const withBoth = [...lines];
        withBoth.splice(i % (withBoth.length + 1), 0, sale);
        withBoth.splice(j % (withBoth.length + 1), 0, refund);
        const before = aggregate(lines);
        const after = aggregate(withBoth);
        assert.ok(sameTotals(before, after), 'totals changed');
        assert.deepEqual(lineRebate(after), lineRebate(before));
      }),
      RUNS,
    );
  });

  test('(c) totals and rebate do not depend on line order', () => {
    fc.assert(
      fc.property(
        fc
          .array(lineArb, { maxLength: 40 })
          .chain((lines) =>
            fc.tuple(
              fc.constant(lines),
              fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }),
            ),
          ),
        ([lines, shuffled]) => {
          const a = aggregate(lines);
          const b = aggregate(shuffled);
          assert.ok(sameTotals(a, b));
          assert.equal(a.lineCount, b.lineCount);
          assert.deepEqual(lineRebate(a), lineRebate(b));
          assert.equal(
            rebateOf(LINE_RULE, a).rawRebate.toString(),
            rebateOf(LINE_RULE, b).rawRebate.toString(),
          );
        },
      ),
      RUNS,
    );
  });

  test('(e) the rebate has exactly minorUnits places, is ≥ 0, and ≤ cap when capped; the same without steps', () => {
    const ruleArb = fc
      .record({
        type: fc.constantFrom<RuleType>('volume', 'growth', 'mix', 'target'),
        basis: fc.constantFrom<Basis>('amount', 'quantity'),
        method: fc.constantFrom<Method>(...METHODS),
        payout: fc.constantFrom<Payout>('percent', 'per_unit', 'lump_sum'),
        apply: fc.constantFrom<GrowthApply>('total', 'increment', 'banded'),
        tiers: tiersArb({ ascendingRates: false, allowNegativeRates: true }),
        minorUnits: fc.constantFrom(0, 2, 3),
        capUnits: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n })),
        minimumPayoutUnits: fc.option(fc.bigInt({ min: 0n, max: 100_000n })),
        minimumVolume: fc.option(decimal(0n, 100_000n, 2)),
        minShare: fc.option(decimal(0n, 10_000n, 2)),
        minDistinct: fc.option(fc.integer({ min: 0, max: 4 })),
      })
      .map((g) => {
        const rule: Rule = {
          id: 'R',
          type: g.type,
          basis: g.basis,
          method: g.method,
          payout: g.payout,
          tiers: g.tiers,
          scope: {},
        };
        if (g.type === 'growth')
          rule.growth = { apply: g.apply, baseline: { kind: 'same_period_last_year' } };
        if (g.type === 'mix') {
          rule.mix = { categories: ['MIX'] };
          if (g.minShare !== null) rule.mix.minSharePercent = g.minShare;
          if (g.minDistinct !== null) rule.mix.minDistinctProducts = g.minDistinct;
        }
        // cap and minimum payout are valid amounts in the currency (the importer enforces it)
        if (g.capUnits !== null) rule.cap = Decimal.of(g.capUnits, g.minorUnits);
        if (g.minimumPayoutUnits !== null)
          rule.minimumPayout = Decimal.of(g.minimumPayoutUnits, g.minorUnits);
        if (g.minimumVolume !== null) rule.minimumVolume = g.minimumVolume;
        return { rule, minorUnits: g.minorUnits };
      });
    const totalsArb = fc
      .tuple(anySign, anySign, anySign, fc.integer({ min: 0, max: 5 }))
      .map(([q, a, m, n]) => totals(q, a, { mixAmount: m, mixDistinctProducts: n }));

    const outcomes = new Set<string>();
    fc.assert(
      fc.property(ruleArb, totalsArb, totalsArb, ({ rule, minorUnits }, period, baseline) => {
        const r = rebateOf(rule, period, rule.type === 'growth' ? baseline : undefined, minorUnits);
        outcomes.add(r.outcome);
        // Without the explanation (positions kept current): the same result, no steps.
        const input = { period, ...(rule.type === 'growth' ? { baseline } : {}) };
        const bare = calculateRule(AGREEMENT, rule, PERIOD, input, { minorUnits, explain: false });
        assert.ok(r.steps.length > 0);
        assert.equal(bare.steps.length, 0);
        assert.deepEqual({ ...bare, steps: r.steps }, r);
        assert.equal(r.rebate.scale, minorUnits, `rebate ${r.rebate} at scale ${r.rebate.scale}`);
        assert.ok(r.rebate.sign() >= 0, `negative rebate ${r.rebate}`);
        if (rule.cap !== undefined) assert.ok(r.rebate.lte(rule.cap), `rebate ${r.rebate} > cap ${rule.cap}`);
        assert.ok(r.heldRebate.sign() >= 0);
        if (r.outcome === 'held_below_minimum_payout') {
          assert.ok(r.rebate.isZero());
          assert.ok(rule.minimumPayout !== undefined && r.heldRebate.lt(rule.minimumPayout));
        } else {
          assert.ok(r.heldRebate.isZero());
        }
        // the paid figure is the exact figure clamped, capped and rounded once
        let expected = Decimal.max(r.rawRebate, Decimal.ZERO);
        if (rule.cap !== undefined) expected = Decimal.min(expected, rule.cap);
        expected = expected.roundHalfAwayFromZero(minorUnits);
        assert.ok(r.rebate.add(r.heldRebate).eq(expected), `${r.rebate} + ${r.heldRebate} ≠ ${expected}`);
      }),
      { numRuns: 1000 },
    );
    // the generator reaches the interesting branches, not only "no tier"
    for (const outcome of [
      'earned',
      'capped',
      'held_below_minimum_payout',
      'no_baseline',
      'below_minimum_volume',
    ]) {
      assert.ok(outcomes.has(outcome), `no generated case ended ${outcome}`);
    }
  });

  test('the tier reached never decreases as the measure grows', () => {
    fc.assert(
      fc.property(tiersArb({ ascendingRates: true }), nonNegative, nonNegative, (tiers, a, b) => {
        const [lo, hi] = a.lte(b) ? [a, b] : [b, a];
        const rule = volumeRule('retroactive', 'amount', 'percent', tiers);
        const rLo = rebateOf(rule, totals(Decimal.ZERO, lo));
        const rHi = rebateOf(rule, totals(Decimal.ZERO, hi));
        assert.ok(rLo.tierIndex <= rHi.tierIndex);
        // with ascending rates every method pays at least as much on the larger measure
        for (const method of METHODS) {
          const m = volumeRule(method, 'amount', 'percent', tiers);
          assert.ok(
            rebateOf(m, totals(Decimal.ZERO, lo)).rawRebate.lte(
              rebateOf(m, totals(Decimal.ZERO, hi)).rawRebate,
            ),
          );
        }
      }),
      RUNS,
    );
  });
});
