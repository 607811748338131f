// Journal entries for the general ledger: CSV (one row per journal line, the
// layout ERP journal imports take) and JSON (entries with their lines), and a
// terminal table of a posting's entries.
import { csvField } from '../shared/csv-text.ts';
import { formatTextTable } from '../shared/text-table.ts';
import type { JournalEntry, PostingSummary } from './ledger.service.ts';

export type JournalFormat = 'table' | 'csv' | 'json';

export const JOURNAL_COLUMNS = [
  'entry',
  'posting',
  'date',
  'agreement',
  'rule',
  'period_start',
  'period_end',
  'currency',
  'line',
  'account',
  'debit',
  'credit',
  'memo',
] as const;

function rows(entries: readonly JournalEntry[]): string[][] {
  return entries.flatMap((e) =>
    e.lines.map((l, i) => [
      e.id ?? '',
      e.postingId ?? '',
      e.entryDate,
      e.agreementId,
      e.ruleId,
      e.periodStart,
      e.periodEnd,
      e.currency,
      String(i + 1),
      l.account,
      l.debit.isZero() ? '' : l.debit.toString(),
      l.credit.isZero() ? '' : l.credit.toString(),
      e.memo,
    ]),
  );
}

export function journalJson(entries: readonly JournalEntry[]) {
  return entries.map((e) => ({
    id: e.id ?? null,
    posting: e.postingId ?? null,
    source: e.source,
    date: e.entryDate,
    agreement: e.agreementId,
    rule: e.ruleId,
    periodStart: e.periodStart,
    periodEnd: e.periodEnd,
    currency: e.currency,
    amount: e.amount.toString(),
    memo: e.memo,
    lines: e.lines.map((l) => ({
      account: l.account,
      debit: l.debit.toString(),
      credit: l.credit.toString(),
    })),
  }));
}

export function formatJournal(entries: readonly JournalEntry[], format: JournalFormat): string {
  if (format === 'json') return `${JSON.stringify(journalJson(entries), null, 2)}\n`;
  if (format === 'csv')
    return `${[JOURNAL_COLUMNS.join(','), ...rows(entries).map((r) => r.map(csvField).join(','))].join('\n')}\n`;
  return formatTextTable(
    ['entry', 'date', 'agreement', 'rule', 'period', 'account', 'debit', 'credit'],
    rows(entries).map((r) => [r[0]!, r[2]!, r[3]!, r[4]!, `${r[5]}..${r[6]}`, r[9]!, r[10]!, r[11]!]),
    new Set([6, 7]),
  );
}

/** What a posting did, in a sentence per currency. */
export function postingSummaryText(summary: PostingSummary): string {
  const head = summary.dryRun
    ? `Dry run of the accrual posting for ${summary.period} (as of ${summary.asOf}): nothing was written.`
    : `Accrual posting ${summary.postingId} for ${summary.period} (as of ${summary.asOf}).`;
  const totals =
    summary.totals.length === 0
      ? ['No accrual changed since the last posting: no entries.']
      : summary.totals.map((t) => `Accrued rebates change by ${t.amount.toString()} ${t.currency}.`);
  return `${head}\n${summary.entries.length} journal entries.\n${totals.join('\n')}\n`;
}
