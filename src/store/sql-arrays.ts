// Arrays sent as query parameters. node-postgres turns a JavaScript array into
// a PostgreSQL array literal by appending element after element, which leaves a
// string per element and a chain of partial strings behind; at ten million lines
// the arrays of one real-time batch (tens of thousands of values) were the
// largest source of garbage. Here the literal is one join of the values.
import { type RawBuilder, sql } from 'kysely';

export type ArrayElementType = 'text' | 'numeric' | 'date' | 'bigint' | 'int' | 'jsonb' | 'bytea';

// Inside a double-quoted array element, a backslash escapes the next character.
const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/** The array literal of these values (null for SQL NULL), every element quoted. */
export function arrayLiteral(values: readonly (string | null)[]): string {
  if (values.length === 0) return '{}';
  let plain = true;
  for (const value of values) {
    if (value === null || NEEDS_ESCAPE.test(value)) {
      plain = false;
      break;
    }
  }
  if (plain) return `{"${values.join('","')}"}`;
  const elements = values.map((value) =>
    value === null ? 'NULL' : `"${NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, '\\$&') : value}"`,
  );
  return `{${elements.join(',')}}`;
}

/** A parameter holding these values as an array of `type`. */
export function sqlArray(values: readonly (string | null)[], type: ArrayElementType): RawBuilder<unknown> {
  return sql`${arrayLiteral(values)}::${sql.raw(type)}[]`;
}
