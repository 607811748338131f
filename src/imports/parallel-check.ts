// Reading and checking a large file on worker threads. Splitting a line into
// fields and checking them (dates, decimals, references) costs the main thread
// several times what the database needs to store the line, so a large import
// is cut into pieces at line ends; worker threads read and check the pieces
// side by side, and the main thread writes the checked pieces, in file order,
// as COPY text. On the embedded store the database itself runs on the main
// thread, so there the workers are what lets checking and storing overlap.
//
// Only a file whose lines are each one record can be cut anywhere at a line
// end: one with no quote character at all (a quoted field may hold a line
// break), read without joined files (which the main thread holds). Any other
// file, and every small one, is read on the main thread as before; the rows,
// problems and line numbers are the same either way (test/parallel-import.test.ts).
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { TextDecoder } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Problem } from '../shared/errors.ts';
import { copyText } from '../store/copy-text.ts';
import { LineColumnsBuilder, type LineColumnsPart } from '../transactions/line-columns.ts';
import { pieceItems, type RowBuilder, rowBuilder } from './csv-source.ts';
import { IMPORT_SPECS, type ImportSpec, type ReferenceSets } from './import-spec.ts';
import type { CsvSettings, Mapping } from './mapping.ts';
import type { ImportKind, RecordSource, SourceProblem, SourceRow } from './source.types.ts';

/** Files smaller than this are read on the main thread: starting the workers would cost more than it saves. */
export const PARALLEL_CHECK_BYTES_MIN = 8 * 1024 * 1024;
/** Bytes per piece: large enough that messages cost little, small enough to keep every worker busy. */
const PIECE_BYTES = 2 * 1024 * 1024;
const WORKERS_MAX = 4;
const SCAN_BYTES = 16 * 1024 * 1024;

/** What a worker needs to read and check pieces of one file, as it would on the main thread. */
export interface PieceContext {
  kind: ImportKind;
  file: string;
  names: readonly string[];
  settings: CsvSettings;
  mapping?: Mapping;
  importId: string;
  partners: readonly string[];
  products: readonly string[];
}

/** A record that cannot be read (`source`), or a row whose values fail the kind's checks. */
export type BadRow = { source: SourceProblem } | { line: number; raw: string; problems: Problem[] };

export interface CheckedPiece {
  /** Physical lines in the piece. */
  lines: number;
  /** Records read (blank lines excluded). */
  read: number;
  /** Valid rows, in COPY's text format with the import id last. */
  copy: string;
  rows: number;
  /** Line numbers count from 1 within the piece. */
  bad: BadRow[];
  /** Transaction lines: the valid rows as columns, for the process's copy of the lines (kept-lines.ts). */
  columns?: LineColumnsPart;
}

/** Reads and checks pieces of one file. */
export class PieceChecker {
  private readonly spec: ImportSpec;
  private readonly build: RowBuilder;
  private readonly references: ReferenceSets;
  private readonly decoder: TextDecoder;

  constructor(private readonly context: PieceContext) {
    this.spec = IMPORT_SPECS[context.kind];
    this.build = rowBuilder(context.kind, context.file, context.names, context.mapping);
    this.references = { partners: new Set(context.partners), products: new Set(context.products) };
    this.decoder = new TextDecoder(context.settings.encoding);
  }

  /** Each record of the piece, in order: a valid row with its key and columns, or a bad row. */
  each(
    bytes: Uint8Array,
    valid: (row: SourceRow, key: string, columns: (string | null)[]) => void,
    bad: (row: BadRow) => void,
  ): { lines: number; read: number } {
    let read = 0;
    const lines = pieceItems(
      this.decoder.decode(bytes),
      this.context.settings,
      this.context.names,
      this.build,
      (item) => {
        read += 1;
        if (!item.ok) return bad({ source: item.problem });
        const checked = this.spec.check(item.row.values, this.references);
        if (checked.ok) valid(item.row, checked.key, checked.columns);
        else bad({ line: item.row.line, raw: item.row.raw, problems: checked.problems });
      },
    );
    return { lines, read };
  }

  check(bytes: Uint8Array): CheckedPiece {
    const copy: string[] = [];
    const bad: BadRow[] = [];
    const importId = this.context.importId;
    const lines = this.context.kind === 'transactions' ? new LineColumnsBuilder(1 << 15) : undefined;
    const counted = this.each(
      bytes,
      (_row, _key, columns) => {
        copy.push(copyText(columns, importId));
        lines?.addColumns(columns);
      },
      (row) => bad.push(row),
    );
    return {
      ...counted,
      copy: copy.join(''),
      rows: copy.length,
      bad,
      ...(lines ? { columns: lines.finish() } : {}),
    };
  }
}

/**
 * Where a file's records start, when it can be read in pieces: without joined
 * files, and with no quote character anywhere. Undefined otherwise.
 */
export async function piecesStart(source: RecordSource): Promise<number | undefined> {
  if (!source.standalone) return undefined;
  const quote = source.settings.quote.charCodeAt(0);
  if (quote > 0x7f) return undefined;
  const handle = await open(source.file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(SCAN_BYTES);
    let position = 0;
    let newlines = 0;
    let start: number | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_BYTES, position);
      if (bytesRead === 0) break;
      const view = buffer.subarray(0, bytesRead);
      if (view.indexOf(quote) !== -1) return undefined;
      // The records start after the header's line (and any lines skipped before it).
      for (let at = 0; start === undefined; at += 1) {
        at = view.indexOf(10, at);
        if (at === -1) break;
        newlines += 1;
        if (newlines === source.headerLine) start = position + at + 1;
      }
      position += bytesRead;
    }
    return start;
  } finally {
    await handle.close();
  }
}

export interface Piece {
  bytes: Buffer;
  checked: CheckedPiece;
}

/**
 * The checking workers, started by the first large import and kept for the
 * next ones (starting one loads the checking code, most of a second), and not
 * keeping the process alive between imports.
 */
let pool: Worker[] | undefined;

function checkingWorkers(): Worker[] {
  if (pool !== undefined) return pool;
  const count = Math.max(1, Math.min(availableParallelism(), WORKERS_MAX));
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(new URL('./check-worker.mjs', import.meta.url), {
        workerData: { module: new URL('./check-worker.ts', import.meta.url).href },
      }),
  );
  for (const worker of workers) {
    worker.unref();
    // A worker that fails takes the pool with it; the next import starts a new one.
    worker.on('error', () => {
      if (pool === workers) pool = undefined;
    });
    worker.on('exit', () => {
      if (pool === workers) pool = undefined;
    });
  }
  pool = workers;
  return workers;
}

/** Starts the checking workers ahead of a large import, so they load while the import prepares. */
export function warmUpCheckers(): void {
  checkingWorkers();
}

let nextImport = 0;

/**
 * The file from `start` on, cut into pieces at line ends and checked on worker
 * threads; yields the pieces in file order. At most two pieces per worker are
 * in flight, so memory stays bounded whatever the file's size.
 */
export async function* checkedPieces(
  file: string,
  start: number,
  context: PieceContext,
): AsyncGenerator<Piece> {
  const workers = checkingWorkers();
  const count = workers.length;
  const token = nextImport++;
  const waiting = new Map<number, { resolve: (c: CheckedPiece) => void; reject: (e: Error) => void }>();
  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  const onMessage = (m: { token: number; id: number; checked?: CheckedPiece; error?: string }) => {
    const w = m.token === token ? waiting.get(m.id) : undefined;
    if (!w) return;
    waiting.delete(m.id);
    if (m.checked) w.resolve(m.checked);
    else w.reject(new Error(`checking ${file}: ${m.error}`));
  };
  const onExit = (code: number) =>
    failAll(new Error(`checking ${file}: a worker stopped (exit code ${code})`));
  for (const worker of workers) {
    worker.ref();
    worker.on('message', onMessage);
    worker.on('error', failAll);
    worker.on('exit', onExit);
    worker.postMessage({ token, context });
  }
  const handle = await open(file, 'r');
  const inFlight: { bytes: Buffer; checked: Promise<CheckedPiece> }[] = [];
  let next = 0;
  const send = (bytes: Buffer) => {
    const id = next++;
    const checked = new Promise<CheckedPiece>((resolve, reject) => waiting.set(id, { resolve, reject }));
    // Keeps a failure from going unhandled before its piece is awaited.
    checked.catch(() => undefined);
    workers[id % count]!.postMessage({ token, id, bytes });
    inFlight.push({ bytes, checked });
  };
  try {
    let position = start;
    let carry: Buffer | undefined;
    let ended = false;
    while (!ended || inFlight.length > 0) {
      while (!ended && inFlight.length < 2 * count) {
        const buffer = Buffer.allocUnsafe(PIECE_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, PIECE_BYTES, position);
        position += bytesRead;
        let data = buffer.subarray(0, bytesRead);
        if (carry) data = Buffer.concat([carry, data]);
        carry = undefined;
        if (bytesRead === 0) {
          ended = true;
          if (data.length > 0) send(data);
          break;
        }
        // A piece ends at its last line end; the rest starts the next piece.
        // (A line longer than a piece makes the next piece longer, never cuts the line.)
        const end = data.lastIndexOf(10);
        if (end === -1) {
          carry = data;
          continue;
        }
        if (end + 1 < data.length) carry = data.subarray(end + 1);
        send(data.subarray(0, end + 1));
      }
      const first = inFlight.shift();
      if (first) yield { bytes: first.bytes, checked: await first.checked };
    }
  } finally {
    await handle.close();
    failAll(new Error(`checking ${file}: the import ended`));
    for (const worker of workers) {
      worker.postMessage({ token, done: true });
      worker.off('message', onMessage);
      worker.off('error', failAll);
      worker.off('exit', onExit);
      worker.unref();
    }
  }
}

assert.ok(PIECE_BYTES < PARALLEL_CHECK_BYTES_MIN, 'a file read in pieces has several of them');
