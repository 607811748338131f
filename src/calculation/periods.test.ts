// Proves agreements are cut into calendar periods clipped to their dates, growth baselines fall on the right days, and settleAgreement honours asOf.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../shared/decimal.ts';
import { aggregateLines, type Line } from './aggregate.ts';
import type { Agreement, Calendar, DateWindow, Product, Rule, Totals } from './calculation.types.ts';
import { settleAgreement, type TotalsRequest, totalsRequests } from './engine.ts';
import { agreementPeriods, baselineWindow, periodStatus } from './periods.ts';

const D = (text: string) => Decimal.parse(text);

function agreement(calendar: Calendar, start: string, end: string, rules: Rule[] = []): Agreement {
  return { id: 'AG1', name: 'Test', partner: 'P1', currency: 'USD', window: { start, end }, calendar, rules };
}

const w = (start: string, end: string): DateWindow => ({ start, end });

const volumeRule: Rule = {
  id: 'VOL',
  type: 'volume',
  basis: 'amount',
  method: 'retroactive',
  payout: 'percent',
  tiers: [{ from: D('0'), rate: D('2') }],
  scope: {},
};

const growthRule: Rule = {
  ...volumeRule,
  id: 'GRO',
  type: 'growth',
  tiers: [{ from: D('0'), rate: D('1') }],
  growth: { apply: 'total', baseline: { kind: 'same_period_last_year' } },
};

describe('agreementPeriods', () => {
  test('calendar none is the whole window', () => {
    assert.deepEqual(agreementPeriods(agreement('none', '2025-02-15', '2025-11-20')), [
      w('2025-02-15', '2025-11-20'),
    ]);
  });

  test('monthly, with a start mid-month and an end mid-month', () => {
    assert.deepEqual(agreementPeriods(agreement('monthly', '2025-01-15', '2025-04-10')), [
      w('2025-01-15', '2025-01-31'),
      w('2025-02-01', '2025-02-28'),
      w('2025-03-01', '2025-03-31'),
      w('2025-04-01', '2025-04-10'),
    ]);
  });

  test('monthly over a leap-year February', () => {
    assert.deepEqual(agreementPeriods(agreement('monthly', '2024-01-01', '2024-04-30')), [
      w('2024-01-01', '2024-01-31'),
      w('2024-02-01', '2024-02-29'),
      w('2024-03-01', '2024-03-31'),
      w('2024-04-01', '2024-04-30'),
    ]);
    // 2100 is not a leap year (divisible by 100, not by 400); 2000 is
    assert.deepEqual(agreementPeriods(agreement('monthly', '2100-02-01', '2100-02-28')), [
      w('2100-02-01', '2100-02-28'),
    ]);
    assert.deepEqual(agreementPeriods(agreement('monthly', '2000-02-10', '2000-03-05')), [
      w('2000-02-10', '2000-02-29'),
      w('2000-03-01', '2000-03-05'),
    ]);
  });

  test('monthly across a year end', () => {
    assert.deepEqual(agreementPeriods(agreement('monthly', '2024-11-20', '2025-01-31')), [
      w('2024-11-20', '2024-11-30'),
      w('2024-12-01', '2024-12-31'),
      w('2025-01-01', '2025-01-31'),
    ]);
  });

  test('quarterly, clipping a start mid-quarter and an end mid-month', () => {
    assert.deepEqual(agreementPeriods(agreement('quarterly', '2025-02-15', '2025-11-20')), [
      w('2025-02-15', '2025-03-31'),
      w('2025-04-01', '2025-06-30'),
      w('2025-07-01', '2025-09-30'),
      w('2025-10-01', '2025-11-20'),
    ]);
  });

  test('quarterly over a full year and across a year end', () => {
    assert.deepEqual(agreementPeriods(agreement('quarterly', '2024-01-01', '2024-12-31')), [
      w('2024-01-01', '2024-03-31'),
      w('2024-04-01', '2024-06-30'),
      w('2024-07-01', '2024-09-30'),
      w('2024-10-01', '2024-12-31'),
    ]);
    assert.deepEqual(agreementPeriods(agreement('quarterly', '2024-12-15', '2025-02-10')), [
      w('2024-12-15', '2024-12-31'),
      w('2025-01-01', '2025-02-10'),
    ]);
  });

  test('yearly, clipped at both ends', () => {
    assert.deepEqual(agreementPeriods(agreement('yearly', '2024-07-01', '2026-03-31')), [
      w('2024-07-01', '2024-12-31'),
      w('2025-01-01', '2025-12-31'),
      w('2026-01-01', '2026-03-31'),
    ]);
  });

  test('a one-day agreement is one period', () => {
    for (const calendar of ['none', 'monthly', 'quarterly', 'yearly'] as const) {
      assert.deepEqual(agreementPeriods(agreement(calendar, '2025-05-17', '2025-05-17')), [
        w('2025-05-17', '2025-05-17'),
      ]);
    }
  });

  test('periods tile the window: contiguous, in order, no gaps', () => {
    for (const calendar of ['monthly', 'quarterly', 'yearly'] as const) {
      const periods = agreementPeriods(agreement(calendar, '2023-03-17', '2026-08-09'));
      assert.equal(periods[0]?.start, '2023-03-17');
      assert.equal(periods.at(-1)?.end, '2026-08-09');
      for (let i = 1; i < periods.length; i++) {
        const prevEnd = new Date(`${periods[i - 1]!.end}T00:00:00Z`);
        prevEnd.setUTCDate(prevEnd.getUTCDate() + 1);
        assert.equal(periods[i]!.start, prevEnd.toISOString().slice(0, 10), `${calendar} period ${i}`);
      }
    }
  });
});

describe('baselineWindow', () => {
  test('non-growth rules have none', () => {
    assert.equal(baselineWindow(volumeRule, w('2025-01-01', '2025-03-31')), undefined);
  });

  test('same_period_last_year moves both ends back one year', () => {
    assert.deepEqual(
      baselineWindow(growthRule, w('2025-01-01', '2025-03-31')),
      w('2024-01-01', '2024-03-31'),
    );
    assert.deepEqual(
      baselineWindow(growthRule, w('2025-04-15', '2025-06-20')),
      w('2024-04-15', '2024-06-20'),
    );
  });

  test('29 February falls back to 28 February', () => {
    assert.deepEqual(
      baselineWindow(growthRule, w('2024-02-29', '2024-03-15')),
      w('2023-02-28', '2023-03-15'),
    );
    assert.deepEqual(
      baselineWindow(growthRule, w('2024-02-01', '2024-02-29')),
      w('2023-02-01', '2023-02-28'),
    );
  });

  test('a period ending on the last day of February compares with the whole of last February', () => {
    // February 2025 ends on the 28th; February 2024 has 29 days, and a sale on 2024-02-29 belongs to its baseline
    assert.deepEqual(
      baselineWindow(growthRule, w('2025-02-01', '2025-02-28')),
      w('2024-02-01', '2024-02-29'),
    );
    assert.deepEqual(
      baselineWindow(growthRule, w('2024-03-01', '2025-02-28')),
      w('2023-03-01', '2024-02-29'),
    );
    // a mid-month end keeps its day
    assert.deepEqual(
      baselineWindow(growthRule, w('2025-02-01', '2025-02-27')),
      w('2024-02-01', '2024-02-27'),
    );
  });

  test('an explicit window is used as given', () => {
    const explicit: Rule = {
      ...growthRule,
      growth: { apply: 'increment', baseline: { kind: 'window', window: w('2023-07-01', '2024-06-30') } },
    };
    assert.deepEqual(baselineWindow(explicit, w('2025-01-01', '2025-03-31')), w('2023-07-01', '2024-06-30'));
    assert.deepEqual(baselineWindow(explicit, w('2025-04-01', '2025-06-30')), w('2023-07-01', '2024-06-30'));
  });
});

describe('periodStatus', () => {
  test('not started, open, closed', () => {
    const q2 = w('2025-04-01', '2025-06-30');
    assert.equal(periodStatus(q2, '2025-03-31'), 'not_started');
    assert.equal(periodStatus(q2, '2025-04-01'), 'open');
    assert.equal(periodStatus(q2, '2025-05-15'), 'open');
    assert.equal(periodStatus(q2, '2025-07-01'), 'closed');
  });
});

describe('settleAgreement', () => {
  const ZERO_TOTALS: Totals = {
    lineCount: 0,
    quantity: D('0'),
    amount: D('0'),
    mixAmount: D('0'),
    mixDistinctProducts: 0,
  };

  function recordingTotals() {
    const requests: TotalsRequest[] = [];
    const totalsOf = (request: TotalsRequest): Totals => {
      requests.push(request);
      return ZERO_TOTALS;
    };
    return { requests, totalsOf };
  }

  test('without asOf every period of every rule is settled', () => {
    const ag = agreement('quarterly', '2025-01-01', '2025-12-31', [volumeRule, growthRule]);
    const { requests, totalsOf } = recordingTotals();
    const results = settleAgreement(ag, totalsOf, { minorUnits: 2 });
    assert.equal(results.length, 8); // 4 quarters × 2 rules
    assert.deepEqual(
      results.map((r) => `${r.ruleId} ${r.period.start}`),
      [
        'VOL 2025-01-01',
        'GRO 2025-01-01',
        'VOL 2025-04-01',
        'GRO 2025-04-01',
        'VOL 2025-07-01',
        'GRO 2025-07-01',
        'VOL 2025-10-01',
        'GRO 2025-10-01',
      ],
    );
    // 4 period requests for VOL, 4 period + 4 baseline requests for GRO
    assert.equal(requests.length, 12);
    assert.deepEqual(results[1]?.baselineWindow, w('2024-01-01', '2024-03-31'));
    assert.equal(results[0]?.baselineWindow, undefined);
  });

  test('asOf skips periods starting after it and clips the open period', () => {
    const ag = agreement('quarterly', '2025-01-01', '2025-12-31', [volumeRule]);
    const { requests, totalsOf } = recordingTotals();
    const results = settleAgreement(ag, totalsOf, { minorUnits: 2, asOf: '2025-05-15' });
    // Q1 closed, Q2 open, Q3 and Q4 not started
    assert.deepEqual(
      results.map((r) => r.period),
      [w('2025-01-01', '2025-03-31'), w('2025-04-01', '2025-06-30')],
    );
    // the totals of the open period stop at asOf
    assert.deepEqual(
      requests.map((r) => [r.role, r.window]),
      [
        ['period', w('2025-01-01', '2025-03-31')],
        ['period', w('2025-04-01', '2025-05-15')],
      ],
    );
  });

  test('a period that starts on asOf is settled over its first day', () => {
    const ag = agreement('monthly', '2025-01-01', '2025-06-30', [volumeRule]);
    const { requests, totalsOf } = recordingTotals();
    const results = settleAgreement(ag, totalsOf, { minorUnits: 2, asOf: '2025-03-01' });
    assert.equal(results.length, 3);
    assert.deepEqual(requests.at(-1)?.window, w('2025-03-01', '2025-03-01'));
  });

  test('asOf before the agreement starts settles nothing', () => {
    const ag = agreement('none', '2025-01-01', '2025-12-31', [volumeRule]);
    const { requests, totalsOf } = recordingTotals();
    assert.deepEqual(settleAgreement(ag, totalsOf, { minorUnits: 2, asOf: '2024-12-31' }), []);
    assert.equal(requests.length, 0);
  });

  test('totalsRequests lists exactly the requests settleAgreement makes', () => {
    const ag = agreement('quarterly', '2025-01-01', '2025-12-31', [volumeRule, growthRule]);
    for (const asOf of [undefined, '2025-01-01', '2025-08-20', '2026-01-01']) {
      const { requests, totalsOf } = recordingTotals();
      settleAgreement(ag, totalsOf, { minorUnits: 2, ...(asOf ? { asOf } : {}) });
      assert.deepEqual(totalsRequests(ag, asOf), requests, `asOf ${asOf}`);
    }
  });

  test('end to end over lines: a line after asOf is not counted', () => {
    const ag = agreement('quarterly', '2025-01-01', '2025-06-30', [volumeRule]);
    const products = new Map<string, Product>([['SKU1', { sku: 'SKU1', category: 'C1', attributes: {} }]]);
    const partners = new Set(['P1']);
    const line = (id: string, date: string, amount: string): Line => ({
      id,
      date,
      partner: 'P1',
      sku: 'SKU1',
      quantity: D('1'),
      amount: D(amount),
      currency: 'USD',
    });
    const lines = [
      line('1', '2025-02-10', '1000.00'),
      line('2', '2025-04-10', '500.00'),
      line('3', '2025-05-15', '250.00'),
      line('4', '2025-05-16', '9999.00'), // after asOf
    ];
    const totalsOf = (r: TotalsRequest) =>
      aggregateLines(r.agreement, r.rule, r.window, partners, products, lines);
    const results = settleAgreement(ag, totalsOf, { minorUnits: 2, asOf: '2025-05-15' });
    // Q1: 2% × 1,000.00 = 20.00; Q2 to date: 2% × (500.00 + 250.00) = 15.00
    assert.deepEqual(
      results.map((r) => [r.amount.toString(), r.rebate.toString()]),
      [
        ['1000.00', '20.00'],
        ['750.00', '15.00'],
      ],
    );
    // without asOf the Q2 line of 9,999.00 counts: 2% × 10,749.00 = 214.98
    const full = settleAgreement(ag, totalsOf, { minorUnits: 2 });
    assert.equal(full[1]?.rebate.toString(), '214.98');
  });

  test('the growth baseline of a monthly February includes 29 February of the year before', () => {
    const ag = agreement('monthly', '2025-02-01', '2025-02-28', [growthRule]);
    const { requests, totalsOf } = recordingTotals();
    settleAgreement(ag, totalsOf, { minorUnits: 2 });
    assert.deepEqual(
      requests.map((r) => [r.role, r.window]),
      [
        ['period', w('2025-02-01', '2025-02-28')],
        ['baseline', w('2024-02-01', '2024-02-29')],
      ],
    );
  });
});
