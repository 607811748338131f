// The calculation core's data model: agreements and rules as the engine sees
// them (already validated), the totals it is fed, and the results it returns.
// Nothing here knows about files, databases or clocks.
import type { Decimal } from '../shared/decimal.ts';

/** An ISO calendar date, `YYYY-MM-DD`. Compared as text, which orders correctly. */
export type IsoDate = string;

export interface DateWindow {
  start: IsoDate;
  end: IsoDate;
}

/** What is measured against the tiers. */
export type Basis = 'amount' | 'quantity';
/** How reached tiers turn into a rebate (DOMAIN.md "How a rule calculates"). */
export type Method = 'retroactive' | 'incremental' | 'rolling' | 'total';
/** What a tier's rate means: percent of amount, currency per unit, or a fixed sum. */
export type Payout = 'percent' | 'per_unit' | 'lump_sum';
export type RuleType = 'volume' | 'growth' | 'target' | 'mix';
/** Growth pays on the whole period, on the excess over the baseline, or band by band on the excess. */
export type GrowthApply = 'total' | 'increment' | 'banded';
/** A recurring calendar splits the agreement's dates into periods, each settled on its own. */
export type Calendar = 'none' | 'monthly' | 'quarterly' | 'yearly';

export interface Tier {
  /** Lower bound, in the measure's unit (growth: percent growth). */
  from: Decimal;
  rate: Decimal;
}

export interface ProductSelector {
  skus?: string[];
  categories?: string[];
  /** Free product attributes: every listed attribute must have one of the listed values. */
  attributes?: Record<string, string[]>;
}

export interface ProductScope extends ProductSelector {
  exclude?: ProductSelector;
}

export type Baseline = { kind: 'window'; window: DateWindow } | { kind: 'same_period_last_year' };

export interface MixCondition {
  categories: string[];
  /** Percent of the in-scope amount that must come from `categories`. */
  minSharePercent?: Decimal;
  /** Distinct products from `categories` with a positive net quantity. */
  minDistinctProducts?: number;
}

export interface Rule {
  id: string;
  /**
   * The agreement version the rule belongs to, and the dates that version is in
   * force, when the agreement has been amended. A period the version covers only
   * in part is settled on that part alone; absent, the rule covers every period.
   */
  version?: number;
  effective?: DateWindow;
  type: RuleType;
  basis: Basis;
  method: Method;
  payout: Payout;
  tiers: Tier[];
  scope: ProductScope;
  growth?: { apply: GrowthApply; baseline: Baseline };
  mix?: MixCondition;
  /** Nothing is earned while the measure is below this. */
  minimumVolume?: Decimal;
  /** A rebate below this is held, not paid. */
  minimumPayout?: Decimal;
  /** The most the rule pays per period. */
  cap?: Decimal;
}

/** What an agreement accrues: the rebate earned to date, or its share of the forecast for the period. */
export type AccrualBasis = 'earned' | 'forecast';

export interface Agreement {
  id: string;
  name: string;
  /** Exactly one of partner or buyingGroup is set. */
  partner?: string;
  buyingGroup?: string;
  /** Who is paid when the rebate is earned by a group; defaults to the group's nominee outside the core. */
  beneficiary?: string;
  currency: string;
  window: DateWindow;
  calendar: Calendar;
  rules: Rule[];
  /** Default `earned`. */
  accrualBasis?: AccrualBasis;
}

export interface Product {
  sku: string;
  category: string;
  attributes: Record<string, string>;
}

/** One qualifying-line aggregate: the only input the calculation needs from the lines. */
export interface Totals {
  lineCount: number;
  quantity: Decimal;
  amount: Decimal;
  /** Amount of in-scope lines whose category is one of the mix categories. */
  mixAmount: Decimal;
  /** Distinct mix-category products with a positive net quantity. */
  mixDistinctProducts: number;
}

export interface RuleInput {
  period: Totals;
  /** Present for growth rules. */
  baseline?: Totals;
}

/** Why a rule pays what it pays; the first that applies wins. */
export type RuleOutcome =
  | 'earned'
  | 'no_tier_reached'
  | 'below_minimum_volume'
  | 'mix_condition_not_met'
  | 'no_baseline'
  | 'held_below_minimum_payout'
  | 'capped';

/** One line of arithmetic a reviewer can redo by hand. */
export interface CalculationStep {
  label: string;
  /** The arithmetic in words and numbers, e.g. `4% × 40,000.00 = 1,600.00`. */
  formula: string;
  value: Decimal;
}

export interface RuleResult {
  agreementId: string;
  ruleId: string;
  /** The agreement version whose rule this is, when the agreement has been amended. */
  version?: number;
  period: DateWindow;
  baselineWindow?: DateWindow;
  currency: string;
  /** The value compared with the tiers (growth: the period amount; see growthPercent). */
  measure: Decimal;
  /** Qualifying lines in the period (and in the baseline window). */
  lineCount: number;
  baselineLineCount: number;
  quantity: Decimal;
  amount: Decimal;
  baselineAmount: Decimal;
  /** Index of the reached tier, −1 when none. */
  tierIndex: number;
  /** Exact rebate before clamping, cap and rounding. */
  rawRebate: Decimal;
  /** What is owed for the period, in the currency's minor unit. */
  rebate: Decimal;
  /** Rounded rebate held back by a minimum payout (0 otherwise). */
  heldRebate: Decimal;
  outcome: RuleOutcome;
  steps: CalculationStep[];
  /** How far the measure is from the next tier, when there is one. */
  nextTier?: { index: number; from: Decimal; rate: Decimal; remaining: Decimal };
  /** The period projected to its end at the run rate so far, when a forecast was asked for. */
  forecast?: Forecast;
  /** What is accrued for the period on the agreement's accrual basis, when a forecast was asked for. */
  accrued?: Decimal;
}

/**
 * A run-rate projection: the period's figures so far × total days ÷ days elapsed
 * on `asOf` (docs/decisions/0012-forecasts-and-accrual-postings.md).
 */
export interface Forecast {
  asOf: IsoDate;
  elapsedDays: number;
  totalDays: number;
  quantity: Decimal;
  amount: Decimal;
  measure: Decimal;
  /** Index of the tier the forecast reaches, −1 when none. */
  tierIndex: number;
  rebate: Decimal;
}
