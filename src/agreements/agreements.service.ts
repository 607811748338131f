// Importing agreements from a JSON file: every agreement is validated (format,
// tiers, references to partners, groups and products), the file is imported
// all-or-nothing unless skipInvalid, and re-importing the same file adds nothing.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { transactionRecalculating } from '../accruals/accruals.service.ts';
import { appendAudit, commandLineActor } from '../audit/audit.service.ts';
import type { Agreement } from '../calculation/calculation.types.ts';
import type { ImportSummary } from '../imports/import.service.ts';
import { csvField } from '../shared/csv-text.ts';
import { DomainError, type Problem } from '../shared/errors.ts';
import { AGREEMENTS_FILE_BYTES_MAX, PROBLEMS_PRINTED_MAX } from '../shared/limits.ts';
import { type Database, parallelReaders, type Store } from '../store/database.ts';
import { agreementToJson, insertAgreements, loadAgreements, originalTerms } from './agreements.repository.ts';
import { type ParsedAgreement, parseAgreement } from './agreements.schema.ts';

export interface AgreementImportOptions {
  file: string;
  skipInvalid?: boolean;
  /** With skipInvalid: the rejected agreements, unchanged, as a JSON array (default FILE.rejected.json). */
  rejectsFile?: string;
  /** The full problem list as CSV when there are problems (default FILE.errors.csv). */
  errorsFile?: string;
  /** Who imports, for the audit trail (default: the command line's user). */
  actor?: string;
  requestId?: string;
}

/**
 * The 1-based line on which each element of the top-level JSON array starts,
 * so that a problem can name the line of the agreement at fault.
 */
export function elementStartLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line += 1;
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectElement) {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth += 1;
      if (depth === 1 && c === '[') expectElement = true;
    } else if (c === ']' || c === '}') depth -= 1;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

/** What agreements may refer to: stored partners, buying groups and products. */
export interface AgreementReferences {
  partners: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  products: ReadonlySet<string>;
}

export async function agreementReferences(db: Database): Promise<AgreementReferences> {
  const partnerRows = await db.selectFrom('partners').select(['id', 'buying_group']).execute();
  return {
    partners: new Set(partnerRows.map((p) => p.id)),
    groups: new Set(partnerRows.flatMap((p) => (p.buying_group ? [p.buying_group] : []))),
    products: new Set((await db.selectFrom('products').select('sku').execute()).map((p) => p.sku)),
  };
}

/** An agreement's references that are not in the store, with fields prefixed by `at`. */
export function referenceProblems(
  agreement: Agreement,
  references: AgreementReferences,
  at: string,
): Problem[] {
  const { partners, groups, products } = references;
  const refs: Problem[] = [];
  if (agreement.partner !== undefined && !partners.has(agreement.partner)) {
    refs.push({
      field: `${at}.partner`,
      code: 'unknown_partner',
      message: `partner "${agreement.partner}" is not in the store`,
    });
  }
  if (agreement.buyingGroup !== undefined && !groups.has(agreement.buyingGroup)) {
    refs.push({
      field: `${at}.group`,
      code: 'unknown_buying_group',
      message: `no partner belongs to buying group "${agreement.buyingGroup}"`,
    });
  }
  if (agreement.beneficiary !== undefined && !partners.has(agreement.beneficiary)) {
    refs.push({
      field: `${at}.beneficiary`,
      code: 'unknown_partner',
      message: `beneficiary "${agreement.beneficiary}" is not in the store`,
    });
  }
  agreement.rules.forEach((rule, i) => {
    for (const sku of [...(rule.scope.skus ?? []), ...(rule.scope.exclude?.skus ?? [])]) {
      if (!products.has(sku)) {
        refs.push({
          field: `${at}.rules[${i}].scope`,
          code: 'unknown_product',
          message: `sku "${sku}" in rule ${rule.id} is not in the store`,
        });
      }
    }
  });
  return refs;
}

/**
 * Error codes: see agreements.errors.ts. Throws DomainError `file_too_large`,
 * `invalid_json` or `not_an_array` for a file that cannot be read as agreements.
 */
export async function importAgreements(
  store: Store,
  options: AgreementImportOptions,
): Promise<ImportSummary> {
  const fileName = basename(options.file);
  const size = (await stat(options.file)).size;
  if (size > AGREEMENTS_FILE_BYTES_MAX) {
    throw new DomainError(
      'file_too_large',
      `${fileName} is ${size} bytes; at most ${AGREEMENTS_FILE_BYTES_MAX}`,
    );
  }
  const text = (await readFile(options.file, 'utf8')).replace(/^\uFEFF/, '');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new DomainError('invalid_json', `${fileName} is not valid JSON: ${(error as Error).message}`, [
      { file: fileName, code: 'invalid_json', message: (error as Error).message },
    ]);
  }
  const items = Array.isArray(document)
    ? document
    : typeof document === 'object' &&
        document !== null &&
        Array.isArray((document as { agreements?: unknown }).agreements)
      ? (document as { agreements: unknown[] }).agreements
      : undefined;
  if (items === undefined) {
    throw new DomainError(
      'not_an_array',
      `${fileName} must hold a JSON array of agreements (or {"agreements": [...]})`,
    );
  }
  const startLines = Array.isArray(document) ? elementStartLines(text) : [];

  const db = store.db;
  const references = await agreementReferences(db);

  const problemsByIndex = new Map<number, Problem[]>();
  const addProblems = (index: number, problems: Problem[]) => {
    const list = problemsByIndex.get(index) ?? [];
    list.push(
      ...problems.map((p) => ({
        file: fileName,
        ...(startLines[index] ? { line: startLines[index] } : {}),
        ...p,
      })),
    );
    problemsByIndex.set(index, list);
  };
  const valid: { index: number; parsed: ParsedAgreement; json: string }[] = [];
  const firstInFile = new Map<string, string>();
  let duplicates = 0;
  for (const [index, item] of items.entries()) {
    const at = `[${index}]`;
    const result = parseAgreement(item, at);
    if (!result.ok) {
      addProblems(index, result.problems);
      continue;
    }
    const { agreement } = result.value;
    const refs = referenceProblems(agreement, references, at);
    if (refs.length > 0) {
      addProblems(index, refs);
      continue;
    }
    const json = JSON.stringify(agreementToJson(agreement, result.value.status));
    const earlier = firstInFile.get(agreement.id);
    if (earlier !== undefined) {
      if (earlier === json) duplicates += 1;
      else {
        addProblems(index, [
          {
            field: `${at}.id`,
            code: 'duplicate_agreement_id',
            message: `agreement ${agreement.id} appears earlier in the file with different content`,
          },
        ]);
      }
      continue;
    }
    firstInFile.set(agreement.id, json);
    valid.push({ index, parsed: result.value, json });
  }

  // Compare with what is stored: the same content is a duplicate, other content is refused.
  const stored = new Map(
    (
      await loadAgreements(
        db,
        valid.map((v) => v.parsed.agreement.id),
      )
    ).map((s) => [s.agreement.id, JSON.stringify(agreementToJson(originalTerms(s), s.status))]),
  );
  const fresh: typeof valid = [];
  for (const v of valid) {
    const existing = stored.get(v.parsed.agreement.id);
    if (existing === undefined) fresh.push(v);
    else if (existing === v.json) duplicates += 1;
    else {
      addProblems(v.index, [
        {
          field: `[${v.index}].id`,
          code: 'exists_with_different_content',
          message: `agreement ${v.parsed.agreement.id} is already stored with different content; change it through an amendment`,
        },
      ]);
    }
  }

  const rejected = problemsByIndex.size;
  const allProblems = [...problemsByIndex.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, list]) => list);
  const importEverything = rejected === 0 || options.skipInvalid === true;
  const summary: ImportSummary = {
    kind: 'agreements',
    file: options.file,
    outcome: rejected === 0 ? 'imported' : importEverything ? 'partially_imported' : 'nothing_imported',
    read: items.length,
    imported: importEverything ? fresh.length : 0,
    duplicates,
    rejected,
    withheld: importEverything ? 0 : fresh.length,
    problems: allProblems.slice(0, PROBLEMS_PRINTED_MAX),
    problemCount: allProblems.length,
  };
  await transactionRecalculating(store, async (trx, recalculate) => {
    const head = await trx
      .insertInto('imports')
      .values({
        kind: 'agreements',
        file_name: fileName,
        mapping_name: null,
        finished_at: new Date().toISOString(),
        rows_read: summary.read,
        rows_imported: summary.imported,
        rows_duplicate: summary.duplicates,
        rows_rejected: summary.rejected,
        outcome: summary.outcome,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    summary.importId = head.id;
    if (importEverything && fresh.length > 0) {
      await insertAgreements(
        trx,
        fresh.map((f) => f.parsed),
        head.id,
        options.actor ?? commandLineActor(),
      );
      // Their accruals over the lines already stored, committed with them. This
      // transaction changes no line, product or partner, so other connections may read those.
      await recalculate(
        fresh.map((f) => f.parsed.agreement.id),
        parallelReaders(store),
      );
    }
    const actor = options.actor ?? commandLineActor();
    const request = options.requestId ? { requestId: options.requestId } : {};
    const created = importEverything ? fresh : [];
    // After the accruals: every writer takes the accruals' lock before the audit trail's.
    await appendAudit(trx, [
      {
        actor,
        action: 'import.agreements',
        entity: 'import',
        entityId: head.id,
        after: {
          file: fileName,
          outcome: summary.outcome,
          read: summary.read,
          imported: summary.imported,
          duplicates: summary.duplicates,
          rejected: summary.rejected,
        },
        ...request,
      },
      // Each new agreement with its full terms: what an auditor compares a later amendment with.
      ...created.map((f) => ({
        actor,
        action: 'agreement.create',
        entity: 'agreement',
        entityId: f.parsed.agreement.id,
        after: agreementToJson(f.parsed.agreement, f.parsed.status),
        ...request,
      })),
    ]);
  });
  if (allProblems.length > 0) {
    summary.errorsFile = options.errorsFile ?? `${options.file}.errors.csv`;
    const lines = allProblems.map((p) =>
      [p.file ?? fileName, String(p.line ?? ''), p.field ?? '', p.code, p.message].map(csvField).join(','),
    );
    await writeFile(summary.errorsFile, `file,line,field,code,message\n${lines.join('\n')}\n`);
  }
  if (options.skipInvalid && rejected > 0) {
    summary.rejectsFile = options.rejectsFile ?? `${options.file}.rejected.json`;
    const rejectedItems = [...problemsByIndex.keys()].sort((a, b) => a - b).map((i) => items[i]);
    await writeFile(summary.rejectsFile, `${JSON.stringify(rejectedItems, null, 1)}\n`);
  }
  assert.equal(summary.read, summary.imported + summary.duplicates + summary.rejected + summary.withheld);
  return summary;
}
