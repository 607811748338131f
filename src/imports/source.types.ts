// The reading side of an import: a file turned into canonical rows, one item per
// record, in file order. A record that cannot be read becomes a problem item, so
// every record is accounted for and none is dropped. Checking the values (dates,
// amounts, references) is the job of each kind's ImportSpec, not of the source.

import type { CsvSettings } from './mapping.ts';

export type ImportKind = 'partners' | 'products' | 'transactions';

export const IMPORT_KINDS: readonly ImportKind[] = ['partners', 'products', 'transactions'];

export interface SourceRow {
  /** 1-based physical line where the record starts; the header is line 1. */
  line: number;
  /** The record text exactly as in the file, without its line ending, for reject files. */
  raw: string;
  /** Canonical field -> trimmed text; '' means absent. Every canonical field of the kind is present. */
  values: Record<string, string>;
}

export interface SourceProblem {
  line: number;
  raw: string;
  /** The canonical field (or, for CSV syntax problems, the column) at fault, when one is. */
  field?: string;
  code: string;
  message: string;
}

export type SourceItem = { ok: true; row: SourceRow } | { ok: false; problem: SourceProblem };

export interface RecordSource {
  file: string;
  /** The raw header line, used as the header of reject files. */
  header: string;
  totalBytes: number;
  /** Bytes of the file consumed so far, for a progress bar. */
  bytesRead(): number;
  /** The header's column names and its physical line number. */
  names: readonly string[];
  headerLine: number;
  /** How the file is read (delimiter, quote, encoding...). */
  settings: CsvSettings;
  /** Whether a row can be built without this source (false when a mapping joins other files). */
  standalone: boolean;
  /** Stops reading; for a source whose records are read another way (see parallel-check.ts). */
  close(): void;
  /** The records after the header; may be iterated once (this or `batches`). */
  items(): AsyncIterable<SourceItem>;
  /** The same records, in the runs they are read in (one await per run, not per record). */
  batches(): AsyncIterable<SourceItem[]>;
}

/** The canonical fields of one kind of record. */
export interface KindFields {
  required: readonly string[];
  optional: readonly string[];
  /** Whether the kind stores free attributes (`attributes.<name>` values). */
  attributes: boolean;
}

export const PARTNER_FIELDS: KindFields = {
  required: ['id', 'name'],
  optional: ['group', 'region'],
  attributes: true,
};

export const PRODUCT_FIELDS: KindFields = {
  required: ['sku', 'name', 'category'],
  optional: ['list_price'],
  attributes: true,
};

export const TRANSACTION_FIELDS: KindFields = {
  required: ['id', 'date', 'partner', 'sku', 'quantity', 'amount', 'currency'],
  optional: [
    'document_type',
    'invoice_number',
    'ship_to',
    'end_customer',
    'unit_price',
    'list_price',
    'cost',
  ],
  attributes: false,
};

export const IMPORT_FIELDS: Readonly<Record<ImportKind, KindFields>> = {
  partners: PARTNER_FIELDS,
  products: PRODUCT_FIELDS,
  transactions: TRANSACTION_FIELDS,
};

/** Canonical fields that hold decimal numbers, per kind (a mapping's number format applies to them). */
export const NUMERIC_FIELDS: Readonly<Record<ImportKind, readonly string[]>> = {
  partners: [],
  products: ['list_price'],
  transactions: ['quantity', 'amount', 'unit_price', 'list_price', 'cost'],
};

/** Prefix of the value keys that carry free attributes: `attributes.supplier`. */
export const ATTRIBUTE_PREFIX = 'attributes.';

/**
 * Codes of per-record problems (SourceProblem.code). The kind's ImportSpec adds
 * its own value codes later.
 */
export const SOURCE_PROBLEM_CODES = [
  /** CSV syntax the parser cannot read: a quote never closed, text after a closing quote, a stray quote. */
  'malformed_csv',
  /** More or fewer fields than the header has columns. */
  'wrong_field_count',
  /** A record longer than CSV_RECORD_LENGTH_MAX bytes. */
  'record_too_long',
  /** Bytes that are not valid in the file's encoding. */
  'invalid_encoding',
  /** A joined file has no row with the record's key. */
  'join_key_not_found',
  /** A joined file has more than one row with the record's key. */
  'join_key_duplicated',
  /** A mapped date does not match its format or is not a real date. */
  'bad_date',
  /** A mapped number (an expression operand or a formatted number) is not a decimal number. */
  'bad_number',
  /** A template placeholder has no value. */
  'missing_value',
  /** An expression's result cannot be represented (too many decimal places or digits). */
  'expression_failed',
] as const;

/** Codes of DomainErrors thrown when a file cannot be read at all, before any row. */
export const SOURCE_ERROR_CODES = [
  'file_not_readable',
  'empty_file',
  'missing_column',
  'unknown_column',
  'duplicate_column',
  'too_many_columns',
  'invalid_mapping',
  'join_file_too_large',
  'invalid_join_file',
  'malformed_csv',
] as const;
