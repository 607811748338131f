// The journal finance posts: accrual postings turn the change in every accrual
// since the last posting into balanced journal entries (debit rebate expense,
// credit accrued rebates; the other way round for a decrease). Entries are
// append-only: late data, a corrected line or a cancelled agreement is a new
// entry, never an edit. Every entry balances when it is built, when it is
// committed (a database trigger), and when it is read back.
import { sql } from 'kysely';
import { appendAudit } from '../audit/audit.service.ts';
import { settle } from '../settlements/settlement.service.ts';
import { daysInMonth } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError } from '../shared/errors.ts';
import type { Database, Store } from '../store/database.ts';
import type { LedgerAccountsTable } from '../store/store.types.ts';

/** Serialises postings. Advisory locks are taken in one order: accruals, ledger, audit trail. */
const LEDGER_LOCK_KEY = 7_202_613;

export type AccountPurpose = LedgerAccountsTable['purpose'];

export interface JournalLine {
  account: string;
  debit: Decimal;
  credit: Decimal;
}

export interface JournalEntry {
  id?: string;
  source: 'accrual' | 'settlement';
  postingId?: string;
  /** The settlement a settlement entry posts. */
  settlementId?: string;
  entryDate: string;
  agreementId: string;
  ruleId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  /** The change to the accrued liability: positive increases it, negative reverses part of it. */
  amount: Decimal;
  memo: string;
  lines: JournalLine[];
}

export interface PostingSummary {
  postingId: string | null;
  period: string;
  asOf: string;
  dryRun: boolean;
  entries: JournalEntry[];
  /** Net change to accrued rebates per currency. */
  totals: { currency: string; amount: Decimal }[];
}

/** Refuses an entry whose debits and credits differ; returns it otherwise. */
export function assertBalanced(entry: JournalEntry): JournalEntry {
  const debits = Decimal.sum(entry.lines.map((l) => l.debit));
  const credits = Decimal.sum(entry.lines.map((l) => l.credit));
  if (!debits.eq(credits))
    throw new Error(
      `journal entry ${entry.id ?? '(new)'} does not balance: debits ${debits}, credits ${credits}`,
    );
  return entry;
}

/**
 * The lines of an accrual change: an increase debits rebate expense and credits
 * accrued rebates; a decrease (a reversal or true-up down) does the opposite.
 */
export function accrualLines(change: Decimal, accounts: Record<AccountPurpose, string>): JournalLine[] {
  const size = change.sign() < 0 ? change.neg() : change;
  const zero = size.sub(size);
  const [debit, credit] =
    change.sign() < 0
      ? [accounts.accrued_rebates, accounts.rebate_expense]
      : [accounts.rebate_expense, accounts.accrued_rebates];
  return [
    { account: debit, debit: size, credit: zero },
    { account: credit, debit: zero, credit: size },
  ];
}

export async function ledgerAccounts(db: Database): Promise<Record<AccountPurpose, string>> {
  const rows = await db.selectFrom('ledger_accounts').select(['purpose', 'account']).execute();
  return Object.fromEntries(rows.map((r) => [r.purpose, r.account])) as Record<AccountPurpose, string>;
}

/** The last day of a `YYYY-MM` period; a DomainError names the parameter when it is not one. */
export function periodEnd(period: string): string {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!match)
    throw new DomainError('invalid_period', `period: "${period}" is not a month written YYYY-MM`, [
      { field: 'period', code: 'invalid_period', message: 'a month written YYYY-MM' },
    ]);
  const year = Number(match[1]);
  const month = Number(match[2]);
  return `${period}-${String(daysInMonth(year, month)).padStart(2, '0')}`;
}

const keyOf = (agreementId: string, ruleId: string, start: string, end: string) =>
  `${agreementId}\u0000${ruleId}\u0000${start}\u0000${end}`;

class DryRun extends Error {
  constructor(readonly summary: PostingSummary) {
    super('dry run: rolled back');
  }
}

/**
 * Posts the change in every accrual, as of the period's last day, since the last
 * posting. A period before the latest one posted is refused (its figures are in
 * the later posting already); the same period again posts only what changed.
 * With `dryRun` the same work is done and rolled back.
 */
export async function postAccruals(
  store: Store,
  options: { period: string; actor: string; requestId?: string; dryRun?: boolean },
): Promise<PostingSummary> {
  const asOf = periodEnd(options.period);
  try {
    return await store.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY})`.execute(trx);
      const latest = await trx
        .selectFrom('accrual_postings')
        .select((eb) => eb.fn.max('period').as('period'))
        .executeTakeFirst();
      if (latest?.period && latest.period > options.period)
        throw new DomainError(
          'period_before_last_posting',
          `period: ${latest.period} is posted already, and it includes ${options.period}; post ${latest.period} or later`,
          [{ field: 'period', code: 'period_before_last_posting', message: `${latest.period} is posted` }],
        );
      const accounts = await ledgerAccounts(trx);
      const run = await settle(trx, { asOf, forecastAsOf: asOf });
      const posted = await sql<{
        agreement_id: string;
        rule_id: string;
        period_start: string;
        period_end: string;
        currency: string;
        amount: string;
      }>`
        SELECT agreement_id, rule_id, period_start::text, period_end::text, currency, sum(amount)::text AS amount
        FROM journal_entries WHERE source = 'accrual'
        GROUP BY agreement_id, rule_id, period_start, period_end, currency`.execute(trx);
      const before = new Map(
        posted.rows.map((r) => [keyOf(r.agreement_id, r.rule_id, r.period_start, r.period_end), r]),
      );
      const entries: JournalEntry[] = [];
      const entry = (
        agreementId: string,
        ruleId: string,
        period: { start: string; end: string },
        currency: string,
        change: Decimal,
        memo: string,
      ) =>
        entries.push(
          assertBalanced({
            source: 'accrual',
            entryDate: asOf,
            agreementId,
            ruleId,
            periodStart: period.start,
            periodEnd: period.end,
            currency,
            amount: change,
            memo,
            lines: accrualLines(change, accounts),
          }),
        );
      for (const r of run.results) {
        const key = keyOf(r.agreementId, r.ruleId, r.period.start, r.period.end);
        const previous = before.get(key);
        before.delete(key);
        const change = r.accrued!.sub(Decimal.parse(previous?.amount ?? '0'));
        if (change.isZero()) continue;
        const what = previous ? (change.sign() < 0 ? 'true-up down' : 'true-up') : 'accrual';
        entry(
          r.agreementId,
          r.ruleId,
          r.period,
          r.currency,
          change,
          `${what} ${r.agreementId}/${r.ruleId} ${r.period.start}..${r.period.end} as of ${asOf}: accrued ${r.accrued}`,
        );
      }
      // Accruals no longer calculated (a cancelled agreement, a period an amendment re-cut) are reversed.
      for (const r of before.values()) {
        const amount = Decimal.parse(r.amount);
        if (amount.isZero()) continue;
        entry(
          r.agreement_id,
          r.rule_id,
          { start: r.period_start, end: r.period_end },
          r.currency.trim(),
          amount.neg(),
          `reversal ${r.agreement_id}/${r.rule_id} ${r.period_start}..${r.period_end}: no longer accrued`,
        );
      }
      const totals = new Map<string, Decimal>();
      for (const e of entries) totals.set(e.currency, (totals.get(e.currency) ?? Decimal.ZERO).add(e.amount));
      const summary: PostingSummary = {
        postingId: null,
        period: options.period,
        asOf,
        dryRun: options.dryRun === true,
        entries,
        totals: [...totals.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([currency, amount]) => ({ currency, amount })),
      };
      const head = await trx
        .insertInto('accrual_postings')
        .values({
          period: options.period,
          as_of: asOf,
          posted_by: options.actor,
          entries: entries.length,
          request_id: options.requestId ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      summary.postingId = String(head.id);
      await writeEntries(trx, entries, summary.postingId);
      // Last: every writer takes the audit trail's lock after its own.
      await appendAudit(trx, {
        actor: options.actor,
        action: 'accruals.post',
        entity: 'accrual_posting',
        entityId: summary.postingId,
        after: {
          period: options.period,
          asOf,
          entries: entries.length,
          totals: summary.totals.map((t) => ({ currency: t.currency, amount: t.amount.toString() })),
        },
        ...(options.requestId ? { requestId: options.requestId } : {}),
      });
      if (options.dryRun) throw new DryRun(summary);
      return summary;
    });
  } catch (error) {
    if (error instanceof DryRun) return { ...error.summary, postingId: null };
    throw error;
  }
}

/** Writes entries and their lines; entries get their ids. */
export async function writeEntries(
  db: Database,
  entries: JournalEntry[],
  postingId: string | null,
): Promise<void> {
  for (const e of entries) {
    const row = await db
      .insertInto('journal_entries')
      .values({
        source: e.source,
        posting_id: postingId,
        settlement_id: e.settlementId ?? null,
        entry_date: e.entryDate,
        agreement_id: e.agreementId,
        rule_id: e.ruleId,
        period_start: e.periodStart,
        period_end: e.periodEnd,
        currency: e.currency,
        amount: e.amount.toString(),
        memo: e.memo,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    e.id = String(row.id);
    if (postingId !== null) e.postingId = postingId;
    await db
      .insertInto('journal_lines')
      .values(
        e.lines.map((l, i) => ({
          entry_id: e.id!,
          line_no: i + 1,
          account: l.account,
          debit: l.debit.toString(),
          credit: l.credit.toString(),
        })),
      )
      .execute();
  }
}

/** Journal entries with their lines, oldest first; each is checked to balance as it is read. */
export async function readJournal(
  db: Database,
  filter: { postingId?: string; agreementId?: string } = {},
): Promise<JournalEntry[]> {
  let query = db.selectFrom('journal_entries').selectAll().orderBy('id');
  if (filter.postingId !== undefined) query = query.where('posting_id', '=', filter.postingId);
  if (filter.agreementId !== undefined) query = query.where('agreement_id', '=', filter.agreementId);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const lines = await db
    .selectFrom('journal_lines')
    .selectAll()
    .where(
      'entry_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('entry_id')
    .orderBy('line_no')
    .execute();
  const byEntry = new Map<string, JournalLine[]>();
  for (const l of lines) {
    const list = byEntry.get(String(l.entry_id)) ?? [];
    list.push({ account: l.account, debit: Decimal.parse(l.debit), credit: Decimal.parse(l.credit) });
    byEntry.set(String(l.entry_id), list);
  }
  return rows.map((r) =>
    assertBalanced({
      id: String(r.id),
      source: r.source,
      ...(r.posting_id !== null ? { postingId: String(r.posting_id) } : {}),
      ...(r.settlement_id !== null ? { settlementId: String(r.settlement_id) } : {}),
      entryDate: r.entry_date,
      agreementId: r.agreement_id,
      ruleId: r.rule_id,
      periodStart: r.period_start,
      periodEnd: r.period_end,
      currency: r.currency.trim(),
      amount: Decimal.parse(r.amount),
      memo: r.memo,
      lines: byEntry.get(String(r.id)) ?? [],
    }),
  );
}
