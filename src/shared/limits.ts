// Every input is bounded. These are the limits, named once.

/** Rows written per COPY (or insert) during an import: large enough to amortise round trips and savepoints, small enough to bound memory. */
export const IMPORT_ROWS_PER_BATCH_MAX = 20_000;
/** Longest CSV record accepted (bytes); longer ones are reported as malformed. */
export const CSV_RECORD_LENGTH_MAX = 64 * 1024;
/** Longest identifier (partner id, sku, line id, agreement id). */
export const IDENTIFIER_LENGTH_MAX = 100;
/** Longest free text field (names, descriptions). */
export const TEXT_LENGTH_MAX = 1_000;
export const TIERS_MAX = 50;
export const RULES_PER_AGREEMENT_MAX = 50;
export const SCOPE_ENTRIES_MAX = 100_000;
export const PRODUCT_ATTRIBUTES_MAX = 50;
/** Size of an agreements JSON file accepted by the importer. */
export const AGREEMENTS_FILE_BYTES_MAX = 256 * 1024 * 1024;
/** Problems printed to the terminal; the full list always goes to the error report file. */
export const PROBLEMS_PRINTED_MAX = 20;
/** Periods one agreement may span (ten years of monthly periods). */
export const PERIODS_PER_AGREEMENT_MAX = 120;
/**
 * New lines an import adds to the accruals one by one; a larger import rebuilds
 * every position in one pass over the stored lines, which is then cheaper.
 */
export const ACCRUAL_INCREMENTAL_LINES_MAX = 100_000;
/**
 * An import expected to bring at least this many rows, and at least as many as
 * the table holds, drops the table's secondary indexes and builds them again at
 * the end (see dropSecondaryIndexes).
 */
export const BULK_LOAD_ROWS_MIN = 100_000;
/** Largest file accepted by an upload over HTTP (bytes); larger loads go through `rebates import`. */
export const UPLOAD_BYTES_MAX = 1024 * 1024 * 1024;
/** Largest file attached to a claim as evidence (bytes). */
export const CLAIM_ATTACHMENT_BYTES_MAX = 10 * 1024 * 1024;
