// Stored accrual positions as a terminal table, CSV or JSON: where every
// agreement stands now, and how far each period is from its next tier.

import { FIGURE_COLUMNS, figureFields, totalRebateText } from '../settlements/settlement.format.ts';
import { csvField } from '../shared/csv-text.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { formatDecimal, formatMoney } from '../shared/format.ts';
import { formatTextTable } from '../shared/text-table.ts';
import type { AccrualPosition } from './accruals.service.ts';

export type AccrualFormat = 'table' | 'csv' | 'json';

export const ACCRUAL_COLUMNS = [
  'agreement',
  'rule',
  'period_start',
  'period_end',
  ...FIGURE_COLUMNS,
  'next_tier_from',
  'next_tier_remaining',
  'updated_at',
] as const;

function record(p: AccrualPosition): Record<(typeof ACCRUAL_COLUMNS)[number], string> {
  return {
    agreement: p.agreementId,
    rule: p.ruleId,
    period_start: p.period.start,
    period_end: p.period.end,
    // A position keeps the baseline amount, zero for rules without a baseline.
    ...figureFields(p, true),
    next_tier_from: p.nextTier?.from.toPlainString() ?? '',
    next_tier_remaining: p.nextTier?.remaining.toPlainString() ?? '',
    updated_at: p.updatedAt,
  };
}

export function formatAccruals(positions: readonly AccrualPosition[], format: AccrualFormat): string {
  const records = positions.map(record);
  if (format === 'json') return `${JSON.stringify(records, null, 2)}\n`;
  if (format === 'csv')
    return `${[ACCRUAL_COLUMNS.join(','), ...records.map((r) => ACCRUAL_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n')}\n`;
  const header = ['agreement', 'rule', 'period', 'measure', 'tier', 'rebate', 'to next tier', 'note'];
  const shown = positions.map((p) => [
    p.agreementId,
    p.ruleId,
    `${p.period.start}..${p.period.end}`,
    formatDecimal(p.measure),
    p.tierIndex < 0 ? '-' : String(p.tierIndex + 1),
    `${formatMoney(p.rebate, minorUnitsOf(p.currency))} ${p.currency}`,
    // The next tier is always the one above the tier reached; growth tiers need more period amount.
    p.nextTier ? `${formatDecimal(p.nextTier.remaining)} more for tier ${p.tierIndex + 2}` : '',
    p.outcome === 'earned' ? '' : p.outcome.replaceAll('_', ' '),
  ]);
  return `${formatTextTable(header, shown, new Set([3, 4, 5, 6]))}\n\n${positions.length} rule-periods; total accrued ${totalRebateText(positions)}\n`;
}
