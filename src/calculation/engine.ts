// Settling an agreement: every rule over every period, given a way to total
// the qualifying lines of a window. The totals function is supplied by the
// caller (SQL over the store, or `aggregateLines` over lines in memory), which
// keeps this module free of any I/O.
import { calculateRule } from './calculate.ts';
import type { Agreement, DateWindow, Rule, RuleResult, Totals } from './calculation.types.ts';
import { forecastOf } from './forecast.ts';
import { agreementPeriods, baselineWindow } from './periods.ts';

export interface TotalsRequest {
  agreement: Agreement;
  rule: Rule;
  window: DateWindow;
  role: 'period' | 'baseline';
}

export interface SettleAgreementOptions {
  minorUnits: number;
  /** Lines dated after this day are ignored and periods starting after it are skipped. */
  asOf?: string;
  /** Record each result's arithmetic steps (default true). */
  explain?: boolean;
  /** Add each result's forecast to period end and its accrued amount, as of this day. */
  forecastAsOf?: string;
}

/** The windows whose totals `settleAgreement` will ask for, so a caller can fetch them in one batch. */
export function totalsRequests(agreement: Agreement, asOf?: string): TotalsRequest[] {
  const requests: TotalsRequest[] = [];
  for (const whole of activePeriods(agreement, asOf)) {
    for (const rule of agreement.rules) {
      const period = inForce(whole, rule);
      if (period === undefined) continue;
      requests.push({ agreement, rule, window: clip(period, asOf), role: 'period' });
      const baseline = baselineWindow(rule, period);
      if (baseline) requests.push({ agreement, rule, window: clip(baseline, asOf), role: 'baseline' });
    }
  }
  return requests;
}

function activePeriods(agreement: Agreement, asOf: string | undefined): DateWindow[] {
  return agreementPeriods(agreement).filter((p) => asOf === undefined || p.start <= asOf);
}

/** The part of a period the rule's agreement version is in force for, if any. */
function inForce(period: DateWindow, rule: Rule): DateWindow | undefined {
  if (rule.effective === undefined) return period;
  // ISO dates order as text: the later start and the earlier end.
  const start = period.start > rule.effective.start ? period.start : rule.effective.start;
  const end = period.end < rule.effective.end ? period.end : rule.effective.end;
  return start <= end ? { start, end } : undefined;
}

function clip(window: DateWindow, asOf: string | undefined): DateWindow {
  return asOf !== undefined && window.end > asOf ? { start: window.start, end: asOf } : window;
}

export function settleAgreement(
  agreement: Agreement,
  totalsOf: (request: TotalsRequest) => Totals,
  options: SettleAgreementOptions,
): RuleResult[] {
  const results: RuleResult[] = [];
  for (const whole of activePeriods(agreement, options.asOf)) {
    for (const rule of agreement.rules) {
      const period = inForce(whole, rule);
      if (period === undefined) continue;
      const window = clip(period, options.asOf);
      const baseline = baselineWindow(rule, period);
      const input = {
        period: totalsOf({ agreement, rule, window, role: 'period' }),
        ...(baseline
          ? {
              baseline: totalsOf({ agreement, rule, window: clip(baseline, options.asOf), role: 'baseline' }),
            }
          : {}),
      };
      const result = calculateRule(agreement, rule, period, input, {
        minorUnits: options.minorUnits,
        ...(baseline ? { baselineWindow: baseline } : {}),
        ...(options.explain === false ? { explain: false } : {}),
      });
      if (options.forecastAsOf !== undefined) {
        // Set on the result rather than copied into a new one: a copy of every result was a fifth of reading positions.
        const { forecast, accrued } = forecastOf(
          agreement,
          rule,
          period,
          input,
          result,
          options.forecastAsOf,
          options.minorUnits,
        );
        result.forecast = forecast;
        result.accrued = accrued;
      }
      results.push(result);
    }
  }
  return results;
}
