// The columnar copy of the lines on disk, in the embedded store's data directory,
// so that a process opening the store finds it without reading every line
// (kept-lines.ts). The file is a sequence of records, each moving the copy from
// one revision of the lines to another: the first from none (the empty table),
// each next one from the revision the one before it left. A record is a header
// (its length, then JSON: the revisions, the number of lines and the names their
// numbers stand for) and the lines' columns, one after the other. A record cut
// short, by a crash while it was written, ends the file there; the revision then
// read is not the store's, and the copy is not used.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { LineColumns, type LineColumnsPart, type LineNames } from './line-columns.ts';

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
}

type Column = Int32Array | Uint8Array | Float64Array;

function writeRecord(fd: number, header: RecordHeader, columns: (readonly Column[])[]) {
  const text = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(4);
  size.writeUInt32LE(text.length);
  writeSync(fd, size);
  writeSync(fd, text);
  // Column by column, each column given in one or more pieces.
  for (const pieces of columns)
    for (const piece of pieces)
      writeSync(fd, new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
}

function partColumns(part: LineColumnsPart): Column[][] {
  return [part.partner, part.product, part.day, part.currency, part.scales, part.quantity, part.amount].map(
    (c) => [c.subarray(0, part.length)],
  );
}

/** Appends a record moving the copy from `from` to `to` with these lines (none for a change that stored none). */
export function appendLineColumns(file: string, from: number, to: number, parts: readonly LineColumnsPart[]) {
  const fd = openSync(file, 'a');
  try {
    if (parts.length === 0) parts = [emptyPart()];
    parts.forEach((part, i) => {
      // Only the last record moves the revision: a file cut short after an earlier one is behind.
      const last = i === parts.length - 1;
      writeRecord(fd, { ...headerOf(part), from, to: last ? to : from }, partColumns(part));
    });
  } finally {
    closeSync(fd);
  }
}

function headerOf(part: LineColumnsPart): Omit<RecordHeader, 'from' | 'to'> {
  return {
    length: part.length,
    partners: part.partners,
    products: part.products,
    currencies: part.currencies,
    exact: part.exact,
    quantityMagnitude: part.quantityMagnitude,
    amountMagnitude: part.amountMagnitude,
  };
}

function emptyPart(): LineColumnsPart {
  return {
    length: 0,
    partners: [],
    products: [],
    currencies: [],
    partner: new Int32Array(0),
    product: new Int32Array(0),
    day: new Int32Array(0),
    currency: new Uint8Array(0),
    scales: new Uint8Array(0),
    quantity: new Float64Array(0),
    amount: new Float64Array(0),
    exact: true,
    quantityMagnitude: 0,
    amountMagnitude: 0,
  };
}

/** Writes the whole copy as one record, replacing the file (written aside, then renamed over it). */
export function writeLineColumns(file: string, lines: LineColumns) {
  const aside = `${file}.new`;
  const fd = openSync(aside, 'w');
  try {
    const chunks = lines.chunks;
    const of = (pick: (c: (typeof chunks)[number]) => Column) =>
      chunks.map((c) => pick(c).subarray(0, c.length));
    writeRecord(
      fd,
      {
        from: FROM_NONE,
        to: lines.revision,
        length: lines.length,
        partners: lines.partners,
        products: lines.products,
        currencies: lines.currencies,
        exact: lines.exact,
        quantityMagnitude: lines.magnitudes.quantity,
        amountMagnitude: lines.magnitudes.amount,
      },
      [
        of((c) => c.partner),
        of((c) => c.product),
        of((c) => c.day),
        of((c) => c.currency),
        of((c) => c.scales),
        of((c) => c.quantity),
        of((c) => c.amount),
      ],
    );
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
    const part: LineColumnsPart = {
      ...header,
      partner: take(Int32Array),
      product: take(Int32Array),
      day: take(Int32Array),
      currency: take(Uint8Array),
      scales: take(Uint8Array),
      quantity: take(Float64Array),
      amount: take(Float64Array),
    };
    if (header.from === FROM_NONE) lines = new LineColumns(header.from);
    if (lines === undefined || header.from !== lines.revision) break;
    lines.append(part);
    lines.revision = header.to;
    records += 1;
    at = offset;
  }
  return lines === undefined ? undefined : { lines, records };
}

export function removeLineColumns(file: string) {
  rmSync(file, { force: true });
}
