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
import { addDelta, type LineDeltas, LineMatcher, type TotalsDelta } from '../calculation/line-matcher.ts';
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
import { currentLines, linesToSum } from '../transactions/kept-lines.ts';
import type { LineColumns } from '../transactions/line-columns.ts';
import { currentTotals, StagedTotals, type StoredWindow, totalsIn } from './totals-cache.ts';

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
 * change counted in calculation_inputs (amendments; every change to partners and
 * products, by trigger), so the newest of each identifies the index's inputs.
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

/** Windows' keys as arguments of unnest: agreement, rule, role, start, end. */
function windowKeys(requests: readonly TotalsRequest[]) {
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
  ]);
}

/** Additive figures as arguments of unnest: line count, quantity, amount, mix amount. */
function deltaFigures(figures: readonly TotalsDelta[]) {
  return sql.join([
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

/** What a rebuild wrote: the positions, and every agreement's windows as stored. */
interface Written {
  results: RuleResult[];
  windows: Map<string, StoredWindow[]>;
}

/** Totals of these agreements from the stored lines, replacing what was stored; returns their positions. */
async function writeAccruals(
  db: Database,
  agreements: readonly Agreement[],
  master: MasterData,
  readers?: Database,
  lines?: LineColumns,
): Promise<Written> {
  const windows = new Map<string, StoredWindow[]>();
  if (agreements.length === 0) return { results: [], windows };
  // Every writer of the totals takes the lock first (see addLinesToAccruals).
  await sql`SELECT pg_advisory_xact_lock(${ACCRUAL_LOCK_KEY})`.execute(db);
  const resolver = new ScopeResolver(master);
  const requests = agreements.flatMap((a) => totalsRequests(a));
  const totals = await bulkTotals(
    db,
    master,
    requests.map((request) => ({ request, filter: resolver.filter(request) })),
    readers,
    lines,
  );
  const ids = agreements.map((a) => a.id);
  await sql`DELETE FROM accrual_totals WHERE agreement_id = ANY(${sqlArray(ids, 'text')})`.execute(db);
  // The windows' numbers are taken from their sequence here rather than given
  // by the insert, so that this process knows which number each window has
  // (a batch's update names windows by number) without reading them back.
  const numbers = requests.length === 0 ? [] : await windowNumbers(db, requests.length);
  for (let i = 0; i < requests.length; i += 5_000) {
    const slice = requests.slice(i, i + 5_000);
    const t = slice.map((r) => totals.get(r)!);
    await sql`
      INSERT INTO accrual_totals (window_id, agreement_id, rule_id, role, window_start, window_end, line_count,
        quantity, amount, mix_amount, mix_distinct_products)
      OVERRIDING SYSTEM VALUE
      SELECT * FROM unnest(${sqlArray(numbers.slice(i, i + 5_000), 'bigint')}, ${windowKeys(slice)},
        ${deltaFigures(t)},
        ${sqlArray(
          t.map((x) => String(x.mixDistinctProducts)),
          'int',
        )})`.execute(db);
  }
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    const window: StoredWindow = {
      id: numbers[i],
      ruleId: r.rule.id,
      role: r.role,
      start: r.window.start,
      end: r.window.end,
      totals: totals.get(r)!,
    };
    const list = windows.get(r.agreement.id);
    if (list === undefined) windows.set(r.agreement.id, [window]);
    else list.push(window);
  }
  // settleAgreement asks with request objects of its own: match them by key.
  const byKey = new Map(requests.map((r) => [keyOf(r), totals.get(r)!]));
  const results = agreements.flatMap((a) => calculate(a, (request) => byKey.get(keyOf(request))!));
  return { results, windows };
}

/** `count` new window numbers from the window_id column's own sequence. */
async function windowNumbers(db: Database, count: number): Promise<string[]> {
  const row = await sql<{ numbers: string }>`
    SELECT string_agg(nextval(pg_get_serial_sequence('accrual_totals', 'window_id'))::text, ',') AS numbers
    FROM generate_series(1, ${count}::int)`.execute(db);
  return row.rows[0]!.numbers.split(',');
}

/** A recalculation of accruals in a caller's transaction (`recalculateAccruals`). */
interface Recalculation {
  /** The positions of the recalculated agreements. */
  results: RuleResult[];
  /** Puts the recalculated totals into this process's copy (totals-cache.ts); call once the transaction has committed. */
  committed(): void;
}

async function rebuild(
  trx: Database,
  agreementIds: readonly string[] | undefined,
  readers: Database | undefined,
  store: Store | undefined,
): Promise<Recalculation> {
  await sql`SELECT pg_advisory_xact_lock(${ACCRUAL_LOCK_KEY})`.execute(trx);
  // After the lock, as every writer (see StagedTotals).
  const staged = store === undefined ? undefined : await StagedTotals.begin<AccrualPosition>(store, trx);
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
  // In the embedded store, summed from the process's copy of the lines when it has them all.
  const lines = store === undefined ? undefined : await currentLines(store, trx);
  const written = await writeAccruals(trx, agreements, await loadMasterData(trx), readers, lines);
  if (staged === undefined) return { results: written.results, committed: () => undefined };
  for (const [id, windows] of written.windows) staged.replace(id, windows);
  await staged.end(trx);
  return {
    results: written.results,
    committed: () =>
      agreementIds === undefined ? staged.committedAll() : staged.committed([...new Set(agreementIds)]),
  };
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
  const run = async (trx: Database) => (await rebuild(trx, agreementIds, readers, undefined)).results;
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/**
 * `rebuildAccruals` in the caller's transaction `trx`, keeping what it wrote
 * for this process's copy of the totals: after `committed`, reading positions
 * reads no totals again (a rebuild otherwise leaves the copy behind the store,
 * and the next reads load every agreement's windows again).
 */
async function recalculateAccruals(
  store: Store,
  trx: Database,
  agreementIds?: readonly string[],
  readers?: Database,
): Promise<Recalculation> {
  if (!trx.isTransaction) throw new Error('recalculateAccruals runs in a transaction the caller commits');
  return rebuild(trx, agreementIds, readers, store);
}

/**
 * Runs `work` in a transaction of the store's, in which `recalculate` rebuilds
 * accruals (every settled agreement's, or the given ones'; `readers` as for
 * `rebuildAccruals`) and returns their positions; what it wrote goes into this
 * process's copy once the transaction has committed. Otherwise the next read
 * would read every agreement's totals again.
 */
export async function transactionRecalculating<T>(
  store: Store,
  work: (
    trx: Database,
    recalculate: (agreementIds?: readonly string[], readers?: Database) => Promise<RuleResult[]>,
  ) => Promise<T>,
): Promise<T> {
  const recalculations: Recalculation[] = [];
  // Outside the transaction, where only committed lines are seen: the process's
  // copy of the lines is read from its file, begun, or read from the lines, for
  // the rebuild to sum.
  await linesToSum(store);
  const result = await store.db.transaction().execute((trx) =>
    work(trx, async (agreementIds, readers) => {
      const recalculation = await recalculateAccruals(store, trx, agreementIds, readers);
      recalculations.push(recalculation);
      return recalculation.results;
    }),
  );
  for (const recalculation of recalculations) recalculation.committed();
  if (recalculations.length > 0) await reclaimReplacedTotals(store);
  return result;
}

/**
 * After a committed rebuild, in the embedded store: makes the space of the
 * totals it replaced free for the next ones. A rebuild deletes and inserts its
 * agreements' totals, and the embedded store never vacuums by itself (a server
 * does), so without this every rebuild appended a new copy of them: after six full
 * recalculations of ten million lines the 24,990 totals took 40 MB, against 5.8 MB
 * compacted, and each real-time batch's update reads them all. A vacuum skips
 * the pages left unchanged since the last, so it costs in proportion to what the
 * rebuild replaced.
 */
export async function reclaimReplacedTotals(store: Store): Promise<void> {
  if (store.kind === 'pglite') await sql`VACUUM accrual_totals`.execute(store.db);
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

/** What an import changed in the accruals; `committed` is called once its transaction has committed. */
export interface AccrualChange {
  /** The agreements whose positions changed. */
  agreements: string[];
  /** Brings this process's copy of the totals and positions up to date (totals-cache.ts). */
  committed(): void;
  /** The totals were rebuilt rather than added to: see `reclaimReplacedTotals`, once committed. */
  rebuilt?: true;
}

const NO_CHANGE: AccrualChange = { agreements: [], committed: () => undefined };

/** Lets queries already sent reach the database before a stretch of calculation on this thread. */
const letQueriesGo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lines matched to the accrual windows ahead of being stored (`matchWhileStoring`). */
export interface MatchedLines {
  index: unknown;
  lines: readonly Line[];
  matched: LineDeltas;
}

/** Lines matched per slice, the thread let go in between. */
const MATCH_SLICE_LINES = 100;

/**
 * Prepares to match lines to the accrual windows while the database stores
 * them: the windows are read now, before the rows are sent, since a query sent
 * after them would wait for them. `match` then works in slices and lets the
 * thread go between slices, so the statements storing the rows (savepoint,
 * COPY) go out as soon as each is ready: a batch's matching, about a fifth of
 * the time until it shows at ten million lines, overlaps the COPY.
 */
export async function matchWhileStoring(store: Store, db: Database) {
  const index = await accrualIndex(store, db);
  return {
    async match(lines: readonly Line[]): Promise<MatchedLines> {
      const matching = index.matcher.matching(lines);
      do await letQueriesGo();
      while (matching.step(MATCH_SLICE_LINES));
      return { index, lines, matched: matching.result() };
    },
  };
}

/**
 * Adds newly stored lines to the window totals, inside the transaction that
 * stored them. `lines` undefined means too many to add one by one: every total
 * is rebuilt from the stored lines instead (one pass over them).
 */
export async function addLinesToAccruals(
  store: Store,
  db: Database,
  lines: readonly Line[] | undefined,
  /** These same lines, matched while they were stored; used if the windows are still those. */
  prematched?: MatchedLines,
): Promise<AccrualChange> {
  if (lines === undefined || lines.length > ACCRUAL_INCREMENTAL_LINES_MAX) {
    const rebuilt = await recalculateAccruals(store, db);
    const agreements = [...new Set(rebuilt.results.map((p) => p.agreementId))];
    return { agreements, committed: rebuilt.committed, rebuilt: true };
  }
  if (lines.length === 0) return NO_CHANGE;
  const index = await accrualIndex(store, db);
  const { deltas, retotal } = prematched?.index === index ? prematched.matched : index.matcher.deltas(lines);
  if (deltas.size === 0 && retotal.size === 0) return NO_CHANGE;
  await sql`SELECT pg_advisory_xact_lock(${ACCRUAL_LOCK_KEY})`.execute(db);
  const staged = await StagedTotals.begin<AccrualPosition>(store, db);
  const agreements = [...new Set([...deltas.keys(), ...retotal].map((r) => r.agreement.id))];
  if (deltas.size > 0) {
    const requests = [...deltas.keys()];
    const d = requests.map((r) => deltas.get(r)!);
    const ids = staged.windowIds(requests);
    const updated = ids
      ? sql`
      UPDATE accrual_totals t SET line_count = t.line_count + d.line_count, quantity = t.quantity + d.quantity,
        amount = t.amount + d.amount, mix_amount = t.mix_amount + d.mix_amount, updated_at = now()
      FROM unnest(${sqlArray(ids, 'bigint')}, ${deltaFigures(d)})
        AS d (window_id, line_count, quantity, amount, mix_amount)
      WHERE t.window_id = d.window_id`.execute(db)
      : sql`
      UPDATE accrual_totals t SET line_count = t.line_count + d.line_count, quantity = t.quantity + d.quantity,
        amount = t.amount + d.amount, mix_amount = t.mix_amount + d.mix_amount, updated_at = now()
      FROM unnest(${windowKeys(requests)}, ${deltaFigures(d)})
        AS d (agreement_id, rule_id, role, window_start, window_end, line_count, quantity, amount, mix_amount)
      WHERE t.agreement_id = d.agreement_id AND t.rule_id = d.rule_id AND t.role = d.role
        AND t.window_start = d.window_start AND t.window_end = d.window_end`.execute(db);
    // Awaited below; handled now so that a failure while staging cannot leave it unhandled.
    updated.catch(() => undefined);
    // While the database adds the deltas, this thread adds them to its copy and
    // calculates the positions that change (for today, what is read by default).
    if (staged.base !== undefined) {
      await letQueriesGo();
      for (const [request, delta] of deltas) {
        const current = staged.totals(request);
        if (current !== undefined) staged.setTotals(request, addDelta(current, delta));
      }
      const asOf = today();
      const retotalled = new Set([...retotal].map((r) => r.agreement.id));
      for (const [id, cached] of staged.stagedAgreements()) {
        if (retotalled.has(id)) continue;
        const agreement = index.agreements.get(id)!;
        staged.setPositions(
          id,
          asOf,
          agreement,
          positionsOf(agreement, cached.windows, cached.updatedAt, asOf),
        );
      }
    }
    await updated;
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
    staged.setTotals(request, totals);
  }
  await staged.end(db);
  return { agreements, committed: () => staged.committed(agreements) };
}

export interface AccrualPosition {
  readonly agreementId: string;
  readonly ruleId: string;
  /** The agreement version the rule belongs to (1 until the agreement is amended). */
  readonly version: number;
  readonly period: { start: string; end: string };
  readonly currency: string;
  readonly lineCount: number;
  readonly quantity: Decimal;
  readonly amount: Decimal;
  readonly baselineAmount: Decimal;
  readonly measure: Decimal;
  readonly tierIndex: number;
  readonly rebate: Decimal;
  readonly heldRebate: Decimal;
  readonly outcome: string;
  readonly nextTier?: { from: Decimal; rate: Decimal; remaining: Decimal };
  /** What the rule measures and how its rates pay, to word the next tier ("sell 1,200 more to earn 3%"). */
  readonly basis: Rule['basis'];
  readonly payout: Rule['payout'];
  /** The period projected to its end at the run rate so far (forecast.ts). */
  readonly forecast: Forecast;
  readonly accrualBasis: AccrualBasis;
  /** What is accrued on the agreement's basis. */
  readonly accrued: Decimal;
  readonly updatedAt: string;
}

/** The rule (of the version) a result is for. */
function ruleOf(agreement: Agreement, result: RuleResult): Rule {
  return agreement.rules.find((r) => r.id === result.ruleId && r.version === result.version)!;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Today in UTC: the day positions are read for by default. */
const today = () => new Date().toISOString().slice(0, 10);

/** An agreement's positions from its windows' totals, by rule and period. */
function positionsOf(
  agreement: Agreement,
  windows: readonly StoredWindow[],
  updatedAt: string,
  asOf: string,
): AccrualPosition[] {
  const results = calculate(agreement, (request) => totalsIn(windows, request), asOf);
  results.sort((a, b) => byText(a.ruleId, b.ruleId) || byText(a.period.start, b.period.start));
  return results.map((r) => {
    const rule = ruleOf(agreement, r);
    const position: { -readonly [K in keyof AccrualPosition]: AccrualPosition[K] } = {
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
      basis: rule.basis,
      payout: rule.payout,
      forecast: r.forecast!,
      accrualBasis: agreement.accrualBasis ?? 'earned',
      accrued: r.accrued!,
      updatedAt,
    };
    // Set after the literal rather than spread into it: the spread took longer than the calculation.
    if (r.nextTier)
      position.nextTier = { from: r.nextTier.from, rate: r.nextTier.rate, remaining: r.nextTier.remaining };
    return position;
  });
}

/**
 * The positions of every settled agreement (or of the given ones), by agreement,
 * rule and period, calculated from the stored window totals. Positions are
 * shared with this process's copy (totals-cache.ts): the list is the caller's, the positions are read only.
 */
export async function readAccruals(
  store: Store,
  agreementIds?: readonly string[],
  /** The day forecasts run to and accruals are taken on (default: today, UTC). */
  asOf: string = today(),
): Promise<AccrualPosition[]> {
  // Building the index brings the totals of agreements that have none up to date first.
  const index = await accrualIndex(store, store.db);
  const ids = (agreementIds ?? [...index.agreements.keys()]).filter((id) => index.agreements.has(id));
  const cache = await currentTotals<AccrualPosition>(store, agreementIds === undefined ? undefined : ids);
  const positions: AccrualPosition[] = [];
  for (const id of [...new Set(ids)].sort(byText)) {
    const cached = cache.agreements.get(id);
    // An agreement imported by another process after this index was built has no totals here yet.
    if (cached === undefined) continue;
    const agreement = index.agreements.get(id)!;
    if (cached.positions?.asOf !== asOf || cached.positions.definition !== agreement) {
      const calculated = positionsOf(agreement, cached.windows, cached.updatedAt, asOf);
      cached.positions = { asOf, definition: agreement, positions: calculated };
    }
    positions.push(...cached.positions.positions);
  }
  return positions;
}
