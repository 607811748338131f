// Calendar dates as ISO `YYYY-MM-DD` text. Dates carry no time zone: a rebate
// period is a range of calendar days, inclusive at both ends.
import assert from 'node:assert/strict';

/** The number of the ASCII digits at `text[from]` to `text[to - 1]`, or -1 when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// Read by character codes rather than a regular expression: dates are checked
// on every imported line and parsed in every period calculation.
export function isIsoDate(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  const y = digitsAt(text, 0, 4);
  const mo = digitsAt(text, 5, 7);
  const d = digitsAt(text, 8, 10);
  if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  assert.ok(month >= 1 && month <= 12, `month ${month} is not 1 to 12`);
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

export function toIsoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function parseIsoDate(text: string): { year: number; month: number; day: number } {
  assert.ok(isIsoDate(text), `not an ISO date: ${text}`);
  return { year: digitsAt(text, 0, 4), month: digitsAt(text, 5, 7), day: digitsAt(text, 8, 10) };
}

/** The same calendar day a number of years earlier or later; 29 February falls back to the 28th. */
export function addYears(text: string, years: number): string {
  const { year, month, day } = parseIsoDate(text);
  const y = year + years;
  return toIsoDate(y, month, Math.min(day, daysInMonth(y, month)));
}

export function addDays(text: string, days: number): string {
  const { year, month, day } = parseIsoDate(text);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** Days from `start` to `end`, both counted: 1 for the same day, 0 when `end` is the day before. */
export function daysInclusive(start: string, end: string): number {
  const a = parseIsoDate(start);
  const b = parseIsoDate(end);
  // Whole days between two UTC midnights: exact, no daylight saving in UTC.
  return (Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000 + 1;
}

/** Days since 1970-01-01 of an ISO date, as Howard Hinnant's days_from_civil counts them. */
export function dayNumber(text: string): number {
  // Read by character codes, without a Date: this runs for every line a checking
  // worker passes into the columns of lines (transactions/line-columns.ts).
  let year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  if (month <= 2) year -= 1;
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
