// Column mappings: a JSON file that tells the importer how another system's
// export becomes canonical rows, so an ERP export is loaded without editing it.
// See mappings/README.md for the format with a worked Northwind example.
//
// A mapping is loaded and checked once (loadMapping → invalid_mapping naming the
// JSON path at fault), then compiled against the header of the file being read
// (compileMapping → missing_column naming the column and the mapping path that
// uses it). The compiled mapper does the per-row work with closures built once,
// so a row costs a few property reads and no parsing of the mapping.
//
// Arithmetic in expressions is exact (Decimal over bigint) and has no division,
// so a result is never approximated; rounding happens only where a field asks
// for it, half away from zero.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { isIsoDate, toIsoDate } from '../shared/dates.ts';
import { DECIMAL_INPUT_SCALE_MAX, DECIMAL_TEXT_LENGTH_MAX, Decimal } from '../shared/decimal.ts';
import { DomainError, type Problem } from '../shared/errors.ts';
import { type FieldSpecInput, MAPPING_FILE_BYTES_MAX, mappingSchema } from './mapping.schema.ts';
import { ATTRIBUTE_PREFIX, IMPORT_FIELDS, type ImportKind, NUMERIC_FIELDS } from './source.types.ts';

/** Longest expression nesting (parentheses and unary signs) accepted. */
export const EXPRESSION_DEPTH_MAX = 32;
/** Distinct date texts remembered per date field; the cache starts over when full. */
export const DATE_CACHE_ENTRIES_MAX = 10_000;

export type ExtraFields = 'error' | 'ignore';

/** How one CSV file is read. */
export interface CsvSettings {
  delimiter: string;
  quote: string;
  /** Field texts (after trimming) that mean "no value" and become ''. */
  nullValues: readonly string[];
  /** What a record with more fields than the header gets: a problem, or its surplus ignored. */
  extraFields: ExtraFields;
  /** Accept quotes inside unquoted fields and text after a closing quote (csv-parse's relax_quotes). */
  relaxQuotes: boolean;
  encoding: 'utf-8' | 'windows-1252';
  /** Preamble lines before the header (report titles some ERPs write). */
  skipLines: number;
  decimalSeparator: '.' | ',';
  /** Thousands separator removed from numbers; '' for none. */
  groupSeparator: string;
}

/** The workload format (docs/workload-format.md): comma-separated UTF-8, double quotes, strict field count. */
export const DEFAULT_CSV_SETTINGS: Readonly<CsvSettings> = {
  delimiter: ',',
  quote: '"',
  nullValues: [],
  extraFields: 'error',
  relaxQuotes: false,
  encoding: 'utf-8',
  skipLines: 0,
  decimalSeparator: '.',
  groupSeparator: '',
};

export type FieldSpec =
  | { type: 'column'; column: string; format?: string; fromEnd: boolean }
  | { type: 'value'; value: string }
  | { type: 'template'; template: string }
  | { type: 'expression'; expression: string; round?: number };

export interface JoinSpec {
  /** Alias used in column references: `order.customerID`. */
  name: string;
  /** Path relative to the directory of the file being imported. */
  file: string;
  /** Column of the joined file that identifies its rows (unique). */
  key: string;
  /** Column reference (main file or an earlier join) whose value is looked up in `key`. */
  on: string;
  csv: CsvSettings;
}

export interface Mapping {
  kind: ImportKind;
  description?: string;
  /** Where the mapping came from, for messages. */
  source: string;
  csv: CsvSettings;
  joins: JoinSpec[];
  /** Canonical field -> source. */
  fields: Record<string, FieldSpec>;
  /** Attribute name -> source (partners and products only); stored as `attributes.<name>`. */
  attributes: Record<string, FieldSpec>;
}

// ---------------------------------------------------------------------------
// Loading and checking

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}

function invalidMapping(source: string, problems: { path: string; message: string }[]): DomainError {
  const lines = problems.map((p) => `${p.path}: ${p.message}`);
  return new DomainError(
    'invalid_mapping',
    `${source}: invalid mapping: ${lines.join('; ')}`,
    problems.map((p) => ({ file: source, field: p.path, code: 'invalid_mapping', message: p.message })),
  );
}

function toFieldSpec(input: FieldSpecInput): FieldSpec {
  if (typeof input === 'string') return { type: 'column', column: input, fromEnd: false };
  if (input.column !== undefined) {
    return {
      type: 'column',
      column: input.column,
      fromEnd: input.fromEnd ?? false,
      ...(input.format !== undefined ? { format: input.format } : {}),
    };
  }
  if (input.value !== undefined) return { type: 'value', value: input.value };
  if (input.template !== undefined) return { type: 'template', template: input.template };
  if (input.expression !== undefined) {
    return {
      type: 'expression',
      expression: input.expression,
      ...(input.round !== undefined ? { round: input.round } : {}),
    };
  }
  // The schema's refinement admits exactly one source.
  throw new Error('unreachable: field spec without a source');
}

/** Checks a field spec's own syntax (format, template, expression) and returns its problems. */
function checkFieldSyntax(spec: FieldSpec, path: string): { path: string; message: string }[] {
  try {
    if (spec.type === 'column' && spec.format !== undefined) compileDateFormat(spec.format);
    if (spec.type === 'template') compileTemplate(spec.template);
    if (spec.type === 'expression') compileExpression(spec.expression);
    return [];
  } catch (error) {
    if (error instanceof DomainError) return [{ path, message: error.message }];
    throw error;
  }
}

/**
 * Checks a parsed JSON document and returns the normalized mapping.
 * Throws DomainError `invalid_mapping` naming every JSON path at fault.
 */
export function parseMapping(input: unknown, source = 'mapping'): Mapping {
  const parsed = mappingSchema.safeParse(input);
  if (!parsed.success) {
    throw invalidMapping(
      source,
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const doc = parsed.data;
  const kind = doc.kind as ImportKind;
  const fields = IMPORT_FIELDS[kind];
  const known = new Set([...fields.required, ...fields.optional]);
  const problems: { path: string; message: string }[] = [];

  const csv: CsvSettings = { ...DEFAULT_CSV_SETTINGS, ...doc.csv };
  if (csv.delimiter === csv.quote)
    problems.push({ path: 'csv.quote', message: 'must differ from the delimiter' });
  if (csv.groupSeparator === csv.decimalSeparator) {
    problems.push({ path: 'csv.groupSeparator', message: 'must differ from the decimal separator' });
  }

  const joins: JoinSpec[] = [];
  const joinNames = new Set<string>();
  for (const [i, join] of (doc.joins ?? []).entries()) {
    if (joinNames.has(join.name))
      problems.push({ path: `joins[${i}].name`, message: `"${join.name}" is used twice` });
    joinNames.add(join.name);
    const joinCsv: CsvSettings = { ...csv, ...join.csv, extraFields: join.extraFields ?? 'error' };
    if (joinCsv.delimiter === joinCsv.quote) {
      problems.push({ path: `joins[${i}].csv.quote`, message: 'must differ from the delimiter' });
    }
    joins.push({ name: join.name, file: join.file, key: join.key, on: join.on, csv: joinCsv });
  }

  const mappedFields: Record<string, FieldSpec> = {};
  for (const [field, spec] of Object.entries(doc.fields)) {
    if (!known.has(field)) {
      problems.push({
        path: `fields.${field}`,
        message: `is not a ${kind} field; the fields are ${[...known].join(', ')}${fields.attributes ? ' (put other columns under "attributes")' : ''}`,
      });
      continue;
    }
    mappedFields[field] = toFieldSpec(spec);
    problems.push(...checkFieldSyntax(mappedFields[field], `fields.${field}`));
  }
  for (const field of fields.required) {
    if (doc.fields[field] === undefined) {
      problems.push({ path: `fields.${field}`, message: `is required for ${kind}` });
    }
  }

  const attributes: Record<string, FieldSpec> = {};
  if (doc.attributes !== undefined) {
    if (!fields.attributes) {
      problems.push({ path: 'attributes', message: `${kind} have no attributes` });
    } else {
      for (const [attribute, spec] of Object.entries(doc.attributes)) {
        if (attribute.trim() === '' || attribute.length > 100) {
          problems.push({
            path: `attributes.${attribute}`,
            message: 'an attribute name has 1 to 100 characters',
          });
          continue;
        }
        attributes[attribute] = toFieldSpec(spec);
        problems.push(...checkFieldSyntax(attributes[attribute], `attributes.${attribute}`));
      }
    }
  }
  if (problems.length > 0) throw invalidMapping(source, problems);
  return {
    kind,
    source,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    csv,
    joins,
    fields: mappedFields,
    attributes,
  };
}

/**
 * Reads and checks a mapping file. Throws DomainError `invalid_mapping` (bad JSON
 * or a value at fault, named by its JSON path) or `file_not_readable`.
 */
export async function loadMapping(path: string): Promise<Mapping> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new DomainError(
      'file_not_readable',
      `${path}: cannot read the mapping file (${(error as Error).message})`,
    );
  }
  if (size > MAPPING_FILE_BYTES_MAX) {
    throw invalidMapping(path, [
      { path: '(file)', message: `is larger than ${MAPPING_FILE_BYTES_MAX} bytes` },
    ]);
  }
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw invalidMapping(path, [
      { path: '(file)', message: `is not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parseMapping(json, path);
}

// ---------------------------------------------------------------------------
// Numbers

/** Parses a number written with the given separators into a Decimal; undefined if it is not one. */
export function parseNumberText(
  text: string,
  decimalSeparator: string,
  groupSeparator: string,
): Decimal | undefined {
  let plain = text;
  if (groupSeparator !== '') plain = plain.replaceAll(groupSeparator, '');
  if (decimalSeparator !== '.') {
    if (plain.includes('.')) return undefined;
    plain = plain.replace(decimalSeparator, '.');
  }
  return Decimal.tryParse(plain);
}

// ---------------------------------------------------------------------------
// Expressions: + - * and parentheses over decimal literals and column references.

type ExpressionNode =
  | { type: 'number'; value: Decimal }
  | { type: 'column'; slot: number }
  | { type: 'negate'; operand: ExpressionNode }
  | { type: 'binary'; operator: '+' | '-' | '*'; left: ExpressionNode; right: ExpressionNode };

type Token =
  | { type: 'number'; text: string; position: number }
  | { type: 'column'; name: string; position: number }
  | { type: 'operator'; operator: '+' | '-' | '*' | '(' | ')'; position: number }
  | { type: 'end'; position: number };

export interface CompiledExpression {
  readonly text: string;
  /** Column references in order of first use; `evaluate` takes their values in this order. */
  readonly columns: readonly string[];
  /** Computes the exact result from the operands' values (no rounding, never fails). */
  evaluate(operands: readonly Decimal[]): Decimal;
}

const IDENTIFIER_START = /[\p{L}_]/u;
const IDENTIFIER_PART = /[\p{L}\p{N}_.]/u;

function expressionError(text: string, position: number, detail: string): DomainError {
  return new DomainError(
    'invalid_mapping',
    `expression "${text}": ${detail}${position >= 0 ? ` at position ${position + 1}` : ''}`,
  );
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i += 1;
    } else if (c >= '0' && c <= '9') {
      const start = i;
      while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i += 1;
      if (text[i] === '.') {
        i += 1;
        const fractionStart = i;
        while (i < text.length && text[i]! >= '0' && text[i]! <= '9') i += 1;
        if (i === fractionStart) throw expressionError(text, i, 'a digit must follow the decimal point');
      }
      if (i < text.length && IDENTIFIER_PART.test(text[i]!)) {
        throw expressionError(text, i, `unexpected "${text[i]}" after the number ${text.slice(start, i)}`);
      }
      tokens.push({ type: 'number', text: text.slice(start, i), position: start });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end === -1) throw expressionError(text, i, 'the backtick is never closed');
      const name = text.slice(i + 1, end);
      if (name.trim() === '') throw expressionError(text, i, 'empty column name in backticks');
      tokens.push({ type: 'column', name, position: i });
      i = end + 1;
    } else if (IDENTIFIER_START.test(c)) {
      const start = i;
      while (i < text.length && IDENTIFIER_PART.test(text[i]!)) i += 1;
      tokens.push({ type: 'column', name: text.slice(start, i), position: start });
    } else if (c === '+' || c === '-' || c === '*' || c === '(' || c === ')') {
      tokens.push({ type: 'operator', operator: c, position: i });
      i += 1;
    } else if (c === '\u2212') {
      tokens.push({ type: 'operator', operator: '-', position: i });
      i += 1;
    } else if (c === '/') {
      throw expressionError(
        text,
        i,
        'division is not supported (a quotient is rarely exact); multiply by a decimal such as 0.01 instead',
      );
    } else {
      throw expressionError(text, i, `unexpected "${c}"`);
    }
  }
  tokens.push({ type: 'end', position: text.length });
  return tokens;
}

/**
 * Parses an expression of + - * (usual precedence, left to right), unary minus,
 * parentheses, decimal literals and column references (bare names, `alias.column`,
 * or `any name` in backticks). Throws DomainError `invalid_mapping` naming the
 * expression and the position at fault.
 */
export function compileExpression(text: string): CompiledExpression {
  const tokens = tokenize(text);
  const columns: string[] = [];
  let index = 0;
  const peek = (): Token => tokens[index]!;
  const describe = (t: Token): string =>
    t.type === 'end'
      ? 'the end'
      : t.type === 'number'
        ? `the number ${t.text}`
        : t.type === 'column'
          ? `the column ${t.name}`
          : `"${t.operator}"`;

  const parseSum = (depth: number): ExpressionNode => {
    let left = parseProduct(depth);
    for (;;) {
      const t = peek();
      if (t.type !== 'operator' || (t.operator !== '+' && t.operator !== '-')) return left;
      index += 1;
      left = { type: 'binary', operator: t.operator, left, right: parseProduct(depth) };
    }
  };
  const parseProduct = (depth: number): ExpressionNode => {
    let left = parseUnary(depth);
    for (;;) {
      const t = peek();
      if (t.type !== 'operator' || t.operator !== '*') return left;
      index += 1;
      left = { type: 'binary', operator: '*', left, right: parseUnary(depth) };
    }
  };
  const parseUnary = (depth: number): ExpressionNode => {
    if (depth > EXPRESSION_DEPTH_MAX) {
      throw expressionError(text, peek().position, `nested more than ${EXPRESSION_DEPTH_MAX} levels`);
    }
    const t = peek();
    if (t.type === 'operator' && (t.operator === '-' || t.operator === '+')) {
      index += 1;
      const operand = parseUnary(depth + 1);
      return t.operator === '-' ? { type: 'negate', operand } : operand;
    }
    return parsePrimary(depth);
  };
  const parsePrimary = (depth: number): ExpressionNode => {
    const t = peek();
    index += 1;
    if (t.type === 'number') return { type: 'number', value: Decimal.parse(t.text) };
    if (t.type === 'column') {
      let slot = columns.indexOf(t.name);
      if (slot === -1) slot = columns.push(t.name) - 1;
      return { type: 'column', slot };
    }
    if (t.type === 'operator' && t.operator === '(') {
      const inner = parseSum(depth + 1);
      const close = peek();
      if (close.type !== 'operator' || close.operator !== ')') {
        throw expressionError(text, close.position, `expected ")" but found ${describe(close)}`);
      }
      index += 1;
      return inner;
    }
    throw expressionError(text, t.position, `expected a number, a column or "(" but found ${describe(t)}`);
  };

  if (text.trim() === '') throw expressionError(text, -1, 'is empty');
  const root = parseSum(0);
  const rest = peek();
  if (rest.type !== 'end') throw expressionError(text, rest.position, `unexpected ${describe(rest)}`);

  const build = (node: ExpressionNode): ((operands: readonly Decimal[]) => Decimal) => {
    switch (node.type) {
      case 'number': {
        const value = node.value;
        return () => value;
      }
      case 'column': {
        const slot = node.slot;
        return (operands) => operands[slot]!;
      }
      case 'negate': {
        const operand = build(node.operand);
        return (operands) => operand(operands).neg();
      }
      case 'binary': {
        const left = build(node.left);
        const right = build(node.right);
        if (node.operator === '+') return (operands) => left(operands).add(right(operands));
        if (node.operator === '-') return (operands) => left(operands).sub(right(operands));
        return (operands) => left(operands).mul(right(operands));
      }
    }
  };
  const evaluate = build(root);
  return {
    text,
    columns,
    evaluate(operands) {
      if (operands.length !== columns.length) {
        throw new RangeError(`expression "${text}" needs ${columns.length} operands, got ${operands.length}`);
      }
      return evaluate(operands);
    },
  };
}

// ---------------------------------------------------------------------------
// Dates

const DATE_TOKENS = ['yyyy', 'SSS', 'MM', 'dd', 'HH', 'mm', 'ss', 'M', 'd'] as const;
type DateToken = (typeof DATE_TOKENS)[number];
const DATE_TOKEN_PATTERN: Record<DateToken, string> = {
  yyyy: '(\\d{4})',
  SSS: '(\\d{3})',
  MM: '(\\d{2})',
  dd: '(\\d{2})',
  HH: '(\\d{2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
  M: '(\\d{1,2})',
  d: '(\\d{1,2})',
};

const DATE_PART: Record<DateToken, string> = {
  yyyy: 'year',
  MM: 'month',
  M: 'month',
  dd: 'day',
  d: 'day',
  HH: 'hour',
  mm: 'minute',
  ss: 'second',
  SSS: 'millisecond',
};

/** Returns the ISO date for a text in the compiled format, or undefined when it does not match or is impossible. */
export type DateParser = (text: string) => string | undefined;

/**
 * Compiles a date format of the tokens yyyy, MM, M, dd, d, HH, mm, ss, SSS and
 * literal separators ('quoted' for letters, e.g. yyyy-MM-dd'T'HH:mm:ss). The
 * whole text must match; the time, when present, must be a real time of day.
 * Throws DomainError `invalid_mapping` for an unknown letter or a missing part.
 */
export function compileDateFormat(format: string): DateParser {
  let pattern = '^';
  const order: DateToken[] = [];
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      const end = format.indexOf("'", i + 1);
      if (end === -1)
        throw new DomainError('invalid_mapping', `date format "${format}": a quote is never closed`);
      pattern += escapeRegExp(format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const token = DATE_TOKENS.find((t) => format.startsWith(t, i));
    if (token !== undefined) {
      if (order.some((t) => DATE_PART[t] === DATE_PART[token])) {
        throw new DomainError(
          'invalid_mapping',
          `date format "${format}": the ${DATE_PART[token]} appears twice`,
        );
      }
      order.push(token);
      pattern += DATE_TOKEN_PATTERN[token];
      i += token.length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      throw new DomainError(
        'invalid_mapping',
        `date format "${format}": unknown letter "${c}" at position ${i + 1} (use yyyy, MM, M, dd, d, HH, mm, ss, SSS; quote literal letters)`,
      );
    }
    pattern += escapeRegExp(c);
    i += 1;
  }
  pattern += '$';
  // Capture group numbers (0 when the format has no such part).
  const group = (...tokens: DateToken[]) => {
    const p = order.findIndex((t) => tokens.includes(t));
    return p + 1;
  };
  const year = group('yyyy');
  const month = group('MM', 'M');
  const day = group('dd', 'd');
  if (year === 0 || month === 0 || day === 0) {
    throw new DomainError(
      'invalid_mapping',
      `date format "${format}": needs a year (yyyy), a month (MM or M) and a day (dd or d)`,
    );
  }
  const hour = group('HH');
  const minute = group('mm');
  const second = group('ss');
  const regex = new RegExp(pattern);
  const parse = (text: string): string | undefined => {
    const m = regex.exec(text);
    if (!m) return undefined;
    if (hour !== 0 && Number(m[hour]) > 23) return undefined;
    if (minute !== 0 && Number(m[minute]) > 59) return undefined;
    if (second !== 0 && Number(m[second]) > 59) return undefined;
    const iso = toIsoDate(Number(m[year]), Number(m[month]), Number(m[day]));
    return isIsoDate(iso) ? iso : undefined;
  };
  // An export repeats a few thousand distinct dates over millions of lines, so results are remembered.
  const cache = new Map<string, string | undefined>();
  return (text) => {
    let iso = cache.get(text);
    if (iso === undefined && !cache.has(text)) {
      iso = parse(text);
      if (cache.size >= DATE_CACHE_ENTRIES_MAX) cache.clear();
      cache.set(text, iso);
    }
    return iso;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// ---------------------------------------------------------------------------
// Templates

export type TemplatePart = { type: 'text'; text: string } | { type: 'column'; column: string };

/**
 * Splits a template such as `{orderID}-{productID}` into literal text and column
 * references; `{{` and `}}` stand for literal braces. Throws DomainError
 * `invalid_mapping` for an unbalanced brace or an empty placeholder.
 */
export function compileTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      literal += c;
      i += 2;
    } else if (c === '{') {
      const end = template.indexOf('}', i + 1);
      if (end === -1)
        throw new DomainError(
          'invalid_mapping',
          `template "${template}": "{" at position ${i + 1} is never closed`,
        );
      const column = template.slice(i + 1, end);
      if (column.trim() === '' || column.includes('{')) {
        throw new DomainError(
          'invalid_mapping',
          `template "${template}": bad placeholder at position ${i + 1}`,
        );
      }
      if (literal !== '') parts.push({ type: 'text', text: literal });
      literal = '';
      parts.push({ type: 'column', column });
      i = end + 1;
    } else if (c === '}') {
      throw new DomainError(
        'invalid_mapping',
        `template "${template}": "}" at position ${i + 1} has no "{" (write }} for a brace)`,
      );
    } else {
      literal += c;
      i += 1;
    }
  }
  if (literal !== '') parts.push({ type: 'text', text: literal });
  if (!parts.some((p) => p.type === 'column')) {
    throw new DomainError(
      'invalid_mapping',
      `template "${template}": has no {column} placeholder (use "value" for a constant)`,
    );
  }
  return parts;
}

// ---------------------------------------------------------------------------
// Compiling a mapping against the headers of the files being read

/** One joined file, read fully into memory and indexed by its key column. */
export interface JoinTable {
  name: string;
  file: string;
  header: readonly string[];
  /** Key -> the row's fields, trimmed, null values already ''. */
  rows: ReadonlyMap<string, readonly string[]>;
  /** Keys that occur on more than one line -> those lines. */
  duplicates: ReadonlyMap<string, readonly number[]>;
}

export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

export type MappedRow =
  | { ok: true; values: Record<string, string> }
  | { ok: false; problems: FieldProblem[] };

export interface RowMapper {
  /** Maps one record's fields (trimmed, null values already '') to canonical values. */
  map(cells: readonly string[]): MappedRow;
}

interface RowContext {
  main: readonly string[];
  joined: (readonly string[] | undefined)[];
}
type Getter = (row: RowContext) => string;
type FieldEvaluator = (row: RowContext, problems: FieldProblem[]) => string;

/** Maps column name -> index; a name that occurs twice maps to -1. */
export function indexHeader(header: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((name, i) => {
    index.set(name, index.has(name) ? -1 : i);
  });
  return index;
}

/**
 * Compiles a mapping for one main file and its loaded joins. Throws DomainError
 * `missing_column` (every column the mapping uses that a header lacks, each named
 * with the mapping path using it), `duplicate_column` (a used column that occurs
 * twice), or `invalid_mapping` (a join referring to a later join).
 */
export function compileMapping(
  mapping: Mapping,
  main: { file: string; header: readonly string[] },
  joins: readonly JoinTable[],
): RowMapper {
  assert.deepEqual(
    joins.map((j) => j.name),
    mapping.joins.map((j) => j.name),
    'one loaded table per join, in order',
  );
  const mainIndex = indexHeader(main.header);
  const joinIndexes = joins.map((j) => indexHeader(j.header));
  const joinPosition = new Map(joins.map((j, i) => [j.name, i]));
  const missing: Problem[] = [];
  const duplicated: Problem[] = [];
  const invalid: { path: string; message: string }[] = [];

  interface ColumnRef {
    getter: Getter;
    /** Index of the join the column comes from, or -1 for the main file. */
    join: number;
    settings: CsvSettings;
  }

  // Resolves `column` or `alias.column`; joins at or after `visibleJoins` may not be used.
  const resolve = (reference: string, path: string, fromEnd: boolean, visibleJoins: number): ColumnRef => {
    const dot = reference.indexOf('.');
    const alias = dot > 0 ? reference.slice(0, dot) : undefined;
    const j = alias !== undefined ? joinPosition.get(alias) : undefined;
    if (j !== undefined) {
      const table = joins[j]!;
      const column = reference.slice(dot + 1);
      if (j >= visibleJoins)
        invalid.push({
          path,
          message: `join "${table.name}" is declared later; joins may only use earlier ones`,
        });
      const position = joinIndexes[j]!.get(column);
      if (position === undefined) {
        missing.push({
          file: table.file,
          field: column,
          code: 'missing_column',
          message: `${table.file} has no column "${column}" (used by ${path})`,
        });
      } else if (position === -1) {
        duplicated.push({
          file: table.file,
          field: column,
          code: 'duplicate_column',
          message: `${table.file} has the column "${column}" twice (used by ${path})`,
        });
      }
      const width = table.header.length;
      const i = position ?? 0;
      const getter: Getter = fromEnd
        ? (row) => {
            const r = row.joined[j];
            return r === undefined ? '' : (r[r.length - (width - i)] ?? '');
          }
        : (row) => row.joined[j]?.[i] ?? '';
      return { getter, join: j, settings: mapping.joins[j]!.csv };
    }
    const position = mainIndex.get(reference);
    if (position === undefined) {
      missing.push({
        file: main.file,
        field: reference,
        code: 'missing_column',
        message: `${main.file} has no column "${reference}" (used by ${path})`,
      });
    } else if (position === -1) {
      duplicated.push({
        file: main.file,
        field: reference,
        code: 'duplicate_column',
        message: `${main.file} has the column "${reference}" twice (used by ${path})`,
      });
    }
    const width = main.header.length;
    const i = position ?? 0;
    const getter: Getter = fromEnd
      ? (row) => row.main[row.main.length - (width - i)] ?? ''
      : (row) => row.main[i] ?? '';
    return { getter, join: -1, settings: mapping.csv };
  };

  // Joins: each one's `on` may use the main file and earlier joins.
  const joinDependencies: Set<number>[] = [];
  const joinSteps = mapping.joins.map((spec, j) => {
    const on = resolve(spec.on, `joins[${j}].on`, false, j);
    const table = joins[j]!;
    const dependencies = new Set<number>([j]);
    if (on.join >= 0) for (const d of joinDependencies[on.join] ?? []) dependencies.add(d);
    joinDependencies.push(dependencies);
    return { spec, table, on };
  });

  const numeric = new Set(NUMERIC_FIELDS[mapping.kind]);
  const fieldEvaluators: { key: string; evaluate: FieldEvaluator; joins: Set<number> }[] = [];
  const compileField = (key: string, problemField: string, spec: FieldSpec, path: string) => {
    const usedJoins = new Set<number>();
    const use = (reference: string, fromEnd = false) => {
      const ref = resolve(reference, path, fromEnd, joins.length);
      if (ref.join >= 0) for (const d of joinDependencies[ref.join]!) usedJoins.add(d);
      return ref;
    };
    let evaluate: FieldEvaluator;
    switch (spec.type) {
      case 'value': {
        const value = spec.value;
        evaluate = () => value;
        break;
      }
      case 'column': {
        const ref = use(spec.column, spec.fromEnd);
        const get = ref.getter;
        if (spec.format !== undefined) {
          const parseDate = compileDateFormat(spec.format);
          const format = spec.format;
          const column = spec.column;
          evaluate = (row, problems) => {
            const text = get(row);
            if (text === '') return '';
            const iso = parseDate(text);
            if (iso === undefined) {
              problems.push({
                field: problemField,
                code: 'bad_date',
                message: `${column} "${text}" is not a date in the format ${format}`,
              });
              return '';
            }
            return iso;
          };
        } else if (
          numeric.has(key) &&
          (ref.settings.decimalSeparator !== '.' || ref.settings.groupSeparator !== '')
        ) {
          const { decimalSeparator, groupSeparator } = ref.settings;
          const column = spec.column;
          evaluate = (row, problems) => {
            const text = get(row);
            if (text === '') return '';
            const value = parseNumberText(text, decimalSeparator, groupSeparator);
            if (value === undefined) {
              problems.push({
                field: problemField,
                code: 'bad_number',
                message: `${column} "${text}" is not a number`,
              });
              return '';
            }
            return value.toString();
          };
        } else {
          evaluate = get;
        }
        break;
      }
      case 'template': {
        const parts = compileTemplate(spec.template).map((part) =>
          part.type === 'text' ? { text: part.text } : { column: part.column, get: use(part.column).getter },
        );
        const template = spec.template;
        evaluate = (row, problems) => {
          let out = '';
          for (const part of parts) {
            if (part.get === undefined) {
              out += part.text;
              continue;
            }
            const value = part.get(row);
            if (value === '') {
              problems.push({
                field: problemField,
                code: 'missing_value',
                message: `${part.column} is empty, so the template ${template} cannot be filled`,
              });
              return '';
            }
            out += value;
          }
          return out;
        };
        break;
      }
      case 'expression': {
        const expression = compileExpression(spec.expression);
        const operands = expression.columns.map((column) => {
          const ref = use(column);
          return {
            column,
            get: ref.getter,
            decimal: ref.settings.decimalSeparator,
            group: ref.settings.groupSeparator,
          };
        });
        const round = spec.round;
        const text = spec.expression;
        evaluate = (row, problems) => {
          const values: Decimal[] = [];
          for (const operand of operands) {
            const raw = operand.get(row);
            const value =
              operand.decimal === '.' && operand.group === ''
                ? Decimal.tryParse(raw)
                : parseNumberText(raw, operand.decimal, operand.group);
            if (value === undefined) {
              problems.push({
                field: problemField,
                code: 'bad_number',
                message:
                  raw === ''
                    ? `${operand.column} is empty, so ${text} cannot be computed`
                    : `${operand.column} "${raw}" is not a number, so ${text} cannot be computed`,
              });
              return '';
            }
            values.push(value);
          }
          const exact = expression.evaluate(values);
          const result = round === undefined ? exact : exact.roundHalfAwayFromZero(round);
          const output = round === undefined ? result.toPlainString() : result.toString();
          if (
            result.significantScale() > DECIMAL_INPUT_SCALE_MAX ||
            output.length > DECIMAL_TEXT_LENGTH_MAX
          ) {
            problems.push({
              field: problemField,
              code: 'expression_failed',
              message: `${text} = ${output} has more than ${DECIMAL_INPUT_SCALE_MAX} decimal places or ${DECIMAL_TEXT_LENGTH_MAX} characters; add "round"`,
            });
            return '';
          }
          return output;
        };
        break;
      }
    }
    fieldEvaluators.push({ key, evaluate, joins: usedJoins });
  };

  const kindFields = IMPORT_FIELDS[mapping.kind];
  const canonical = [...kindFields.required, ...kindFields.optional];
  for (const field of canonical) {
    const spec = mapping.fields[field];
    if (spec !== undefined) compileField(field, field, spec, `fields.${field}`);
  }
  for (const [name, spec] of Object.entries(mapping.attributes)) {
    compileField(`${ATTRIBUTE_PREFIX}${name}`, `${ATTRIBUTE_PREFIX}${name}`, spec, `attributes.${name}`);
  }

  if (invalid.length > 0) throw invalidMapping(mapping.source, invalid);
  if (missing.length > 0) {
    throw new DomainError('missing_column', missing.map((p) => p.message).join('; '), missing);
  }
  if (duplicated.length > 0) {
    throw new DomainError('duplicate_column', duplicated.map((p) => p.message).join('; '), duplicated);
  }

  // A failed join is reported against the first field that needs it.
  const joinField = joinSteps.map(
    (step, j) => fieldEvaluators.find((f) => f.joins.has(j))?.key ?? `joins.${step.spec.name}`,
  );
  // Values keep a fixed key order: every canonical field ('' when unmapped), then attributes.
  const empty: FieldEvaluator = () => '';
  const slots = canonical.map((field) => ({
    key: field,
    evaluate: fieldEvaluators.find((f) => f.key === field)?.evaluate ?? empty,
  }));
  for (const f of fieldEvaluators) if (f.key.startsWith(ATTRIBUTE_PREFIX)) slots.push(f);
  // Every row's values start as a copy of one template, so they share a shape and filling them adds no properties.
  const template: Record<string, string> = Object.fromEntries(slots.map((slot) => [slot.key, '']));

  return {
    map(cells) {
      const row: RowContext = { main: cells, joined: [] };
      const problems: FieldProblem[] = [];
      for (let j = 0; j < joinSteps.length; j++) {
        const step = joinSteps[j]!;
        const key = step.on.getter(row);
        const found = step.table.rows.get(key);
        const field = joinField[j]!;
        if (found === undefined) {
          problems.push({
            field,
            code: 'join_key_not_found',
            message:
              key === ''
                ? `${step.spec.on} is empty, so there is no row of ${step.table.file} to join ("${step.spec.name}")`
                : `${step.spec.on} "${key}" matches no ${step.spec.key} in ${step.table.file} (join "${step.spec.name}")`,
          });
        } else {
          const lines = step.table.duplicates.get(key);
          if (lines !== undefined) {
            problems.push({
              field,
              code: 'join_key_duplicated',
              message: `${step.spec.on} "${key}" matches ${lines.length} rows of ${step.table.file} (lines ${lines.join(', ')}); the join key must be unique`,
            });
          }
        }
        row.joined.push(found);
      }
      if (problems.length > 0) return { ok: false, problems };
      const values = { ...template };
      for (const slot of slots) values[slot.key] = slot.evaluate(row, problems);
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, values };
    },
  };
}
