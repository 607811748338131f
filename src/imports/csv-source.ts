// Reading a CSV export as canonical rows: the workload format (docs/workload-format.md) by default, or
// any layout described by a column mapping (mapping.ts). Every record becomes
// one item, a row or a problem naming its physical line, so nothing is dropped.
//
// Why the splitting is our own and csv-parse parses only quoted records:
// csv-parse's stream reads about 140,000 records a second on this machine once
// `raw` is on (which reject files need), a third of what a 10-million-line file
// needs; its `info.lines` counts a quoted CRLF as two lines; and after an error
// with `skip_records_with_error` it either drops the record's text (bad quotes)
// or stops making progress (`max_record_size`). So the stream is split into
// physical lines here, which gives exact line numbers, the raw text and bounded
// memory for free. A line without a quote character is split on the delimiter,
// which is exactly what csv-parse would return for it (a property test checks
// the two agree). A record with a quote character is handed to csv-parse: those
// on one line in batches, so its per-call cost is shared, and a csv-parse error
// marks just that record. When a quote opened on one line is never properly
// closed (csv-parse refuses the record, the file ends, or the record reaches the
// length limit) that line is reported and the lines after it are read again as
// records of their own, so one stray quote costs one row.
import assert from 'node:assert/strict';
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { type Options as CsvParseOptions, parse as parseCsv } from 'csv-parse/sync';
import { DomainError, type Problem } from '../shared/errors.ts';
import { CSV_RECORD_LENGTH_MAX, PRODUCT_ATTRIBUTES_MAX } from '../shared/limits.ts';
import {
  type CsvSettings,
  compileMapping,
  DEFAULT_CSV_SETTINGS,
  type FieldProblem,
  indexHeader,
  type JoinSpec,
  type JoinTable,
  type Mapping,
  type RowMapper,
} from './mapping.ts';
import {
  ATTRIBUTE_PREFIX,
  IMPORT_FIELDS,
  type ImportKind,
  type RecordSource,
  type SourceItem,
  type SourceProblem,
} from './source.types.ts';

/** Columns a header may have. */
export const CSV_COLUMNS_MAX = 1_000;
/** Size of a joined file; it is held in memory while the import runs. */
export const JOIN_FILE_BYTES_MAX = 128 * 1024 * 1024;
/** Quoted records parsed by one csv-parse call: shares its per-call cost without holding much text. */
export const QUOTED_RECORDS_PER_PARSE_MAX = 512;
/** Bytes read from disk at a time. */
const READ_CHUNK_BYTES = 256 * 1024;
/** Problems listed in an invalid_join_file error (the count is always given). */
const JOIN_PROBLEMS_LISTED_MAX = 20;
/** Further problems of one row summarised in its problem's message. */
const EXTRA_PROBLEMS_DESCRIBED_MAX = 3;
/** A line at most this long cannot exceed CSV_RECORD_LENGTH_MAX bytes (UTF-8 uses at most 3 bytes per UTF-16 unit). */
const CHARACTERS_ALWAYS_WITHIN_LIMIT = Math.floor(CSV_RECORD_LENGTH_MAX / 3);

export interface CsvSourceOptions {
  kind: ImportKind;
  mapping?: Mapping;
}

// ---------------------------------------------------------------------------
// Tokenizer: text in, records (fields as written, untrimmed) or problems out.

export interface CsvRecordSink {
  record(line: number, raw: string, fields: string[]): void;
  /** `column` is the 0-based column at fault, when known. */
  problem(line: number, raw: string, code: string, message: string, column?: number): void;
}

export interface CsvDialect {
  delimiter: string;
  quote: string;
  relaxQuotes: boolean;
  /** Physical lines skipped before the first record. */
  skipLines: number;
}

interface QueuedRecord {
  line: number;
  raw: string;
  /** undefined until a quoted record is parsed, or for a problem. */
  fields: string[] | undefined;
  code?: string;
  message?: string;
  column?: number;
  /** Why csv-parse could not read a quoted record; described when delivered, once column names are known. */
  parseFailure?: { error: unknown; recordCount: number; linesReadAgain: number };
}

interface PendingRecord {
  line: number;
  parts: string[];
  /** The line ending after each part ('\n' or '\r\n'). */
  endings: string[];
  bytes: number;
  state: number;
  column: number;
  openedColumn: number;
}

interface PhysicalLine {
  text: string;
  ending: string;
  line: number;
}

const TOO_LONG_MESSAGE = `the line is longer than ${CSV_RECORD_LENGTH_MAX} bytes, the longest record accepted (only its first ${CSV_RECORD_LENGTH_MAX} characters are kept in reports)`;

// States of the quote scanner, which finds where a record with quotes ends.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_QUOTED = 4;
const SPACE = 32;
const TAB = 9;

/**
 * Splits CSV text, fed in chunks of any size, into records with exact physical
 * line numbers and raw text. Blank (empty or whitespace-only) lines are skipped.
 */
export class CsvTokenizer {
  /** Header names, once known, to name columns in messages. */
  columnNames: readonly string[] | undefined;
  private carry = '';
  private overlong: { line: number; prefix: string } | undefined;
  private nextLine = 1;
  private skipLines: number;
  private pending: PendingRecord | undefined;
  private queue: QueuedRecord[] = [];
  private quotedInQueue = 0;
  private refeed: PhysicalLine[] = [];
  private sawReplacementCharacter = false;
  private scanColumn = 0;
  private scanOpened = 0;
  private readonly delimiterCode: number;
  private readonly quoteCode: number;
  private readonly parseOptions: CsvParseOptions;

  constructor(
    private readonly dialect: CsvDialect,
    private readonly sink: CsvRecordSink,
  ) {
    assert.equal(dialect.delimiter.length, 1, 'the delimiter is one character');
    assert.equal(dialect.quote.length, 1, 'the quote is one character');
    assert.notEqual(dialect.delimiter, dialect.quote, 'delimiter and quote differ');
    this.delimiterCode = dialect.delimiter.charCodeAt(0);
    this.quoteCode = dialect.quote.charCodeAt(0);
    this.skipLines = dialect.skipLines;
    this.parseOptions = {
      delimiter: dialect.delimiter,
      quote: dialect.quote,
      escape: dialect.quote,
      record_delimiter: '\n',
      relax_column_count: true,
      relax_quotes: dialect.relaxQuotes,
      ltrim: true,
      rtrim: true,
      bom: false,
      skip_empty_lines: false,
    };
  }

  /** Physical lines read so far (after `end`, a last line without a line end included). */
  get linesRead(): number {
    return this.nextLine - 1;
  }

  feed(text: string): void {
    if (text === '') return;
    if (!this.sawReplacementCharacter && text.includes('\uFFFD')) this.sawReplacementCharacter = true;
    let data = text;
    if (this.overlong !== undefined) {
      const newline = data.indexOf('\n');
      if (newline === -1) return;
      this.finishOverlong();
      data = data.slice(newline + 1);
    }
    if (this.carry !== '') {
      data = this.carry + data;
      this.carry = '';
    }
    let start = 0;
    for (;;) {
      const newline = data.indexOf('\n', start);
      if (newline === -1) break;
      let end = newline;
      let ending = '\n';
      if (end > start && data.charCodeAt(end - 1) === 13) {
        end -= 1;
        ending = '\r\n';
      }
      this.accept(data.slice(start, end), ending, this.nextLine);
      this.nextLine += 1;
      start = newline + 1;
    }
    const rest = start === 0 ? data : data.slice(start);
    if (rest.length > CSV_RECORD_LENGTH_MAX) {
      // Keep only a bounded prefix of a line that is too long anyway; skip to its end.
      this.overlong = { line: this.nextLine, prefix: rest.slice(0, CSV_RECORD_LENGTH_MAX) };
    } else {
      this.carry = rest;
    }
    this.flush();
  }

  /** Ends the input: the last line, an unclosed quote, and any records still queued. */
  end(): void {
    if (this.overlong !== undefined) {
      this.finishOverlong();
    } else if (this.carry !== '') {
      let text = this.carry;
      this.carry = '';
      if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
      this.accept(text, '', this.nextLine);
      this.nextLine += 1;
    }
    while (this.pending !== undefined) {
      this.abandonPending(false);
      this.drainRefeed();
    }
    this.flush();
  }

  private finishOverlong(): void {
    const overlong = this.overlong!;
    this.overlong = undefined;
    this.nextLine += 1;
    if (this.skipLines > 0) {
      this.skipLines -= 1;
      return;
    }
    // A line this long cannot belong to an acceptable record, so an open record ends before it
    // (and so does one that a line read again opens).
    while (this.pending !== undefined) {
      this.abandonPending(true);
      this.drainRefeed();
    }
    this.emitProblem(overlong.line, overlong.prefix, 'record_too_long', TOO_LONG_MESSAGE);
  }

  private accept(text: string, ending: string, line: number): void {
    this.step(text, ending, line);
    if (this.refeed.length > 0) this.drainRefeed();
  }

  private drainRefeed(): void {
    // Lines of an abandoned record, read again in order; abandoning another record puts its lines first.
    while (this.refeed.length > 0) {
      const next = this.refeed.shift()!;
      this.step(next.text, next.ending, next.line);
    }
  }

  private step(text: string, ending: string, line: number): void {
    if (this.skipLines > 0) {
      this.skipLines -= 1;
      return;
    }
    if (this.pending !== undefined) {
      this.continuePending(text, ending, line);
      return;
    }
    if (text.length === 0) return;
    if (text.charCodeAt(0) <= SPACE && text.trim() === '') return;
    if (text.indexOf(this.dialect.quote) === -1) {
      if (this.checkLine(line, text)) this.emitFields(line, text, text.split(this.dialect.delimiter));
      return;
    }
    const state = this.scan(text, FIELD_START, 0, 0);
    if (state === QUOTED) {
      this.pending = {
        line,
        parts: [text],
        endings: [ending],
        bytes: Buffer.byteLength(text),
        state,
        column: this.scanColumn,
        openedColumn: this.scanOpened,
      };
      if (this.pending.bytes > CSV_RECORD_LENGTH_MAX) this.abandonPending(true);
      return;
    }
    if (this.checkLine(line, text)) this.emitQuoted(line, text);
  }

  private continuePending(text: string, ending: string, line: number): void {
    const pending = this.pending!;
    assert.equal(
      line,
      pending.line + pending.parts.length,
      'an open record continues on the next physical line',
    );
    pending.bytes += pending.endings[pending.endings.length - 1]!.length + Buffer.byteLength(text);
    pending.parts.push(text);
    pending.endings.push(ending);
    const state = this.scan(text, pending.state, pending.column, pending.openedColumn);
    if (pending.bytes > CSV_RECORD_LENGTH_MAX) {
      this.abandonPending(true);
      return;
    }
    if (state === QUOTED) {
      pending.state = state;
      pending.column = this.scanColumn;
      pending.openedColumn = this.scanOpened;
      return;
    }
    this.pending = undefined;
    let raw = pending.parts[0]!;
    for (let k = 1; k < pending.parts.length; k++) raw += pending.endings[k - 1]! + pending.parts[k]!;
    if (!this.checkLine(pending.line, raw)) return;
    // Records spanning lines are rare, so each is parsed at once: when csv-parse refuses one, its
    // later lines can still be read again, in order, before the lines that follow it.
    let rows: string[][] | undefined;
    let error: unknown;
    try {
      rows = parseCsv(raw, this.parseOptions) as string[][];
    } catch (failure) {
      error = failure;
    }
    if (rows !== undefined && rows.length === 1) {
      this.emitFields(pending.line, raw, rows[0]!);
      return;
    }
    const record: QueuedRecord = {
      line: pending.line,
      raw: pending.parts[0]!,
      fields: undefined,
      parseFailure: { error, recordCount: rows?.length ?? 0, linesReadAgain: pending.parts.length - 1 },
    };
    if (this.queue.length > 0) this.queue.push(record);
    else this.deliver(record);
    this.readAgain(pending);
  }

  /**
   * Reports the first line of a record whose quote does not close (within the
   * length limit, or before the end of the file) and queues its other lines to
   * be read again: when the quote was a stray one, those are ordinary records.
   */
  private abandonPending(tooLong: boolean): void {
    const pending = this.pending!;
    this.pending = undefined;
    const column = this.describeColumn(pending.openedColumn);
    if (tooLong) {
      this.emitProblem(
        pending.line,
        pending.parts[0]!,
        'record_too_long',
        `the quoted field in ${column} that opens on this line is still open after ${CSV_RECORD_LENGTH_MAX} bytes, the longest record accepted (is its closing quote missing?); the following lines are read as records of their own`,
        pending.openedColumn,
      );
    } else {
      this.emitProblem(
        pending.line,
        pending.parts[0]!,
        'malformed_csv',
        `the quoted field in ${column} that opens on this line is never closed (a closing quote is missing); the following lines are read as records of their own`,
        pending.openedColumn,
      );
    }
    this.readAgain(pending);
  }

  /** Queues every line of a record but its first to be read again as records of their own. */
  private readAgain(pending: PendingRecord): void {
    const lines: PhysicalLine[] = [];
    for (let k = 1; k < pending.parts.length; k++) {
      lines.push({ text: pending.parts[k]!, ending: pending.endings[k]!, line: pending.line + k });
    }
    this.refeed = lines.concat(this.refeed);
  }

  /** Checks a complete record's size and encoding; reports it and returns false when it fails. */
  private checkLine(line: number, raw: string): boolean {
    if (raw.length > CHARACTERS_ALWAYS_WITHIN_LIMIT && Buffer.byteLength(raw) > CSV_RECORD_LENGTH_MAX) {
      // Reported as a line cut short while it was read is: the report does not depend on where
      // the file's reads happened to fall.
      this.emitProblem(line, raw.slice(0, CSV_RECORD_LENGTH_MAX), 'record_too_long', TOO_LONG_MESSAGE);
      return false;
    }
    if (this.sawReplacementCharacter && raw.includes('\uFFFD')) {
      this.emitProblem(
        line,
        raw,
        'invalid_encoding',
        'the record has bytes that are not valid UTF-8 (shown as \uFFFD); save the file as UTF-8, or read it with a mapping whose csv.encoding is windows-1252',
      );
      return false;
    }
    return true;
  }

  // Follows quoting through `text` from `state`; returns the state at its end.
  private scan(text: string, initial: number, initialColumn: number, initialOpened: number): number {
    const quote = this.quoteCode;
    const delimiter = this.delimiterCode;
    let state = initial;
    let column = initialColumn;
    let opened = initialOpened;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      switch (state) {
        case FIELD_START:
          if (c === quote) {
            state = QUOTED;
            opened = column;
          } else if (c === delimiter) column += 1;
          else if (c !== SPACE && c !== TAB) state = UNQUOTED;
          break;
        case UNQUOTED:
          if (c === delimiter) {
            state = FIELD_START;
            column += 1;
          }
          break;
        case QUOTED:
          if (c === quote) state = QUOTE_IN_QUOTED;
          break;
        case QUOTE_IN_QUOTED:
          if (c === quote) state = QUOTED;
          else if (c === delimiter) {
            state = FIELD_START;
            column += 1;
          } else if (c === SPACE || c === TAB) state = AFTER_QUOTED;
          else state = UNQUOTED; // text after a closing quote: csv-parse reports it
          break;
        default: // AFTER_QUOTED
          if (c === delimiter) {
            state = FIELD_START;
            column += 1;
          } else if (c !== SPACE && c !== TAB) state = UNQUOTED;
      }
    }
    this.scanColumn = column;
    this.scanOpened = opened;
    return state;
  }

  private describeColumn(index: number): string {
    const name = this.columnNames?.[index];
    return name !== undefined ? `column ${index + 1} (${name})` : `column ${index + 1}`;
  }

  private emitFields(line: number, raw: string, fields: string[]): void {
    if (this.queue.length === 0) this.sink.record(line, raw, fields);
    else this.queue.push({ line, raw, fields });
  }

  private emitQuoted(line: number, raw: string): void {
    this.queue.push({ line, raw, fields: undefined });
    this.quotedInQueue += 1;
    if (this.quotedInQueue >= QUOTED_RECORDS_PER_PARSE_MAX) this.flush();
  }

  private emitProblem(line: number, raw: string, code: string, message: string, column?: number): void {
    if (this.queue.length === 0) this.sink.problem(line, raw, code, message, column);
    else
      this.queue.push({
        line,
        raw,
        fields: undefined,
        code,
        message,
        ...(column !== undefined ? { column } : {}),
      });
  }

  /** Parses the queued quoted records and hands everything queued to the sink, in order. */
  private flush(): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.quotedInQueue = 0;
    const quoted = queue.filter((q) => q.fields === undefined && q.code === undefined);
    this.parseQuoted(quoted, 0, quoted.length);
    for (const q of queue) this.deliver(q);
  }

  private deliver(q: QueuedRecord): void {
    if (q.parseFailure !== undefined) {
      const { error, recordCount, linesReadAgain } = q.parseFailure;
      const { message, column } = describeCsvParseFailure(error, recordCount, (i) => this.describeColumn(i));
      const again =
        linesReadAgain > 0
          ? `; the record spans ${linesReadAgain + 1} lines, and the ${linesReadAgain} after this one are read as records of their own`
          : '';
      this.sink.problem(q.line, q.raw, 'malformed_csv', message + again, column);
    } else if (q.fields !== undefined) this.sink.record(q.line, q.raw, q.fields);
    else this.sink.problem(q.line, q.raw, q.code!, q.message!, q.column);
  }

  // One csv-parse call for the whole range; when it fails, halves narrow the failure down to single records.
  private parseQuoted(records: QueuedRecord[], from: number, to: number): void {
    if (from >= to) return;
    let rows: string[][] | undefined;
    let failure: unknown;
    try {
      const text =
        to - from === 1
          ? records[from]!.raw
          : records
              .slice(from, to)
              .map((r) => r.raw)
              .join('\n');
      rows = parseCsv(text, this.parseOptions) as string[][];
    } catch (error) {
      failure = error;
    }
    if (rows !== undefined && rows.length === to - from) {
      for (let k = from; k < to; k++) records[k]!.fields = rows[k - from]!;
      return;
    }
    if (to - from === 1) {
      records[from]!.parseFailure = { error: failure, recordCount: rows?.length ?? 0, linesReadAgain: 0 };
      return;
    }
    const middle = (from + to) >>> 1;
    this.parseQuoted(records, from, middle);
    this.parseQuoted(records, middle, to);
  }
}

function describeCsvParseFailure(
  failure: unknown,
  recordCount: number,
  describeColumn: (index: number) => string,
): { message: string; column?: number } {
  if (failure === undefined) {
    return {
      message: `the quoting is inconsistent: the text reads as ${recordCount} records instead of one`,
    };
  }
  const error = failure as { code?: string; column?: unknown; message?: string };
  const column = typeof error.column === 'number' ? error.column : undefined;
  const where = column !== undefined ? describeColumn(column) : 'a field';
  switch (error.code) {
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return {
        message: `text follows the closing quote of ${where}; quote the whole field and double each quote inside it ("")`,
        ...(column !== undefined ? { column } : {}),
      };
    case 'INVALID_OPENING_QUOTE':
      return {
        message: `${where} has a quote inside unquoted text; quote the whole field and double the quote (""), or read the file with a mapping whose csv.relaxQuotes is true`,
        ...(column !== undefined ? { column } : {}),
      };
    case 'CSV_QUOTE_NOT_CLOSED':
      return {
        message: `a quoted field in ${where} is never closed`,
        ...(column !== undefined ? { column } : {}),
      };
    default:
      return {
        message: `the CSV cannot be read: ${(error.message ?? String(failure)).replace(/ (at|on) line \d+/g, '')}`,
        ...(column !== undefined ? { column } : {}),
      };
  }
}

// ---------------------------------------------------------------------------
// Reading a file: stream, decode, tokenize; the header first, then records.

interface HeaderRecord {
  line: number;
  raw: string;
  names: string[];
}

class CsvFileReader implements CsvRecordSink {
  bytesRead = 0;
  private header: HeaderRecord | undefined;
  private headerProblem: SourceProblem | undefined;
  private consumer: CsvRecordSink | undefined;
  private early: QueuedRecord[] = [];
  private done = false;
  private readonly tokenizer: CsvTokenizer;
  private readonly decoder: TextDecoder;
  private readonly chunks: AsyncIterator<Buffer>;

  private constructor(
    readonly file: string,
    private readonly stream: ReadStream,
    settings: CsvSettings,
  ) {
    this.tokenizer = new CsvTokenizer(settings, this);
    this.decoder = new TextDecoder(settings.encoding);
    this.chunks = stream[Symbol.asyncIterator]();
  }

  /** Opens a file and reads its header. Throws DomainError file_not_readable, empty_file, malformed_csv, too_many_columns. */
  static async open(file: string, settings: CsvSettings): Promise<CsvFileReader> {
    const stream = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
    const reader = new CsvFileReader(file, stream, settings);
    try {
      while (reader.header === undefined && reader.headerProblem === undefined && (await reader.pump())) {
        // Reading until the header is complete.
      }
    } catch (error) {
      reader.close();
      throw new DomainError('file_not_readable', `${file}: cannot be read (${(error as Error).message})`);
    }
    if (reader.headerProblem !== undefined) {
      reader.close();
      const p = reader.headerProblem;
      throw new DomainError(
        'malformed_csv',
        `${file} line ${p.line}: the header cannot be read: ${p.message}`,
        [{ file, line: p.line, code: p.code, message: p.message }],
      );
    }
    if (reader.header === undefined) {
      reader.close();
      throw new DomainError('empty_file', `${file}: the file has no header line`, [
        { file, code: 'empty_file', message: 'the file has no header line' },
      ]);
    }
    if (reader.header.names.length > CSV_COLUMNS_MAX) {
      reader.close();
      throw new DomainError(
        'too_many_columns',
        `${file}: the header has more than ${CSV_COLUMNS_MAX} columns`,
      );
    }
    return reader;
  }

  get headerRecord(): HeaderRecord {
    assert.ok(this.header !== undefined, 'the header is read by open()');
    return this.header;
  }

  /** Starts delivering records: first those read along with the header, then the rest as pump() reads them. */
  start(consumer: CsvRecordSink): void {
    assert.ok(this.consumer === undefined, 'a file is read once');
    this.consumer = consumer;
    const early = this.early;
    this.early = [];
    for (const q of early) {
      if (q.fields !== undefined) consumer.record(q.line, q.raw, q.fields);
      else consumer.problem(q.line, q.raw, q.code!, q.message!, q.column);
    }
  }

  /** Reads and tokenizes one more chunk; false once the file is finished. */
  async pump(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.tokenizer.feed(this.decoder.decode());
      this.tokenizer.end();
      this.done = true;
      return false;
    }
    this.bytesRead += next.value.length;
    this.tokenizer.feed(this.decoder.decode(next.value, { stream: true }));
    return true;
  }

  close(): void {
    this.stream.destroy();
  }

  record(line: number, raw: string, fields: string[]): void {
    if (this.consumer !== undefined) this.consumer.record(line, raw, fields);
    else if (this.header === undefined) {
      this.header = { line, raw, names: fields.map((f) => f.trim()) };
      // Records read along with the header already name their columns in messages.
      this.tokenizer.columnNames = this.header.names;
    } else this.early.push({ line, raw, fields });
  }

  problem(line: number, raw: string, code: string, message: string, column?: number): void {
    if (this.consumer !== undefined) this.consumer.problem(line, raw, code, message, column);
    else if (this.header === undefined) this.headerProblem ??= { line, raw, code, message };
    else
      this.early.push({
        line,
        raw,
        fields: undefined,
        code,
        message,
        ...(column !== undefined ? { column } : {}),
      });
  }
}

// ---------------------------------------------------------------------------
// Turning records into items.

export type RowBuilder = (line: number, raw: string, fields: string[]) => SourceItem;

function fieldCountProblem(
  line: number,
  raw: string,
  names: readonly string[],
  found: number,
  hint: string,
): SourceItem {
  const expected = names.length;
  const detail =
    found < expected
      ? `the record ends before column ${found + 1} (${names[found]})`
      : `${found - expected} more than the header has columns${hint}`;
  return {
    ok: false,
    problem: {
      line,
      raw,
      code: 'wrong_field_count',
      message: `expected ${expected} fields, found ${found}: ${detail}`,
    },
  };
}

/** The workload layout: canonical column names, in any order. */
function defaultRowBuilder(kind: ImportKind, file: string, names: readonly string[]): RowBuilder {
  const fields = IMPORT_FIELDS[kind];
  const canonical = [...fields.required, ...fields.optional];
  const index = indexHeader(names);
  const duplicated = [...index].filter(([name, i]) => i === -1 && name !== '').map(([name]) => name);
  if (duplicated.length > 0) {
    throw new DomainError(
      'duplicate_column',
      `${file}: the header has ${duplicated.map((n) => `"${n}"`).join(', ')} more than once`,
      duplicated.map((n) => ({
        file,
        line: 1,
        field: n,
        code: 'duplicate_column',
        message: `the column ${n} appears twice`,
      })),
    );
  }
  const missing = fields.required.filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new DomainError(
      'missing_column',
      `${file}: the header has no ${missing.map((n) => `"${n}"`).join(', ')} column${missing.length > 1 ? 's' : ''}, required for ${kind} (${canonical.join(', ')})`,
      missing.map((n) => ({
        file,
        line: 1,
        field: n,
        code: 'missing_column',
        message: `the required column ${n} is missing`,
      })),
    );
  }
  const known = new Set(canonical);
  // Columns without a name (a trailing delimiter on every line) carry nothing and are ignored.
  const extra = names.filter((name) => name !== '' && !known.has(name));
  if (extra.length > 0 && !fields.attributes) {
    throw new DomainError(
      'unknown_column',
      `${file}: ${extra.map((n) => `"${n}"`).join(', ')} ${extra.length > 1 ? 'are not' : 'is not a'} ${kind} column${extra.length > 1 ? 's' : ''}; the columns are ${canonical.join(', ')}. To import another layout, describe it in a mapping file and pass --mapping FILE (see mappings/README.md)`,
      extra.map((n) => ({
        file,
        line: 1,
        field: n,
        code: 'unknown_column',
        message: `the column ${n} is not a ${kind} column`,
      })),
    );
  }
  if (extra.length > PRODUCT_ATTRIBUTES_MAX) {
    throw new DomainError(
      'too_many_columns',
      `${file}: ${extra.length} attribute columns; at most ${PRODUCT_ATTRIBUTES_MAX} are stored`,
    );
  }
  const keys = [...canonical, ...extra.map((n) => `${ATTRIBUTE_PREFIX}${n}`)];
  const positions = [...canonical.map((n) => index.get(n) ?? -1), ...extra.map((n) => index.get(n)!)];
  const width = names.length;
  const hint = '; quote fields that contain the delimiter';
  // Every row's values start as a copy of one template, so they share a shape and filling them adds no properties.
  const template: Record<string, string> = Object.fromEntries(keys.map((k) => [k, '']));
  const present = keys.flatMap((key, k) => (positions[k]! < 0 ? [] : [{ key, position: positions[k]! }]));
  return (line, raw, cells) => {
    if (cells.length !== width) return fieldCountProblem(line, raw, names, cells.length, hint);
    const values = { ...template };
    for (const { key, position } of present) values[key] = cells[position]!.trim();
    return { ok: true, row: { line, raw, values } };
  };
}

function combineProblems(line: number, raw: string, problems: FieldProblem[]): SourceProblem {
  const first = problems[0]!;
  let message = first.message;
  if (problems.length > 1) {
    const rest = problems
      .slice(1, 1 + EXTRA_PROBLEMS_DESCRIBED_MAX)
      .map((p) => `${p.field}: ${p.message} [${p.code}]`);
    const unlisted = problems.length - 1 - rest.length;
    message += ` (also ${rest.join('; ')}${unlisted > 0 ? `; and ${unlisted} more` : ''})`;
  }
  return { line, raw, field: first.field, code: first.code, message };
}

/** Trims every field and turns null markers into ''. */
function normalizer(settings: CsvSettings): (fields: string[]) => string[] {
  const nulls = settings.nullValues.length > 0 ? new Set(settings.nullValues) : undefined;
  return (fields) => {
    const cells = new Array<string>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const value = fields[i]!.trim();
      cells[i] = nulls?.has(value) ? '' : value;
    }
    return cells;
  };
}

function mappedRowBuilder(mapper: RowMapper, names: readonly string[], settings: CsvSettings): RowBuilder {
  const width = names.length;
  const ignoreExtra = settings.extraFields === 'ignore';
  const normalize = normalizer(settings);
  const hint = '; a mapping with csv.extraFields "ignore" reads such records by position';
  return (line, raw, fields) => {
    if (fields.length < width || (fields.length > width && !ignoreExtra)) {
      return fieldCountProblem(line, raw, names, fields.length, hint);
    }
    const mapped = mapper.map(normalize(fields));
    if (mapped.ok) return { ok: true, row: { line, raw, values: mapped.values } };
    return { ok: false, problem: combineProblems(line, raw, mapped.problems) };
  };
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (error) {
    throw new DomainError('file_not_readable', `${file}: cannot be read (${(error as Error).message})`, [
      { file, code: 'file_not_readable', message: (error as Error).message },
    ]);
  }
}

/**
 * Reads a joined file fully into memory, indexed by its key column. Throws
 * DomainError join_file_too_large, missing_column, duplicate_column, or
 * invalid_join_file listing the rows that cannot be read (a lookup table must
 * be complete, or rows joined to a broken line would silently miss it).
 */
async function loadJoin(spec: JoinSpec, directory: string): Promise<JoinTable> {
  const file = resolve(directory, spec.file);
  const size = await fileSize(file);
  if (size > JOIN_FILE_BYTES_MAX) {
    throw new DomainError(
      'join_file_too_large',
      `${file}: ${size} bytes; a joined file is held in memory and may have at most ${JOIN_FILE_BYTES_MAX}`,
    );
  }
  const reader = await CsvFileReader.open(file, spec.csv);
  try {
    const { names } = reader.headerRecord;
    const keyIndex = indexHeader(names).get(spec.key);
    if (keyIndex === undefined) {
      throw new DomainError(
        'missing_column',
        `${file} has no column "${spec.key}" (the key of join "${spec.name}")`,
        [{ file, line: 1, field: spec.key, code: 'missing_column', message: `no column ${spec.key}` }],
      );
    }
    if (keyIndex === -1) {
      throw new DomainError(
        'duplicate_column',
        `${file} has the column "${spec.key}" twice (the key of join "${spec.name}")`,
      );
    }
    const width = names.length;
    const ignoreExtra = spec.csv.extraFields === 'ignore';
    const normalize = normalizer(spec.csv);
    const rows = new Map<string, string[]>();
    const lineOfKey = new Map<string, number>();
    const duplicates = new Map<string, number[]>();
    const problems: Problem[] = [];
    let problemCount = 0;
    const fail = (problem: Problem) => {
      problemCount += 1;
      if (problems.length < JOIN_PROBLEMS_LISTED_MAX) problems.push(problem);
    };
    reader.start({
      record(line, _raw, fields) {
        if (fields.length < width || (fields.length > width && !ignoreExtra)) {
          fail({
            file,
            line,
            code: 'wrong_field_count',
            message: `expected ${width} fields, found ${fields.length}`,
          });
          return;
        }
        const cells = normalize(fields);
        const key = cells[keyIndex]!;
        const first = lineOfKey.get(key);
        if (first === undefined) {
          rows.set(key, cells);
          lineOfKey.set(key, line);
        } else {
          const lines = duplicates.get(key);
          if (lines === undefined) duplicates.set(key, [first, line]);
          else lines.push(line);
        }
      },
      problem(line, _raw, code, message) {
        fail({ file, line, code, message });
      },
    });
    while (await reader.pump()) {
      // Reading the whole file.
    }
    if (problemCount > 0) {
      throw new DomainError(
        'invalid_join_file',
        `${file}: ${problemCount} line${problemCount > 1 ? 's' : ''} of the joined file "${spec.name}" cannot be read, so rows joined to ${problemCount > 1 ? 'them' : 'it'} would be wrong; first: line ${problems[0]!.line}: ${problems[0]!.message}${spec.csv.extraFields === 'error' ? ' (set the join\'s "extraFields": "ignore" if surplus fields are unquoted delimiters in a trailing free-text column)' : ''}`,
        problems,
      );
    }
    return { name: spec.name, file, header: names, rows, duplicates };
  } finally {
    reader.close();
  }
}

/**
 * Opens a CSV file of partners, products or transactions for reading. With no
 * mapping the file has the canonical columns of the workload format (in any order;
 * partners' and products' other columns become attributes); with a mapping,
 * any layout the mapping describes, joined files included.
 *
 * Throws DomainError before any row is read: file_not_readable, empty_file,
 * malformed_csv (the header), missing_column, unknown_column, duplicate_column,
 * too_many_columns, invalid_mapping, join_file_too_large, invalid_join_file.
 * Row problems are items: malformed_csv, wrong_field_count, record_too_long,
 * invalid_encoding, join_key_not_found, join_key_duplicated, bad_date,
 * bad_number, missing_value, expression_failed.
 */
export async function openCsvSource(file: string, options: CsvSourceOptions): Promise<RecordSource> {
  const { kind, mapping } = options;
  if (mapping !== undefined && mapping.kind !== kind) {
    throw new DomainError(
      'invalid_mapping',
      `${mapping.source}: the mapping is for ${mapping.kind}, but ${kind} are being imported`,
    );
  }
  const settings = mapping?.csv ?? DEFAULT_CSV_SETTINGS;
  const totalBytes = await fileSize(file);
  const reader = await CsvFileReader.open(file, settings);
  let build: RowBuilder;
  try {
    const { names } = reader.headerRecord;
    if (mapping === undefined) {
      build = defaultRowBuilder(kind, file, names);
    } else {
      const joins: JoinTable[] = [];
      for (const join of mapping.joins) joins.push(await loadJoin(join, dirname(file)));
      build = mappedRowBuilder(compileMapping(mapping, { file, header: names }, joins), names, settings);
    }
  } catch (error) {
    reader.close();
    throw error;
  }
  let started = false;
  const batches = (): AsyncIterable<SourceItem[]> => {
    assert.ok(!started, 'a source is read once');
    started = true;
    return readBatches(reader, build);
  };
  return {
    file,
    header: reader.headerRecord.raw,
    names: reader.headerRecord.names,
    headerLine: reader.headerRecord.line,
    settings,
    standalone: mapping === undefined || mapping.joins.length === 0,
    close: () => reader.close(),
    totalBytes,
    bytesRead: () => reader.bytesRead,
    items: () => eachItem(batches()),
    batches,
  };
}

/**
 * The row builder of a file with these header names, for a mapping without
 * joins (joined files are loaded by openCsvSource). Throws as openCsvSource does
 * for the header: missing_column, unknown_column, duplicate_column, invalid_mapping.
 */
export function rowBuilder(
  kind: ImportKind,
  file: string,
  names: readonly string[],
  mapping?: Mapping,
): RowBuilder {
  if (mapping === undefined) return defaultRowBuilder(kind, file, names);
  assert.equal(mapping.joins.length, 0, 'a mapping with joins is read through openCsvSource');
  return mappedRowBuilder(compileMapping(mapping, { file, header: names }, []), names, mapping.csv);
}

/**
 * The items of a piece of a file that begins at the start of a line after the
 * header and has no quote character (so every line is a record of its own).
 * Lines are numbered from 1 within the piece; returns how many it has.
 */
export function pieceItems(
  text: string,
  settings: CsvSettings,
  names: readonly string[],
  build: RowBuilder,
  emit: (item: SourceItem) => void,
): number {
  const tokenizer = new CsvTokenizer(
    { ...settings, skipLines: 0 },
    {
      record(line, raw, fields) {
        emit(build(line, raw, fields));
      },
      problem(line, raw, code, message, column) {
        const field = column !== undefined ? names[column] : undefined;
        emit({ ok: false, problem: { line, raw, code, message, ...(field !== undefined ? { field } : {}) } });
      },
    },
  );
  tokenizer.columnNames = names;
  tokenizer.feed(text);
  tokenizer.end();
  return tokenizer.linesRead;
}

async function* eachItem(batches: AsyncIterable<SourceItem[]>): AsyncGenerator<SourceItem> {
  for await (const batch of batches) yield* batch;
}

async function* readBatches(reader: CsvFileReader, build: RowBuilder): AsyncGenerator<SourceItem[]> {
  const names = reader.headerRecord.names;
  let out: SourceItem[] = [];
  reader.start({
    record(line, raw, fields) {
      out.push(build(line, raw, fields));
    },
    problem(line, raw, code, message, column) {
      const field = column !== undefined ? names[column] : undefined;
      out.push({
        ok: false,
        problem: { line, raw, code, message, ...(field !== undefined ? { field } : {}) },
      });
    },
  });
  try {
    for (;;) {
      if (out.length > 0) {
        const batch = out;
        out = [];
        yield batch;
      }
      if (!(await reader.pump()) && out.length === 0) return;
    }
  } finally {
    reader.close();
  }
}
