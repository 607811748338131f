// A process's copy of the stored window totals (accrual_totals) and of the
// positions calculated from them, as of one revision of the totals.
//
// Reading a position means calculating it from its windows' totals. At ten
// million lines a batch of 1,000 lines changes some 4,000 agreements: reading
// their windows again and calculating them all again after every batch is most
// of the time until the batch shows. So each process keeps a copy:
//
// - accrual_totals_revision counts every change to the totals (a statement
//   trigger, migration 0013). A copy whose revision is not the store's is
//   dropped: reading a position costs one row when nothing changed elsewhere.
// - An import in this process stages what it changes (the new totals, by adding
//   the batch's deltas to the copy, and the positions calculated from them)
//   while the database applies the same deltas, and the staged figures replace
//   the copy's once the transaction has committed. The database's figures and
//   the copy's are the same exact sums of the same lines.
import { sql } from 'kysely';
import { EMPTY_TOTALS } from '../calculation/calculate.ts';
import type { Totals } from '../calculation/calculation.types.ts';
import type { TotalsRequest } from '../calculation/engine.ts';
import { Decimal } from '../shared/decimal.ts';
import type { Database, Store } from '../store/database.ts';
import { sqlArray } from '../store/sql-arrays.ts';

/** One stored window of an agreement: which rule and role it measures, and its totals. */
export interface StoredWindow {
  /** The window's number in the store (bigint as text); undefined for a window the store did not give. */
  id: string | undefined;
  ruleId: string;
  role: string;
  start: string;
  end: string;
  totals: Totals;
}

/** An agreement's windows, when they last changed, and its positions once calculated. */
export interface CachedAgreement<P> {
  windows: StoredWindow[];
  updatedAt: string;
  /** Calculated for a day, from one definition of the agreement (the object itself: a new definition is a new object). */
  positions?: { asOf: string; definition: object; positions: readonly P[] };
}

/** The stored window a request asks for. */
export function windowIn(
  windows: readonly StoredWindow[] | undefined,
  request: TotalsRequest,
): StoredWindow | undefined {
  if (windows !== undefined) {
    for (const w of windows) {
      if (
        w.ruleId === request.rule.id &&
        w.role === request.role &&
        w.start === request.window.start &&
        w.end === request.window.end
      )
        return w;
    }
  }
  return undefined;
}

/** The stored totals a request asks for; none stored means no qualifying line yet. */
export function totalsIn(windows: readonly StoredWindow[] | undefined, request: TotalsRequest): Totals {
  return windowIn(windows, request)?.totals ?? EMPTY_TOTALS;
}

/** When a row last changed, as text: compared and kept, never shifted by a time zone. */
const timestampText = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export class TotalsCache<P> {
  /** Per agreement with stored totals that this process has read. */
  readonly agreements = new Map<string, CachedAgreement<P>>();
  /** Every agreement with totals is here: one that is not has none. */
  complete = false;

  constructor(public revision: string) {}

  /** Adds the stored windows of the given agreements (every agreement when undefined). */
  async load(db: Database, agreementIds?: readonly string[]): Promise<void> {
    if (agreementIds !== undefined && agreementIds.length === 0) return;
    let query = db
      .selectFrom('accrual_totals')
      .select([
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
        'window_id',
        timestampText('updated_at').as('updated_at'),
      ]);
    if (agreementIds !== undefined)
      query = query.where('agreement_id', '=', sql<string>`ANY(${sqlArray([...agreementIds], 'text')})`);
    const rows = await query.execute();
    for (const id of agreementIds ?? []) this.agreements.delete(id);
    if (agreementIds === undefined) this.agreements.clear();
    for (const r of rows) {
      const window: StoredWindow = {
        id: r.window_id,
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
      const cached = this.agreements.get(r.agreement_id);
      if (cached === undefined)
        this.agreements.set(r.agreement_id, { windows: [window], updatedAt: r.updated_at });
      else {
        cached.windows.push(window);
        if (r.updated_at > cached.updatedAt) cached.updatedAt = r.updated_at;
      }
    }
    if (agreementIds === undefined) this.complete = true;
  }
}

const caches = new WeakMap<Store, TotalsCache<unknown>>();

/** The copy this process keeps of the store's totals, as it is, without reading the store (diagnostics and tests). */
export function keptTotals<P>(store: Store): TotalsCache<P> | undefined {
  return caches.get(store) as TotalsCache<P> | undefined;
}

/** The store's count of changes to the totals, and the transaction's time (what `now()` writes). */
async function revisionNow(db: Database, lock: boolean) {
  const row = lock
    ? await sql<{ revision: string; now: string }>`
        SELECT revision::text AS revision, ${timestampText('now')} AS now
        FROM accrual_totals_revision, now() FOR UPDATE OF accrual_totals_revision`.execute(db)
    : await sql<{ revision: string; now: string }>`
        SELECT revision::text AS revision, '' AS now FROM accrual_totals_revision`.execute(db);
  return row.rows[0]!;
}

/** This process's copy of the totals of these agreements (all when undefined), current as of now. */
export async function currentTotals<P>(
  store: Store,
  agreementIds?: readonly string[],
): Promise<TotalsCache<P>> {
  const { revision } = await revisionNow(store.db, false);
  let cache = caches.get(store) as TotalsCache<P> | undefined;
  if (cache === undefined || cache.revision !== revision) {
    cache = new TotalsCache<P>(revision);
    caches.set(store, cache);
  }
  if (!cache.complete) {
    if (agreementIds === undefined) await cache.load(store.db);
    else {
      const known = cache.agreements;
      await cache.load(
        store.db,
        agreementIds.filter((id) => !known.has(id)),
      );
    }
  }
  return cache;
}

/**
 * A change to the totals being made in `db`'s transaction, staged against this
 * process's copy: `begin` (after the totals lock) holds the revision row until
 * commit, so nothing else changes the totals in between; `committed` puts the
 * staged agreements into the copy if it was current when the change began.
 */
export class StagedTotals<P> {
  /** The copy as it was when the change began, when it was current; otherwise nothing is staged. */
  readonly base: TotalsCache<P> | undefined;
  private readonly staged = new Map<string, CachedAgreement<P>>();
  private after = '';

  private constructor(
    private readonly store: Store,
    private readonly before: string,
    /** When the transaction writes its changes, as the database records them. */
    readonly now: string,
  ) {
    const cache = caches.get(store) as TotalsCache<P> | undefined;
    this.base = cache?.revision === before ? cache : undefined;
  }

  static async begin<P>(store: Store, db: Database): Promise<StagedTotals<P>> {
    const { revision, now } = await revisionNow(db, true);
    return new StagedTotals<P>(store, revision, now);
  }

  /** The agreement's windows as staged so far, or as the copy has them; undefined when the copy does not know them. */
  private windows(agreementId: string): StoredWindow[] | undefined {
    return (this.staged.get(agreementId) ?? this.base?.agreements.get(agreementId))?.windows;
  }

  /** A window's totals as staged so far, or as the copy has them; undefined when the copy does not know its agreement. */
  totals(request: TotalsRequest): Totals | undefined {
    const windows = this.windows(request.agreement.id);
    return windows === undefined ? undefined : totalsIn(windows, request);
  }

  /**
   * The store's numbers of these windows, when this process knows every one of
   * them as the store has them now (the copy is current and holds them all).
   */
  windowIds(requests: readonly TotalsRequest[]): string[] | undefined {
    if (this.base === undefined) return undefined;
    const ids: string[] = [];
    for (const request of requests) {
      const id = windowIn(this.windows(request.agreement.id), request)?.id;
      if (id === undefined) return undefined;
      ids.push(id);
    }
    return ids;
  }

  /** Stages a window's new totals; nothing for an agreement the copy does not know (it is read again). */
  setTotals(request: TotalsRequest, totals: Totals): void {
    const agreementId = request.agreement.id;
    let staged = this.staged.get(agreementId);
    if (staged === undefined) {
      const windows = this.windows(agreementId);
      if (windows === undefined) return;
      staged = { windows: [...windows], updatedAt: this.now };
      this.staged.set(agreementId, staged);
    }
    delete staged.positions;
    const previous = windowIn(staged.windows, request);
    const window: StoredWindow = {
      id: previous?.id,
      ruleId: request.rule.id,
      role: request.role,
      start: request.window.start,
      end: request.window.end,
      totals,
    };
    if (previous === undefined) staged.windows.push(window);
    else staged.windows[staged.windows.indexOf(previous)] = window;
  }

  /** Stages every window of an agreement, as the change has just written them all (a rebuild). */
  replace(agreementId: string, windows: StoredWindow[]): void {
    this.staged.set(agreementId, { windows, updatedAt: this.now });
  }

  /** Stages the positions calculated from an agreement's staged windows. */
  setPositions(agreementId: string, asOf: string, definition: object, positions: readonly P[]): void {
    const staged = this.staged.get(agreementId);
    if (staged !== undefined) staged.positions = { asOf, definition, positions };
  }

  /** The agreements staged so far, with their windows. */
  stagedAgreements(): IterableIterator<[string, CachedAgreement<P>]> {
    return this.staged.entries();
  }

  /** Reads the revision the change ends at; call after the last write to the totals. */
  async end(db: Database): Promise<void> {
    this.after = (await revisionNow(db, false)).revision;
  }

  /**
   * After commit: the copy, if it was current when the change began and nothing
   * replaced it since, takes the staged agreements and the new revision. Any
   * agreement the change touched that was not staged is forgotten (read again).
   */
  committed(touched: readonly string[]): void {
    const cache = caches.get(this.store) as TotalsCache<P> | undefined;
    if (this.base === undefined || cache !== this.base || cache.revision !== this.before || this.after === '')
      return;
    for (const id of touched) {
      const staged = this.staged.get(id);
      if (staged === undefined) cache.agreements.delete(id);
      else cache.agreements.set(id, staged);
    }
    // An agreement forgotten above is no longer known, so the copy is no longer complete.
    if (touched.some((id) => !this.staged.has(id))) cache.complete = false;
    cache.revision = this.after;
  }

  /**
   * After commit of a change that wrote the totals of every agreement that has
   * any (a full rebuild): the staged agreements become the copy, at the
   * revision the change ended at, whatever the copy was before. Were another
   * change to commit first, the copy's revision would be behind the store's
   * and the copy dropped when next read.
   */
  committedAll(): void {
    if (this.after === '') return;
    const cache = new TotalsCache<P>(this.after);
    for (const [id, staged] of this.staged) cache.agreements.set(id, staged);
    cache.complete = true;
    caches.set(this.store, cache);
  }
}
