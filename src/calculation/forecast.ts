// Forecasts and accruals for a period under way. The forecast projects the
// period's figures so far to its end at the same daily rate (run rate), and
// settles the rule on them: the tier the period is heading for and what it would
// pay. An agreement accrues either what is earned to date, or the forecast's
// share for the days elapsed (the forecast rate applied to the sales so far).
import { daysInclusive } from '../shared/dates.ts';
import type { Decimal } from '../shared/decimal.ts';
import { calculateRule } from './calculate.ts';
import type {
  Agreement,
  DateWindow,
  Forecast,
  Rule,
  RuleInput,
  RuleResult,
  Totals,
} from './calculation.types.ts';

/** Days of the period elapsed on `asOf` (0 before it starts, all once it has ended) and its length. */
export function periodProgress(period: DateWindow, asOf: string): { elapsed: number; total: number } {
  const total = daysInclusive(period.start, period.end);
  if (asOf < period.start) return { elapsed: 0, total };
  if (asOf >= period.end) return { elapsed: total, total };
  return { elapsed: daysInclusive(period.start, asOf), total };
}

/** Additive figures × total ÷ elapsed, each rounded half away from zero to its own places. */
function project(value: Decimal, elapsed: number, total: number): Decimal {
  return value.mulRatio(BigInt(total), BigInt(elapsed), value.scale);
}

function projected(totals: Totals, elapsed: number, total: number): Totals {
  return {
    // Counts are not projected: the forecast says how much, not how many lines or products.
    lineCount: totals.lineCount,
    quantity: project(totals.quantity, elapsed, total),
    amount: project(totals.amount, elapsed, total),
    mixAmount: project(totals.mixAmount, elapsed, total),
    mixDistinctProducts: totals.mixDistinctProducts,
  };
}

/**
 * The forecast and the accrued amount of a rule's result for a period. Before
 * the period starts nothing is forecast or accrued; once it has ended the
 * forecast is what was earned.
 */
export function forecastOf(
  agreement: Agreement,
  rule: Rule,
  period: DateWindow,
  input: RuleInput,
  earned: RuleResult,
  asOf: string,
  minorUnits: number,
): { forecast: Forecast; accrued: Decimal } {
  const { elapsed, total } = periodProgress(period, asOf);
  let forecast: Forecast;
  if (elapsed === 0) {
    const zero = earned.rebate.sub(earned.rebate);
    forecast = {
      asOf,
      elapsedDays: 0,
      totalDays: total,
      quantity: zero,
      amount: zero,
      measure: zero,
      tierIndex: -1,
      rebate: zero,
    };
  } else {
    const result =
      elapsed === total
        ? earned
        : calculateRule(
            agreement,
            rule,
            period,
            { ...input, period: projected(input.period, elapsed, total) },
            {
              minorUnits,
              explain: false,
              ...(earned.baselineWindow ? { baselineWindow: earned.baselineWindow } : {}),
            },
          );
    forecast = {
      asOf,
      elapsedDays: elapsed,
      totalDays: total,
      quantity: result.quantity,
      amount: result.amount,
      measure: result.measure,
      tierIndex: result.tierIndex,
      rebate: result.rebate,
    };
  }
  const accrued =
    (agreement.accrualBasis ?? 'earned') === 'earned'
      ? earned.rebate
      : forecast.rebate.mulRatio(BigInt(elapsed), BigInt(total), minorUnits);
  return { forecast, accrued };
}
