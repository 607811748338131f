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
import { addDays, dayNumber } from '../shared/dates.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database } from '../store/database.ts';
import { sqlArray } from '../store/sql-arrays.ts';
import { type LineColumns, scaledText } from '../transactions/line-columns.ts';
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
 * connections cannot see its uncommitted rows. With `lines` (the process's copy
 * of exactly the lines `db` sees, kept-lines.ts) the cells are summed from it
 * instead of by the store.
 */
export async function bulkTotals(
  db: Database,
  master: MasterData,
  planned: readonly PlannedRequest[],
  readers?: Database,
  lines?: LineColumns,
): Promise<Map<TotalsRequest, Totals>> {
  const result = new Map<TotalsRequest, Totals>();
  if (planned.length === 0) return result;
  const boundaries = new Set<string>();
  // What each counted partner's lines must be told apart by, beyond currency
  // and time bucket: the categories a rule of the partner or of its group names
  // (in its scope, or in a mix measured over every product), and the skus a
  // scope naming skus or attributes, or a mix counting distinct products, needs.
  // Lines of other categories share one cell per bucket, and lines of other
  // skus count in their category's cell.
  const needs = new Map<string, { categories: Set<string>; skus: Set<string> }>();
  const needsOf = (partner: string) => {
    let found = needs.get(partner);
    if (!found) {
      found = { categories: new Set(), skus: new Set() };
      needs.set(partner, found);
    }
    return found;
  };
  for (const { request, filter } of planned) {
    boundaries.add(filter.window.start);
    boundaries.add(addDays(filter.window.end, 1));
    const scope = categoriesOfScope(request);
    const categories =
      scope === undefined ? [] : scope === 'all' ? (request.rule.mix?.categories ?? []) : scope;
    const skus = [
      ...(scope === undefined ? (filter.skus ?? []) : []),
      ...(request.rule.mix?.minDistinctProducts !== undefined ? filter.mixSkus : []),
    ];
    for (const partner of filter.partners) {
      const wanted = needsOf(partner);
      for (const category of categories) wanted.categories.add(category);
      for (const sku of skus) wanted.skus.add(sku);
    }
  }
  const bounds = [...boundaries].sort();
  const numbers = numberNeeds(master, needs);
  // One pass over the lines: a hash aggregate per partner, currency, time
  // bucket, needed category and needed sku. Each line finds its partner's needs
  // (bit masks over the numbered categories and skus) and its product's numbers
  // by joins on small relations, instead of a join on (partner, sku) pairs:
  // at ten million lines the pairs were nearly a million, and the join and
  // the cells they made cost about a third of the statement. Lines of
  // partners nobody's rules count are not aggregated at all.
  // The owners' cells are then those of the partner, or those of the group's
  // members summed (in memory, below: summing them in the statement meant
  // keeping the aggregate as a materialized CTE and reading it twice, about 7 s
  // more at ten million lines in the embedded store).
  // Naming partners with `= ANY(array)` per line, or GROUPING SETS (a sort over
  // every line), each cost several times the scan itself.
  // Rows are returned per partner with the partner's cells as one text:
  // reading a hundred thousand small rows costs more than the aggregate in the
  // embedded store, and building and reading JSON arrays of the cells instead
  // cost about 9 s more than the text at ten million lines there.
  type PartnerRow = { partner_id: string; cells: string };
  // `part`: the lines of partners below or from a split id, when the aggregate
  // runs as two statements side by side. `integers`: see CELL_FIELDS.
  const cellsOf = (trx: Database, integers: boolean, part?: { split: string; below: boolean }) =>
    sql<PartnerRow>`
    SELECT c.partner_id,
      string_agg(concat_ws(${FIELD_SEPARATOR}::text, c.currency, coalesce(c.category::text, ''),
        coalesce(c.sku::text, ''), c.bucket, coalesce(c.quantity_units::text, ''), coalesce(c.quantity::text, ''),
        coalesce(c.amount_cents::text, ''), coalesce(c.amount::text, ''), coalesce(c.amount_scale::text, ''),
        c.lines), ${CELL_SEPARATOR}::text) AS cells
    FROM (
      SELECT t.partner_id, t.currency,
        CASE WHEN get_bit(n.categories, p.category) = 1 THEN p.category END AS category,
        CASE WHEN get_bit(n.skus, p.sku_number) = 1 THEN p.sku_number END AS sku,
        width_bucket(t.line_date, ${sqlArray(bounds, 'date')}) AS bucket,
        ${integers ? INTEGER_SUMS : NUMERIC_SUMS}, count(*) AS lines
      FROM transactions t
      JOIN (SELECT u.sku, min(u.category) AS category, min(u.sku_number) AS sku_number
        FROM unnest(${sqlArray(numbers.productSkus, 'text')}, ${sqlArray(numbers.productCategories, 'int')},
          ${sqlArray(numbers.productSkuNumbers, 'int')}) AS u (sku, category, sku_number)
        GROUP BY u.sku) p ON p.sku = t.sku
      JOIN (SELECT u.partner_id, (array_agg(u.categories))[1] AS categories, (array_agg(u.skus))[1] AS skus
        FROM unnest(${sqlArray(numbers.partners, 'text')}, ${sqlArray(numbers.categoryMasks, 'bytea')},
          ${sqlArray(numbers.skuMasks, 'bytea')}) AS u (partner_id, categories, skus)
        GROUP BY u.partner_id) n ON n.partner_id = t.partner_id
      WHERE t.line_date >= ${bounds[0]}::date AND t.line_date < ${bounds.at(-1)}::date
        ${part === undefined ? sql`` : part.below ? sql`AND t.partner_id < ${part.split}` : sql`AND t.partner_id >= ${part.split}`}
      GROUP BY 1, 2, 3, 4, 5) c
    GROUP BY c.partner_id`.execute(trx);
  const ids = readers === undefined ? [] : master.partners.map((p) => p.id).sort();
  const aggregate = async (integers: boolean): Promise<PartnerRow[]> => {
    if (readers !== undefined && ids.length >= 2) {
      const split = ids[ids.length >> 1]!;
      // Each statement on one process: parallel workers on top of two statements
      // only contend for the same cores (measured 31 s a half with them, 25 s without, at ten million lines).
      const serial = [['max_parallel_workers_per_gather', '0']] as const;
      const halves = await readSideBySide(readers, [
        (trx) => withAggregateSettings(trx, (t) => cellsOf(t, integers, { split, below: true }), serial),
        (trx) => withAggregateSettings(trx, (t) => cellsOf(t, integers, { split, below: false }), serial),
      ]);
      return halves.flatMap((h) => h.rows);
    }
    return (await withAggregateSettings(db, (trx) => cellsOf(trx, integers))).rows;
  };
  let rows = lines === undefined ? undefined : await cellsFromColumns(lines, master, needs, numbers, bounds);
  if (rows === undefined) {
    try {
      rows = await aggregate(true);
    } catch (error) {
      // A quantity or an amount in cents beyond a bigint: summed as decimals instead.
      if ((error as { code?: unknown }).code !== NUMERIC_VALUE_OUT_OF_RANGE) throw error;
      rows = await aggregate(false);
    }
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
    settle(requests, indexCells(cells, requests, numbers));
  }
  // Owners without a line in any window.
  const none: OwnerCells = { byCategory: new Map(), byBucket: new Map(), bySku: new Map() };
  for (const requests of requestsOf.values()) settle(requests, none);
  return result;
}

// An owner's cells as one text: cells apart by CELL_SEPARATOR, and in each cell
// CELL_FIELDS fields apart by FIELD_SEPARATOR: currency; the number of the
// category ('' for the categories no rule of the owner names) and of the sku
// ('' for a cell of a whole category), see NeedNumbers; the time bucket; the
// quantity as whole units and a rest, the amount as cents and a rest in cents,
// and the largest scale of the lines' amounts (see INTEGER_SUMS); and the line
// count. Currencies never hold control characters (an import refuses them,
// fields.ts), so neither separator can occur inside a field.
const CELL_SEPARATOR = '\u001e';
const FIELD_SEPARATOR = '\u001f';
const CELL_FIELDS = 10;

// Quantities and amounts are summed as bigints where that is exact: a sum of
// numerics keeps a state of several allocations per cell, which at ten million
// lines (1.5 million cells) cost about 4 s in the embedded store, against
// an eighth of that for bigint sums. Each quantity is summed rounded to whole units,
// plus what the rounding left of those with decimals; each amount as cents,
// plus what the rounding left of those with more than two decimals (currencies
// with three). The largest scale of the amounts gives the sum the scale a
// numeric sum would have (12.5 + 100 is 112.5, not 112.50).
const INTEGER_SUMS = sql`sum(t.quantity::int8) AS quantity_units,
        sum(t.quantity - t.quantity::int8) FILTER (WHERE scale(t.quantity) > 0) AS quantity,
        sum((t.amount * 100)::int8) AS amount_cents,
        sum(t.amount * 100 - (t.amount * 100)::int8) FILTER (WHERE scale(t.amount) > 2) AS amount,
        max(scale(t.amount)) AS amount_scale`;
/** The sums as numerics, for lines beyond a bigint's range. */
const NUMERIC_SUMS = sql`NULL::numeric AS quantity_units, sum(t.quantity) AS quantity,
        NULL::numeric AS amount_cents, sum(t.amount) AS amount, NULL::int AS amount_scale`;
/** SQLSTATE of a value out of a type's range, such as a numeric cast to a bigint. */
const NUMERIC_VALUE_OUT_OF_RANGE = '22003';

/**
 * Numbers for the categories and skus some partner's lines must be told apart
 * by, the products with those numbers, and each counted partner's needs as bit
 * masks over them (bytea, bit n of byte n / 8 from the least significant, as
 * get_bit reads it; null when it needs none).
 */
interface NeedNumbers {
  categories: string[];
  skus: string[];
  productSkus: string[];
  productCategories: (string | null)[];
  productSkuNumbers: (string | null)[];
  partners: string[];
  categoryMasks: (string | null)[];
  skuMasks: (string | null)[];
  categoryNumber: ReadonlyMap<string, number>;
  skuNumber: ReadonlyMap<string, number>;
}

function numberNeeds(
  master: MasterData,
  needs: ReadonlyMap<string, { categories: ReadonlySet<string>; skus: ReadonlySet<string> }>,
): NeedNumbers {
  const categoryNumber = new Map<string, number>();
  const skuNumber = new Map<string, number>();
  for (const wanted of needs.values()) {
    for (const category of wanted.categories)
      if (!categoryNumber.has(category)) categoryNumber.set(category, categoryNumber.size);
    for (const sku of wanted.skus) if (!skuNumber.has(sku)) skuNumber.set(sku, skuNumber.size);
  }
  const productSkus: string[] = [];
  const productCategories: (string | null)[] = [];
  const productSkuNumbers: (string | null)[] = [];
  for (const product of master.products.values()) {
    productSkus.push(product.sku);
    const category = categoryNumber.get(product.category);
    productCategories.push(category === undefined ? null : String(category));
    const sku = skuNumber.get(product.sku);
    productSkuNumbers.push(sku === undefined ? null : String(sku));
  }
  const mask = (wanted: ReadonlySet<string>, numbers: ReadonlyMap<string, number>) => {
    if (wanted.size === 0) return null;
    const bytes = new Uint8Array(Math.ceil(numbers.size / 8));
    for (const name of wanted) {
      const n = numbers.get(name)!;
      bytes[n >> 3]! |= 1 << (n & 7);
    }
    return `\\x${Buffer.from(bytes).toString('hex')}`;
  };
  const partners: string[] = [];
  const categoryMasks: (string | null)[] = [];
  const skuMasks: (string | null)[] = [];
  for (const [partner, wanted] of needs) {
    partners.push(partner);
    categoryMasks.push(mask(wanted.categories, categoryNumber));
    skuMasks.push(mask(wanted.skus, skuNumber));
  }
  return {
    categories: [...categoryNumber.keys()],
    skus: [...skuNumber.keys()],
    productSkus,
    productCategories,
    productSkuNumbers,
    partners,
    categoryMasks,
    skuMasks,
    categoryNumber,
    skuNumber,
  };
}

/** How long summing from the copy of the lines runs before it lets requests be answered. */
const CELLS_SLICE_MS = 50;

/**
 * The aggregate statement's rows (see `cellsOf` in bulkTotals), summed from the
 * process's copy of the lines instead: per counted partner, its lines in the
 * buckets, by currency, needed category and needed sku, as the statement groups
 * them. Quantities and amounts are exact integers of 1/10,000 whose sums the copy
 * has checked to stay exact (line-columns.ts); each cell's sums are written at
 * the largest scale of its lines, as a numeric sum would be. Undefined when the
 * numbers of a cell's key could exceed a double's exact integers. It runs on the
 * main thread (the store's statement ran on the database's), so it lets other
 * work in between partners every CELLS_SLICE_MS.
 */
async function cellsFromColumns(
  lines: LineColumns,
  master: MasterData,
  needs: ReadonlyMap<string, { categories: ReadonlySet<string>; skus: ReadonlySet<string> }>,
  numbers: NeedNumbers,
  bounds: readonly string[],
): Promise<{ partner_id: string; cells: string }[] | undefined> {
  const categories = numbers.categories.length + 1;
  const buckets = bounds.length + 1;
  // Each counted partner's needs, by the copy's partner number: the categories as
  // flags, and the skus numbered anew per partner, so that a cell's key (its
  // currency, category, sku and bucket as one number) stays small, as a rule a
  // small integer, which a map hashes without making a number object of it.
  const counted: { id: string; categories: Uint8Array; skus: ReadonlyMap<number, number> }[] = [];
  const need = new Int32Array(lines.partners.length).fill(-1);
  for (const [id, wanted] of needs) {
    const partner = lines.partnerNumbers.get(id);
    if (partner === undefined) continue;
    const categoryNeeded = new Uint8Array(numbers.categories.length);
    for (const category of wanted.categories) categoryNeeded[numbers.categoryNumber.get(category)!] = 1;
    const skuNeeded = new Map<number, number>();
    for (const sku of wanted.skus) skuNeeded.set(numbers.skuNumber.get(sku)!, skuNeeded.size);
    if (lines.currencies.length * categories * (skuNeeded.size + 1) * buckets >= Number.MAX_SAFE_INTEGER)
      return undefined;
    need[partner] = counted.length;
    counted.push({ id, categories: categoryNeeded, skus: skuNeeded });
  }
  // Each product's numbered category and sku (-1: none), by the copy's product
  // number; lines of products not in the master data are not counted, as the
  // statement's join drops them.
  const known = new Uint8Array(lines.products.length);
  const categoryOf = new Int32Array(lines.products.length).fill(-1);
  const skuOf = new Int32Array(lines.products.length).fill(-1);
  for (const product of master.products.values()) {
    const n = lines.productNumbers.get(product.sku);
    if (n === undefined) continue;
    known[n] = 1;
    categoryOf[n] = numbers.categoryNumber.get(product.category) ?? -1;
    skuOf[n] = numbers.skuNumber.get(product.sku) ?? -1;
  }
  // The bucket of each day from the first boundary to the last (width_bucket's numbering).
  const firstDay = dayNumber(bounds[0]!);
  const days = dayNumber(bounds.at(-1)!) - firstDay;
  const bucketOfDay = new Int32Array(Math.max(days, 0));
  for (let b = 1, d = 0; b < bounds.length; b++) {
    const end = dayNumber(bounds[b]!) - firstDay;
    for (; d < end; d++) bucketOfDay[d] = b;
  }
  // The counted lines, grouped by partner: counted, then placed (a counting sort).
  const starts = new Int32Array(counted.length + 1);
  const eachCounted = (visit: (chunk: number, k: number, owner: number) => void) => {
    for (let c = 0; c < lines.chunks.length; c++) {
      const chunk = lines.chunks[c]!;
      for (let k = 0; k < chunk.length; k++) {
        const owner = need[chunk.partner[k]!]!;
        if (owner === -1 || known[chunk.product[k]!] === 0) continue;
        const d = chunk.day[k]! - firstDay;
        if (d < 0 || d >= days) continue;
        visit(c, k, owner);
      }
    }
  };
  eachCounted((_c, _k, owner) => {
    starts[owner + 1]! += 1;
  });
  for (let j = 0; j < counted.length; j++) starts[j + 1]! += starts[j]!;
  const next = starts.slice(0, counted.length);
  const order = new Int32Array(starts[counted.length]!);
  // A line's place in the copy: its chunk times the chunk size plus its index.
  const shift = Math.log2(lines.chunks[0]?.partner.length ?? 1);
  eachCounted((c, k, owner) => {
    order[next[owner]!++] = (c << shift) | k;
  });
  const rows: { partner_id: string; cells: string }[] = [];
  const mask = (1 << shift) - 1;
  // One partner's cells at a time: a cell's key is its currency, category, sku and bucket as one number.
  const slotOf = new Map<number, number>();
  let keys: number[] = [];
  let quantities: number[] = [];
  let amounts: number[] = [];
  let quantityScales: number[] = [];
  let amountScales: number[] = [];
  let lineCounts: number[] = [];
  let sliceStarted = performance.now();
  for (let j = 0; j < counted.length; j++) {
    if (starts[j] === starts[j + 1]) continue;
    if (performance.now() - sliceStarted > CELLS_SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStarted = performance.now();
    }
    const { id, categories: categoryNeeded, skus: skuNeeded } = counted[j]!;
    const skus = skuNeeded.size + 1;
    // A partner's own sku numbers, in the order they were given: the global numbers.
    const skuNumbers = [...skuNeeded.keys()];
    slotOf.clear();
    keys = [];
    quantities = [];
    amounts = [];
    quantityScales = [];
    amountScales = [];
    lineCounts = [];
    for (let at = starts[j]!; at < starts[j + 1]!; at++) {
      const place = order[at]!;
      const chunk = lines.chunks[place >>> shift]!;
      const k = place & mask;
      const product = chunk.product[k]!;
      const category = categoryOf[product]!;
      const sku = skuOf[product]!;
      const cellCategory = category !== -1 && categoryNeeded[category] === 1 ? category : -1;
      const cellSku = sku === -1 ? -1 : (skuNeeded.get(sku) ?? -1);
      const key =
        ((chunk.currency[k]! * categories + cellCategory + 1) * skus + cellSku + 1) * buckets +
        bucketOfDay[chunk.day[k]! - firstDay]!;
      let slot = slotOf.get(key);
      if (slot === undefined) {
        slot = keys.length;
        slotOf.set(key, slot);
        keys.push(key);
        quantities.push(0);
        amounts.push(0);
        quantityScales.push(0);
        amountScales.push(0);
        lineCounts.push(0);
      }
      quantities[slot]! += chunk.quantity[k]!;
      amounts[slot]! += chunk.amount[k]!;
      const scales = chunk.scales[k]!;
      if (scales >> 4 > quantityScales[slot]!) quantityScales[slot] = scales >> 4;
      if ((scales & 15) > amountScales[slot]!) amountScales[slot] = scales & 15;
      lineCounts[slot]! += 1;
    }
    const texts: string[] = [];
    for (let slot = 0; slot < keys.length; slot++) {
      let key = keys[slot]!;
      const bucket = key % buckets;
      key = (key - bucket) / buckets;
      const sku = (key % skus) - 1;
      key = (key - sku - 1) / skus;
      const category = (key % categories) - 1;
      const currency = (key - category - 1) / categories;
      texts.push(
        [
          lines.currencies[currency]!,
          category === -1 ? '' : String(category),
          sku === -1 ? '' : String(skuNumbers[sku]),
          String(bucket),
          '',
          scaledText(quantities[slot]!, quantityScales[slot]!),
          '',
          scaledText(amounts[slot]!, amountScales[slot]!),
          '',
          String(lineCounts[slot]!),
        ].join(FIELD_SEPARATOR),
      );
    }
    rows.push({ partner_id: id, cells: texts.join(CELL_SEPARATOR) });
  }
  return rows;
}

/** One owner's cells by currency, category and bucket; by currency and bucket; by currency, sku and bucket. */
interface OwnerCells {
  byCategory: Map<string, Cell>;
  byBucket: Map<string, Cell>;
  bySku: Map<string, Cell>;
}

/** A sum from its integer part and rest (see INTEGER_SUMS), or from a numeric sum when `units` is ''. */
function quantityOf(units: string, rest: string): Decimal {
  if (units === '') return Decimal.parse(rest);
  const whole = Decimal.of(BigInt(units));
  return rest === '' ? whole : whole.add(Decimal.parse(rest));
}

/** An amount from its cents, rest in cents and largest scale (see INTEGER_SUMS), or from a numeric sum when `cents` is ''. */
function amountOf(cents: string, rest: string, scale: string): Decimal {
  if (cents === '') return Decimal.parse(rest);
  const places = Number(scale);
  const ofCents = Decimal.of(BigInt(cents), 2);
  const exact = rest === '' ? ofCents : ofCents.add(Decimal.parse(rest).shift(2));
  if (exact.scale === places) return exact;
  // Every line had at most `places` decimals, so dropping the others is exact.
  const atScale = exact.roundHalfAwayFromZero(places);
  if (!atScale.eq(exact)) throw new Error(`the amount ${exact.toString()} has more than ${places} decimals`);
  return atScale;
}

/** Indexes an owner's cells, given as the texts of one or more aggregates (see CELL_SEPARATOR). */
function indexCells(
  texts: readonly string[],
  requests: readonly PlannedRequest[],
  numbers: NeedNumbers,
): OwnerCells {
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
  const at = new Int32Array(CELL_FIELDS + 1);
  // Fields are found by position in the text rather than split into arrays: at
  // ten million lines over a million cells are indexed (each partner's, and
  // again for its group), and splitting made an array and a string of each field.
  for (const text of texts) {
    const end = text.length;
    let start = 0;
    while (start < end) {
      let next = text.indexOf(CELL_SEPARATOR, start);
      if (next === -1) next = end;
      // at[i] is where field i starts, less one; at[CELL_FIELDS] where the cell ends.
      // (No function is made per cell: a million closures cost about a second.)
      at[0] = start - 1;
      let fields = 1;
      while (fields < CELL_FIELDS) {
        const found = text.indexOf(FIELD_SEPARATOR, at[fields - 1]! + 1);
        if (found === -1 || found >= next) break;
        at[fields++] = found;
      }
      const extra = fields === CELL_FIELDS ? text.indexOf(FIELD_SEPARATOR, at[CELL_FIELDS - 1]! + 1) : -1;
      if (fields < CELL_FIELDS || (extra !== -1 && extra < next))
        throw new Error(
          `a cell of the lines' aggregate does not have ${CELL_FIELDS} fields: ${JSON.stringify(text.slice(start, next))}`,
        );
      at[CELL_FIELDS] = next;
      const currency = text.slice(at[0]! + 1, at[1]!);
      const category = text.slice(at[1]! + 1, at[2]!);
      const sku = text.slice(at[2]! + 1, at[3]!);
      const bucket = text.slice(at[3]! + 1, at[4]!);
      const quantity = quantityOf(text.slice(at[4]! + 1, at[5]!), text.slice(at[5]! + 1, at[6]!));
      const amount = amountOf(
        text.slice(at[6]! + 1, at[7]!),
        text.slice(at[7]! + 1, at[8]!),
        text.slice(at[8]! + 1, at[9]!),
      );
      const lines = Number(text.slice(at[9]! + 1, at[10]!));
      // Every line is in exactly one cell: its category cell and its bucket take
      // every cell, its sku cell those of the named skus. The categories no rule
      // of the owner names share a cell no request reads by category.
      if (needCategory && category !== '')
        add(
          cells.byCategory,
          `${currency}\u0000${numbers.categories[Number(category)]}\u0000${bucket}`,
          quantity,
          amount,
          lines,
        );
      if (needBucket) add(cells.byBucket, `${currency}\u0000${bucket}`, quantity, amount, lines);
      if (needSku && sku !== '')
        add(
          cells.bySku,
          `${currency}\u0000${numbers.skus[Number(sku)]}\u0000${bucket}`,
          quantity,
          amount,
          lines,
        );
      start = next + 1;
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
  if (!db.isTransaction) return db.transaction().execute(run);
  // A failed statement would end the caller's transaction; under a savepoint
  // the caller can go on (bulkTotals sums lines beyond a bigint's range again as numerics).
  await sql`SAVEPOINT aggregate`.execute(db);
  try {
    const result = await run(db);
    await sql`RELEASE SAVEPOINT aggregate`.execute(db);
    return result;
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT aggregate`.execute(db);
    await sql`RELEASE SAVEPOINT aggregate`.execute(db);
    throw error;
  }
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
