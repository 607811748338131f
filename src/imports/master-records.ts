// Writing one partner or product outside a file (the API): checked exactly as an
// imported row is (the ImportSpec's check), written or replaced, audited with
// before and after. A change that moves lines between agreements — a partner's
// buying group, a product's category or attributes — recalculates the accruals
// of the agreements it can touch in the same transaction.
import { sql } from 'kysely';
import { transactionRecalculating } from '../accruals/accruals.service.ts';
import { appendAudit } from '../audit/audit.service.ts';
import { partnerImport } from '../partners/partners.schema.ts';
import { productImport } from '../products/products.schema.ts';
import { HttpError } from '../server/errors.ts';
import type { Database, Store } from '../store/database.ts';
import type { Acting } from '../users/users.service.ts';
import type { ImportSpec } from './import-spec.ts';

const NO_REFERENCES = { partners: new Set<string>(), products: new Set<string>() };

type Kind = 'partner' | 'product';

const SPECS: Record<Kind, ImportSpec> = { partner: partnerImport, product: productImport };

/** The record as the import's checks read it: one text per field, attributes as `attributes.<name>`. */
export type RecordFields = Record<string, string | Record<string, string> | undefined>;

function importValues(fields: RecordFields): Record<string, string> {
  // Trimmed, as the file readers trim every field.
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'attributes' || value === undefined || typeof value !== 'string') continue;
    values[key] = value.trim();
  }
  const attributes = typeof fields.attributes === 'object' ? fields.attributes : {};
  for (const [name, value] of Object.entries(attributes)) values[`attributes.${name.trim()}`] = value.trim();
  return values;
}

/**
 * Checks and writes one record. `mode` create refuses an id already stored (409);
 * replace refuses one that is not (404). Returns the stored row.
 */
export async function saveMasterRecord(
  store: Store,
  kind: Kind,
  fields: RecordFields,
  author: Acting,
  mode: 'create' | 'replace',
): Promise<Record<string, unknown>> {
  // Master data is kept by administrators and the commercial team.
  if (author.role !== 'admin' && author.role !== 'commercial')
    throw new HttpError(403, 'forbidden', 'master data is written by administrators and the commercial team');
  const spec = SPECS[kind];
  const checked = spec.check(importValues(fields), NO_REFERENCES);
  if (!checked.ok)
    throw new HttpError(
      422,
      `invalid_${kind}`,
      checked.problems.map((p) => p.message).join('; '),
      checked.problems,
    );
  const { table, key, columns } = spec.table;
  const row = Object.fromEntries(columns.map((c, i) => [c.name, checked.columns[i]]));
  return transactionRecalculating(store, async (trx, recalculate) => {
    const before = await sql<Record<string, unknown>>`
      SELECT * FROM ${sql.table(table)} WHERE ${sql.ref(key)} = ${checked.key} FOR UPDATE`.execute(trx);
    const old = before.rows[0];
    if (mode === 'create' && old)
      throw new HttpError(409, 'exists', `${kind} ${checked.key} is already stored`);
    if (mode === 'replace' && !old)
      throw new HttpError(404, 'not_found', `no ${kind} ${JSON.stringify(checked.key)}`);
    const names = columns.map((c) => c.name);
    const values = names.map((n) => sql`${row[n]}::${sql.raw(columns.find((c) => c.name === n)!.type)}`);
    if (old) {
      await sql`UPDATE ${sql.table(table)} SET ${sql.join(
        names.map((n, i) => sql`${sql.ref(n)} = ${values[i]}`),
      )} WHERE ${sql.ref(key)} = ${checked.key}`.execute(trx);
    } else {
      await sql`INSERT INTO ${sql.table(table)} (${sql.join(names.map((n) => sql.ref(n)))}) VALUES (${sql.join(values)})`.execute(
        trx,
      );
    }
    const after = (
      await sql<
        Record<string, unknown>
      >`SELECT * FROM ${sql.table(table)} WHERE ${sql.ref(key)} = ${checked.key}`.execute(trx)
    ).rows[0]!;
    // Every process's cached view of the master data is out of date from here: the
    // write moved calculation_inputs' revision (a trigger on partners and products, migration 0014).
    const touched = await touchedAgreements(trx, kind, old, after);
    if (touched === 'all') await recalculate();
    else if (touched.length > 0) await recalculate(touched);
    // After the accruals: every writer takes the accruals' lock before the audit trail's.
    await appendAudit(trx, {
      actor: author.actor,
      action: `${kind}.${old ? 'update' : 'create'}`,
      entity: kind,
      entityId: checked.key,
      ...(old ? { before: withoutImport(old) } : {}),
      after: withoutImport(after),
      ...(author.requestId ? { requestId: author.requestId } : {}),
    });
    return after;
  });
}

function withoutImport(row: Record<string, unknown>): Record<string, unknown> {
  const { import_id: _, ...rest } = row;
  return rest;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The agreements whose totals a change can move. A new record has no lines yet.
 * A partner's move between buying groups moves its lines between the groups'
 * agreements, old and new. A product's category and attributes decide every rule's scope, so a
 * change to them recalculates every agreement.
 */
async function touchedAgreements(
  db: Database,
  kind: Kind,
  old: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): Promise<string[] | 'all'> {
  if (old === undefined) return [];
  if (kind === 'product')
    return same(old.category, after.category) && same(old.attributes, after.attributes) ? [] : 'all';
  const groups = [old.buying_group, after.buying_group].filter((g): g is string => typeof g === 'string');
  if (old.buying_group === after.buying_group || groups.length === 0) return [];
  const rows = await db.selectFrom('agreements').select('id').where('buying_group', 'in', groups).execute();
  return rows.map((r) => r.id);
}
