// Proves that calendar arithmetic on ISO dates agrees with the JavaScript calendar across leap years and centuries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dayNumber, daysInMonth, isIsoDate } from './dates.ts';

describe('daysInMonth and isIsoDate', () => {
  test('agree with the calendar of Date for every month of 1899 to 2401', () => {
    for (let year = 1899; year <= 2401; year++) {
      for (let month = 1; month <= 12; month++) {
        const expected = new Date(Date.UTC(year, month, 0)).getUTCDate();
        assert.equal(daysInMonth(year, month), expected, `${year}-${month}`);
      }
    }
    assert.equal(isIsoDate('2024-02-29'), true);
    assert.equal(isIsoDate('2100-02-29'), false);
    assert.equal(isIsoDate('2000-02-29'), true);
    assert.equal(isIsoDate('2025-04-31'), false);
    assert.equal(isIsoDate('2025-13-01'), false);
    assert.equal(isIsoDate('1899-12-31'), false);
    for (const text of [
      '2024-2-29',
      '2024-02-29 ',
      ' 2024-02-29',
      '2024/02/29',
      '+024-02-29',
      '2024-0a-01',
      '2024-02-00',
      '20240-02-1',
      '２０２４-02-01',
      '',
      '2024-02-2\u0000',
    ]) {
      assert.equal(isIsoDate(text), false, JSON.stringify(text));
    }
    assert.throws(() => daysInMonth(2025, 13));
  });
});

test('a day number is the days since 1970-01-01 of every calendar date from 1900 to 2401', () => {
  for (let days = Date.UTC(1900, 0, 1) / 86_400_000; days <= Date.UTC(2401, 11, 31) / 86_400_000; days++) {
    const iso = new Date(days * 86_400_000).toISOString().slice(0, 10);
    if (dayNumber(iso) !== days) assert.fail(`${iso}: ${dayNumber(iso)}, not ${days}`);
  }
});
