// The measured steps of the benchmark on one store. Every step checks its own
// result before its time is reported; `npm test` runs them on a small
// workload for that check alone (test/bench.test.ts), never for the timing.
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { readAccruals, transactionRecalculating } from '../src/accruals/accruals.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { formatExpectedCsv } from '../src/settlements/settlement.format.ts';
import { settle, settleDraft } from '../src/settlements/settlement.service.ts';
import { parallelReaders, type Store } from '../src/store/database.ts';
import { loadWorkload, openFreshStore } from '../src/workload/workload.service.ts';

export type StoreKind = 'pglite' | 'postgres';

export interface StepReport {
  step: string;
  store: StoreKind;
  ms: number;
  detail?: string;
  versus?: string;
  peakRssMiB: number;
}

export interface MeasureOptions {
  store: StoreKind;
  dir: string;
  databaseUrl?: string;
  batches: number;
  batchLines: number;
  /** The baseline's results in expected.csv layout; the engine's must be identical. */
  expected?: string;
}

/** Samples the resident set size while a step runs and keeps the highest value. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; peakRssMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  const started = performance.now();
  try {
    const value = await work();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, ms, peakRssMiB: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The first `count` lines of the workload, turned into new 2025 lines with ids of their own. */
async function realTimeLines(dir: string, count: number): Promise<string[][]> {
  const rows: string[][] = [];
  const reader = createInterface({ input: createReadStream(join(dir, 'transactions.csv')) });
  let header = true;
  for await (const line of reader) {
    if (header) {
      header = false;
      continue;
    }
    const fields = line.split(',');
    const date = fields[1]!.startsWith('2024') ? `2025${fields[1]!.slice(4)}` : fields[1]!;
    rows.push([`RT${rows.length}`, date === '2025-02-29' ? '2025-02-28' : date, ...fields.slice(2)]);
    if (rows.length >= count) break;
  }
  reader.close();
  return rows;
}

/** The agreements of these partners and of their buying groups: those a batch of their lines could change. */
async function agreementsReached(store: Store, partners: string[]): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    SELECT a.id FROM agreements a
    WHERE a.partner_id = ANY(${partners}::text[])
       OR a.buying_group IN (SELECT buying_group FROM partners WHERE id = ANY(${partners}::text[]))`.execute(
    store.db,
  );
  return rows.rows.map((r) => r.id);
}

export async function measureSteps(
  options: MeasureOptions,
): Promise<{ identical: boolean; steps: StepReport[] }> {
  const steps: StepReport[] = [];
  const report = (step: string, r: { ms: number; peakRssMiB: number }, extra: Partial<StepReport> = {}) =>
    steps.push({ step, store: options.store, ms: Math.round(r.ms), peakRssMiB: r.peakRssMiB, ...extra });
  const store = await openFreshStore(options.databaseUrl);
  const scratch = mkdtempSync(join(tmpdir(), 'rebates-bench-'));
  try {
    // 1. End to end: CSV files in, results out, through the normal import path.
    const endToEnd = await measured(async () => {
      const loaded = await loadWorkload(store, options.dir);
      return { loaded, csv: formatExpectedCsv(await readAccruals(store)) };
    });
    const identical = options.expected === undefined || endToEnd.value.csv === options.expected;
    report('end to end', endToEnd, { detail: identical ? 'results identical' : 'RESULTS DIFFER' });

    // 2. Full recalculation of every agreement's accruals from the stored lines.
    const recalculation = await measured(async () =>
      formatExpectedCsv(
        await transactionRecalculating(store, (_trx, recalculate) =>
          recalculate(undefined, parallelReaders(store)),
        ),
      ),
    );
    assert.equal(recalculation.value, endToEnd.value.csv, 'a recalculation changes nothing');
    report('full recalculation', recalculation);

    // 3. Import throughput, against a bare COPY of the same file into an unindexed table.
    const lines = Number(
      (await sql<{ n: string }>`SELECT count(*) AS n FROM transactions`.execute(store.db)).rows[0]!.n,
    );
    const importMs = endToEnd.value.loaded.import_transactions_ms;
    // The ids and partners in byte order, as in the lines table (migration 0015).
    await sql`CREATE TABLE copy_probe (id text COLLATE "C", line_date date, partner text COLLATE "C",
      sku text, quantity numeric, amount numeric, currency text)`.execute(store.db);
    const copy = await measured(() => store.copyCsv('copy_probe', join(options.dir, 'transactions.csv')));
    const copied = Number(
      (await sql<{ n: string }>`SELECT count(*) AS n FROM copy_probe`.execute(store.db)).rows[0]!.n,
    );
    assert.equal(copied, lines, 'COPY loads every line');
    // What the lines table keeps beyond a bare COPY: the unique line id that makes imports
    // idempotent and the (partner, date) index that statements and what-ifs read through,
    // built the fastest way, by sorting after the load, as a large import builds them.
    const keyed = await measured(async () => {
      await sql`ALTER TABLE copy_probe ADD PRIMARY KEY (id)`.execute(store.db);
      await sql`CREATE INDEX copy_probe_partner_date ON copy_probe (partner, line_date)`.execute(store.db);
    });
    await sql`DROP TABLE copy_probe`.execute(store.db);
    const perSecond = (n: number, ms: number) =>
      `${Math.round((n / ms) * 1000).toLocaleString('en')} lines/s`;
    const copyKeyedMs = copy.ms + keyed.ms;
    steps.push({
      step: 'import lines',
      store: options.store,
      ms: importMs,
      detail: perSecond(lines, importMs),
      versus: `${(copy.ms / importMs).toFixed(2)}× COPY speed; ${(copyKeyedMs / importMs).toFixed(2)}× COPY with key and index`,
      peakRssMiB: endToEnd.peakRssMiB,
    });
    report('bare COPY', copy, { detail: perSecond(lines, copy.ms) });
    report(
      'COPY with key and index',
      { ms: copyKeyedMs, peakRssMiB: Math.max(copy.peakRssMiB, keyed.peakRssMiB) },
      {
        detail: `${perSecond(lines, copyKeyedMs)}; key and index built in ${(keyed.ms / 1000).toFixed(2)} s`,
      },
    );

    // 4. Real time: batches of new lines through the import path, which keeps the
    //    accrual positions current; latency per batch until the affected
    //    positions are read back.
    const fresh = await realTimeLines(options.dir, options.batches * options.batchLines);
    const latencies: number[] = [];
    // Resident memory after the first and after the last batch: it must not grow with the batches.
    // Resident memory moves with the collector's timing; the heap still in use
    // after a full collection (with --expose-gc, as `npm run bench` runs) shows what the batches retain.
    const rssMiB: number[] = [];
    const heapMiB: number[] = [];
    const collect = (globalThis as { gc?: () => void }).gc;
    // Every position's rebate before the batches, so that each batch is checked against
    // what it found and this map does not grow with the batches (its growth would show as
    // the batches' in the heap figures).
    const latest = new Map<string, string>();
    for (const r of await readAccruals(store))
      latest.set(`${r.agreementId}/${r.ruleId}/${r.period.start}`, r.rebate.toString());
    const realTime = await measured(async () => {
      for (let b = 0; b < options.batches; b++) {
        const batch = fresh.slice(b * options.batchLines, (b + 1) * options.batchLines);
        if (batch.length === 0) break;
        const file = join(scratch, `batch-${b}.csv`);
        writeFileSync(
          file,
          `id,date,partner,sku,quantity,amount,currency\n${batch.map((r) => r.join(',')).join('\n')}\n`,
        );
        const started = performance.now();
        let changed: readonly string[] = [];
        const summary = await importFile(store, {
          kind: 'transactions',
          file,
          onAccrualsChanged: (ids) => {
            changed = ids;
          },
        });
        assert.equal(summary.imported, batch.length, 'every new line is imported');
        const positions = await readAccruals(store, changed);
        latencies.push(performance.now() - started);
        // The import names the agreements it changed; every other agreement the batch's
        // partners could reach must have kept its positions. Checked outside the timing,
        // every tenth batch (and the last), so the check's own garbage stays out of most batches.
        if (b % 10 === 0 || b === options.batches - 1) {
          const reachable = await agreementsReached(store, [...new Set(batch.map((r) => r[2]!))]);
          const named = new Set(changed);
          const others = reachable.filter((id) => !named.has(id));
          for (const r of await readAccruals(store, others)) {
            const seen = latest.get(`${r.agreementId}/${r.ruleId}/${r.period.start}`);
            if (seen !== undefined)
              assert.equal(r.rebate.toString(), seen, `${r.agreementId} is unchanged by the batch`);
          }
        }
        if (b === 0 || b === options.batches - 1) {
          rssMiB.push(Math.round(process.memoryUsage.rss() / 2 ** 20));
          if (collect) {
            collect();
            heapMiB.push(Math.round(process.memoryUsage().heapUsed / 2 ** 20));
          }
        }
        for (const r of positions)
          latest.set(`${r.agreementId}/${r.ruleId}/${r.period.start}`, r.rebate.toString());
      }
    });
    const full = await settle(store.db);
    assert.equal(
      formatExpectedCsv(await readAccruals(store)),
      formatExpectedCsv(full.results),
      'after the batches every position equals a settlement from the stored lines',
    );
    for (const r of full.results) {
      const seen = latest.get(`${r.agreementId}/${r.ruleId}/${r.period.start}`);
      if (seen !== undefined)
        assert.equal(seen, r.rebate.toString(), `${r.agreementId} is current after the batches`);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    report('real-time batches', realTime, {
      detail:
        sorted.length === 0
          ? 'no batches'
          : `${sorted.length} × ${options.batchLines} lines: p50 ${Math.round(percentile(sorted, 50))} ms, p95 ${Math.round(percentile(sorted, 95))} ms, p99 ${Math.round(percentile(sorted, 99))} ms; RSS after the first and last batch ${rssMiB.join(' → ')} MiB${heapMiB.length > 0 ? `, heap in use after a full collection ${heapMiB.join(' → ')} MiB` : ''}`,
    });

    // 5. What-if: a new draft agreement over the stored history, nothing written.
    const group = (await sql<{ g: string }>`SELECT min(buying_group) AS g FROM partners`.execute(store.db))
      .rows[0]!.g;
    const draft = {
      id: 'WHAT-IF',
      group,
      period: { start: '2025-01-01', end: '2025-12-31' },
      calendar: 'quarterly',
      method: 'incremental',
      tiers: [
        { from: '0', rate: '1' },
        { from: '100000', rate: '2.5' },
      ],
    };
    const whatIf = await measured(() => settleDraft(store.db, draft));
    const stored = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM agreements WHERE id = 'WHAT-IF'`.execute(store.db);
    assert.equal(Number(stored.rows[0]!.n), 0, 'a what-if stores nothing');
    report('what-if', whatIf, {
      detail: `${whatIf.value.length} periods, ${whatIf.value.map((r) => r.rebate.toString()).join(' / ')}`,
    });
    return { identical, steps };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await store.dispose();
  }
}
