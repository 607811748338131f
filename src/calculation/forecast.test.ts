// Proves the run-rate forecast and the accrual on each basis with figures worked
// by hand: a quarter of 90 days, 30 elapsed, 10,000.00 sold so far.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import type { Agreement, Totals } from './calculation.types.ts';
import { settleAgreement } from './engine.ts';
import { periodProgress } from './forecast.ts';

const agreement = (accrualBasis?: 'earned' | 'forecast'): Agreement => ({
  id: 'A',
  name: 'A',
  partner: 'P',
  currency: 'USD',
  window: { start: '2025-01-01', end: '2025-03-31' },
  calendar: 'none',
  ...(accrualBasis ? { accrualBasis } : {}),
  rules: [
    {
      id: 'R',
      type: 'volume',
      basis: 'amount',
      method: 'retroactive',
      payout: 'percent',
      tiers: [
        { from: Decimal.ZERO, rate: Decimal.parse('1') },
        { from: Decimal.parse('25000'), rate: Decimal.parse('3') },
      ],
      scope: {},
    },
  ],
});
const soFar: Totals = {
  lineCount: 12,
  quantity: Decimal.parse('40'),
  amount: Decimal.parse('10000.00'),
  mixAmount: Decimal.ZERO,
  mixDistinctProducts: 0,
};
const settle = (a: Agreement, asOf: string) =>
  settleAgreement(a, () => soFar, { minorUnits: 2, forecastAsOf: asOf })[0]!;

describe('periodProgress', () => {
  test('counts both ends; nothing before the start; everything after the end', () => {
    const q1 = { start: '2025-01-01', end: '2025-03-31' };
    assert.deepEqual(periodProgress(q1, '2025-01-30'), { elapsed: 30, total: 90 });
    assert.deepEqual(periodProgress(q1, '2025-01-01'), { elapsed: 1, total: 90 });
    assert.deepEqual(periodProgress(q1, '2024-12-31'), { elapsed: 0, total: 90 });
    assert.deepEqual(periodProgress(q1, '2025-03-31'), { elapsed: 90, total: 90 });
    assert.deepEqual(periodProgress({ start: '2024-02-01', end: '2024-02-29' }, '2024-02-15'), {
      elapsed: 15,
      total: 29,
    });
  });
});

describe('forecast and accrual', () => {
  test('30 of 90 days with 10,000.00 sold: 30,000.00 forecast reaches the 3% tier', () => {
    const result = settle(agreement(), '2025-01-30');
    assert.equal(result.rebate.toString(), '100.00', 'earned: 1% × 10,000.00');
    assert.equal(result.forecast!.amount.toString(), '30000.00', '10,000.00 × 90 ÷ 30');
    assert.equal(result.forecast!.quantity.toString(), '120');
    assert.equal(result.forecast!.tierIndex, 1);
    assert.equal(result.forecast!.rebate.toString(), '900.00', '3% × 30,000.00');
    assert.equal(result.accrued!.toString(), '100.00', 'the earned basis accrues what is earned');
  });

  test('the forecast basis accrues the forecast for the days elapsed: 900.00 × 30 ÷ 90', () => {
    const result = settle(agreement('forecast'), '2025-01-30');
    assert.equal(result.accrued!.toString(), '300.00');
  });

  test('an ended period forecasts what it earned; one not started forecasts and accrues nothing', () => {
    const ended = settle(agreement('forecast'), '2025-06-30');
    assert.equal(ended.forecast!.rebate.toString(), '100.00');
    assert.equal(ended.accrued!.toString(), '100.00');
    const ahead = settle(agreement('forecast'), '2024-12-01');
    assert.equal(ahead.forecast!.rebate.toString(), '0.00');
    assert.equal(ahead.accrued!.toString(), '0.00');
  });

  test('uneven projections round to the cent: 10,000.00 × 90 ÷ 7', () => {
    const result = settle(agreement('forecast'), '2025-01-07');
    assert.equal(result.forecast!.amount.toString(), '128571.43', '128,571.428… rounds down');
    assert.equal(result.forecast!.rebate.toString(), '3857.14', '3% × 128,571.43 = 3,857.1429');
    assert.equal(result.accrued!.toString(), '300.00', '3,857.14 × 7 = 26,999.98; ÷ 90 = 299.9998 → 300.00');
  });
});
