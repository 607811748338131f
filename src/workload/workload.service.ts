// `rebates workload DIR`: load a benchmark workload into a fresh store through
// the normal import path, settle it, write the results in the benchmark's
// expected.csv format, and report how long each step took.
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAccruals } from '../accruals/accruals.service.ts';
import { importAgreements } from '../agreements/agreements.service.ts';
import type { Progress } from '../cli/progress.ts';
import { type ImportSummary, importFile } from '../imports/import.service.ts';
import { formatExpectedCsv } from '../settlements/settlement.format.ts';
import { Decimal } from '../shared/decimal.ts';
import { DomainError, describeProblem } from '../shared/errors.ts';
import { dropSchema, openStore, type Store } from '../store/database.ts';

export interface WorkloadOptions {
  dir: string;
  out: string;
  /** Run on this PostgreSQL server in a fresh schema (dropped afterwards) instead of a fresh embedded store. */
  databaseUrl?: string;
  progress?: (label: string) => Progress;
}

export interface WorkloadTimings {
  store: 'pglite' | 'postgres';
  lines: number;
  agreements: number;
  paying: number;
  total_rebate: string;
  open_ms: number;
  import_partners_ms: number;
  import_products_ms: number;
  import_transactions_ms: number;
  /** Includes calculating the agreements' accrual positions over the stored lines. */
  import_agreements_ms: number;
  read_accruals_ms: number;
  total_ms: number;
  out: string;
}

function ensureClean(summary: ImportSummary): void {
  if (summary.rejected > 0) {
    throw new DomainError(
      'workload_has_bad_rows',
      `${summary.file}: ${summary.rejected} rows rejected`,
      summary.problems,
    );
  }
}

/** A fresh, empty store for one workload run, removed again by `dispose`. */
export async function openFreshStore(databaseUrl?: string): Promise<Store & { dispose(): Promise<void> }> {
  const schema = `workload_${process.pid}_${Date.now()}`;
  const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'rebates-workload-'));
  const store = await openStore(databaseUrl ? { databaseUrl, schema } : { dataDir: dataDir! });
  return {
    ...store,
    async dispose() {
      if (databaseUrl) await dropSchema(store.db, schema).catch(() => undefined);
      await store.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoadTimings {
  import_partners_ms: number;
  import_products_ms: number;
  import_transactions_ms: number;
  import_agreements_ms: number;
}

/** Imports a workload directory through the normal import path; any rejected row is an error. */
export async function loadWorkload(
  store: Store,
  dir: string,
  progress?: (label: string) => Progress,
): Promise<LoadTimings> {
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - mark);
    mark = now;
    return ms;
  };
  const load = async (kind: 'partners' | 'products' | 'transactions') => {
    const bar = progress?.(`importing ${kind}`);
    try {
      ensureClean(
        await importFile(store, {
          kind,
          file: join(dir, `${kind}.csv`),
          ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
        }),
      );
    } finally {
      bar?.stop();
    }
    return lap();
  };
  const import_partners_ms = await load('partners');
  const import_products_ms = await load('products');
  const import_transactions_ms = await load('transactions');
  ensureClean(await importAgreements(store, { file: join(dir, 'agreements.json') }));
  return { import_partners_ms, import_products_ms, import_transactions_ms, import_agreements_ms: lap() };
}

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadTimings> {
  const started = performance.now();
  const store = await openFreshStore(options.databaseUrl);
  try {
    const open_ms = Math.round(performance.now() - started);
    const loaded = await loadWorkload(store, options.dir, options.progress);
    // Importing the agreements calculated their accrual positions from the stored
    // lines; the results are those positions.
    const settleStarted = performance.now();
    const positions = await readAccruals(store);
    const read_accruals_ms = Math.round(performance.now() - settleStarted);
    await writeFile(options.out, formatExpectedCsv(positions));
    const lines = await store.db
      .selectFrom('transactions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return {
      store: store.kind,
      lines: Number(lines.n),
      agreements: new Set(positions.map((p) => p.agreementId)).size,
      paying: positions.filter((r) => r.rebate.sign() > 0).length,
      total_rebate: Decimal.sum(positions.map((r) => r.rebate)).toString(),
      open_ms,
      ...loaded,
      read_accruals_ms,
      total_ms: Math.round(performance.now() - started),
      out: options.out,
    };
  } catch (error) {
    if (error instanceof DomainError) {
      for (const p of error.problems) process.stderr.write(`  ${describeProblem(p)}\n`);
    }
    throw error;
  } finally {
    await store.dispose();
  }
}
