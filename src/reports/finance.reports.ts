// Finance's reports and the partner statement, from one view of every rule and
// period as of a day: earned (calculated from the lines dated up to it),
// accrued (accrual postings dated up to it), claimed (claims submitted by then,
// not rejected) and paid (settlements posted by then).
import { sql } from 'kysely';
import { settle } from '../settlements/settlement.service.ts';
import { daysInclusive } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database } from '../store/database.ts';
import type { Report, ReportColumn } from './report.ts';

export interface RulePeriodPosition {
  agreementId: string;
  agreementName: string;
  partner: string;
  ruleId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  earned: Decimal;
  accrued: Decimal;
  claimed: Decimal;
  paid: Decimal;
}

const keyOf = (a: string, r: string, s: string) => `${a}\u0000${r}\u0000${s}`;

async function sums(
  db: Database,
  query: ReturnType<
    typeof sql<{ agreement_id: string; rule_id: string; period_start: string; amount: string }>
  >,
) {
  const rows = (await query.execute(db)).rows;
  return new Map(
    rows.map((r) => [keyOf(r.agreement_id, r.rule_id, r.period_start), Decimal.parse(r.amount)]),
  );
}

/** Every rule and period of the settled agreements (or of those given) as of a day. */
export async function positionsAsOf(
  db: Database,
  asOf: string,
  agreementIds?: readonly string[],
): Promise<RulePeriodPosition[]> {
  const run = await settle(db, { asOf, ...(agreementIds ? { agreementIds } : {}) });
  const accrued = await sums(
    db,
    sql`SELECT agreement_id, rule_id, period_start::text, sum(amount)::text AS amount FROM journal_entries
        WHERE source = 'accrual' AND entry_date <= ${asOf}::date GROUP BY 1, 2, 3`,
  );
  const paid = await sums(
    db,
    sql`SELECT agreement_id, rule_id, period_start::text, sum(amount)::text AS amount FROM settlements
        WHERE status = 'posted' AND posted_at::date <= ${asOf}::date GROUP BY 1, 2, 3`,
  );
  const claimed = await sums(
    db,
    sql`SELECT agreement_id, rule_id, period_start::text, sum(claimed)::text AS amount FROM claims
        WHERE status <> 'rejected' AND agreement_id IS NOT NULL AND submitted_at::date <= ${asOf}::date GROUP BY 1, 2, 3`,
  );
  const agreements = new Map(run.agreements.map((a) => [a.agreement.id, a.agreement]));
  return run.results.map((r) => {
    const a = agreements.get(r.agreementId)!;
    const key = keyOf(r.agreementId, r.ruleId, r.period.start);
    return {
      agreementId: r.agreementId,
      agreementName: a.name,
      partner: a.beneficiary ?? a.partner ?? a.buyingGroup ?? '',
      ruleId: r.ruleId,
      periodStart: r.period.start,
      periodEnd: r.period.end,
      currency: r.currency,
      earned: r.rebate,
      accrued: accrued.get(key) ?? Decimal.ZERO,
      claimed: claimed.get(key) ?? Decimal.ZERO,
      paid: paid.get(key) ?? Decimal.ZERO,
    };
  });
}

const money = (key: string, header: string): ReportColumn => ({ key, header, type: 'money' });
const text = (key: string, header: string): ReportColumn => ({ key, header, type: 'text' });

export type LiabilityGrouping = 'rule_period' | 'agreement' | 'partner' | 'period';

/**
 * The accrued liability as of a day: what the ledger holds (accrued less paid)
 * and what is earned but not yet posted, by the grouping asked for.
 */
export function accrualLiabilityReport(
  positions: readonly RulePeriodPosition[],
  asOf: string,
  groupBy: LiabilityGrouping,
): Report {
  const keyColumns: Record<LiabilityGrouping, ReportColumn[]> = {
    rule_period: [
      text('agreement', 'Agreement'),
      text('rule', 'Rule'),
      text('period_start', 'Period start'),
      text('period_end', 'Period end'),
      text('partner', 'Partner'),
    ],
    agreement: [text('agreement', 'Agreement'), text('partner', 'Partner')],
    partner: [text('partner', 'Partner')],
    period: [text('period_start', 'Period start'), text('period_end', 'Period end')],
  };
  const groups = new Map<
    string,
    { keys: Record<string, string>; earned: Decimal; accrued: Decimal; paid: Decimal }
  >();
  for (const p of positions) {
    const all: Record<string, string> = {
      agreement: p.agreementId,
      rule: p.ruleId,
      period_start: p.periodStart,
      period_end: p.periodEnd,
      partner: p.partner,
      currency: p.currency,
    };
    const keys = Object.fromEntries([
      ...keyColumns[groupBy].map((c) => [c.key, all[c.key]!]),
      ['currency', p.currency],
    ]);
    const id = JSON.stringify(keys);
    const g = groups.get(id) ?? { keys, earned: Decimal.ZERO, accrued: Decimal.ZERO, paid: Decimal.ZERO };
    g.earned = g.earned.add(p.earned);
    g.accrued = g.accrued.add(p.accrued);
    g.paid = g.paid.add(p.paid);
    groups.set(id, g);
  }
  const rows = [...groups.values()]
    .sort((a, b) => (JSON.stringify(a.keys) < JSON.stringify(b.keys) ? -1 : 1))
    .map((g) => ({
      ...g.keys,
      earned: g.earned.toString(),
      accrued: g.accrued.toString(),
      paid: g.paid.toString(),
      liability: g.accrued.sub(g.paid).toString(),
      unposted: g.earned.sub(g.accrued).toString(),
    }));
  return {
    title: `Accrual liability ${asOf}`,
    columns: [
      ...keyColumns[groupBy],
      text('currency', 'Currency'),
      money('earned', 'Earned'),
      money('accrued', 'Accrued (posted)'),
      money('paid', 'Paid'),
      money('liability', 'Liability (accrued − paid)'),
      money('unposted', 'Not yet posted (earned − accrued)'),
    ],
    rows,
  };
}

export async function payoutsReport(db: Database, from: string, to: string): Promise<Report> {
  const rows = await db
    .selectFrom('settlements')
    .selectAll()
    .where('status', '=', 'posted')
    .where(sql<boolean>`posted_at::date BETWEEN ${from}::date AND ${to}::date`)
    .orderBy('posted_at')
    .orderBy('id')
    .execute();
  return {
    title: `Payouts ${from} to ${to}`,
    columns: [
      text('document', 'Document'),
      { key: 'posted', header: 'Posted', type: 'date' },
      text('method', 'Method'),
      text('beneficiary', 'Beneficiary'),
      text('agreement', 'Agreement'),
      text('rule', 'Rule'),
      text('period_start', 'Period start'),
      text('period_end', 'Period end'),
      text('kind', 'Kind'),
      text('currency', 'Currency'),
      money('amount', 'Amount'),
    ],
    rows: rows.map((s) => ({
      document: s.document_number ?? '',
      posted: new Date(s.posted_at!).toISOString().slice(0, 10),
      method: s.payout_method,
      beneficiary: s.beneficiary_id,
      agreement: s.agreement_id,
      rule: s.rule_id,
      period_start: s.period_start,
      period_end: s.period_end,
      kind: s.kind,
      currency: s.currency.trim(),
      amount: s.amount,
    })),
  };
}

/** Age buckets of open claims, in days since submission. */
export function ageBucket(days: number): string {
  if (days <= 30) return '0-30';
  if (days <= 60) return '31-60';
  if (days <= 90) return '61-90';
  return '90+';
}

/** Claims still open on a day: disputed, or approved and not yet paid by a posted settlement. */
export async function claimsAgingReport(db: Database, asOf: string): Promise<Report> {
  const rows = await sql<{
    id: string;
    partner_id: string;
    agreement_id: string | null;
    status: string;
    submitted: string;
    currency: string;
    claimed: string;
    approved: string;
  }>`
    SELECT c.id::text, c.partner_id, c.agreement_id, c.status, c.submitted_at::date::text AS submitted, c.currency,
           c.claimed::text, c.approved::text
    FROM claims c
    WHERE c.submitted_at::date <= ${asOf}::date
      AND (c.status = 'disputed' OR (c.status IN ('approved', 'partially_approved')
           AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.id AND s.status = 'posted')))
    ORDER BY c.submitted_at, c.id`.execute(db);
  return {
    title: `Claims aging ${asOf}`,
    columns: [
      text('claim', 'Claim'),
      text('partner', 'Partner'),
      text('agreement', 'Agreement'),
      text('status', 'Status'),
      { key: 'submitted', header: 'Submitted', type: 'date' },
      { key: 'age_days', header: 'Age (days)', type: 'integer' },
      text('bucket', 'Age bucket'),
      text('currency', 'Currency'),
      money('claimed', 'Claimed'),
      money('approved', 'Approved'),
    ],
    rows: rows.rows.map((c) => {
      const age = daysInclusive(c.submitted, asOf) - 1;
      return {
        claim: c.id,
        partner: c.partner_id,
        agreement: c.agreement_id ?? '',
        status: c.status,
        submitted: c.submitted,
        age_days: String(age),
        bucket: ageBucket(age),
        currency: c.currency.trim(),
        claimed: c.claimed,
        approved: c.approved,
      };
    }),
  };
}

/**
 * A partner's statement: every rule and period of its agreements that overlaps
 * the dates asked for, as of their last day — earned, accrued, claimed, paid and
 * the balance still to pay (earned − paid) — with a total per currency.
 */
export function partnerStatement(
  positions: readonly RulePeriodPosition[],
  partner: string,
  from: string,
  to: string,
): Report {
  const mine = positions.filter((p) => p.partner === partner && p.periodEnd >= from && p.periodStart <= to);
  const rows = mine.map((p) => ({
    agreement: p.agreementId,
    name: p.agreementName,
    rule: p.ruleId,
    period_start: p.periodStart,
    period_end: p.periodEnd,
    currency: p.currency,
    earned: p.earned.toString(),
    accrued: p.accrued.toString(),
    claimed: p.claimed.toString(),
    paid: p.paid.toString(),
    balance: p.earned.sub(p.paid).toString(),
  }));
  const totals = new Map<string, Record<string, Decimal>>();
  for (const p of mine) {
    const t = totals.get(p.currency) ?? {
      earned: Decimal.ZERO,
      accrued: Decimal.ZERO,
      claimed: Decimal.ZERO,
      paid: Decimal.ZERO,
    };
    t.earned = t.earned!.add(p.earned);
    t.accrued = t.accrued!.add(p.accrued);
    t.claimed = t.claimed!.add(p.claimed);
    t.paid = t.paid!.add(p.paid);
    totals.set(p.currency, t);
  }
  for (const [currency, t] of [...totals.entries()].sort()) {
    rows.push({
      agreement: 'Total',
      name: '',
      rule: '',
      period_start: from,
      period_end: to,
      currency,
      earned: t.earned!.toString(),
      accrued: t.accrued!.toString(),
      claimed: t.claimed!.toString(),
      paid: t.paid!.toString(),
      balance: t.earned!.sub(t.paid!).toString(),
    });
  }
  return {
    title: `Statement ${partner} ${from} to ${to}`,
    columns: [
      text('agreement', 'Agreement'),
      text('name', 'Name'),
      text('rule', 'Rule'),
      text('period_start', 'Period start'),
      text('period_end', 'Period end'),
      text('currency', 'Currency'),
      money('earned', 'Earned'),
      money('accrued', 'Accrued'),
      money('claimed', 'Claimed'),
      money('paid', 'Paid'),
      money('balance', 'Balance (earned − paid)'),
    ],
    rows,
  };
}
