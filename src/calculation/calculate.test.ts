// Proves calculateRule pays the hand-checked figure for every rule form (methods, payouts, growth, mix, minimums, cap, rounding, currencies) and explains it step by step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import { calculateRule, reachedGrowthTierIndex, reachedTierIndex } from './calculate.ts';
import type {
  Agreement,
  DateWindow,
  GrowthApply,
  Method,
  Rule,
  RuleResult,
  Tier,
  Totals,
} from './calculation.types.ts';

const D = (text: string) => Decimal.parse(text);

const PERIOD: DateWindow = { start: '2025-01-01', end: '2025-12-31' };
const AGREEMENT: Agreement = {
  id: 'AG1',
  name: 'Test agreement',
  partner: 'P1',
  currency: 'USD',
  window: PERIOD,
  calendar: 'none',
  rules: [],
};

function tiers(...pairs: Array<[from: string, rate: string]>): Tier[] {
  return pairs.map(([from, rate]) => ({ from: D(from), rate: D(rate) }));
}

function rule(overrides: Partial<Rule> = {}): Rule {
  return {
    id: 'R1',
    type: 'volume',
    basis: 'amount',
    method: 'retroactive',
    payout: 'percent',
    tiers: tiers(['0', '2']),
    scope: {},
    ...overrides,
  };
}

function growthRule(apply: GrowthApply, overrides: Partial<Rule> = {}): Rule {
  return rule({
    type: 'growth',
    growth: { apply, baseline: { kind: 'same_period_last_year' } },
    // Growth bands: 0.5% from 0% growth, 1.5% from 5%, 3% from 15%.
    tiers: tiers(['0', '0.5'], ['5', '1.5'], ['15', '3']),
    ...overrides,
  });
}

interface TotalsText {
  quantity?: string;
  amount?: string;
  mixAmount?: string;
  mixDistinctProducts?: number;
  lineCount?: number;
}

function totals(t: TotalsText): Totals {
  return {
    lineCount: t.lineCount ?? 1,
    quantity: D(t.quantity ?? '0'),
    amount: D(t.amount ?? '0'),
    mixAmount: D(t.mixAmount ?? '0'),
    mixDistinctProducts: t.mixDistinctProducts ?? 0,
  };
}

function calc(r: Rule, period: TotalsText, baseline?: TotalsText, minorUnits = 2): RuleResult {
  return calculateRule(
    AGREEMENT,
    r,
    PERIOD,
    { period: totals(period), ...(baseline ? { baseline: totals(baseline) } : {}) },
    { minorUnits },
  );
}

/** Asserts the paid rebate as exact text (its scale is the currency's minor unit). */
function assertRebate(result: RuleResult, expected: string, tierIndex: number, outcome = 'earned') {
  assert.equal(result.rebate.toString(), expected, 'rebate');
  assert.equal(result.tierIndex, tierIndex, 'tier');
  assert.equal(result.outcome, outcome, 'outcome');
}

// The glossary example: 2% from 0, 4% from 10,000, 6% from 50,000.
const DOMAIN_TIERS = tiers(['0', '2'], ['10000', '4'], ['50000', '6']);

describe('volume, percent of amount: the glossary example at M = 60,000', () => {
  const cases: Array<[Method, string, string]> = [
    // 6% × 60,000 = 3,600
    ['retroactive', '3600.00', '6% × 60,000 = 3,600'],
    // 2% × 10,000 + 4% × 40,000 + 6% × 10,000 = 200 + 1,600 + 600 = 2,400
    ['incremental', '2400.00', '200 + 1,600 + 600'],
    // 2% × 10,000 + 4% × 40,000 + 6% × 60,000 = 200 + 1,600 + 3,600 = 5,400
    ['rolling', '5400.00', '200 + 1,600 + 3,600'],
    // (2% + 4% + 6%) × 60,000 = 12% × 60,000 = 7,200
    ['total', '7200.00', '12% × 60,000'],
  ];
  for (const [method, expected, arithmetic] of cases) {
    test(`${method} pays ${expected} (${arithmetic})`, () => {
      const result = calc(rule({ method, tiers: DOMAIN_TIERS }), { amount: '60000.00', quantity: '1234' });
      assertRebate(result, expected, 2);
      assert.ok(result.rawRebate.eq(D(expected)), 'raw rebate is already exact');
      assert.equal(result.measure.toString(), '60000.00');
      assert.equal(result.nextTier, undefined, 'the top tier has no next tier');
    });
  }

  test('at exactly 10,000 the second tier is reached', () => {
    // retroactive: 4% × 10,000 = 400
    assertRebate(calc(rule({ tiers: DOMAIN_TIERS }), { amount: '10000.00' }), '400.00', 1);
    // incremental: 2% × 10,000 + 4% × 0 = 200
    assertRebate(
      calc(rule({ method: 'incremental', tiers: DOMAIN_TIERS }), { amount: '10000.00' }),
      '200.00',
      1,
    );
  });

  test('one cent below 10,000 stays in the first tier', () => {
    // retroactive: 2% × 9,999.99 = 199.9998 → 200.00
    const result = calc(rule({ tiers: DOMAIN_TIERS }), { amount: '9999.99' });
    assertRebate(result, '200.00', 0);
    assert.equal(result.rawRebate.toString(), '199.9998');
  });
});

describe('per_unit payout on quantity basis', () => {
  // 0.10 per unit from 0 units, 0.15 from 100, 0.25 from 500; Q = 600.
  const unitTiers = tiers(['0', '0.10'], ['100', '0.15'], ['500', '0.25']);
  const cases: Array<[Method, string, string]> = [
    // Q × rate = 600 × 0.25 = 150
    ['retroactive', '150.00', '600 × 0.25'],
    // 100 × 0.10 + 400 × 0.15 + 100 × 0.25 = 10 + 60 + 25 = 95
    ['incremental', '95.00', '10 + 60 + 25'],
    // 100 × 0.10 + 400 × 0.15 + 600 × 0.25 = 10 + 60 + 150 = 220
    ['rolling', '220.00', '10 + 60 + 150'],
    // (0.10 + 0.15 + 0.25) × 600 = 0.50 × 600 = 300
    ['total', '300.00', '0.50 × 600'],
  ];
  for (const [method, expected, arithmetic] of cases) {
    test(`${method} pays ${expected} (${arithmetic})`, () => {
      const r = rule({ basis: 'quantity', payout: 'per_unit', method, tiers: unitTiers });
      const result = calc(r, { quantity: '600', amount: '12345.67' });
      assertRebate(result, expected, 2);
      assert.equal(result.measure.toString(), '600');
    });
  }

  test('a fractional quantity pays per unit exactly, rounded once', () => {
    // retroactive: 150.5 × 0.15 = 22.575 → 22.58
    const r = rule({ basis: 'quantity', payout: 'per_unit', tiers: unitTiers });
    const result = calc(r, { quantity: '150.5', amount: '1.00' });
    assertRebate(result, '22.58', 1);
    assert.equal(result.rawRebate.toString(), '22.575');
  });
});

describe('percent payout on a quantity-basis rule (as the workload reference pays)', () => {
  // Tiers by quantity: 1% from 0 units, 3% from 100 units; the rate is a percent of the amount.
  const qtyTiers = tiers(['0', '1'], ['100', '3']);

  test('the tier is chosen by quantity and the rate paid on the amount', () => {
    // Q = 150 reaches tier 2; 3% × 9,876.50 = 296.295 → 296.30 (half away from zero)
    const result = calc(rule({ basis: 'quantity', tiers: qtyTiers }), { quantity: '150', amount: '9876.50' });
    assertRebate(result, '296.30', 1);
    assert.equal(result.rawRebate.toString(), '296.2950');
    assert.equal(result.measure.toString(), '150');
  });

  test('a large amount does not lift the tier when the quantity is low', () => {
    // Q = 50 stays in tier 1; 1% × 100,000.00 = 1,000.00
    const result = calc(rule({ basis: 'quantity', tiers: qtyTiers }), {
      quantity: '50',
      amount: '100000.00',
    });
    assertRebate(result, '1000.00', 0);
    // next tier at 100 units: 100 − 50 = 50 units to go
    assert.deepEqual(
      { index: result.nextTier?.index, remaining: result.nextTier?.remaining.toString() },
      { index: 1, remaining: '50' },
    );
  });
});

describe('lump_sum payout', () => {
  // 500 from 10,000; 2,000 from 50,000; 5,000 from 100,000; A = 60,000 reaches tier 2 (index 1).
  const lumpTiers = tiers(['10000', '500.00'], ['50000', '2000.00'], ['100000', '5000.00']);
  const cases: Array<[Method, string, string]> = [
    // the reached tier's sum
    ['retroactive', '2000.00', '2,000'],
    // the reached tiers' sums: 500 + 2,000
    ['incremental', '2500.00', '500 + 2,000'],
    ['rolling', '2500.00', '500 + 2,000'],
    ['total', '2500.00', '500 + 2,000'],
  ];
  for (const [method, expected, arithmetic] of cases) {
    test(`${method} pays ${expected} (${arithmetic})`, () => {
      const result = calc(rule({ payout: 'lump_sum', method, tiers: lumpTiers }), { amount: '60000.00' });
      assertRebate(result, expected, 1);
      // next tier: 100,000 − 60,000.00 = 40,000.00
      assert.equal(result.nextTier?.remaining.toString(), '40000.00');
    });
  }

  test('one cent below the first threshold pays nothing', () => {
    const result = calc(rule({ payout: 'lump_sum', tiers: lumpTiers }), { amount: '9999.99' });
    assertRebate(result, '0.00', -1, 'no_tier_reached');
    // 10,000 − 9,999.99 = 0.01
    assert.equal(result.nextTier?.index, 0);
    assert.equal(result.nextTier?.remaining.toString(), '0.01');
  });

  test('lump sum on a quantity basis ignores the amount', () => {
    const r = rule({ basis: 'quantity', payout: 'lump_sum', tiers: tiers(['100', '250.00']) });
    assertRebate(calc(r, { quantity: '100', amount: '1.00' }), '250.00', 0);
    assertRebate(calc(r, { quantity: '99', amount: '1000000.00' }), '0.00', -1, 'no_tier_reached');
  });
});

describe('first tier starting above zero', () => {
  // 3% from 20,000; 5% from 50,000.
  const highTiers = tiers(['20000', '3'], ['50000', '5']);

  test('nothing is earned below the first tier', () => {
    for (const method of ['retroactive', 'incremental', 'rolling', 'total'] as const) {
      const result = calc(rule({ method, tiers: highTiers }), { amount: '15000.00' });
      assertRebate(result, '0.00', -1, 'no_tier_reached');
      // 20,000 − 15,000.00 = 5,000.00
      assert.equal(result.nextTier?.index, 0);
      assert.equal(result.nextTier?.remaining.toString(), '5000.00');
    }
  });

  const at30k: Array<[Method, string, string]> = [
    // 3% × 30,000 = 900
    ['retroactive', '900.00', '3% × 30,000'],
    // the slice starts at from[0]: 3% × (30,000 − 20,000) = 300
    ['incremental', '300.00', '3% × 10,000'],
    // only one tier reached, so the whole measure: 3% × 30,000 = 900
    ['rolling', '900.00', '3% × 30,000'],
    ['total', '900.00', '3% × 30,000'],
  ];
  for (const [method, expected, arithmetic] of at30k) {
    test(`${method} at 30,000 pays ${expected} (${arithmetic})`, () => {
      assertRebate(calc(rule({ method, tiers: highTiers }), { amount: '30000.00' }), expected, 0);
    });
  }

  const at70k: Array<[Method, string, string]> = [
    // 5% × 70,000 = 3,500
    ['retroactive', '3500.00', '5% × 70,000'],
    // 3% × (50,000 − 20,000) + 5% × (70,000 − 50,000) = 900 + 1,000 = 1,900
    ['incremental', '1900.00', '900 + 1,000'],
    // 3% × 30,000 + 5% × 70,000 = 900 + 3,500 = 4,400
    ['rolling', '4400.00', '900 + 3,500'],
    // (3% + 5%) × 70,000 = 5,600
    ['total', '5600.00', '8% × 70,000'],
  ];
  for (const [method, expected, arithmetic] of at70k) {
    test(`${method} at 70,000 pays ${expected} (${arithmetic})`, () => {
      assertRebate(calc(rule({ method, tiers: highTiers }), { amount: '70000.00' }), expected, 1);
    });
  }
});

describe('growth', () => {
  // B = 100,000; A = 112,000: growth (112,000 − 100,000) / 100,000 = 12%, reaching the 5% band (index 1).
  const at12: Array<[GrowthApply, string, string]> = [
    // 1.5% × 112,000 = 1,680
    ['total', '1680.00', '1.5% × 112,000'],
    // 1.5% × (112,000 − 100,000) = 1.5% × 12,000 = 180
    ['increment', '180.00', '1.5% × 12,000'],
    // band 1: excess 0 to 5% × 100,000 = 5,000 → 0.5% × 5,000 = 25
    // band 2: excess 5,000 to min(12,000, 15,000) → 1.5% × 7,000 = 105; 25 + 105 = 130
    ['banded', '130.00', '25 + 105'],
  ];
  for (const [apply, expected, arithmetic] of at12) {
    test(`apply ${apply} at 12% growth pays ${expected} (${arithmetic})`, () => {
      const result = calc(growthRule(apply), { amount: '112000.00' }, { amount: '100000.00' });
      assertRebate(result, expected, 1);
      assert.equal(result.baselineAmount.toString(), '100000.00');
      // next band at 15%: B × (1 + 15/100) − A = 115,000 − 112,000 = 3,000
      assert.equal(result.nextTier?.index, 2);
      assert.equal(result.nextTier?.from.toString(), '15');
      assert.ok(result.nextTier?.remaining.eq(D('3000')));
    });
  }

  const at20: Array<[GrowthApply, string, string]> = [
    // 3% × 120,000 = 3,600
    ['total', '3600.00', '3% × 120,000'],
    // 3% × 20,000 = 600
    ['increment', '600.00', '3% × 20,000'],
    // 0.5% × 5,000 + 1.5% × (15,000 − 5,000) + 3% × (20,000 − 15,000) = 25 + 150 + 150 = 325
    ['banded', '325.00', '25 + 150 + 150'],
  ];
  for (const [apply, expected, arithmetic] of at20) {
    test(`apply ${apply} at 20% growth pays ${expected} (${arithmetic})`, () => {
      const result = calc(growthRule(apply), { amount: '120000.00' }, { amount: '100000.00' });
      assertRebate(result, expected, 2);
      assert.equal(result.nextTier, undefined);
    });
  }

  test('banded with a first band above 0% pays nothing on the first part of the excess', () => {
    // 2% from 10% growth, 4% from 20%; B = 50,000, A = 62,000 (24% growth).
    // band 1: excess 5,000 (10% of B) to 10,000 (20% of B) → 2% × 5,000 = 100
    // band 2: excess 10,000 to 12,000 → 4% × 2,000 = 80; 100 + 80 = 180
    const r = growthRule('banded', { tiers: tiers(['10', '2'], ['20', '4']) });
    const result = calc(r, { amount: '62000.00' }, { amount: '50000.00' });
    assertRebate(result, '180.00', 1);
    const bandValues = result.steps.filter((s) => s.label.startsWith('growth band')).map((s) => s.value);
    assert.deepEqual(
      bandValues.map((v) => v.toPlainString()),
      ['100', '80'],
    );
  });

  test('banded steps sum to the raw rebate and name each band', () => {
    const result = calc(growthRule('banded'), { amount: '120000.00' }, { amount: '100000.00' });
    const bands = result.steps.filter((s) => s.label.startsWith('growth band'));
    assert.equal(bands.length, 3);
    assert.ok(Decimal.sum(bands.map((s) => s.value)).eq(result.rawRebate));
  });

  test('no baseline: outcome no_baseline, tier −1, nothing paid', () => {
    for (const apply of ['total', 'increment', 'banded'] as const) {
      const result = calc(growthRule(apply), { amount: '50000.00' }, { amount: '0.00', lineCount: 0 });
      assertRebate(result, '0.00', -1, 'no_baseline');
      assert.equal(result.nextTier, undefined, 'no growth target without a baseline');
    }
  });

  test('a negative baseline (returns only) is no baseline either', () => {
    const result = calc(growthRule('total'), { amount: '50000.00' }, { amount: '-250.00' });
    assertRebate(result, '0.00', -1, 'no_baseline');
  });

  test('decline below every band reaches no tier', () => {
    // (95,000 − 100,000) × 100 < 0 × 100,000
    const result = calc(growthRule('total'), { amount: '95000.00' }, { amount: '100000.00' });
    assertRebate(result, '0.00', -1, 'no_tier_reached');
    // next (first) band at 0%: 100,000 × 1 − 95,000 = 5,000
    assert.equal(result.nextTier?.index, 0);
    assert.ok(result.nextTier?.remaining.eq(D('5000')));
  });

  test('the exact boundary is compared without division', () => {
    // B = 7.00, A = 7.35: (7.35 − 7.00) × 100 = 35.00 ≥ 5 × 7.00 = 35.00, so the 5% band is reached
    // (in binary floating point (7.35 − 7) / 7 = 0.04999999999999995 and it would not be).
    const exact = calc(growthRule('total'), { amount: '7.35' }, { amount: '7.00' });
    assert.equal(exact.tierIndex, 1);
    // 1.5% × 7.35 = 0.11025 → 0.11
    assertRebate(exact, '0.11', 1);
    // one cent less: 34.00 < 35.00, back to the 0% band; 0.5% × 7.34 = 0.0367 → 0.04
    assertRebate(calc(growthRule('total'), { amount: '7.34' }, { amount: '7.00' }), '0.04', 0);
  });

  test('reachedGrowthTierIndex at and around the boundary', () => {
    const t = tiers(['0', '1'], ['5', '2'], ['15', '3']);
    assert.equal(reachedGrowthTierIndex(t, D('115.00'), D('100.00')), 2); // exactly 15%
    assert.equal(reachedGrowthTierIndex(t, D('114.99'), D('100.00')), 1);
    assert.equal(reachedGrowthTierIndex(t, D('100.00'), D('100.00')), 0); // exactly 0%
    assert.equal(reachedGrowthTierIndex(t, D('99.99'), D('100.00')), -1);
    assert.equal(reachedGrowthTierIndex(t, D('1000'), D('0')), -1);
    assert.equal(reachedGrowthTierIndex(t, D('1000'), D('-1')), -1);
  });

  test('lump sum growth pays the reached band once', () => {
    const r = growthRule('total', { payout: 'lump_sum', tiers: tiers(['5', '1000.00'], ['15', '2500.00']) });
    // 12% growth reaches the 5% band: 1,000
    assertRebate(calc(r, { amount: '112000.00' }, { amount: '100000.00' }), '1000.00', 0);
  });

  test('a growth rule without baseline totals is a bug', () => {
    assert.throws(() => calc(growthRule('total'), { amount: '1.00' }));
  });

  test('the explanation shows the growth percentage', () => {
    const result = calc(growthRule('total'), { amount: '112000.00' }, { amount: '100000.00' });
    const growth = result.steps.find((s) => s.label === 'growth over the baseline');
    assert.ok(growth);
    assert.equal(growth.formula, '(112,000 − 100,000) ÷ 100,000 = 12%');
    assert.ok(growth.value.eq(D('12000')));
  });
});

describe('product mix', () => {
  const shareRule = rule({
    tiers: tiers(['0', '2']),
    mix: { categories: ['STRAT'], minSharePercent: D('20') },
  });

  test('minimum share met exactly', () => {
    // 2,000 × 100 = 200,000 ≥ 20 × 10,000 = 200,000; then 2% × 10,000 = 200
    assertRebate(calc(shareRule, { amount: '10000.00', mixAmount: '2000.00' }), '200.00', 0);
  });

  test('minimum share missed by a cent', () => {
    // 1,999.99 × 100 = 199,999 < 200,000
    const result = calc(shareRule, { amount: '10000.00', mixAmount: '1999.99' });
    assertRebate(result, '0.00', 0, 'mix_condition_not_met');
    assert.ok(result.rawRebate.isZero());
    assert.ok(result.steps.some((s) => s.formula.endsWith('(not met)')));
  });

  test('no positive amount: the share condition is not met (A ≤ 0)', () => {
    // A = 0 reaches the 0 tier and 0 × 100 ≥ 20 × 0 holds, but A must be positive
    assertRebate(calc(shareRule, { amount: '0.00', mixAmount: '0.00' }), '0.00', 0, 'mix_condition_not_met');
    const zeroShare = rule({ mix: { categories: ['STRAT'], minSharePercent: D('0') } });
    assertRebate(calc(zeroShare, { amount: '0.00' }), '0.00', 0, 'mix_condition_not_met');
  });

  const distinctRule = rule({
    tiers: tiers(['0', '2']),
    mix: { categories: ['STRAT'], minDistinctProducts: 3 },
  });

  test('minimum distinct products met', () => {
    // 3 ≥ 3; 2% × 5,000 = 100
    assertRebate(calc(distinctRule, { amount: '5000.00', mixDistinctProducts: 3 }), '100.00', 0);
  });

  test('minimum distinct products not met', () => {
    assertRebate(
      calc(distinctRule, { amount: '5000.00', mixDistinctProducts: 2 }),
      '0.00',
      0,
      'mix_condition_not_met',
    );
  });

  test('both conditions must hold', () => {
    const both = rule({
      mix: { categories: ['STRAT'], minSharePercent: D('20'), minDistinctProducts: 3 },
    });
    // share 50% met, 2 < 3 products not met
    assertRebate(
      calc(both, { amount: '1000.00', mixAmount: '500.00', mixDistinctProducts: 2 }),
      '0.00',
      0,
      'mix_condition_not_met',
    );
    // share 10% not met, products met
    assertRebate(
      calc(both, { amount: '1000.00', mixAmount: '100.00', mixDistinctProducts: 3 }),
      '0.00',
      0,
      'mix_condition_not_met',
    );
    // both met: 2% × 1,000 = 20
    assertRebate(calc(both, { amount: '1000.00', mixAmount: '500.00', mixDistinctProducts: 3 }), '20.00', 0);
  });

  test('a mix rule pays by its method once the condition holds', () => {
    // incremental with the DOMAIN tiers at 60,000: 2,400 (see above); share 30,000 / 60,000 = 50% ≥ 20%
    const r = rule({
      type: 'mix',
      method: 'incremental',
      tiers: DOMAIN_TIERS,
      mix: { categories: ['STRAT'], minSharePercent: D('20') },
    });
    assertRebate(calc(r, { amount: '60000.00', mixAmount: '30000.00' }), '2400.00', 2);
  });
});

describe('minimums, cap and negative measures', () => {
  test('below the minimum volume nothing is earned', () => {
    const r = rule({ minimumVolume: D('5000') });
    const result = calc(r, { amount: '4999.99' });
    // the tier (2% from 0) is reached, but 4,999.99 < 5,000
    assertRebate(result, '0.00', 0, 'below_minimum_volume');
    assert.ok(result.rawRebate.isZero());
  });

  test('at the minimum volume the rule earns', () => {
    // 2% × 5,000 = 100
    assertRebate(calc(rule({ minimumVolume: D('5000') }), { amount: '5000.00' }), '100.00', 0);
  });

  test('minimum volume on a quantity basis compares quantity', () => {
    const r = rule({
      basis: 'quantity',
      payout: 'per_unit',
      tiers: tiers(['0', '1.00']),
      minimumVolume: D('10'),
    });
    assertRebate(calc(r, { quantity: '9', amount: '99999.00' }), '0.00', 0, 'below_minimum_volume');
    // 10 × 1.00 = 10
    assertRebate(calc(r, { quantity: '10', amount: '1.00' }), '10.00', 0);
  });

  test('below the minimum payout the rounded rebate is held', () => {
    const r = rule({ minimumPayout: D('50.00') });
    // 2% × 2,000.25 = 40.005 → 40.01 < 50.00: held
    const held = calc(r, { amount: '2000.25' });
    assertRebate(held, '0.00', 0, 'held_below_minimum_payout');
    assert.equal(held.heldRebate.toString(), '40.01');
    assert.equal(held.rawRebate.toString(), '40.0050');
    // 2% × 2,500 = 50.00, not below the minimum: paid
    const paid = calc(r, { amount: '2500.00' });
    assertRebate(paid, '50.00', 0);
    assert.equal(paid.heldRebate.toString(), '0');
  });

  test('the minimum payout compares the rounded figure', () => {
    // 2% × 2,499.75 = 49.995 → 50.00, which is not below 50.00
    assertRebate(calc(rule({ minimumPayout: D('50.00') }), { amount: '2499.75' }), '50.00', 0);
  });

  test('a zero rebate is not "held"', () => {
    const r = rule({ minimumPayout: D('50.00'), tiers: tiers(['1000', '2']) });
    const result = calc(r, { amount: '10.00' });
    assertRebate(result, '0.00', -1, 'no_tier_reached');
    assert.ok(result.heldRebate.isZero());
  });

  test('the cap bounds the payout', () => {
    // retroactive at 60,000: 3,600 > 1,000 cap
    const result = calc(rule({ tiers: DOMAIN_TIERS, cap: D('1000.00') }), { amount: '60000.00' });
    assertRebate(result, '1000.00', 2, 'capped');
    assert.equal(result.rawRebate.toPlainString(), '3600', 'the raw rebate stays uncapped');
  });

  test('a rebate equal to the cap is earned, not capped', () => {
    assertRebate(
      calc(rule({ tiers: DOMAIN_TIERS, cap: D('3600.00') }), { amount: '60000.00' }),
      '3600.00',
      2,
    );
  });

  test('the cap applies before rounding (a raw figure a fraction above the cap)', () => {
    // 2% × 50,000.25 = 1,000.005 > 1,000.00 → capped at 1,000.00 (not rounded up to 1,000.01)
    assertRebate(calc(rule({ cap: D('1000.00') }), { amount: '50000.25' }), '1000.00', 0, 'capped');
  });

  test('negative measure (returns exceed sales) reaches no tier and pays 0', () => {
    for (const method of ['retroactive', 'incremental', 'rolling', 'total'] as const) {
      const result = calc(rule({ method, tiers: DOMAIN_TIERS }), { amount: '-500.00', quantity: '-3' });
      assertRebate(result, '0.00', -1, 'no_tier_reached');
      assert.equal(result.measure.toString(), '-500.00');
      // the first tier starts at 0: 0 − (−500.00) = 500.00 to go
      assert.equal(result.nextTier?.remaining.toString(), '500.00');
    }
  });

  test('a negative raw rebate is clamped to zero', () => {
    // quantity 5 reaches the 0-unit tier but the net amount is −120.00: 1% × −120.00 = −1.20 → 0
    const r = rule({ basis: 'quantity', tiers: tiers(['0', '1']) });
    const result = calc(r, { quantity: '5', amount: '-120.00' });
    assertRebate(result, '0.00', 0);
    assert.equal(result.rawRebate.toPlainString(), '-1.2');
    assert.ok(result.steps.some((s) => s.label.includes('clamped to zero')));
  });

  test('a growth increment rule with a decline band clamps its negative figure', () => {
    // band from −10%: A = 95,000, B = 100,000 is −5% ≥ −10%; 2% × (95,000 − 100,000) = −100 → 0
    const r = growthRule('increment', { tiers: tiers(['-10', '2']) });
    const result = calc(r, { amount: '95000.00' }, { amount: '100000.00' });
    assertRebate(result, '0.00', 0);
    assert.equal(result.rawRebate.toPlainString(), '-100');
  });
});

describe('rounding and currencies', () => {
  test('a percent yielding x.xx5 exactly rounds half away from zero', () => {
    // 1% × 12,345.50 = 123.455 → 123.46
    const result = calc(rule({ tiers: tiers(['0', '1']) }), { amount: '12345.50' });
    assertRebate(result, '123.46', 0);
    assert.equal(result.rawRebate.toPlainString(), '123.455');
    // 1% × 12,345.40 = 123.454 → 123.45
    assertRebate(calc(rule({ tiers: tiers(['0', '1']) }), { amount: '12345.40' }), '123.45', 0);
  });

  test('rounding happens once at the end, not per slice', () => {
    // 1% from 0, 3% from 100.50; A = 200.00
    // slices: 1% × 100.50 = 1.005 and 3% × 99.50 = 2.985; 1.005 + 2.985 = 3.990 → 3.99
    // (rounding each slice first would give 1.01 + 2.99 = 4.00)
    const r = rule({ method: 'incremental', tiers: tiers(['0', '1'], ['100.50', '3']) });
    const result = calc(r, { amount: '200.00' });
    assertRebate(result, '3.99', 1);
    assert.equal(result.rawRebate.toPlainString(), '3.99');
  });

  test('zero minor units (JPY-like)', () => {
    const r = rule({ tiers: tiers(['0', '3']) });
    // 3% × 12,345 = 370.35 → 370
    assertRebate(calc(r, { amount: '12345' }, undefined, 0), '370', 0);
    // 1% × 12,350 = 123.5 → 124
    assertRebate(calc(rule({ tiers: tiers(['0', '1']) }), { amount: '12350' }, undefined, 0), '124', 0);
    // nothing earned is "0" with no places
    assertRebate(
      calc(rule({ tiers: tiers(['1', '1']) }), { amount: '0' }, undefined, 0),
      '0',
      -1,
      'no_tier_reached',
    );
  });

  test('three minor units (BHD-like)', () => {
    // 1% × 1,234.550 = 12.3455 → 12.346
    assertRebate(calc(rule({ tiers: tiers(['0', '1']) }), { amount: '1234.550' }, undefined, 3), '12.346', 0);
    // 2.5% × 1,234.567 = 30.864175 → 30.864
    assertRebate(
      calc(rule({ tiers: tiers(['0', '2.5']) }), { amount: '1234.567' }, undefined, 3),
      '30.864',
      0,
    );
    // a whole figure still carries three places: 2% × 1,000 = 20 → 20.000
    assertRebate(calc(rule(), { amount: '1000' }, undefined, 3), '20.000', 0);
  });

  test('the rebate always carries exactly the minor unit places', () => {
    for (const minorUnits of [0, 2, 3]) {
      for (const amount of ['0', '1', '123.4567', '-5']) {
        const result = calc(rule(), { amount }, undefined, minorUnits);
        assert.equal(result.rebate.scale, minorUnits);
        assert.equal(result.heldRebate.sign(), 0);
      }
    }
  });
});

describe('next tier', () => {
  test('volume: the remaining measure to the next tier', () => {
    // 10,000 − 8,000 = 2,000
    const result = calc(rule({ tiers: DOMAIN_TIERS }), { amount: '8000.00' });
    assert.equal(result.nextTier?.index, 1);
    assert.equal(result.nextTier?.from.toString(), '10000');
    assert.equal(result.nextTier?.remaining.toString(), '2000.00');
  });

  test('volume: from the middle tier to the top one', () => {
    // 50,000 − 12,345.67 = 37,654.33
    const result = calc(rule({ tiers: DOMAIN_TIERS }), { amount: '12345.67' });
    assert.equal(result.nextTier?.index, 2);
    assert.equal(result.nextTier?.remaining.toString(), '37654.33');
  });

  test('growth: the needed period amount B × (1 + from / 100) − A', () => {
    // B = 80,000, A = 82,000 (2.5%, first band); next band 5%: 80,000 × 1.05 − 82,000 = 84,000 − 82,000 = 2,000
    const result = calc(growthRule('total'), { amount: '82000.00' }, { amount: '80000.00' });
    assert.equal(result.tierIndex, 0);
    assert.equal(result.nextTier?.index, 1);
    assert.ok(result.nextTier?.remaining.eq(D('2000')));
    // and an awkward baseline: B = 333.33, band 5%: 333.33 × 1.05 = 349.9965; − 340.00 = 9.9965
    const odd = calc(growthRule('total'), { amount: '340.00' }, { amount: '333.33' });
    assert.equal(odd.nextTier?.remaining.toPlainString(), '9.9965');
  });
});

describe('explanation steps', () => {
  test('an incremental calculation shows each slice and the slices sum to the raw rebate', () => {
    const result = calc(rule({ method: 'incremental', tiers: DOMAIN_TIERS }), { amount: '60000.00' });
    const slices = result.steps.filter((s) => s.label.includes('slice'));
    assert.deepEqual(
      slices.map((s) => s.formula),
      ['2% × 10,000 = 200', '4% × 40,000 = 1,600', '6% × 10,000 = 600'],
    );
    assert.deepEqual(
      slices.map((s) => s.label),
      ['tier 1 slice 0 to 10,000', 'tier 2 slice 10,000 to 50,000', 'tier 3 slice 50,000 to 60,000'],
    );
    assert.ok(Decimal.sum(slices.map((s) => s.value)).eq(result.rawRebate));
    assert.equal(result.rawRebate.toPlainString(), '2400');
    // the first step is the measure itself
    assert.equal(result.steps[0]?.formula, '60,000');
  });

  test('a per-unit incremental calculation names the unit rate', () => {
    const r = rule({
      basis: 'quantity',
      payout: 'per_unit',
      method: 'incremental',
      tiers: tiers(['0', '0.10'], ['100', '0.15']),
    });
    const result = calc(r, { quantity: '250' });
    const slices = result.steps.filter((s) => s.label.includes('slice'));
    // 100 × 0.10 = 10; 150 × 0.15 = 22.50
    assert.deepEqual(
      slices.map((s) => s.formula),
      ['0.10 per unit × 100 = 10', '0.15 per unit × 150 = 22.50'],
    );
    assert.ok(Decimal.sum(slices.map((s) => s.value)).eq(result.rawRebate));
    assertRebate(result, '32.50', 1);
  });

  test('a rounded figure records the rounding step', () => {
    const result = calc(rule({ tiers: tiers(['0', '1']) }), { amount: '12345.50' });
    const last = result.steps.at(-1);
    assert.ok(last?.label.startsWith('rounded half away from zero'));
    // 1% × 12,345.50 = 123.455 exactly, shown without trailing zeros, then rounded once
    assert.equal(last?.formula, '123.455 → 123.46');
  });

  test('the result carries the identifiers and totals it was computed from', () => {
    const result = calc(rule(), { amount: '100.00', quantity: '3' });
    assert.equal(result.agreementId, 'AG1');
    assert.equal(result.ruleId, 'R1');
    assert.equal(result.currency, 'USD');
    assert.deepEqual(result.period, PERIOD);
    assert.equal(result.quantity.toString(), '3');
    assert.equal(result.amount.toString(), '100.00');
    assert.equal(result.baselineAmount.toString(), '0');
  });
});

describe('reachedTierIndex', () => {
  test('the last tier whose bound the measure reaches', () => {
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('-0.01')), -1);
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('0')), 0);
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('9999.99')), 0);
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('10000.00')), 1);
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('50000')), 2);
    assert.equal(reachedTierIndex(DOMAIN_TIERS, D('1000000000')), 2);
    assert.equal(reachedTierIndex([], D('1')), -1);
  });
});
