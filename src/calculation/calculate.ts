// The rebate of one rule for one period, from the period's (and baseline's)
// totals. Every figure is exact until the single rounding step at the end, and
// each step of the arithmetic is recorded so that `rebates explain` can show it.
import assert from 'node:assert/strict';
import { Decimal } from '../shared/decimal.ts';
import { formatDecimal } from '../shared/format.ts';
import type {
  Agreement,
  CalculationStep,
  DateWindow,
  Rule,
  RuleInput,
  RuleOutcome,
  RuleResult,
  Tier,
  Totals,
} from './calculation.types.ts';

export const EMPTY_TOTALS: Totals = {
  lineCount: 0,
  quantity: Decimal.ZERO,
  amount: Decimal.ZERO,
  mixAmount: Decimal.ZERO,
  mixDistinctProducts: 0,
};

export interface CalculateOptions {
  /** Decimal places of the agreement currency's minor unit (2 for USD, 0 for JPY). */
  minorUnits: number;
  baselineWindow?: DateWindow;
  /** Record the arithmetic for an explanation (default true); positions kept current never show it. */
  explain?: boolean;
}

/** The steps of the arithmetic, built only when an explanation is wanted. */
class Steps {
  readonly list: CalculationStep[] = [];
  constructor(private readonly explain: boolean) {}
  add(make: () => CalculationStep): void {
    if (this.explain) this.list.push(make());
  }
}

const fmt = formatDecimal;

function rateText(rule: Rule, rate: Decimal): string {
  if (rule.payout === 'percent') return `${fmt(rate)}%`;
  if (rule.payout === 'per_unit') return `${fmt(rate)} per unit`;
  return `${fmt(rate)} lump sum`;
}

/** The last tier whose lower bound the measure reaches, or −1. */
export function reachedTierIndex(tiers: readonly Tier[], measure: Decimal): number {
  let reached = -1;
  for (let i = 0; i < tiers.length; i++) {
    if (tiers[i]!.from.lte(measure)) reached = i;
  }
  return reached;
}

/**
 * The last growth tier reached: growth g = (A − B) / B is compared without
 * division as (A − B) × 100 ≥ from × B, and only when the baseline is positive.
 */
export function reachedGrowthTierIndex(tiers: readonly Tier[], amount: Decimal, baseline: Decimal): number {
  if (baseline.sign() <= 0) return -1;
  const excessTimes100 = amount.sub(baseline).mul(Decimal.HUNDRED);
  let reached = -1;
  for (let i = 0; i < tiers.length; i++) {
    if (excessTimes100.gte(tiers[i]!.from.mul(baseline))) reached = i;
  }
  return reached;
}

/** Applies a tier's rate to a base: percent of it, per unit of it, or the fixed sum. */
function applyRate(rule: Rule, rate: Decimal, base: Decimal): Decimal {
  if (rule.payout === 'percent') return base.mul(rate).shift(2);
  if (rule.payout === 'per_unit') return base.mul(rate);
  return rate;
}

interface Slice {
  tier: number;
  lower: Decimal;
  upper: Decimal;
  size: Decimal;
}

/** Each reached tier's own slice of the measure: from its bound up to the next tier's (or the measure). */
function slices(tiers: readonly Tier[], reached: number, measure: Decimal): Slice[] {
  const out: Slice[] = [];
  for (let i = 0; i <= reached; i++) {
    const lower = tiers[i]!.from;
    const next = tiers[i + 1];
    const upper = next === undefined ? measure : Decimal.min(measure, next.from);
    out.push({ tier: i, lower, upper, size: upper.sub(lower) });
  }
  return out;
}

/** The base a whole-measure rate applies to: amount for percent, quantity for per-unit. */
function wholeBase(rule: Rule, totals: Totals): { base: Decimal; name: string } {
  return rule.payout === 'per_unit'
    ? { base: totals.quantity, name: 'quantity' }
    : { base: totals.amount, name: 'amount' };
}

// Helpers at module level, not closures: the TypeScript loader names every local
// function on each call, which showed in the time of reading positions.
const tierName = (i: number) => `tier ${i + 1}`;

/** Lump sums pay every reached tier's amount. */
function lumpSumOfReached(tiers: Rule['tiers'], reached: number, steps: Steps): Decimal {
  let total = Decimal.ZERO;
  for (let i = 0; i <= reached; i++) {
    total = total.add(tiers[i]!.rate);
    steps.add(() => ({
      label: `${tierName(i)} bonus`,
      formula: `${fmt(tiers[i]!.rate)}`,
      value: tiers[i]!.rate,
    }));
  }
  return total;
}

function volumeRebate(rule: Rule, reached: number, measure: Decimal, totals: Totals, steps: Steps) {
  const tiers = rule.tiers;
  const top = tiers[reached]!;
  const whole = wholeBase(rule, totals);
  switch (rule.method) {
    case 'retroactive': {
      const value = applyRate(rule, top.rate, whole.base);
      steps.add(() => ({
        label: `${tierName(reached)} rate on the whole ${whole.name}`,
        formula:
          rule.payout === 'lump_sum'
            ? `${fmt(top.rate)} lump sum`
            : `${rateText(rule, top.rate)} × ${fmt(whole.base)} = ${fmt(value)}`,
        value,
      }));
      return value;
    }
    case 'incremental': {
      if (rule.payout === 'lump_sum') return lumpSumOfReached(tiers, reached, steps);
      let total = Decimal.ZERO;
      for (const s of slices(tiers, reached, measure)) {
        const value = applyRate(rule, tiers[s.tier]!.rate, s.size);
        total = total.add(value);
        steps.add(() => ({
          label: `${tierName(s.tier)} slice ${fmt(s.lower)} to ${fmt(s.upper)}`,
          formula: `${rateText(rule, tiers[s.tier]!.rate)} × ${fmt(s.size)} = ${fmt(value)}`,
          value,
        }));
      }
      return total;
    }
    case 'rolling': {
      if (rule.payout === 'lump_sum') return lumpSumOfReached(tiers, reached, steps);
      let total = Decimal.ZERO;
      for (const s of slices(tiers, reached - 1, measure)) {
        const value = applyRate(rule, tiers[s.tier]!.rate, s.size);
        total = total.add(value);
        steps.add(() => ({
          label: `${tierName(s.tier)} slice ${fmt(s.lower)} to ${fmt(s.upper)}`,
          formula: `${rateText(rule, tiers[s.tier]!.rate)} × ${fmt(s.size)} = ${fmt(value)}`,
          value,
        }));
      }
      const value = applyRate(rule, top.rate, whole.base);
      steps.add(() => ({
        label: `${tierName(reached)} (highest reached) rate on the whole ${whole.name}`,
        formula: `${rateText(rule, top.rate)} × ${fmt(whole.base)} = ${fmt(value)}`,
        value,
      }));
      return total.add(value);
    }
    case 'total': {
      if (rule.payout === 'lump_sum') return lumpSumOfReached(tiers, reached, steps);
      let rates = Decimal.ZERO;
      for (let i = 0; i <= reached; i++) rates = rates.add(tiers[i]!.rate);
      const value = applyRate(rule, rates, whole.base);
      const rateList = tiers
        .slice(0, reached + 1)
        .map((t) => rateText(rule, t.rate))
        .join(' + ');
      steps.add(() => ({
        label: `every reached tier's rate on the whole ${whole.name}`,
        formula: `(${rateList}) × ${fmt(whole.base)} = ${fmt(value)}`,
        value,
      }));
      return value;
    }
  }
}

function growthRebate(rule: Rule, reached: number, period: Totals, baseline: Totals, steps: Steps) {
  assert.ok(rule.growth, 'growth rule without growth settings');
  const tiers = rule.tiers;
  const top = tiers[reached]!;
  const excess = period.amount.sub(baseline.amount);
  if (rule.payout === 'lump_sum') {
    steps.add(() => ({ label: `tier ${reached + 1} bonus`, formula: `${fmt(top.rate)}`, value: top.rate }));
    return top.rate;
  }
  switch (rule.growth.apply) {
    case 'total': {
      const value = applyRate(rule, top.rate, period.amount);
      steps.add(() => ({
        label: `tier ${reached + 1} rate on the whole period amount`,
        formula: `${rateText(rule, top.rate)} × ${fmt(period.amount)} = ${fmt(value)}`,
        value,
      }));
      return value;
    }
    case 'increment': {
      const value = applyRate(rule, top.rate, excess);
      steps.add(() => ({
        label: `tier ${reached + 1} rate on the growth over the baseline`,
        formula: `${rateText(rule, top.rate)} × (${fmt(period.amount)} − ${fmt(baseline.amount)}) = ${fmt(value)}`,
        value,
      }));
      return value;
    }
    case 'banded': {
      // Band i covers growth from from[i]% to from[i+1]% of the baseline, i.e. the
      // excess between from[i] × B / 100 and from[i+1] × B / 100.
      let total = Decimal.ZERO;
      for (let i = 0; i <= reached; i++) {
        const lower = tiers[i]!.from.mul(baseline.amount).shift(2);
        const next = tiers[i + 1];
        const upper =
          next === undefined ? excess : Decimal.min(excess, next.from.mul(baseline.amount).shift(2));
        const size = upper.sub(lower);
        const value = applyRate(rule, tiers[i]!.rate, size);
        total = total.add(value);
        steps.add(() => ({
          label: `growth band ${i + 1} (${fmt(tiers[i]!.from)}%${next ? ` to ${fmt(next.from)}%` : ' and above'}) excess ${fmt(lower)} to ${fmt(upper)}`,
          formula: `${rateText(rule, tiers[i]!.rate)} × ${fmt(size)} = ${fmt(value)}`,
          value,
        }));
      }
      return total;
    }
  }
}

/** How far the measure is from the next tier, in the measure's unit (growth: period amount). */
function nextTierGap(rule: Rule, reached: number, measure: Decimal, baselineAmount: Decimal) {
  const index = reached + 1;
  const next = rule.tiers[index];
  if (next === undefined) return undefined;
  if (rule.type === 'growth') {
    if (baselineAmount.sign() <= 0) return undefined;
    // The period amount that reaches growth `from`%: B × (1 + from / 100).
    const needed = baselineAmount.add(baselineAmount.mul(next.from).shift(2));
    return {
      index,
      from: next.from,
      rate: next.rate,
      remaining: Decimal.max(Decimal.ZERO, needed.sub(measure)),
    };
  }
  return {
    index,
    from: next.from,
    rate: next.rate,
    remaining: Decimal.max(Decimal.ZERO, next.from.sub(measure)),
  };
}

function mixConditionHolds(rule: Rule, totals: Totals, steps: Steps): boolean {
  const mix = rule.mix;
  if (mix === undefined) return true;
  let holds = true;
  const minShare = mix.minSharePercent;
  if (minShare !== undefined) {
    const shareTimes100 = totals.mixAmount.mul(Decimal.HUNDRED);
    const needed = minShare.mul(totals.amount);
    const ok = totals.amount.sign() > 0 && shareTimes100.gte(needed);
    steps.add(() => ({
      label: `mix: amount from ${mix.categories.join(', ')} must be at least ${fmt(minShare)}% of ${fmt(totals.amount)}`,
      formula: `${fmt(totals.mixAmount)} × 100 ${ok ? '≥' : '<'} ${fmt(minShare)} × ${fmt(totals.amount)}${ok ? '' : ' (not met)'}`,
      value: totals.mixAmount,
    }));
    holds &&= ok;
  }
  if (mix.minDistinctProducts !== undefined) {
    const ok = totals.mixDistinctProducts >= mix.minDistinctProducts;
    steps.add(() => ({
      label: `mix: distinct products from ${mix.categories.join(', ')} must be at least ${mix.minDistinctProducts}`,
      formula: `${totals.mixDistinctProducts} ${ok ? '≥' : '<'} ${mix.minDistinctProducts}${ok ? '' : ' (not met)'}`,
      value: Decimal.fromInteger(totals.mixDistinctProducts),
    }));
    holds &&= ok;
  }
  return holds;
}

/**
 * The rebate of one rule for one period. Order of operations
 * (docs/decisions/0005-calculation-rules.md): reached tier → minimum volume → mix condition →
 * exact rebate → clamp below at zero → cap → one rounding half away from zero to
 * the currency's minor unit → minimum payout. The cap is a valid amount in the
 * currency, so capping before or after rounding gives the same figure.
 */
export function calculateRule(
  agreement: Agreement,
  rule: Rule,
  period: DateWindow,
  input: RuleInput,
  options: CalculateOptions,
): RuleResult {
  const totals = input.period;
  const baseline = input.baseline ?? EMPTY_TOTALS;
  const isGrowth = rule.type === 'growth';
  assert.ok(!isGrowth || input.baseline !== undefined, 'growth rule needs baseline totals');
  const measure = rule.basis === 'quantity' ? totals.quantity : totals.amount;
  const steps = new Steps(options.explain ?? true);
  steps.add(() => ({
    label: `measure (${rule.basis} of ${totals.lineCount} qualifying lines)`,
    formula: fmt(measure),
    value: measure,
  }));

  let tierIndex: number;
  if (isGrowth) {
    steps.add(() => ({
      label: `baseline amount (${baseline.lineCount} lines)`,
      formula: fmt(baseline.amount),
      value: baseline.amount,
    }));
    tierIndex = reachedGrowthTierIndex(rule.tiers, totals.amount, baseline.amount);
    if (baseline.amount.sign() > 0) {
      const growthTimes100 = totals.amount.sub(baseline.amount).mul(Decimal.HUNDRED);
      steps.add(() => ({
        label: 'growth over the baseline',
        formula: `(${fmt(totals.amount)} − ${fmt(baseline.amount)}) ÷ ${fmt(baseline.amount)} = ${formatGrowthPercent(growthTimes100, baseline.amount)}%`,
        value: totals.amount.sub(baseline.amount),
      }));
    }
  } else {
    tierIndex = reachedTierIndex(rule.tiers, measure);
  }

  let outcome: RuleOutcome = 'earned';
  let rawRebate = Decimal.ZERO;
  const minimumVolume = rule.minimumVolume;
  if (minimumVolume !== undefined && measure.lt(minimumVolume)) {
    outcome = 'below_minimum_volume';
    steps.add(() => ({
      label: 'minimum volume not reached: nothing is earned',
      formula: `${fmt(measure)} < ${fmt(minimumVolume)}`,
      value: Decimal.ZERO,
    }));
  } else if (isGrowth && baseline.amount.sign() <= 0) {
    outcome = 'no_baseline';
    steps.add(() => ({
      label: 'no positive baseline: growth cannot be measured',
      formula: '0',
      value: Decimal.ZERO,
    }));
  } else if (tierIndex < 0) {
    outcome = 'no_tier_reached';
    steps.add(() => ({ label: 'no tier reached', formula: '0', value: Decimal.ZERO }));
  } else if (!mixConditionHolds(rule, totals, steps)) {
    outcome = 'mix_condition_not_met';
  } else {
    rawRebate = isGrowth
      ? growthRebate(rule, tierIndex, totals, baseline, steps)
      : volumeRebate(rule, tierIndex, measure, totals, steps);
  }

  let value = rawRebate;
  if (value.sign() < 0) {
    steps.add(() => ({
      label: 'a negative rebate is not charged back: clamped to zero',
      formula: '0',
      value: Decimal.ZERO,
    }));
    value = Decimal.ZERO;
  }
  const cap = rule.cap;
  if (cap !== undefined && value.gt(cap)) {
    const uncapped = value;
    steps.add(() => ({ label: 'cap', formula: `${fmt(uncapped)} capped at ${fmt(cap)}`, value: cap }));
    value = cap;
    outcome = 'capped';
  }
  const rounded = value.roundHalfAwayFromZero(options.minorUnits);
  if (!rounded.eq(value)) {
    steps.add(() => ({
      label: `rounded half away from zero to ${options.minorUnits} places`,
      formula: `${fmt(value)} → ${fmt(rounded)}`,
      value: rounded,
    }));
  }
  let rebate = rounded;
  let heldRebate = Decimal.ZERO;
  const minimumPayout = rule.minimumPayout;
  if (minimumPayout !== undefined && rounded.sign() > 0 && rounded.lt(minimumPayout)) {
    steps.add(() => ({
      label: 'below the minimum payout: held, not paid',
      formula: `${fmt(rounded)} < ${fmt(minimumPayout)}`,
      value: Decimal.ZERO,
    }));
    heldRebate = rounded;
    rebate = Decimal.ZERO.roundHalfAwayFromZero(options.minorUnits);
    outcome = 'held_below_minimum_payout';
  }

  const result: RuleResult = {
    agreementId: agreement.id,
    ruleId: rule.id,
    period,
    currency: agreement.currency,
    measure,
    lineCount: totals.lineCount,
    baselineLineCount: baseline.lineCount,
    quantity: totals.quantity,
    amount: totals.amount,
    baselineAmount: baseline.amount,
    tierIndex,
    rawRebate,
    rebate,
    heldRebate,
    outcome,
    steps: steps.list,
  };
  if (rule.version !== undefined) result.version = rule.version;
  if (options.baselineWindow) result.baselineWindow = options.baselineWindow;
  const gap = nextTierGap(rule, tierIndex, isGrowth ? totals.amount : measure, baseline.amount);
  if (gap) result.nextTier = gap;
  return result;
}

/** Growth in percent to two places, for display only (the tier test never divides). */
function formatGrowthPercent(excessTimes100: Decimal, baseline: Decimal): string {
  // Exact long division to 4 places, then rounded to 2: display text, never a figure that is paid.
  const scale = 4;
  const numerator = excessTimes100.units * 10n ** BigInt(scale + baseline.scale);
  const denominator = baseline.units * 10n ** BigInt(excessTimes100.scale);
  const quotient = Decimal.of(numerator / denominator, scale);
  return fmt(quotient.roundHalfAwayFromZero(2));
}
