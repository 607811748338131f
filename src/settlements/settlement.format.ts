// Settlement results as a terminal table, CSV or JSON, and in the benchmark's
// expected.csv format. User-facing outputs number tiers from 1 ("tier 1" is
// the first tier, empty when none is reached); expected.csv keeps the
// benchmark's 0-based index with −1 for none.
import type { RuleResult } from '../calculation/calculation.types.ts';
import { periodStatus } from '../calculation/periods.ts';
import { csvField } from '../shared/csv-text.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import { formatDecimal, formatMoney } from '../shared/format.ts';
import { formatTextTable } from '../shared/text-table.ts';

export type SettlementFormat = 'table' | 'csv' | 'json';

/** The figures of one rule and period, shared by settlements and accrual positions. */
export const FIGURE_COLUMNS = [
  'lines',
  'quantity',
  'amount',
  'baseline_amount',
  'measure',
  'tier',
  'rebate',
  'held',
  'currency',
  'outcome',
] as const;

export const SETTLEMENT_COLUMNS = [
  'agreement',
  'rule',
  'period_start',
  'period_end',
  'status',
  ...FIGURE_COLUMNS,
] as const;

type Figures = Pick<
  RuleResult,
  | 'lineCount'
  | 'quantity'
  | 'amount'
  | 'baselineAmount'
  | 'measure'
  | 'tierIndex'
  | 'rebate'
  | 'heldRebate'
  | 'currency'
> & { outcome: string };

/** The figure columns as text; the baseline amount is empty for rules without a baseline. */
export function figureFields(
  r: Figures,
  hasBaseline: boolean,
): Record<(typeof FIGURE_COLUMNS)[number], string> {
  const minor = minorUnitsOf(r.currency);
  return {
    lines: String(r.lineCount),
    quantity: r.quantity.toPlainString(),
    amount: r.amount.roundHalfAwayFromZero(Math.max(minor, r.amount.scale)).toString(),
    baseline_amount: hasBaseline ? r.baselineAmount.toString() : '',
    measure: r.measure.toPlainString(),
    tier: r.tierIndex < 0 ? '' : String(r.tierIndex + 1),
    rebate: r.rebate.toFixedScale(minor),
    held: r.heldRebate.isZero() ? '' : r.heldRebate.toFixedScale(minor),
    currency: r.currency,
    outcome: r.outcome,
  };
}

function record(result: RuleResult, asOf: string): Record<(typeof SETTLEMENT_COLUMNS)[number], string> {
  return {
    agreement: result.agreementId,
    rule: result.ruleId,
    period_start: result.period.start,
    period_end: result.period.end,
    status: periodStatus(result.period, asOf),
    ...figureFields(result, result.baselineWindow !== undefined),
  };
}

export function formatSettlement(
  results: readonly RuleResult[],
  format: SettlementFormat,
  asOf: string,
): string {
  const records = results.map((r) => record(r, asOf));
  if (format === 'json') return `${JSON.stringify(records, null, 2)}\n`;
  if (format === 'csv') {
    return `${[SETTLEMENT_COLUMNS.join(','), ...records.map((r) => SETTLEMENT_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n')}\n`;
  }
  const shown = results.map((r) => {
    const minor = minorUnitsOf(r.currency);
    return [
      r.agreementId,
      r.ruleId,
      `${r.period.start}..${r.period.end}`,
      periodStatus(r.period, asOf),
      formatDecimal(r.measure),
      r.baselineWindow ? formatMoney(r.baselineAmount, minor) : '',
      r.tierIndex < 0 ? '-' : String(r.tierIndex + 1),
      `${formatMoney(r.rebate, minor)} ${r.currency}`,
      r.outcome === 'earned' ? '' : r.outcome.replaceAll('_', ' '),
    ];
  });
  const header = ['agreement', 'rule', 'period', 'status', 'measure', 'baseline', 'tier', 'rebate', 'note'];
  return `${formatTextTable(header, shown, new Set([4, 5, 6, 7]))}\n\n${results.length} rule-periods; total rebate ${totalRebateText(results)}\n`;
}

/** The rebates added up per currency: "1,234.50 USD, 80.00 EUR". */
export function totalRebateText(items: readonly { currency: string; rebate: Decimal }[]): string {
  const totals = new Map<string, Decimal>();
  for (const r of items) totals.set(r.currency, (totals.get(r.currency) ?? Decimal.ZERO).add(r.rebate));
  const text = [...totals.entries()]
    .map(([currency, total]) => `${formatMoney(total, minorUnitsOf(currency))} ${currency}`)
    .join(', ');
  return text || '0';
}

/** The benchmark's expected.csv: from settlement results or from stored accrual positions. */
export function formatExpectedCsv(
  results: readonly Pick<
    RuleResult,
    'agreementId' | 'quantity' | 'amount' | 'baselineAmount' | 'tierIndex' | 'rebate'
  >[],
): string {
  const byAgreement = [...results].sort((a, b) =>
    a.agreementId < b.agreementId ? -1 : a.agreementId > b.agreementId ? 1 : 0,
  );
  const lines = ['id,qty,amt,base_amt,tier,rebate'];
  for (const r of byAgreement) {
    lines.push(
      [
        r.agreementId,
        r.quantity.toPlainString(),
        r.amount.roundHalfAwayFromZero(2).toString(),
        r.baselineAmount.roundHalfAwayFromZero(2).toString(),
        String(r.tierIndex),
        r.rebate.roundHalfAwayFromZero(2).toString(),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
