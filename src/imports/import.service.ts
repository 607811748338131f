// Importing a CSV file of partners, products or transactions: read, check
// every row, insert new rows idempotently, and account for every row read.
//
// All-or-nothing by default: the whole file is one database transaction, and a
// file with any bad row is rolled back after every row has been checked, so the
// user gets the full list of problems at once. With `skipInvalid` the good rows
// are kept and the bad ones are written, unchanged, to a reject file.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { sql } from 'kysely';
import {
  type AccrualChange,
  addLinesToAccruals,
  lineFromColumns,
  type MatchedLines,
  matchWhileStoring,
  reclaimReplacedTotals,
} from '../accruals/accruals.service.ts';
import { type AuditEntry, appendAudit, commandLineActor } from '../audit/audit.service.ts';
import type { Line } from '../calculation/aggregate.ts';
import { csvField } from '../shared/csv-text.ts';
import type { Problem } from '../shared/errors.ts';
import {
  ACCRUAL_INCREMENTAL_LINES_MAX,
  BULK_LOAD_ROWS_MIN,
  IMPORT_ROWS_PER_BATCH_MAX,
  PROBLEMS_PRINTED_MAX,
} from '../shared/limits.ts';
import {
  type CopyState,
  copyIfAllNew,
  copyNewRows,
  copyRows,
  createIndexes,
  type DroppedKey,
  dropPrimaryKey,
  dropSecondaryIndexes,
  estimatedRows,
  removeRepeatedKeys,
  restorePrimaryKey,
} from '../store/bulk-insert.ts';
import type { Database, Store } from '../store/database.ts';
import { sqlArray } from '../store/sql-arrays.ts';
import { StagedLines } from '../transactions/kept-lines.ts';
import { openCsvSource } from './csv-source.ts';
import { IMPORT_SPECS, type ImportSpec, type ReferenceSets } from './import-spec.ts';
import type { Mapping } from './mapping.ts';
import {
  checkedPieces,
  PARALLEL_CHECK_BYTES_MIN,
  type Piece,
  PieceChecker,
  type PieceContext,
  piecesStart,
  warmUpCheckers,
} from './parallel-check.ts';
import type { ImportKind, SourceRow } from './source.types.ts';

/** An import of at least this many new rows refreshes the table's planner statistics. */
const ANALYZE_AFTER_ROWS = 10_000;

export interface ImportOptions {
  kind: ImportKind;
  file: string;
  mapping?: Mapping;
  mappingName?: string;
  skipInvalid?: boolean;
  /** Where rejected rows go with skipInvalid (default: FILE.rejected.csv beside the input). */
  rejectsFile?: string;
  /** Where the full problem list goes when there are problems (default: FILE.errors.csv beside the input). */
  errorsFile?: string;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Who imports, for the audit trail (default: the command line's user). */
  actor?: string;
  /**
   * A partner user's own partners: lines for any other partner are refused as
   * unknown, exactly as a partner that does not exist (a partner's sales report).
   */
  partnerScope?: readonly string[];
  requestId?: string;
  /**
   * Whether to read and check the file in pieces on worker threads
   * (parallel-check.ts): by default when it is large and can be cut at any line.
   * `false` reads it on the main thread; `true` cuts any file that can be cut.
   */
  inPieces?: boolean;
  /**
   * Told, once the import is committed, which agreements' accrual positions it
   * changed: what a real-time view reads again (none when nothing was imported).
   */
  onAccrualsChanged?: (agreementIds: readonly string[]) => void;
}

export type ImportOutcome = 'imported' | 'partially_imported' | 'nothing_imported';

export interface ImportSummary {
  kind: ImportKind | 'agreements';
  file: string;
  outcome: ImportOutcome;
  /** Data records read (header and blank lines excluded). */
  read: number;
  imported: number;
  duplicates: number;
  rejected: number;
  /** Valid rows not imported because the file had bad rows and skipInvalid was off. */
  withheld: number;
  /** The first problems (all of them are in errorsFile). */
  problems: Problem[];
  problemCount: number;
  errorsFile?: string;
  rejectsFile?: string;
  importId?: string;
}

/** Thrown inside the import transaction to roll it back once every row has been checked. */
class RollBack extends Error {}

class LineWriter {
  private stream: WriteStream | undefined;
  constructor(
    readonly path: string,
    private readonly header: string,
  ) {}
  async write(line: string): Promise<void> {
    if (!this.stream) {
      this.stream = createWriteStream(this.path);
      this.stream.write(`${this.header}\n`);
    }
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain');
  }
  get used(): boolean {
    return this.stream !== undefined;
  }
  async close(): Promise<void> {
    if (!this.stream) return;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** The partner ids and skus last loaded per store, with the calculation inputs' revision they were loaded at. */
const referenceCache = new WeakMap<Store, { revision: string; references: ReferenceSets }>();

/**
 * The ids rows may refer to. Every change to partners or products moves the
 * calculation inputs' revision (migration 0014), so small files arriving one
 * after another skip reading every id again while it has not moved.
 */
async function loadReferences(store: Store, db: Database, spec: ImportSpec): Promise<ReferenceSets> {
  if (!spec.needs.partners && !spec.needs.products)
    return { partners: new Set<string>(), products: new Set<string>() };
  const revision = (await sql<{ revision: string }>`SELECT revision FROM calculation_inputs`.execute(db))
    .rows[0]!.revision;
  const cached = referenceCache.get(store);
  if (cached && cached.revision === revision) return cached.references;
  const references = {
    partners: new Set((await db.selectFrom('partners').select('id').execute()).map((r) => r.id)),
    products: new Set((await db.selectFrom('products').select('sku').execute()).map((r) => r.sku)),
  };
  referenceCache.set(store, { revision, references });
  return references;
}

/**
 * Imports one file. Error codes (in problems): the row codes of csv-source.ts and
 * of each kind's schema, plus `exists_with_different_content` (an id stored, or
 * seen earlier in the file, with other content). Throws DomainError for file-level failures
 * (`missing_column`, `invalid_mapping`, unreadable file).
 */
export async function importFile(store: Store, options: ImportOptions): Promise<ImportSummary> {
  const spec = IMPORT_SPECS[options.kind];
  const source = await openCsvSource(options.file, {
    kind: options.kind,
    ...(options.mapping ? { mapping: options.mapping } : {}),
  });
  const tryPieces =
    !options.partnerScope && (options.inPieces ?? source.totalBytes >= PARALLEL_CHECK_BYTES_MIN);
  if (tryPieces) warmUpCheckers();
  const fileName = basename(options.file);
  const errors = new LineWriter(
    options.errorsFile ?? `${options.file}.errors.csv`,
    'file,line,field,code,message',
  );
  const rejects = new LineWriter(options.rejectsFile ?? `${options.file}.rejected.csv`, source.header);
  const summary: ImportSummary = {
    kind: options.kind,
    file: options.file,
    outcome: 'imported',
    read: 0,
    imported: 0,
    duplicates: 0,
    rejected: 0,
    withheld: 0,
    problems: [],
    problemCount: 0,
  };

  // The summary lists the problems of the first lines. Conflicts are found when rows are written,
  // after later lines were read, so a problem may still displace one found earlier on a later line.
  const keepProblem = (problem: Problem) => {
    const kept = summary.problems;
    if (kept.length < PROBLEMS_PRINTED_MAX) {
      kept.push(problem);
      return;
    }
    let last = 0;
    for (let i = 1; i < kept.length; i++) if ((kept[i]!.line ?? 0) > (kept[last]!.line ?? 0)) last = i;
    if ((problem.line ?? 0) < (kept[last]!.line ?? 0)) kept[last] = problem;
  };
  const report = async (problem: Problem, raw: string) => {
    summary.problemCount += 1;
    const located = { file: fileName, ...problem };
    keepProblem(located);
    await errors.write(
      [fileName, String(problem.line ?? ''), problem.field ?? '', problem.code, problem.message]
        .map(csvField)
        .join(','),
    );
    if (options.skipInvalid) await rejects.write(raw);
  };
  const rejectRow = async (row: { line: number; raw: string }, problems: Problem[]) => {
    summary.rejected += 1;
    // One reject line per row, however many problems it has.
    for (const [i, p] of problems.entries()) {
      summary.problemCount += 1;
      const located = { file: fileName, line: row.line, ...p };
      keepProblem(located);
      await errors.write(
        [fileName, String(row.line), p.field ?? '', p.code, p.message].map(csvField).join(','),
      );
      if (i === 0 && options.skipInvalid) await rejects.write(row.raw);
    }
  };

  // One entry per import: its rows carry the import's id, so the entry names every row it brought.
  const auditEntry = (importId: string): AuditEntry => ({
    actor: options.actor ?? commandLineActor(),
    action: `import.${options.kind}`,
    entity: 'import',
    entityId: importId,
    after: {
      file: fileName,
      mapping: options.mappingName ?? null,
      outcome: summary.outcome,
      read: summary.read,
      imported: summary.imported,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
    },
    ...(options.requestId ? { requestId: options.requestId } : {}),
  });

  // The agreements whose accruals the import changed, told once it is committed.
  let accrualChange: AccrualChange | undefined;
  // The lines it stored, for this process's copy of the lines (kept-lines.ts).
  let stagedLines: StagedLines | undefined;
  const runImport = async (db: Database, importId: string) => {
    const stored = await loadReferences(store, db, spec);
    const scope = options.partnerScope;
    const references = scope
      ? { ...stored, partners: new Set(scope.filter((p) => stored.partners.has(p))) }
      : stored;
    // New transaction lines go to the accruals once the file is stored; past the
    // incremental limit, the accruals are rebuilt from the stored lines instead.
    const keepsAccruals = spec.table.table === 'transactions';
    if (keepsAccruals) stagedLines = await StagedLines.begin(store, db);
    let newLines: Line[] | undefined = [];
    // A file of lines that is one batch (a real-time feed) is matched to the accrual
    // windows while the database stores it; any other file after it is stored.
    let prematched: MatchedLines | undefined;
    let batches = 0;
    type Item = { row: SourceRow; key: string; columns: (string | null)[] };
    // One batch is written while the next is read and checked: the database and
    // the parser work side by side. Batches still reach the table in file order
    // (one connection), so a key repeated in a later batch meets the stored row.
    let writing: Promise<void> = Promise.resolve();
    // Decided before the first write: a load at least as large as the table builds
    // its secondary indexes once at the end rather than row by row.
    let droppedIndexes: string[] | undefined;
    // A bulk load read in pieces also copies its rows without the primary key, when the
    // first piece's keys are all new (so a file imported again keeps the idempotent path);
    // repeated keys are then sorted out once the pieces are written.
    let droppedKey: DroppedKey | undefined;
    const copyState: CopyState = { tryCopy: true };
    let rowChars = 0;
    let batchRows = 0;
    /** `firstPieceMeetsStored`: given for a file read in pieces, which may then load without the key. */
    const decideLoadMode = async (firstPieceMeetsStored?: () => Promise<boolean>) => {
      if (droppedIndexes !== undefined) return;
      // The file's size over the average size of the rows read so far (the reader reads ahead).
      const expectedRows = rowChars > 0 ? (batchRows * source.totalBytes) / rowChars : 0;
      const table = spec.table.table;
      const stored = await estimatedRows(db, table);
      const bulk = expectedRows >= BULK_LOAD_ROWS_MIN && expectedRows >= stored;
      // Locked before anything is read from it, so two bulk loads at once queue rather than deadlock.
      if (bulk) await sql`LOCK TABLE ${sql.table(table)} IN ACCESS EXCLUSIVE MODE`.execute(db);
      droppedIndexes = bulk ? await dropSecondaryIndexes(db, table) : [];
      if (bulk && firstPieceMeetsStored && (stored === 0 || !(await firstPieceMeetsStored())))
        droppedKey = await dropPrimaryKey(db, table);
    };
    const write = async (firstByKey: Map<string, Item>, repeats: Item[], wholeFile: boolean) => {
      const items = [...firstByKey.values()];
      batches += 1;
      const matching =
        keepsAccruals && wholeFile && newLines ? await matchWhileStoring(store, db) : undefined;
      const copying = copyNewRows(
        store,
        db,
        spec.table,
        items.map((i) => i.columns),
        importId,
        copyState,
      );
      // A whole file is one batch, below ACCRUAL_INCREMENTAL_LINES_MAX.
      const lines = matching ? items.map((i) => lineFromColumns(i.columns)) : undefined;
      // Matched as if every line is new: kept only if every line was.
      const guess = lines ? matching?.match(lines) : undefined;
      guess?.catch(() => undefined);
      const statuses = await copying;
      if (guess) prematched = await guess;
      for (const [i, item] of items.entries()) {
        const status = statuses.get(item.key);
        if (status === 'inserted') {
          summary.imported += 1;
          stagedLines?.addRow(item.columns);
          if (keepsAccruals && newLines) {
            if (newLines.length < ACCRUAL_INCREMENTAL_LINES_MAX)
              newLines.push(lines?.[i] ?? lineFromColumns(item.columns));
            else newLines = undefined;
          }
        } else if (status === 'duplicate') summary.duplicates += 1;
        else await rejectRow(item.row, [conflictProblem(spec, item.key)]);
      }
      for (const item of repeats) {
        const first = firstByKey.get(item.key)!;
        const sameContent = first.columns.every((c, j) => c === item.columns[j]);
        const firstStored = statuses.get(item.key) !== 'conflict';
        if (sameContent && firstStored) summary.duplicates += 1;
        else await rejectRow(item.row, [conflictProblem(spec, item.key)]);
      }
    };
    /** Writes checked rows; keys repeated among them are compared with the first, as with a stored row. */
    const writeItems = async (items: readonly Item[], wholeFile = false) => {
      const firstByKey = new Map<string, Item>();
      const repeats: Item[] = [];
      for (const item of items) {
        if (firstByKey.has(item.key)) repeats.push(item);
        else firstByKey.set(item.key, item);
      }
      await write(firstByKey, repeats, wholeFile);
    };
    // A large file without quotes is read and checked in pieces on worker threads (parallel-check.ts).
    const start = tryPieces ? await piecesStart(source) : undefined;
    if (start !== undefined) {
      source.close();
      // So many lines rebuild the accruals they touch from the stored lines.
      newLines = undefined;
      const context: PieceContext = {
        kind: options.kind,
        file: options.file,
        names: source.names,
        settings: source.settings,
        ...(options.mapping ? { mapping: options.mapping } : {}),
        importId,
        partners: [...references.partners],
        products: [...references.products],
      };
      let mainChecker: PieceChecker | undefined;
      const checkAgain = (piece: Piece, lineOffset: number, keep: (key: string) => boolean): Item[] => {
        mainChecker ??= new PieceChecker(context);
        const items: Item[] = [];
        mainChecker.each(
          piece.bytes,
          (row, key, columns) => {
            if (keep(key)) items.push({ row: { ...row, line: row.line + lineOffset }, key, columns });
          },
          () => undefined,
        );
        return items;
      };
      const meetsStored = async (piece: Piece) => {
        const keys = checkAgain(piece, 0, () => true).map((i) => i.key);
        const found = await sql<{ found: boolean }>`
          SELECT EXISTS (SELECT 1 FROM ${sql.table(spec.table.table)}
            WHERE ${sql.id(spec.table.key)} = ANY(${sqlArray(keys, 'text')})) AS found`.execute(db);
        return found.rows[0]!.found;
      };
      // The rows of keys found repeated after a load without the key, read again in file
      // order and written the idempotent way: the first is inserted unless stored, the
      // others are duplicates or conflicts, as if the key had been there all along.
      const writeRepeatedKeys = async (keys: ReadonlySet<string>) => {
        copyState.tryCopy = false;
        let items: Item[] = [];
        let lineOffset = source.headerLine;
        for await (const piece of checkedPieces(options.file, start, context)) {
          items.push(...checkAgain(piece, lineOffset, (key) => keys.has(key)));
          lineOffset += piece.checked.lines;
          if (items.length >= IMPORT_ROWS_PER_BATCH_MAX) {
            await writeItems(items);
            items = [];
          }
        }
        if (items.length > 0) await writeItems(items);
      };
      let bytesDone = start;
      const writePiece = async (piece: Piece, lineOffset: number) => {
        if (piece.checked.rows > 0) {
          if (droppedKey) {
            await copyRows(store, db, spec.table, piece.checked.copy);
            summary.imported += piece.checked.rows;
            if (piece.checked.columns) stagedLines?.addPart(piece.checked.columns);
          } else if (copyState.tryCopy && (await copyIfAllNew(store, db, spec.table, piece.checked.copy))) {
            summary.imported += piece.checked.rows;
            if (piece.checked.columns) stagedLines?.addPart(piece.checked.columns);
          } else {
            // Some keys are stored already, or repeat: the piece's rows are read again here
            // and written as a batch of the main thread's own would be.
            const items = checkAgain(piece, lineOffset, () => true);
            copyState.tryCopy = false;
            for (let i = 0; i < items.length; i += IMPORT_ROWS_PER_BATCH_MAX)
              await writeItems(items.slice(i, i + IMPORT_ROWS_PER_BATCH_MAX));
          }
        }
        bytesDone += piece.bytes.length;
        options.onProgress?.(bytesDone, source.totalBytes);
      };
      let lineOffset = source.headerLine;
      for await (const piece of checkedPieces(options.file, start, context)) {
        const offset = lineOffset;
        lineOffset += piece.checked.lines;
        summary.read += piece.checked.read;
        for (const bad of piece.checked.bad) {
          if ('source' in bad) {
            summary.rejected += 1;
            await report({ ...bad.source, line: bad.source.line + offset }, bad.source.raw);
          } else await rejectRow({ line: bad.line + offset, raw: bad.raw }, bad.problems);
        }
        if (droppedIndexes === undefined) {
          rowChars += piece.bytes.length;
          batchRows += piece.checked.read;
        }
        await writing;
        await decideLoadMode(() => meetsStored(piece));
        writing = writePiece(piece, offset);
        writing.catch(() => undefined);
      }
      await writing;
      // Before a file with bad rows is rolled back too: its conflicts are among the problems reported.
      if (droppedKey && !(await restorePrimaryKey(db, spec.table.table, droppedKey))) {
        const repeated = await removeRepeatedKeys(db, spec.table, importId);
        stagedLines?.spoil();
        summary.imported -= repeated.removed;
        assert.ok(
          await restorePrimaryKey(db, spec.table.table, droppedKey),
          'no key repeats once the rows of repeated keys are removed',
        );
        await writeRepeatedKeys(repeated.keys);
      }
    } else {
      let batch: Item[] = [];
      const flush = async (last = false) => {
        if (batch.length === 0) return;
        if (droppedIndexes === undefined)
          for (const item of batch) {
            rowChars += item.row.raw.length + 1;
            batchRows += 1;
          }
        const items = batch;
        batch = [];
        await writing;
        await decideLoadMode();
        writing = writeItems(items, last && batches === 0).then(() =>
          options.onProgress?.(source.bytesRead(), source.totalBytes),
        );
        // Keeps an early failure from going unhandled while the next batch is read.
        writing.catch(() => undefined);
      };
      for await (const items of source.batches()) {
        for (const item of items) {
          summary.read += 1;
          if (!item.ok) {
            summary.rejected += 1;
            await report(item.problem, item.problem.raw);
            continue;
          }
          // A partner's own lines are kept apart from the ERP's: its line ids are prefixed with its
          // partner id, so they never meet (nor reveal) another partner's or the ERP's lines.
          if (scope && item.row.values.id)
            item.row.values.id = `${item.row.values.partner}:${item.row.values.id}`;
          const checked = spec.check(item.row.values, references);
          if (!checked.ok) {
            await rejectRow(item.row, checked.problems);
            continue;
          }
          batch.push({ row: item.row, key: checked.key, columns: checked.columns });
          if (batch.length >= IMPORT_ROWS_PER_BATCH_MAX) await flush();
        }
      }
      await flush(true);
    }
    await writing;
    options.onProgress?.(source.totalBytes, source.totalBytes);
    if (summary.rejected > 0 && !options.skipInvalid) {
      await stagedLines?.end(db);
      throw new RollBack();
    }
    if (droppedIndexes && droppedIndexes.length > 0) await createIndexes(db, droppedIndexes);
    if (keepsAccruals && summary.imported > 0) {
      // The lines matched while stored (the whole file) are the new lines only when they all were new.
      const all = prematched !== undefined && newLines?.length === prematched.lines.length;
      accrualChange = await addLinesToAccruals(store, db, newLines, all ? prematched : undefined);
    }
    await stagedLines?.end(db);
  };

  try {
    await store.db.transaction().execute(async (trx) => {
      const head = await trx
        .insertInto('imports')
        .values({
          kind: options.kind,
          file_name: fileName,
          mapping_name: options.mappingName ?? null,
          outcome: 'imported',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      summary.importId = head.id;
      await runImport(trx, head.id);
      summary.outcome = summary.rejected > 0 ? 'partially_imported' : 'imported';
      await trx
        .updateTable('imports')
        .set({
          finished_at: new Date().toISOString(),
          rows_read: summary.read,
          rows_imported: summary.imported,
          rows_duplicate: summary.duplicates,
          rows_rejected: summary.rejected,
          outcome: summary.outcome,
        })
        .where('id', '=', head.id)
        .execute();
      await appendAudit(trx, auditEntry(head.id));
    });
    accrualChange?.committed();
    stagedLines?.committed();
    if (accrualChange?.rebuilt) await reclaimReplacedTotals(store);
  } catch (error) {
    if (error instanceof RollBack) stagedLines?.rolledBack();
    else {
      stagedLines?.failed();
      await errors.close();
      await rejects.close();
      throw error;
    }
    // Nothing from this file is kept; the rows that were valid are accounted as withheld.
    summary.outcome = 'nothing_imported';
    summary.withheld = summary.imported;
    summary.imported = 0;
    delete summary.importId;
    await store.db.transaction().execute(async (trx) => {
      const head = await trx
        .insertInto('imports')
        .values({
          kind: options.kind,
          file_name: fileName,
          mapping_name: options.mappingName ?? null,
          finished_at: new Date().toISOString(),
          rows_read: summary.read,
          rows_imported: 0,
          rows_duplicate: summary.duplicates,
          rows_rejected: summary.rejected,
          outcome: 'nothing_imported',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      summary.importId = head.id;
      await appendAudit(trx, auditEntry(head.id));
    });
  }
  await errors.close();
  await rejects.close();
  const changedAgreements = summary.imported > 0 ? (accrualChange?.agreements ?? []) : [];
  if (changedAgreements.length > 0) options.onAccrualsChanged?.(changedAgreements);
  // The planner needs fresh statistics to aggregate a large load by hashing rather
  // than sorting; the embedded store has no autovacuum to gather them.
  if (summary.imported >= ANALYZE_AFTER_ROWS)
    await sql`ANALYZE ${sql.table(spec.table.table)}`.execute(store.db);
  // Conflicts are found when a batch is written, after later rows were checked: show them by line.
  summary.problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (errors.used) summary.errorsFile = errors.path;
  if (rejects.used) summary.rejectsFile = rejects.path;
  assert.equal(
    summary.read,
    summary.imported + summary.duplicates + summary.rejected + summary.withheld,
    'every row read is imported, a duplicate, rejected or withheld',
  );
  return summary;
}

function conflictProblem(spec: ImportSpec, key: string): Problem {
  return {
    field: spec.table.key === 'sku' ? 'sku' : 'id',
    code: 'exists_with_different_content',
    message: `${spec.table.key} ${key} is already stored with different content; a stored record is never overwritten`,
  };
}
