// Rows in the text format of PostgreSQL's COPY, the fastest way into a table.
// Kept apart from the SQL helpers so that worker threads (imports/parallel-check.ts)
// load it without the query builder.

// COPY's text format: tab between columns, newline after each row, \N for null,
// and a backslash escaping the characters that would otherwise end a value.
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One row in COPY's text format, newline included; `last`, when given, is a final column needing no escapes. */
export function copyText(values: readonly (string | null)[], last?: string): string {
  // Joined, not appended value by value: a row appended piece by piece is a tree of
  // string fragments, and a batch of rows kept until written makes the collector copy every fragment.
  const cells: string[] = [];
  for (let j = 0; j < values.length; j++) {
    const value = values[j];
    if (value === null || value === undefined) cells.push('\\N');
    else if (COPY_SPECIAL.test(value)) cells.push(value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!));
    else cells.push(value);
  }
  if (last !== undefined) cells.push(last);
  cells[cells.length - 1] += '\n';
  return cells.join('\t');
}

/** The characters COPY's text format writes after a backslash, and what they stand for. */
const COPY_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A value as COPY's text format writes it (`COPY … TO`), unescaped; never \N (null). */
export function fromCopyText(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (_, c: string) => COPY_UNESCAPES[c] ?? c);
}
