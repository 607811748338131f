// Splitting an agreement's dates into the periods it is settled on, and the
// baseline window a growth rule compares each period with.
import { addYears, daysInMonth, parseIsoDate, toIsoDate } from '../shared/dates.ts';
import type { Agreement, DateWindow, Rule } from './calculation.types.ts';

/** Months in one period of each recurring calendar. */
const CALENDAR_MONTHS = { monthly: 1, quarterly: 3, yearly: 12 } as const;

/**
 * The agreement's periods in date order. A recurring calendar cuts at calendar
 * boundaries (months, quarters starting January, April, July, October, and
 * calendar years); the first and last period are clipped to the agreement's dates.
 */
export function agreementPeriods(agreement: Agreement): DateWindow[] {
  const { start, end } = agreement.window;
  if (agreement.calendar === 'none') return [{ start, end }];
  const months = CALENDAR_MONTHS[agreement.calendar];
  const first = parseIsoDate(start);
  // The calendar period that contains the start date.
  let year = first.year;
  let month = Math.floor((first.month - 1) / months) * months + 1;
  const periods: DateWindow[] = [];
  for (;;) {
    const periodStart = toIsoDate(year, month, 1);
    if (periodStart > end) break;
    let endMonth = month + months - 1;
    let endYear = year;
    while (endMonth > 12) {
      endMonth -= 12;
      endYear += 1;
    }
    const periodEnd = toIsoDate(endYear, endMonth, daysInMonth(endYear, endMonth));
    // ISO dates order as text: the later start and the earlier end clip the period to the agreement.
    periods.push({ start: [periodStart, start].sort()[1]!, end: [periodEnd, end].sort()[0]! });
    month = endMonth + 1;
    year = endYear;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return periods;
}

/**
 * The same end day a year earlier; a month's last day maps to that month's last
 * day, so February 2025 (ending the 28th) compares with all of February 2024.
 */
function endLastYear(end: string): string {
  const { year, month, day } = parseIsoDate(end);
  if (day === daysInMonth(year, month)) return toIsoDate(year - 1, month, daysInMonth(year - 1, month));
  return addYears(end, -1);
}

/** The baseline window for a growth rule's period, or undefined for other rules. */
export function baselineWindow(rule: Rule, period: DateWindow): DateWindow | undefined {
  const baseline = rule.growth?.baseline;
  if (baseline === undefined) return undefined;
  if (baseline.kind === 'window') return baseline.window;
  return { start: addYears(period.start, -1), end: endLastYear(period.end) };
}

/** Whether a period has begun, is under way, or has ended on `asOf`. */
export function periodStatus(period: DateWindow, asOf: string): 'not_started' | 'open' | 'closed' {
  if (asOf < period.start) return 'not_started';
  if (asOf < period.end) return 'open';
  return 'closed';
}
