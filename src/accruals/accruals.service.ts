// Accrual positions: what every rule of every settled agreement has earned to
// date, per period, kept current as lines arrive.
//
// - An import of transaction lines adds its new lines to the stored window
//   totals (accrual_totals) and recalculates the positions of the agreements
//   they touch, in the same database transaction that stores the lines: a
//   position is never behind the lines it was calculated from.
// - Importing agreements builds their totals and positions from the stored lines.
// - `rebuildAccruals` recalculates everything from the stored lines: the full
//   recalculation after agreements are amended retroactively, or a check.
//
// The calculation is the core's (settleAgreement); this module only decides
// which totals change and stores the outcome.
import { sql } from 'kysely';
import type { StoredAgreement } from '../agreements/agreements.repository.ts';
import { loadAgreements } from '../agreements/agreements.repository.ts';
import type { Line } from '../calculation/aggregate.ts';
import type { Agreement, RuleResult, Totals } from '../calculation/calculation.types.ts';
import { settleAgreement, type TotalsRequest, totalsRequests } from '../calculation/engine.ts';
import { LineMatcher } from '../calculation/line-matcher.ts';
import { bulkTotals } from '../settlements/bulk-totals.ts';
import {
  loadMasterData,
  type MasterData,
  ScopeResolver,
  SETTLED_STATUSES,
  totalsOf,
} from '../settlements/settlement.service.ts';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import { ACCRUAL_INCREMENTAL_LINES_MAX } from '../shared/limits.ts';
import type { Database, Store } from '../store/database.ts';

/** Serialises position updates: two imports touching one agreement must not overwrite each other's position. */
const ACCRUAL_LOCK_KEY = 7_202_611;

/** The settled agreements, the master data and a line matcher over all their windows. */
interface AccrualIndex {
  revision: string;
  agreements: Map<string, Agreement>;
  master: MasterData;
  resolver: ScopeResolver;
  matcher: LineMatcher;
}

const indexes = new WeakMap<Store, AccrualIndex>();

function requestKey(agreementId: string, ruleId: string, role: string, start: string, end: string): string {
  return `${agreementId}\u0000${ruleId}\u0000${role}\u0000${start}\u0000${end}`;
}

const keyOf = (r: TotalsRequest) =>
  requestKey(r.agreement.id, r.rule.id, r.role, r.window.start, r.window.end);

/**
 * Anything that can change which lines a window counts (agreements, partners,
 * products) arrives through an import, so the newest such import identifies
 * the index's inputs.
 */
async function indexRevision(db: Database): Promise<string> {
  const row = await sql<{ revision: string | null }>`
    SELECT max(id)::text AS revision FROM imports WHERE kind IN ('agreements', 'partners', 'products')`.execute(
    db,
  );
  return row.rows[0]?.revision ?? '0';
}

function settled(stored: readonly StoredAgreement[]): Agreement[] {
  return stored
    .filter((a) => (SETTLED_STATUSES as readonly string[]).includes(a.status))
    .map((a) => a.agreement);
}

async function accrualIndex(store: Store, db: Database): Promise<AccrualIndex> {
  const revision = await indexRevision(db);
  const cached = indexes.get(store);
  if (cached && cached.revision === revision) return cached;
  const agreements = settled(await loadAgreements(db));
  const master = await loadMasterData(db);
  const index: AccrualIndex = {
    revision,
    agreements: new Map(agreements.map((a) => [a.id, a])),
    master,
    resolver: new ScopeResolver(master),
    matcher: new LineMatcher(
      agreements.flatMap((a) => totalsRequests(a)),
      master.partners,
      master.products,
    ),
  };
  // Agreements stored before their positions were kept (or by an older version) get them now.
  const withPositions = new Set(
    (await db.selectFrom('accrual_positions').select('agreement_id').distinct().execute()).map(
      (r) => r.agreement_id,
    ),
  );
  const missing = agreements.filter((a) => !withPositions.has(a.id));
  if (missing.length > 0) {
    // Not cached yet: the transaction writing them may still be rolled back.
    await writeAccruals(db, missing, master);
    return index;
  }
  indexes.set(store, index);
  return index;
}

function positionRow(result: RuleResult) {
  return [
    result.agreementId,
    result.ruleId,
    result.period.start,
    result.period.end,
    result.currency,
    String(result.lineCount),
    result.quantity.toString(),
    result.amount.toString(),
    result.baselineAmount.toString(),
    result.measure.toString(),
    String(result.tierIndex),
    result.rebate.toString(),
    result.heldRebate.toString(),
    result.outcome,
    result.nextTier?.from.toString() ?? null,
    result.nextTier?.remaining.toString() ?? null,
  ];
}

/** Replaces the stored positions of these results' agreements and rules. */
async function upsertPositions(db: Database, results: readonly RuleResult[]): Promise<void> {
  for (let i = 0; i < results.length; i += 5_000) {
    const rows = results.slice(i, i + 5_000).map(positionRow);
    const column = (j: number) => rows.map((r) => r[j] ?? null);
    await sql`
      INSERT INTO accrual_positions (agreement_id, rule_id, period_start, period_end, currency, line_count, quantity,
        amount, baseline_amount, measure, tier_index, rebate, held_rebate, outcome, next_tier_from, next_tier_remaining)
      SELECT * FROM unnest(${column(0)}::text[], ${column(1)}::text[], ${column(2)}::date[], ${column(3)}::date[],
        ${column(4)}::text[], ${column(5)}::bigint[], ${column(6)}::numeric[], ${column(7)}::numeric[],
        ${column(8)}::numeric[], ${column(9)}::numeric[], ${column(10)}::int[], ${column(11)}::numeric[],
        ${column(12)}::numeric[], ${column(13)}::text[], ${column(14)}::numeric[], ${column(15)}::numeric[])
      ON CONFLICT (agreement_id, rule_id, period_start) DO UPDATE SET
        period_end = excluded.period_end, currency = excluded.currency, line_count = excluded.line_count,
        quantity = excluded.quantity, amount = excluded.amount, baseline_amount = excluded.baseline_amount,
        measure = excluded.measure, tier_index = excluded.tier_index, rebate = excluded.rebate,
        held_rebate = excluded.held_rebate, outcome = excluded.outcome, next_tier_from = excluded.next_tier_from,
        next_tier_remaining = excluded.next_tier_remaining, updated_at = now()`.execute(db);
  }
}

function calculate(agreement: Agreement, totals: (request: TotalsRequest) => Totals): RuleResult[] {
  // Positions store figures, not explanations: `rebates explain` recalculates with the steps.
  return settleAgreement(agreement, totals, { minorUnits: minorUnitsOf(agreement.currency), explain: false });
}

/** Totals and positions of these agreements, from the stored lines; replaces what was stored for them. */
async function writeAccruals(
  db: Database,
  agreements: readonly Agreement[],
  master: MasterData,
  readers?: Database,
) {
  if (agreements.length === 0) return [];
  const resolver = new ScopeResolver(master);
  const requests = agreements.flatMap((a) => totalsRequests(a));
  const totals = await bulkTotals(
    db,
    master,
    requests.map((request) => ({ request, filter: resolver.filter(request) })),
    readers,
  );
  const ids = agreements.map((a) => a.id);
  await sql`DELETE FROM accrual_totals WHERE agreement_id = ANY(${ids}::text[])`.execute(db);
  await sql`DELETE FROM accrual_positions WHERE agreement_id = ANY(${ids}::text[])`.execute(db);
  for (let i = 0; i < requests.length; i += 5_000) {
    const slice = requests.slice(i, i + 5_000);
    const t = slice.map((r) => totals.get(r)!);
    await sql`
      INSERT INTO accrual_totals (agreement_id, rule_id, role, window_start, window_end, line_count, quantity,
        amount, mix_amount, mix_distinct_products)
      SELECT * FROM unnest(${slice.map((r) => r.agreement.id)}::text[], ${slice.map((r) => r.rule.id)}::text[],
        ${slice.map((r) => r.role)}::text[], ${slice.map((r) => r.window.start)}::date[],
        ${slice.map((r) => r.window.end)}::date[], ${t.map((x) => String(x.lineCount))}::bigint[],
        ${t.map((x) => x.quantity.toString())}::numeric[], ${t.map((x) => x.amount.toString())}::numeric[],
        ${t.map((x) => x.mixAmount.toString())}::numeric[], ${t.map((x) => x.mixDistinctProducts)}::int[])`.execute(
      db,
    );
  }
  // settleAgreement asks with request objects of its own: match them by key.
  const byKey = new Map(requests.map((r) => [keyOf(r), totals.get(r)!]));
  const positions = agreements.flatMap((a) => calculate(a, (request) => byKey.get(keyOf(request))!));
  await upsertPositions(db, positions);
  return positions;
}

/**
 * Recalculates the totals and positions of every settled agreement (or the
 * given ones) from the stored lines, in one transaction. `readers`
 * (`parallelReaders`) lets the lines be read on other connections side by side;
 * only when `db`'s transaction has not changed lines, products or partners.
 */
export async function rebuildAccruals(
  db: Database,
  agreementIds?: readonly string[],
  readers?: Database,
): Promise<RuleResult[]> {
  const run = async (trx: Database) => {
    await sql`SELECT pg_advisory_xact_lock(${ACCRUAL_LOCK_KEY})`.execute(trx);
    const agreements = settled(await loadAgreements(trx, agreementIds));
    if (agreementIds === undefined) {
      await sql`DELETE FROM accrual_totals`.execute(trx);
      await sql`DELETE FROM accrual_positions`.execute(trx);
    } else {
      // Agreements no longer settled (drafts, cancelled) keep no position.
      const unsettled = agreementIds.filter((id) => !agreements.some((a) => a.id === id));
      await sql`DELETE FROM accrual_totals WHERE agreement_id = ANY(${unsettled}::text[])`.execute(trx);
      await sql`DELETE FROM accrual_positions WHERE agreement_id = ANY(${unsettled}::text[])`.execute(trx);
    }
    return writeAccruals(trx, agreements, await loadMasterData(trx), readers);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** A stored transaction line as the import holds it (the transactions table's column order). */
export function lineFromColumns(columns: readonly (string | null)[]): Line {
  return {
    id: columns[0]!,
    date: columns[1]!,
    partner: columns[2]!,
    sku: columns[3]!,
    quantity: Decimal.parse(columns[4]!),
    amount: Decimal.parse(columns[5]!),
    currency: columns[6]!,
  };
}

/**
 * Adds newly stored lines to the accruals, inside the transaction that stored
 * them. `lines` undefined means too many to add one by one: every position is
 * rebuilt from the stored lines instead (one pass over them). Returns the
 * positions that changed.
 */
export async function addLinesToAccruals(
  store: Store,
  db: Database,
  lines: readonly Line[] | undefined,
): Promise<RuleResult[]> {
  if (lines === undefined || lines.length > ACCRUAL_INCREMENTAL_LINES_MAX) return rebuildAccruals(db);
  if (lines.length === 0) return [];
  const index = await accrualIndex(store, db);
  const { deltas, retotal } = index.matcher.deltas(lines);
  if (deltas.size === 0 && retotal.size === 0) return [];
  await sql`SELECT pg_advisory_xact_lock(${ACCRUAL_LOCK_KEY})`.execute(db);
  if (deltas.size > 0) {
    const requests = [...deltas.keys()];
    const d = requests.map((r) => deltas.get(r)!);
    await sql`
      UPDATE accrual_totals t SET line_count = t.line_count + d.line_count, quantity = t.quantity + d.quantity,
        amount = t.amount + d.amount, mix_amount = t.mix_amount + d.mix_amount
      FROM unnest(${requests.map((r) => r.agreement.id)}::text[], ${requests.map((r) => r.rule.id)}::text[],
        ${requests.map((r) => r.role)}::text[], ${requests.map((r) => r.window.start)}::date[],
        ${requests.map((r) => r.window.end)}::date[], ${d.map((x) => String(x.lineCount))}::bigint[],
        ${d.map((x) => x.quantity.toString())}::numeric[], ${d.map((x) => x.amount.toString())}::numeric[],
        ${d.map((x) => x.mixAmount.toString())}::numeric[])
        AS d (agreement_id, rule_id, role, window_start, window_end, line_count, quantity, amount, mix_amount)
      WHERE t.agreement_id = d.agreement_id AND t.rule_id = d.rule_id AND t.role = d.role
        AND t.window_start = d.window_start AND t.window_end = d.window_end`.execute(db);
  }
  for (const request of retotal) {
    const totals = await totalsOf(db, index.resolver.filter(request), true);
    await db
      .updateTable('accrual_totals')
      .set({
        line_count: String(totals.lineCount),
        quantity: totals.quantity.toString(),
        amount: totals.amount.toString(),
        mix_amount: totals.mixAmount.toString(),
        mix_distinct_products: totals.mixDistinctProducts,
      })
      .where('agreement_id', '=', request.agreement.id)
      .where('rule_id', '=', request.rule.id)
      .where('role', '=', request.role)
      .where('window_start', '=', request.window.start)
      .where('window_end', '=', request.window.end)
      .execute();
  }
  const affected = [...new Set([...deltas.keys(), ...retotal].map((r) => r.agreement.id))];
  const stored = await loadTotals(db, affected);
  const positions = affected.flatMap((id) =>
    calculate(index.agreements.get(id)!, (request) => stored.get(keyOf(request)) ?? EMPTY),
  );
  await upsertPositions(db, positions);
  return positions;
}

const EMPTY: Totals = {
  lineCount: 0,
  quantity: Decimal.ZERO,
  amount: Decimal.ZERO,
  mixAmount: Decimal.ZERO,
  mixDistinctProducts: 0,
};

async function loadTotals(db: Database, agreementIds: readonly string[]): Promise<Map<string, Totals>> {
  const rows = await db
    .selectFrom('accrual_totals')
    .selectAll()
    .where('agreement_id', '=', sql<string>`ANY(${[...agreementIds]}::text[])`)
    .execute();
  return new Map(
    rows.map((r) => [
      requestKey(r.agreement_id, r.rule_id, r.role, r.window_start, r.window_end),
      {
        lineCount: Number(r.line_count),
        quantity: Decimal.parse(r.quantity),
        amount: Decimal.parse(r.amount),
        mixAmount: Decimal.parse(r.mix_amount),
        mixDistinctProducts: r.mix_distinct_products,
      },
    ]),
  );
}

export interface AccrualPosition {
  agreementId: string;
  ruleId: string;
  period: { start: string; end: string };
  currency: string;
  lineCount: number;
  quantity: Decimal;
  amount: Decimal;
  baselineAmount: Decimal;
  measure: Decimal;
  tierIndex: number;
  rebate: Decimal;
  heldRebate: Decimal;
  outcome: string;
  nextTier?: { from: Decimal; remaining: Decimal };
  updatedAt: string;
}

/** The stored positions (all, or of the given agreements), by agreement, rule and period. */
export async function readAccruals(
  store: Store,
  agreementIds?: readonly string[],
): Promise<AccrualPosition[]> {
  // Building the index brings positions of agreements that have none up to date first.
  await accrualIndex(store, store.db);
  let query = store.db
    .selectFrom('accrual_positions')
    .selectAll()
    .orderBy('agreement_id')
    .orderBy('rule_id')
    .orderBy('period_start');
  if (agreementIds !== undefined)
    query = query.where('agreement_id', '=', sql<string>`ANY(${[...agreementIds]}::text[])`);
  return (await query.execute()).map((r) => ({
    agreementId: r.agreement_id,
    ruleId: r.rule_id,
    period: { start: r.period_start, end: r.period_end },
    currency: r.currency.trim(),
    lineCount: Number(r.line_count),
    quantity: Decimal.parse(r.quantity),
    amount: Decimal.parse(r.amount),
    baselineAmount: Decimal.parse(r.baseline_amount),
    measure: Decimal.parse(r.measure),
    tierIndex: r.tier_index,
    rebate: Decimal.parse(r.rebate),
    heldRebate: Decimal.parse(r.held_rebate),
    outcome: r.outcome,
    ...(r.next_tier_from !== null && r.next_tier_remaining !== null
      ? {
          nextTier: {
            from: Decimal.parse(r.next_tier_from),
            remaining: Decimal.parse(r.next_tier_remaining),
          },
        }
      : {}),
    // A timestamp with time zone: a Date from the server driver, text from the embedded one.
    updatedAt: new Date(r.updated_at).toISOString(),
  }));
}
