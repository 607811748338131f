// The columnar copy of the stored lines that a process keeps for the embedded
// store (line-columns.ts, decision 0019), and how an import keeps it current.
//
// A copy is begun when the lines table is empty, so that it sees every line
// that comes in, or read from the stored lines by a recalculation that finds
// none. It is at one revision of the lines: the count that a statement trigger
// moves on every change of the table (migration 0016). An import adds the lines
// it stores to the copy, and the copy moves to the import's revision once the
// import has committed (or loses them again if it has not), if the copy was at
// the revision the import began from; the embedded store runs one transaction
// at a time and one process at a time (its lock), so nothing else can have
// changed the lines in between. Any other change of the lines leaves the copy
// behind the store's revision, and it is let go.
//
// The copy is also kept in a file in the store's data directory
// (line-columns.file.ts), appended to after each commit, so that the next
// process to open the store reads it instead of beginning none. A server's
// stores keep no copy: several processes write their lines, and the aggregate
// runs there on two cores (decision 0008).
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Database, Store } from '../store/database.ts';
import {
  appendLineColumns,
  appendOwnLines,
  LINE_COLUMNS_FILE,
  lineColumnsRevision,
  readLineColumns,
  removeLineColumns,
  writeLineColumns,
} from './line-columns.file.ts';
import { LineColumns, LineColumnsBuilder, type LineColumnsPart, type LinesMark } from './line-columns.ts';

/** Records in the file past which it is written again as one: each commit adds one or more. */
const LINE_COLUMNS_RECORDS_MAX = 4_096;

interface Kept {
  lines: LineColumns;
  /** Records in the file, when there is one. */
  records: number;
  /** Where the copy stood when its file's last record was written. */
  written: LinesMark;
}

const copies = new WeakMap<Store, Kept>();

function fileOf(store: Store): string | undefined {
  return store.kind === 'pglite' && store.location !== 'memory'
    ? join(store.location, LINE_COLUMNS_FILE)
    : undefined;
}

/** The store's count of changes to the lines, as `db` sees it. */
async function linesRevision(db: Database): Promise<number> {
  const row = await sql<{ revision: string }>`
    SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS revision
    FROM transaction_lines_revision`.execute(db);
  return Number(row.rows[0]!.revision);
}

/** The copy this process keeps of the store's lines, as it is, without reading the store (tests). */
export function keptLines(store: Store): LineColumns | undefined {
  return copies.get(store)?.lines;
}

/** Lets the copy go, in memory and on disk. */
function dropCopy(store: Store) {
  copies.delete(store);
  const file = fileOf(store);
  if (file) removeLineColumns(file);
}

/**
 * The copy of the lines, read from its file or begun on the empty table, when
 * `db` sees only committed lines; undefined when there is none to be had.
 */
async function copyOf(store: Store, db: Database, revision: number): Promise<Kept | undefined> {
  const file = fileOf(store);
  const read = file === undefined ? undefined : readLineColumns(file);
  if (read && read.lines.revision === revision) {
    const kept = { lines: read.lines, records: read.records, written: read.lines.mark() };
    if (read.records > 1) compact(store, kept);
    return kept;
  }
  if (file) removeLineColumns(file);
  const empty = await sql<{ empty: boolean }>`
    SELECT NOT EXISTS (SELECT 1 FROM transactions) AS empty`.execute(db);
  if (!empty.rows[0]!.empty) return undefined;
  const lines = new LineColumns(revision);
  const kept = { lines, records: 0, written: lines.mark() };
  compact(store, kept);
  return kept;
}

/** Writes the whole copy to its file as one record. */
function compact(store: Store, kept: Kept) {
  const file = fileOf(store);
  if (file === undefined) return;
  writeLineColumns(file, kept.lines);
  kept.records = 1;
  kept.written = kept.lines.mark();
}

/**
 * The copy of the lines this process keeps, when it holds exactly the lines `db`
 * sees and sums of it are exact; undefined otherwise (the store then sums the
 * lines). `settled`: `db` has not changed lines that may yet be rolled back, so
 * a copy can be read or begun, and one behind the store let go.
 */
export async function currentLines(
  store: Store,
  db: Database,
  settled = !db.isTransaction,
): Promise<LineColumns | undefined> {
  if (store.kind !== 'pglite') return undefined;
  const revision = await linesRevision(db);
  let kept = copies.get(store);
  if (kept === undefined && settled) {
    kept = await copyOf(store, db, revision);
    if (kept) copies.set(store, kept);
  }
  if (kept === undefined) return undefined;
  if (kept.lines.revision !== revision || !kept.lines.summable) {
    // Behind for good (the count only moves on), or holding a figure it cannot sum.
    if (settled) dropCopy(store);
    return undefined;
  }
  return kept.lines;
}

/** Bytes of the lines' COPY text read into columns at a time, letting other work in between. */
const COPY_SLICE_BYTES = 16 * 1024 * 1024;

/** Stores whose lines this process found it cannot keep exactly: it does not read them again. */
const unsummable = new WeakSet<Store>();

/**
 * The copy of the lines, as `currentLines` gives it outside a transaction, or
 * else read from the stored lines and kept from then on (a store whose lines came
 * before its copy, or whose copy was let go). Reading them costs about as much as
 * summing them once in the store: at ten million lines, 11 s to copy them out of
 * the database and about as long to read them into columns.
 */
export async function linesToSum(store: Store): Promise<LineColumns | undefined> {
  const current = await currentLines(store, store.db);
  if (current !== undefined || store.copyOut === undefined || unsummable.has(store)) return current;
  if (copies.has(store)) return undefined;
  // The count and the lines in one transaction: the same lines.
  const { revision, bytes } = await store.db.transaction().execute(async (trx) => ({
    revision: await linesRevision(trx),
    bytes: await store.copyOut!(
      trx,
      `SELECT partner_id, sku, line_date - DATE '1970-01-01', quantity, amount, currency FROM transactions`,
    ),
  }));
  const lines = new LineColumns(revision);
  const decoder = new TextDecoder();
  for (let at = 0; at < bytes.length; ) {
    let end = Math.min(at + COPY_SLICE_BYTES, bytes.length);
    // Whole rows: up to the newline that ends the row the slice ends in.
    if (end < bytes.length) end = bytes.indexOf(10, end - 1) + 1;
    if (end <= at) throw new Error('the lines copied out of the store do not end in a newline');
    const builder = new LineColumnsBuilder(1 << 16);
    builder.addCopyText(decoder.decode(bytes.subarray(at, end)));
    lines.append(builder.finish());
    if (!lines.summable) {
      unsummable.add(store);
      return undefined;
    }
    at = end;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Kept only if no change came in while the lines were read.
  if (copies.has(store) || (await linesRevision(store.db)) !== revision) return undefined;
  const kept = { lines, records: 0, written: lines.mark() };
  compact(store, kept);
  copies.set(store, kept);
  return lines;
}

/**
 * The lines an import stores, added to the process's copy as they are stored
 * (rather than held twice until the import commits: 300 MB at ten million
 * lines), and taken out again if the import does not commit. Meanwhile the copy
 * is still at the revision the import began from, which the store has left, so
 * nothing sums it. A process that has not read the copy (a command importing
 * one file) does not read it for this: it holds the lines, and once the import
 * has committed appends them to the copy's file, if the file is where the
 * import began.
 */
export class StagedLines {
  private builder = new LineColumnsBuilder();
  private spoiled = false;
  private endRevision: number | undefined;
  private readonly begun: LinesMark | undefined;
  /** The lines held, when the process has not read the copy. */
  private readonly parts: LineColumnsPart[] = [];

  private constructor(
    private readonly store: Store,
    private readonly kept: Kept | undefined,
    private readonly beginRevision: number,
  ) {
    this.begun = kept?.lines.mark();
  }

  /** Staging for an import in the transaction `trx`, before it writes lines; undefined when no copy is kept. */
  static async begin(store: Store, trx: Database): Promise<StagedLines | undefined> {
    if (store.kind !== 'pglite') return undefined;
    const file = fileOf(store);
    if (!copies.has(store) && file !== undefined) {
      const revision = await linesRevision(trx);
      if (lineColumnsRevision(file) === revision) return new StagedLines(store, undefined, revision);
    }
    // Nothing written yet: the transaction sees only committed lines.
    const lines = await currentLines(store, trx, true);
    const kept = copies.get(store);
    if (lines === undefined || kept === undefined) return undefined;
    return new StagedLines(store, kept, lines.revision);
  }

  /** Whether the copy is still the one the import began with, where it began. */
  private get following(): boolean {
    const { kept } = this;
    return (
      kept !== undefined && copies.get(this.store) === kept && kept.lines.revision === this.beginRevision
    );
  }

  /** Lines stored as they were checked on a worker thread. */
  addPart(part: LineColumnsPart): void {
    if (this.kept === undefined) this.parts.push(part);
    else if (this.following) this.kept.lines.append(part);
  }

  /** One line stored, as the transactions table's column values. */
  addRow(columns: readonly (string | null)[]): void {
    this.builder.addColumns(columns);
  }

  /** Lines were changed otherwise (removed again): the copy cannot follow. */
  spoil(): void {
    this.spoiled = true;
  }

  /** Reads the revision the import leaves, in its transaction, last before it commits or rolls back. */
  async end(trx: Database): Promise<void> {
    this.endRevision = await linesRevision(trx);
  }

  /** Once the import has committed: the copy holds its lines, and moves to the revision it left. */
  committed(): void {
    if (this.kept === undefined) {
      if (this.spoiled || this.endRevision === undefined) dropCopy(this.store);
      else {
        if (this.builder.length > 0) this.parts.push(this.builder.finish());
        this.appendToFile(this.parts);
      }
      return;
    }
    if (!this.following) return;
    if (this.spoiled || this.endRevision === undefined) {
      dropCopy(this.store);
      return;
    }
    if (this.builder.length > 0) this.kept.lines.append(this.builder.finish());
    this.builder = new LineColumnsBuilder();
    this.move();
  }

  /** Once the import has been rolled back: its lines are taken out, and the copy moves to the revision it left. */
  rolledBack(): void {
    if (this.kept === undefined) {
      if (this.endRevision === undefined) dropCopy(this.store);
      else this.appendToFile([]);
      return;
    }
    if (!this.following) return;
    this.kept.lines.truncate(this.begun!);
    if (this.endRevision === undefined) dropCopy(this.store);
    else this.move();
  }

  /** When the import failed otherwise: its lines are taken out, and the copy stays where it began. */
  failed(): void {
    if (this.following) this.kept!.lines.truncate(this.begun!);
  }

  /** Without the copy read: its file takes these lines, if no process has read it since the import began. */
  private appendToFile(parts: readonly LineColumnsPart[]) {
    const file = fileOf(this.store)!;
    if (copies.has(this.store) || lineColumnsRevision(file) !== this.beginRevision) return;
    appendOwnLines(file, this.beginRevision, this.endRevision!, parts);
  }

  /** The copy moves to the import's last revision, and its file takes what it took since its last record. */
  private move() {
    const kept = this.kept!;
    kept.lines.revision = this.endRevision!;
    const file = fileOf(this.store);
    if (file === undefined) return;
    kept.records += 1;
    if (kept.records > LINE_COLUMNS_RECORDS_MAX) compact(this.store, kept);
    else {
      appendLineColumns(file, this.beginRevision, this.endRevision!, kept.lines.since(kept.written));
      kept.written = kept.lines.mark();
    }
  }
}
