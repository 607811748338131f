// What the importer needs to know about one kind of record: its table and how
// a canonical row becomes column values (or problems naming the fields).
import { partnerImport } from '../partners/partners.schema.ts';
import { productImport } from '../products/products.schema.ts';
import type { Problem } from '../shared/errors.ts';
import type { BulkTable } from '../store/bulk-insert.ts';
import { transactionImport } from '../transactions/transactions.schema.ts';
import type { ImportKind } from './source.types.ts';

/** Ids already in the store that imported rows may refer to. */
export interface ReferenceSets {
  partners: ReadonlySet<string>;
  products: ReadonlySet<string>;
}

export type RowCheck =
  | { ok: true; key: string; columns: (string | null)[] }
  | { ok: false; problems: Problem[] };

export interface ImportSpec {
  table: BulkTable;
  /** Which reference sets the rows need (loading them costs a scan). */
  needs: { partners: boolean; products: boolean };
  check(values: Record<string, string>, references: ReferenceSets): RowCheck;
}

export const IMPORT_SPECS: Record<ImportKind, ImportSpec> = {
  partners: partnerImport,
  products: productImport,
  transactions: transactionImport,
};
