// Proves the claim outcomes with figures worked by hand: 1,000.00 due, a
// tolerance of the larger of 1.00 and 0.5% (5.00).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import { claimTolerance, validateClaim } from './claim-validation.ts';

const d = Decimal.parse;

describe('claimTolerance', () => {
  test('the larger of the fixed amount and the percent of what is due', () => {
    assert.equal(claimTolerance(d('1000.00'), d('1.00'), d('0.5'), 2).toString(), '5.00');
    assert.equal(claimTolerance(d('100.00'), d('1.00'), d('0.5'), 2).toString(), '1.00', '0.50 < 1.00');
    assert.equal(claimTolerance(d('333.33'), d('0'), d('0.5'), 2).toString(), '1.67', '1.66665 rounds up');
    assert.equal(claimTolerance(d('1000'), d('1'), d('0.5'), 0).toString(), '5', 'yen: no minor unit');
  });
});

describe('validateClaim', () => {
  const tolerance = d('5.00');
  const outcome = (claimed: string, due = '1000.00') => {
    const o = validateClaim(d(claimed), d(due), tolerance);
    return `${o.status} ${o.approved} ${o.reasonCode}`;
  };
  test('within tolerance either way: approved as claimed', () => {
    assert.equal(outcome('1005.00'), 'approved 1005.00 within_tolerance');
    assert.equal(outcome('995.00'), 'approved 995.00 within_tolerance');
  });
  test('below what is due: approved as claimed', () => {
    assert.equal(outcome('600.00'), 'approved 600.00 below_calculated');
  });
  test('above what is due beyond tolerance: partially approved, paying what is due', () => {
    assert.equal(outcome('1005.01'), 'partially_approved 1000.00 exceeds_calculated');
  });
  test('nothing due: rejected', () => {
    assert.equal(outcome('10.00', '0.00'), 'rejected 0.00 nothing_due');
    assert.equal(outcome('10.00', '-5.00'), 'rejected 0.00 nothing_due');
  });
});
