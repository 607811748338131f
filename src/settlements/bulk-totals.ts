// Totals for many rule windows at once, reading each stored line once.
//
// Asking the store for each rule window's totals separately re-reads a buying
// group's lines for every agreement of the group. Instead, the lines are
// aggregated once per partner, currency, category and time bucket — the
// buckets being cut at every window boundary of every agreement — plus per sku
// for the (partner, sku) pairs a scope naming skus or attributes needs; those
// cells are rolled up to the owners (partners with agreements of their own and
// buying groups). Each window's totals are then sums of a few cells, done
// exactly in memory.
import { sql } from 'kysely';
import type { Totals } from '../calculation/calculation.types.ts';
import type { TotalsRequest } from '../calculation/engine.ts';
import { scopeIsAllProducts } from '../calculation/scope.ts';
import { addDays } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database } from '../store/database.ts';
import { sqlArray } from '../store/sql-arrays.ts';
import type { LineFilter, MasterData } from './settlement.service.ts';

export interface PlannedRequest {
  request: TotalsRequest;
  filter: LineFilter;
}

interface Cell {
  quantity: Decimal;
  amount: Decimal;
  lines: number;
}

function ownerOf(request: TotalsRequest): { kind: 'partner' | 'group'; id: string } {
  const a = request.agreement;
  return a.partner !== undefined ? { kind: 'partner', id: a.partner } : { kind: 'group', id: a.buyingGroup! };
}

/** A scope that whole categories describe: every product, or a list of categories with no exclusions. */
function categoriesOfScope(request: TotalsRequest): string[] | 'all' | undefined {
  const scope = request.rule.scope;
  if (scopeIsAllProducts(scope)) return 'all';
  const simple =
    scope.skus === undefined &&
    Object.keys(scope.attributes ?? {}).length === 0 &&
    scopeIsAllProducts(scope.exclude ?? {});
  return simple && scope.categories ? scope.categories : undefined;
}

/** Index of the bucket that starts at `date` in the sorted boundary list (width_bucket numbering). */
function bucketOf(bounds: readonly string[], date: string): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! <= date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function add(map: Map<string, Cell>, key: string, quantity: Decimal, amount: Decimal, lines: number) {
  const cell = map.get(key);
  if (cell) {
    cell.quantity = cell.quantity.add(quantity);
    cell.amount = cell.amount.add(amount);
    cell.lines += lines;
  } else {
    map.set(key, { quantity, amount, lines });
  }
}

/**
 * The totals of every planned request, from one aggregate query over the lines.
 * With `readers` (a server's connection pool, see `parallelReaders`) the
 * aggregate runs as two statements over halves of the partners on two
 * connections that share one snapshot, so both cores work on it. Only for a
 * caller whose transaction has not changed lines, products or partners: other
 * connections cannot see its uncommitted rows.
 */
export async function bulkTotals(
  db: Database,
  master: MasterData,
  planned: readonly PlannedRequest[],
  readers?: Database,
): Promise<Map<TotalsRequest, Totals>> {
  const result = new Map<TotalsRequest, Totals>();
  if (planned.length === 0) return result;
  const boundaries = new Set<string>();
  // The (partner, sku) pairs some rule needs per sku: a scope naming skus or
  // attributes, or a mix counting distinct products, for that partner or its group.
  const skuLevel = new Map<string, Set<string>>();
  const needSkus = (partnerIds: readonly string[], skus: readonly string[]) => {
    for (const partner of partnerIds) {
      let wanted = skuLevel.get(partner);
      if (!wanted) {
        wanted = new Set();
        skuLevel.set(partner, wanted);
      }
      for (const sku of skus) wanted.add(sku);
    }
  };
  for (const { request, filter } of planned) {
    boundaries.add(filter.window.start);
    boundaries.add(addDays(filter.window.end, 1));
    if (categoriesOfScope(request) === undefined) needSkus(filter.partners, filter.skus ?? []);
    if (request.rule.mix?.minDistinctProducts !== undefined) needSkus(filter.partners, filter.mixSkus);
  }
  const pairPartners: string[] = [];
  const pairSkus: string[] = [];
  for (const [partner, skus] of skuLevel) {
    for (const sku of skus) {
      pairPartners.push(partner);
      pairSkus.push(sku);
    }
  }
  const bounds = [...boundaries].sort();
  // One pass over the lines: a hash aggregate per partner, category, time bucket
  // and (for the pairs above) sku. The owners' cells are then those of the
  // partner, or those of the group's members summed (in memory, below: summing
  // them in the statement meant keeping the aggregate as a materialized CTE and
  // reading it twice, about 7 s more at ten million lines in the embedded store).
  // Naming partners with `= ANY(array)` per line, or GROUPING SETS (a sort over
  // every line), each cost several times the scan itself.
  // Rows are returned per partner with the partner's cells as one text:
  // reading a hundred thousand small rows costs more than the aggregate in the
  // embedded store, and building and reading JSON arrays of the cells instead
  // cost about 9 s more than the text at ten million lines there.
  type PartnerRow = { partner_id: string; cells: string };
  // `part`: the lines of partners below or from a split id, when the aggregate
  // runs as two statements side by side.
  const cellsOf = (trx: Database, part?: { split: string; below: boolean }) =>
    sql<PartnerRow>`
    SELECT c.partner_id,
      string_agg(concat_ws(${FIELD_SEPARATOR}::text, c.currency, c.category, coalesce(c.sku, ''), c.bucket, c.quantity,
        c.amount, c.lines), ${CELL_SEPARATOR}::text) AS cells
    FROM (
      SELECT t.partner_id, t.currency, p.category, s.sku, width_bucket(t.line_date, ${sqlArray(bounds, 'date')}) AS bucket,
        sum(t.quantity) AS quantity, sum(t.amount) AS amount, count(*) AS lines
      FROM transactions t JOIN products p ON p.sku = t.sku
      LEFT JOIN unnest(${sqlArray(pairPartners, 'text')}, ${sqlArray(pairSkus, 'text')}) AS s (partner_id, sku)
        ON s.partner_id = t.partner_id AND s.sku = t.sku
      WHERE t.line_date >= ${bounds[0]}::date AND t.line_date < ${bounds.at(-1)}::date
        ${part === undefined ? sql`` : part.below ? sql`AND t.partner_id < ${part.split}` : sql`AND t.partner_id >= ${part.split}`}
      GROUP BY 1, 2, 3, 4, 5) c
    GROUP BY c.partner_id`.execute(trx);
  let rows: PartnerRow[];
  const ids = master.partners.map((p) => p.id).sort();
  if (readers !== undefined && ids.length >= 2) {
    const split = ids[ids.length >> 1]!;
    // Each statement on one process: parallel workers on top of two statements
    // only contend for the same cores (measured 31 s a half with them, 25 s without, at ten million lines).
    const serial = [['max_parallel_workers_per_gather', '0']] as const;
    const halves = await readSideBySide(readers, [
      (trx) => withAggregateSettings(trx, (t) => cellsOf(t, { split, below: true }), serial),
      (trx) => withAggregateSettings(trx, (t) => cellsOf(t, { split, below: false }), serial),
    ]);
    rows = halves.flatMap((h) => h.rows);
  } else {
    rows = (await withAggregateSettings(db, (trx) => cellsOf(trx))).rows;
  }
  // The owners' cells are indexed one owner at a time, and only in the ways that
  // owner's requests read them: small maps that live briefly, rather than maps
  // over every cell of every owner (millions at ten million lines).
  const requestsOf = new Map<string, PlannedRequest[]>();
  for (const p of planned) {
    const owner = ownerOf(p.request);
    const key = `${owner.kind}\u0000${owner.id}`;
    const list = requestsOf.get(key);
    if (list) list.push(p);
    else requestsOf.set(key, [p]);
  }
  const categoryOfSku = (sku: string) => master.products.get(sku)?.category;
  const settle = (requests: readonly PlannedRequest[], cells: OwnerCells) => {
    for (const p of requests) result.set(p.request, windowTotals(p, bounds, cells, categoryOfSku));
  };
  // Each partner's cells go to the partner, if it has agreements of its own,
  // and to its buying group, if the group has: indexing sums a group's members' cells.
  const groupOf = new Map(master.partners.map((p) => [p.id, p.buyingGroup]));
  const cellsByOwner = new Map<string, string[]>();
  const give = (key: string, cells: string) => {
    if (!requestsOf.has(key)) return;
    const list = cellsByOwner.get(key);
    if (list) list.push(cells);
    else cellsByOwner.set(key, [cells]);
  };
  for (const row of rows) {
    give(`partner\u0000${row.partner_id}`, row.cells);
    const group = groupOf.get(row.partner_id);
    if (group) give(`group\u0000${group}`, row.cells);
  }
  for (const [key, cells] of cellsByOwner) {
    const requests = requestsOf.get(key);
    if (!requests) continue;
    requestsOf.delete(key);
    settle(requests, indexCells(cells, requests));
  }
  // Owners without a line in any window.
  const none: OwnerCells = { byCategory: new Map(), byBucket: new Map(), bySku: new Map() };
  for (const requests of requestsOf.values()) settle(requests, none);
  return result;
}

// An owner's cells as one text: cells apart by CELL_SEPARATOR, and in each cell
// its currency, category, sku ('' when the cell is a whole category's), bucket,
// quantity, amount and line count apart by FIELD_SEPARATOR. Currencies,
// categories and skus never hold control characters (an import refuses them,
// fields.ts), so neither separator can occur inside a field.
const CELL_SEPARATOR = '\u001e';
const FIELD_SEPARATOR = '\u001f';
const CELL_FIELDS = 7;

/** One owner's cells by currency, category and bucket; by currency and bucket; by currency, sku and bucket. */
interface OwnerCells {
  byCategory: Map<string, Cell>;
  byBucket: Map<string, Cell>;
  bySku: Map<string, Cell>;
}

/** Indexes an owner's cells, given as the texts of one or more aggregates (see CELL_SEPARATOR). */
function indexCells(texts: readonly string[], requests: readonly PlannedRequest[]): OwnerCells {
  let needBucket = false;
  let needCategory = false;
  let needSku = false;
  for (const { request } of requests) {
    const scope = categoriesOfScope(request);
    if (scope === 'all') needBucket = true;
    else if (scope === undefined) needSku = true;
    else needCategory = true;
    if ((request.rule.mix?.categories?.length ?? 0) > 0) needCategory = true;
    if (request.rule.mix?.minDistinctProducts !== undefined) needSku = true;
  }
  const cells: OwnerCells = { byCategory: new Map(), byBucket: new Map(), bySku: new Map() };
  // Fields are found by position in the text rather than split into arrays: at
  // ten million lines some six million cells are indexed (each partner's, and
  // again for its group), and splitting made an array and seven strings of each.
  for (const text of texts) {
    const end = text.length;
    let at = 0;
    while (at < end) {
      let next = text.indexOf(CELL_SEPARATOR, at);
      if (next === -1) next = end;
      const f1 = text.indexOf(FIELD_SEPARATOR, at);
      const f2 = text.indexOf(FIELD_SEPARATOR, f1 + 1);
      const f3 = text.indexOf(FIELD_SEPARATOR, f2 + 1);
      const f4 = text.indexOf(FIELD_SEPARATOR, f3 + 1);
      const f5 = text.indexOf(FIELD_SEPARATOR, f4 + 1);
      const f6 = text.indexOf(FIELD_SEPARATOR, f5 + 1);
      const f7 = f6 === -1 ? -1 : text.indexOf(FIELD_SEPARATOR, f6 + 1);
      if (f1 === -1 || f6 === -1 || f6 >= next || (f7 !== -1 && f7 < next))
        throw new Error(
          `a cell of the lines' aggregate does not have ${CELL_FIELDS} fields: ${JSON.stringify(text.slice(at, next))}`,
        );
      const currency = text.slice(at, f1);
      const bucket = text.slice(f3 + 1, f4);
      const quantity = Decimal.parse(text.slice(f4 + 1, f5));
      const amount = Decimal.parse(text.slice(f5 + 1, f6));
      const lines = Number(text.slice(f6 + 1, next));
      // Every line is in exactly one cell: its category cell and its bucket take
      // every cell, its sku cell those of the named skus ('' for a whole category's cell).
      if (needCategory)
        add(
          cells.byCategory,
          `${currency}\u0000${text.slice(f1 + 1, f2)}\u0000${bucket}`,
          quantity,
          amount,
          lines,
        );
      if (needBucket) add(cells.byBucket, `${currency}\u0000${bucket}`, quantity, amount, lines);
      if (needSku && f3 > f2 + 1)
        add(
          cells.bySku,
          `${currency}\u0000${text.slice(f2 + 1, f3)}\u0000${bucket}`,
          quantity,
          amount,
          lines,
        );
      at = next + 1;
    }
  }
  return cells;
}

/** One request's totals: the sums of the owner's cells its window and scope cover. */
function windowTotals(
  { request, filter }: PlannedRequest,
  bounds: readonly string[],
  cells: OwnerCells,
  categoryOfSku: (sku: string) => string | undefined,
): Totals {
  const { byCategory, byBucket, bySku } = cells;
  const prefix = `${filter.currency}\u0000`;
  const first = bucketOf(bounds, filter.window.start);
  const last = bucketOf(bounds, addDays(filter.window.end, 1)) - 1;
  let quantity = Decimal.ZERO;
  let amount = Decimal.ZERO;
  let mixAmount = Decimal.ZERO;
  let lineCount = 0;
  const mixCategories = new Set(request.rule.mix?.categories ?? []);
  const scopeCategories = categoriesOfScope(request);
  /** Adds a cell the window and scope cover (to the mix amount too when its products are in the mix). */
  const count = (cell: Cell | undefined, inMix: boolean) => {
    if (!cell) return;
    quantity = quantity.add(cell.quantity);
    amount = amount.add(cell.amount);
    lineCount += cell.lines;
    if (inMix) mixAmount = mixAmount.add(cell.amount);
  };
  if (scopeCategories === 'all') {
    for (let b = first; b <= last; b++) {
      count(byBucket.get(`${prefix}${b}`), false);
    }
    for (const category of mixCategories) {
      for (let b = first; b <= last; b++) {
        const cell = byCategory.get(`${prefix}${category}\u0000${b}`);
        if (cell) mixAmount = mixAmount.add(cell.amount);
      }
    }
  } else if (scopeCategories !== undefined) {
    for (const category of scopeCategories) {
      for (let b = first; b <= last; b++) {
        count(byCategory.get(`${prefix}${category}\u0000${b}`), mixCategories.has(category));
      }
    }
  } else {
    for (const sku of filter.skus ?? []) {
      const inMix = mixCategories.has(categoryOfSku(sku) ?? '');
      for (let b = first; b <= last; b++) {
        count(bySku.get(`${prefix}${sku}\u0000${b}`), inMix);
      }
    }
  }
  let mixDistinctProducts = 0;
  if (request.rule.mix?.minDistinctProducts !== undefined) {
    for (const sku of filter.mixSkus) {
      let net = Decimal.ZERO;
      for (let b = first; b <= last; b++) {
        const cell = bySku.get(`${prefix}${sku}\u0000${b}`);
        if (cell) net = net.add(cell.quantity);
      }
      if (net.sign() > 0) mixDistinctProducts += 1;
    }
  }
  return { lineCount, quantity, amount, mixAmount, mixDistinctProducts };
}

/** Planner settings for the one large aggregate, and their values outside it. */
const AGGREGATE_SETTINGS = [
  ['work_mem', '256MB'],
  ['jit', 'off'],
  ['enable_mergejoin', 'off'],
  ['enable_sort', 'off'],
] as const;

/**
 * Runs a large aggregate with settings that suit it: hash tables in memory
 * rather than sorts spilled to disk, no JIT compilation (on a server with LLVM
 * it spends seconds compiling a query that runs once), and hashing rather than
 * sorting for joins and grouping: the planner misjudges the size of an
 * unnested array and would sort every line, which measured 1.5 to 2 times
 * slower than hashing at a million lines. Inside a caller's transaction the
 * settings are reset afterwards, so its later statements plan as usual.
 */
async function withAggregateSettings<T>(
  db: Database,
  work: (trx: Database) => Promise<T>,
  extra: readonly (readonly [string, string])[] = [],
): Promise<T> {
  const settings = [...AGGREGATE_SETTINGS, ...extra];
  const run = async (trx: Database) => {
    for (const [name, value] of settings) await sql`SELECT set_config(${name}, ${value}, true)`.execute(trx);
    const result = await work(trx);
    if (db.isTransaction) for (const [name] of settings) await sql.raw(`RESET ${name}`).execute(trx);
    return result;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

let sideBySideQueue: Promise<unknown> = Promise.resolve();

/**
 * One side-by-side read at a time in this process: each takes every connection
 * of the reader pool, and two taking one each would wait for each other.
 */
function readSideBySide<T>(readers: Database, works: ((trx: Database) => Promise<T>)[]): Promise<T[]> {
  const run = sideBySideQueue.then(() => readOnOneSnapshot(readers, works));
  sideBySideQueue = run.catch(() => undefined);
  return run;
}

/**
 * Runs each piece of work in a read-only transaction of its own on `readers`,
 * all at once and on one snapshot: the first exports it and holds its
 * transaction open until every other has imported it.
 */
async function readOnOneSnapshot<T>(
  readers: Database,
  works: ((trx: Database) => Promise<T>)[],
): Promise<T[]> {
  let share!: (snapshot: string | undefined) => void;
  const shared = new Promise<string | undefined>((resolve) => {
    share = resolve;
  });
  let imported = 0;
  let allImported!: () => void;
  const everyoneImported = new Promise<void>((resolve) => {
    allImported = resolve;
  });
  const joined = () => {
    imported += 1;
    if (imported === works.length - 1) allImported();
  };
  if (works.length === 1) allImported();
  const reader = (work: (trx: Database) => Promise<T>, index: number) =>
    readers
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        if (index === 0) {
          try {
            const row = await sql<{ snapshot: string }>`SELECT pg_export_snapshot() AS snapshot`.execute(trx);
            share(row.rows[0]!.snapshot);
          } catch (error) {
            share(undefined);
            throw error;
          }
          const result = await work(trx);
          await everyoneImported;
          return result;
        }
        try {
          const snapshot = await shared;
          // A snapshot id is hex digits and dashes; SET takes no parameters.
          if (snapshot === undefined || !/^[0-9A-F-]+$/i.test(snapshot))
            throw new Error('the first reader could not export its snapshot');
          await sql.raw(`SET TRANSACTION SNAPSHOT '${snapshot}'`).execute(trx);
        } finally {
          joined();
        }
        return work(trx);
      });
  return Promise.all(works.map(reader));
}
