// The columnar copy of the lines on disk, in the embedded store's data directory,
// so that a process opening the store finds it without reading every line
// (kept-lines.ts). The file is a sequence of records, each moving the copy from
// one revision of the lines to another: the first from none (the empty table),
// each next one from the revision the one before it left. A record is a header
// (its length, then JSON: the revisions, the number of lines and the names their
// numbers stand for) and the lines' columns, one after the other. A record cut
// short, by a crash while it was written, ends the file there; the revision then
// read is not the store's, and the copy is not used.
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { LineColumns, LineColumnsBuilder, type LineColumnsPart, type LineNames } from './line-columns.ts';

/** Where the copy is kept, in the embedded store's data directory. */
export const LINE_COLUMNS_FILE = 'rebates-lines.columns';

/** Revision a first record moves from: the copy began with the empty table. */
const FROM_NONE = -1;
/** Bytes a line takes: partner, product and day (4 each), currency and scales (1 each), quantity and amount (8 each). */
const LINE_BYTES = 4 + 4 + 4 + 1 + 1 + 8 + 8;

interface RecordHeader extends LineNames {
  from: number;
  to: number;
  length: number;
  /**
   * The lines are numbered by this record's own names, and its sums are its own
   * (written by a process that had not read the copy: see `appendOwnLines`);
   * otherwise by the copy's names so far, and its sums are the copy's.
   */
  own?: true;
}

/** What a record holds beyond its revisions: see `LineColumns.since`. */
export type LinesRecord = ReturnType<LineColumns['since']>;

type Column = Int32Array | Uint8Array | Float64Array;

function writeRecord(fd: number, from: number, to: number, record: LinesRecord, own = false) {
  const header: RecordHeader = { ...record.names, from, to, length: record.length, ...(own ? { own } : {}) };
  const text = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(4);
  size.writeUInt32LE(text.length);
  writeSync(fd, size);
  writeSync(fd, text);
  // Column by column, each column in the pieces of the chunks it spans.
  const names = ['partner', 'product', 'day', 'currency', 'scales', 'quantity', 'amount'] as const;
  for (const name of names)
    for (const piece of record.columns) {
      const c: Column = piece[name];
      writeSync(fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    }
}

/** Appends a record moving the copy from revision `from` to `to` with what it took since its last record. */
export function appendLineColumns(file: string, from: number, to: number, record: LinesRecord) {
  const fd = openSync(file, 'a');
  try {
    writeRecord(fd, from, to, record);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends records of lines numbered by their own names, moving the copy from
 * `from` to `to`: how a process that has not read the copy (a command that
 * imports one file) adds to it without reading it.
 */
export function appendOwnLines(file: string, from: number, to: number, parts: readonly LineColumnsPart[]) {
  const fd = openSync(file, 'a');
  try {
    const records = parts.length === 0 ? [new LineColumnsBuilder().finish()] : parts;
    records.forEach((part, i) => {
      const { partners, products, currencies, exact, quantityMagnitude, amountMagnitude } = part;
      // Only the last record moves the revision: a file cut short after an earlier one is behind.
      writeRecord(
        fd,
        from,
        i === records.length - 1 ? to : from,
        {
          names: { partners, products, currencies, exact, quantityMagnitude, amountMagnitude },
          length: part.length,
          columns: [part],
        },
        true,
      );
    });
  } finally {
    closeSync(fd);
  }
}

/** The revision the file's records reach, read from their headers alone; undefined without a file or a first record. */
export function lineColumnsRevision(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const end = fstatSync(fd).size;
    const size = Buffer.alloc(4);
    let at = 0;
    let revision: number | undefined;
    while (at + 4 <= end) {
      readSync(fd, size, 0, 4, at);
      const length = size.readUInt32LE(0);
      if (at + 4 + length > end) break;
      const text = Buffer.alloc(length);
      readSync(fd, text, 0, length, at + 4);
      const header = JSON.parse(text.toString('utf8')) as RecordHeader;
      const next = at + 4 + length + header.length * LINE_BYTES;
      if (next > end) break;
      if (header.from !== FROM_NONE && header.from !== revision) break;
      revision = header.to;
      at = next;
    }
    return revision;
  } finally {
    closeSync(fd);
  }
}

/** Writes the whole copy as one record, replacing the file (written aside, then renamed over it). */
export function writeLineColumns(file: string, lines: LineColumns) {
  const aside = `${file}.new`;
  const fd = openSync(aside, 'w');
  try {
    writeRecord(fd, FROM_NONE, lines.revision, lines.since(new LineColumns(FROM_NONE).mark()));
  } finally {
    closeSync(fd);
  }
  renameSync(aside, file);
}

/** The copy the file holds, with the number of records it was read from; undefined without a file or a first record. */
export function readLineColumns(file: string): { lines: LineColumns; records: number } | undefined {
  if (!existsSync(file)) return undefined;
  const data = readFileSync(file);
  let at = 0;
  let lines: LineColumns | undefined;
  let records = 0;
  while (at + 4 <= data.length) {
    const size = data.readUInt32LE(at);
    if (at + 4 + size > data.length) break;
    const header = JSON.parse(data.toString('utf8', at + 4, at + 4 + size)) as RecordHeader;
    const n = header.length;
    let offset = at + 4 + size;
    if (offset + n * LINE_BYTES > data.length) break;
    // Copied out of the file's buffer: a typed array must start at a multiple of its element size.
    const take = <T extends Column>(Type: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T => {
      const bytes = n * Type.BYTES_PER_ELEMENT;
      const start = data.byteOffset + offset;
      offset += bytes;
      return new Type(data.buffer.slice(start, start + bytes) as ArrayBuffer);
    };
    const columns = {
      length: n,
      partner: take(Int32Array),
      product: take(Int32Array),
      day: take(Int32Array),
      currency: take(Uint8Array),
      scales: take(Uint8Array),
      quantity: take(Float64Array),
      amount: take(Float64Array),
    };
    if (header.from === FROM_NONE) lines = new LineColumns(FROM_NONE);
    if (lines === undefined || header.from !== lines.revision) break;
    if (header.own) lines.append({ ...header, ...columns });
    else lines.restore(header, columns);
    lines.revision = header.to;
    records += 1;
    at = offset;
  }
  return lines === undefined ? undefined : { lines, records };
}

export function removeLineColumns(file: string) {
  rmSync(file, { force: true });
}
