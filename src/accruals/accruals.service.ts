// Accrual positions: what every rule of every settled agreement has earned to
// date, per period, kept current as lines arrive.
//
// - The store keeps the totals of every window a rule is measured over
//   (accrual_totals). An import of transaction lines adds its new lines to them
//   in the same database transaction that stores the lines: the totals are
//   never behind or ahead of the stored lines.
// - A position is calculated from those totals when it is read: one calculation
//   of the core per agreement read, instead of a write per agreement touched by
//   every batch of lines (decision 0008).
// - Importing agreements builds their totals from the stored lines.
// - `rebuildAccruals` recalculates every total from the stored lines: the full
//   recalculation after agreements are amended retroactively, or a check.
//
// The calculation is the core's (settleAgreement); this module only decides
// which totals change.
import { sql } from 'kysely';
import type { StoredAgreement } from '../agreements/agreements.repository.ts';
import { loadAgreements } from '../agreements/agreements.repository.ts';
import type { Line } from '../calculation/aggregate.ts';
import type {
  AccrualBasis,
  Agreement,
  Forecast,
  Rule,
  RuleResult,
  Totals,
} from '../calculation/calculation.types.ts';
import { settleAgreement, type TotalsRequest, totalsRequests } from '../calculation/engine.ts';
import { LineMatcher, type TotalsDelta } from '../calculation/line-matcher.ts';
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
import { sqlArray } from '../store/sql-arrays.ts';

/** Serialises totals updates: two imports touching one window must not overwrite each other's totals. */
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

/** Records, in `db`'s transaction, a change to what accruals are calculated from (see indexRevision). */
export async function countCalculationInputChange(db: Database): Promise<void> {
  await sql`UPDATE calculation_inputs SET revision = revision + 1`.execute(db);
}

function requestKey(agreementId: string, ruleId: string, role: string, start: string, end: string): string {
  return `${agreementId}\u0000${ruleId}\u0000${role}\u0000${start}\u0000${end}`;
}

const keyOf = (r: TotalsRequest) =>
  requestKey(r.agreement.id, r.rule.id, r.role, r.window.start, r.window.end);

/**
 * Anything that can change which lines a window counts arrives through an import
 * (agreements, partners, products), a change of an agreement's status, or another
 * change counted in calculation_inputs (amendments, edited partners and products),
 * so the newest of each identifies the index's inputs.
 */
async function indexRevision(db: Database): Promise<string> {
  const row = await sql<{ revision: string | null }>`
    SELECT coalesce((SELECT max(id) FROM imports WHERE kind IN ('agreements', 'partners', 'products'))::text, '0') || '/' ||
      coalesce((SELECT max(id) FROM agreement_status_changes)::text, '0') || '/' ||
      (SELECT revision FROM calculation_inputs)::text AS revision`.execute(db);
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
  // Agreements stored before their totals were kept (or by an older version) get them now.
  const withTotals = new Set(
    (await db.selectFrom('accrual_totals').select('agreement_id').distinct().execute()).map(
      (r) => r.agreement_id,
    ),
  );
  const missing = agreements.filter((a) => !withTotals.has(a.id));
  if (missing.length > 0) {
    // Not cached yet: the transaction writing them may still be rolled back.
    await writeAccruals(db, missing, master);
    return index;
  }
  indexes.set(store, index);
  return index;
}

function calculate(
  agreement: Agreement,
  totals: (request: TotalsRequest) => Totals,
  forecastAsOf?: string,
): RuleResult[] {
  // Positions are figures, not explanations: `rebates explain` recalculates with the steps.
  return settleAgreement(agreement, totals, {
    minorUnits: minorUnitsOf(agreement.currency),
    explain: false,
    ...(forecastAsOf ? { forecastAsOf } : {}),
  });
}

/** Windows and their additive figures as arguments of unnest: the window's key, then line count, quantity, amount, mix amount. */
function windowFigures(requests: readonly TotalsRequest[], figures: readonly TotalsDelta[]) {
  return sql.join([
    sqlArray(
      requests.map((r) => r.agreement.id),
      'text',
    ),
    sqlArray(
      requests.map((r) => r.rule.id),
      'text',
    ),
    sqlArray(
      requests.map((r) => r.role),
      'text',
    ),
    sqlArray(
      requests.map((r) => r.window.start),
      'date',
    ),
    sqlArray(
      requests.map((r) => r.window.end),
      'date',
    ),
    sqlArray(
      figures.map((x) => String(x.lineCount)),
      'bigint',
    ),
    sqlArray(
      figures.map((x) => x.quantity.toString()),
      'numeric',
    ),
    sqlArray(
      figures.map((x) => x.amount.toString()),
      'numeric',
    ),
    sqlArray(
      figures.map((x) => x.mixAmount.toString()),
      'numeric',
    ),
  ]);
}

/** Totals of these agreements from the stored lines, replacing what was stored; returns their positions. */
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
  await sql`DELETE FROM accrual_totals WHERE agreement_id = ANY(${sqlArray(ids, 'text')})`.execute(db);
  for (let i = 0; i < requests.length; i += 5_000) {
    const slice = requests.slice(i, i + 5_000);
    const t = slice.map((r) => totals.get(r)!);
    await sql`
      INSERT INTO accrual_totals (agreement_id, rule_id, role, window_start, window_end, line_count, quantity,
        amount, mix_amount, mix_distinct_products)
      SELECT * FROM unnest(${windowFigures(slice, t)},
        ${sqlArray(
          t.map((x) => String(x.mixDistinctProducts)),
          'int',
        )})`.execute(db);
  }
  // settleAgreement asks with request objects of its own: match them by key.
  const byKey = new Map(requests.map((r) => [keyOf(r), totals.get(r)!]));
  return agreements.flatMap((a) => calculate(a, (request) => byKey.get(keyOf(request))!));
}

/**
 * Recalculates the totals of every settled agreement (or the given ones) from
 * the stored lines, in one transaction, and returns their positions. `readers`
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
    } else {
      // Agreements no longer settled (drafts, cancelled) keep no totals.
      const unsettled = agreementIds.filter((id) => !agreements.some((a) => a.id === id));
      await sql`DELETE FROM accrual_totals WHERE agreement_id = ANY(${sqlArray(unsettled, 'text')})`.execute(
        trx,
      );
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
 * Adds newly stored lines to the window totals, inside the transaction that
 * stored them. `lines` undefined means too many to add one by one: every total
 * is rebuilt from the stored lines instead (one pass over them). Returns the
 * agreements whose positions changed.
 */
export async function addLinesToAccruals(
  store: Store,
  db: Database,
  lines: readonly Line[] | undefined,
): Promise<string[]> {
  if (lines === undefined || lines.length > ACCRUAL_INCREMENTAL_LINES_MAX) {
    return [...new Set((await rebuildAccruals(db)).map((p) => p.agreementId))];
  }
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
        amount = t.amount + d.amount, mix_amount = t.mix_amount + d.mix_amount, updated_at = now()
      FROM unnest(${windowFigures(requests, d)})
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
        updated_at: sql`now()`,
      })
      .where('agreement_id', '=', request.agreement.id)
      .where('rule_id', '=', request.rule.id)
      .where('role', '=', request.role)
      .where('window_start', '=', request.window.start)
      .where('window_end', '=', request.window.end)
      .execute();
  }
  return [...new Set([...deltas.keys(), ...retotal].map((r) => r.agreement.id))];
}

const EMPTY: Totals = {
  lineCount: 0,
  quantity: Decimal.ZERO,
  amount: Decimal.ZERO,
  mixAmount: Decimal.ZERO,
  mixDistinctProducts: 0,
};

interface StoredWindow {
  ruleId: string;
  role: string;
  start: string;
  end: string;
  totals: Totals;
}

interface StoredTotals {
  /** Per agreement, its windows' totals (a handful: one lookup scans them). */
  windows: Map<string, StoredWindow[]>;
  /** Per agreement, when its totals last changed. */
  updatedAt: Map<string, string>;
}

/** The stored totals a request asks for; none stored means no qualifying line yet. */
function storedTotals(stored: StoredTotals, request: TotalsRequest): Totals {
  const windows = stored.windows.get(request.agreement.id);
  if (windows !== undefined) {
    for (const w of windows) {
      if (
        w.ruleId === request.rule.id &&
        w.role === request.role &&
        w.start === request.window.start &&
        w.end === request.window.end
      )
        return w.totals;
    }
  }
  return EMPTY;
}

/** The stored window totals of the given agreements (all when undefined). */
async function loadTotals(db: Database, agreementIds?: readonly string[]): Promise<StoredTotals> {
  let query = db.selectFrom('accrual_totals').select([
    'agreement_id',
    'rule_id',
    'role',
    'window_start',
    'window_end',
    'line_count',
    'quantity',
    'amount',
    'mix_amount',
    'mix_distinct_products',
    // Text, not a Date: compared and kept, never shifted by a time zone.
    sql<string>`to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('updated_at'),
  ]);
  if (agreementIds !== undefined)
    query = query.where('agreement_id', '=', sql<string>`ANY(${sqlArray([...agreementIds], 'text')})`);
  const windows = new Map<string, StoredWindow[]>();
  const updatedAt = new Map<string, string>();
  for (const r of await query.execute()) {
    const window: StoredWindow = {
      ruleId: r.rule_id,
      role: r.role,
      start: r.window_start,
      end: r.window_end,
      totals: {
        lineCount: Number(r.line_count),
        quantity: Decimal.parse(r.quantity),
        amount: Decimal.parse(r.amount),
        mixAmount: Decimal.parse(r.mix_amount),
        mixDistinctProducts: r.mix_distinct_products,
      },
    };
    const list = windows.get(r.agreement_id);
    if (list) list.push(window);
    else windows.set(r.agreement_id, [window]);
    const latest = updatedAt.get(r.agreement_id);
    if (latest === undefined || r.updated_at > latest) updatedAt.set(r.agreement_id, r.updated_at);
  }
  return { windows, updatedAt };
}

export interface AccrualPosition {
  agreementId: string;
  ruleId: string;
  /** The agreement version the rule belongs to (1 until the agreement is amended). */
  version: number;
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
  nextTier?: { from: Decimal; rate: Decimal; remaining: Decimal };
  /** What the rule measures and how its rates pay, to word the next tier ("sell 1,200 more to earn 3%"). */
  basis: Rule['basis'];
  payout: Rule['payout'];
  /** The period projected to its end at the run rate so far (forecast.ts). */
  forecast: Forecast;
  accrualBasis: AccrualBasis;
  /** What is accrued on the agreement's basis. */
  accrued: Decimal;
  updatedAt: string;
}

/** The rule (of the version) a result is for. */
function ruleOf(agreement: Agreement, result: RuleResult): Rule {
  return agreement.rules.find((r) => r.id === result.ruleId && r.version === result.version)!;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The positions of every settled agreement (or of the given ones), by agreement,
 * rule and period, calculated from the stored window totals.
 */
export async function readAccruals(
  store: Store,
  agreementIds?: readonly string[],
  /** The day forecasts run to and accruals are taken on (default: today, UTC). */
  asOf: string = new Date().toISOString().slice(0, 10),
): Promise<AccrualPosition[]> {
  // Building the index brings the totals of agreements that have none up to date first.
  const index = await accrualIndex(store, store.db);
  const ids = (agreementIds ?? [...index.agreements.keys()]).filter((id) => index.agreements.has(id));
  const stored = await loadTotals(store.db, agreementIds === undefined ? undefined : ids);
  const positions: AccrualPosition[] = [];
  for (const id of [...new Set(ids)].sort(byText)) {
    const updatedAt = stored.updatedAt.get(id);
    // An agreement imported by another process after this index was built has no totals here yet.
    if (updatedAt === undefined) continue;
    const agreement = index.agreements.get(id)!;
    const results = calculate(agreement, (request) => storedTotals(stored, request), asOf);
    results.sort((a, b) => byText(a.ruleId, b.ruleId) || byText(a.period.start, b.period.start));
    for (const r of results) {
      positions.push({
        agreementId: r.agreementId,
        ruleId: r.ruleId,
        version: r.version ?? 1,
        period: r.period,
        currency: r.currency,
        lineCount: r.lineCount,
        quantity: r.quantity,
        amount: r.amount,
        baselineAmount: r.baselineAmount,
        measure: r.measure,
        tierIndex: r.tierIndex,
        rebate: r.rebate,
        heldRebate: r.heldRebate,
        outcome: r.outcome,
        ...(r.nextTier
          ? { nextTier: { from: r.nextTier.from, rate: r.nextTier.rate, remaining: r.nextTier.remaining } }
          : {}),
        basis: ruleOf(agreement, r).basis,
        payout: ruleOf(agreement, r).payout,
        forecast: r.forecast!,
        accrualBasis: agreement.accrualBasis ?? 'earned',
        accrued: r.accrued!,
        updatedAt,
      });
    }
  }
  return positions;
}
