// Proves which version is in force on which dates: later versions replace earlier
// ones from their effective date, a retroactive version supersedes those it
// predates, a shortened end leaves no terms after it, and the agreement settled
// from the versions carries each rule limited to its version's dates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Agreement } from '../calculation/calculation.types.ts';
import { settleAgreement } from '../calculation/engine.ts';
import { Decimal } from '../shared/decimal.ts';
import { agreementInForce, versionSpans } from './versions.ts';

const terms = (rate: string, end = '2025-12-31'): Agreement => ({
  id: 'A',
  name: `at ${rate}%`,
  partner: 'P',
  currency: 'USD',
  window: { start: '2025-01-01', end },
  calendar: 'quarterly',
  rules: [
    {
      id: 'R',
      type: 'volume',
      basis: 'amount',
      method: 'retroactive',
      payout: 'percent',
      tiers: [{ from: Decimal.ZERO, rate: Decimal.parse(rate) }],
      scope: {},
    },
  ],
});
const spans = (list: Parameters<typeof versionSpans>[0]) =>
  versionSpans(list).map((s) => `v${s.version} ${s.start}..${s.end}`);

describe('versionSpans', () => {
  test('each version is in force from its date until the next one', () => {
    assert.deepEqual(
      spans([
        { version: 1, effectiveFrom: '2025-01-01', terms: terms('1') },
        { version: 2, effectiveFrom: '2025-05-15', terms: terms('3') },
        { version: 3, effectiveFrom: '2025-10-01', terms: terms('4', '2026-03-31') },
      ]),
      ['v1 2025-01-01..2025-05-14', 'v2 2025-05-15..2025-09-30', 'v3 2025-10-01..2026-03-31'],
    );
  });

  test('a later version with an earlier date replaces the versions it predates', () => {
    assert.deepEqual(
      spans([
        { version: 1, effectiveFrom: '2025-01-01', terms: terms('1') },
        { version: 2, effectiveFrom: '2025-07-01', terms: terms('3') },
        { version: 3, effectiveFrom: '2025-04-01', terms: terms('2') },
      ]),
      ['v1 2025-01-01..2025-03-31', 'v3 2025-04-01..2025-12-31'],
    );
  });

  test('a version that ends the agreement early leaves no terms after its end', () => {
    assert.deepEqual(
      spans([
        { version: 1, effectiveFrom: '2025-01-01', terms: terms('1') },
        { version: 2, effectiveFrom: '2025-03-01', terms: terms('1', '2025-06-30') },
      ]),
      ['v1 2025-01-01..2025-02-28', 'v2 2025-03-01..2025-06-30'],
    );
  });
});

describe('agreementInForce', () => {
  test('a quarter cut by an effective date is settled in two parts, each at its version rate', () => {
    const agreement = agreementInForce([
      { version: 1, effectiveFrom: '2025-01-01', terms: terms('1') },
      { version: 2, effectiveFrom: '2025-05-15', terms: terms('3') },
    ]);
    assert.equal(agreement.name, 'at 3%', 'the latest heading');
    // 1,000.00 of sales in every window asked for: each part pays its own rate on it.
    const results = settleAgreement(
      agreement,
      () => ({
        lineCount: 1,
        quantity: Decimal.ONE,
        amount: Decimal.parse('1000.00'),
        mixAmount: Decimal.ZERO,
        mixDistinctProducts: 0,
      }),
      { minorUnits: 2 },
    );
    assert.deepEqual(
      results.map((r) => `v${r.version} ${r.period.start}..${r.period.end} ${r.rebate}`),
      [
        'v1 2025-01-01..2025-03-31 10.00',
        'v1 2025-04-01..2025-05-14 10.00',
        'v2 2025-05-15..2025-06-30 30.00',
        'v2 2025-07-01..2025-09-30 30.00',
        'v2 2025-10-01..2025-12-31 30.00',
      ],
    );
  });
});
