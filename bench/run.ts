// `npm run bench`: the engine measured side by side with a DuckDB SQL baseline
// of the same rules, on a generated workload, in one run. Results must match
// the baseline's before any time counts. Writes bench/results/latest.{json,md}.
//
//   npm run bench -- [--lines 1000000] [--seed 1] [--stores pglite,postgres]
//                    [--batches 200] [--batch-lines 1000] [--no-baseline]
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateWorkload } from '../src/workload/generate.ts';
import { measureSteps, type StepReport, type StoreKind } from './steps.ts';

interface Options {
  lines: number;
  seed: number;
  stores: StoreKind[];
  batches: number;
  batchLines: number;
  baseline: boolean;
  resultsDir: string;
}

const LOCAL_DATABASE = 'postgres://postgres@127.0.0.1:5432/test';

async function serverAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const integer = (name: string, fallback: number) => {
    const text = value(name);
    if (text === undefined) return fallback;
    assert.ok(/^\d+$/.test(text), `--${name} must be a whole number, not "${text}"`);
    return Number(text);
  };
  const stores = (value('stores') ?? 'pglite,postgres').split(',') as StoreKind[];
  for (const s of stores) assert.ok(s === 'pglite' || s === 'postgres', `--stores: unknown store "${s}"`);
  return {
    lines: integer('lines', 1_000_000),
    seed: integer('seed', 1),
    stores,
    batches: integer('batches', 200),
    batchLines: integer('batch-lines', 1_000),
    baseline: !argv.includes('--no-baseline'),
    resultsDir: value('results') ?? join(import.meta.dirname, 'results'),
  };
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(2)} s`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '' : `${(a / b).toFixed(2)}×`;
}

function markdown(report: BenchReport): string {
  const rows: string[] = [
    `# Benchmark: ${report.workload.lines.toLocaleString('en')} lines, ${report.workload.agreements.toLocaleString('en')} agreements`,
    '',
    `${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, ${report.machine.cpu}; Node ${report.machine.node}; ${report.date}.`,
    `Reproduce: \`npm run bench -- --lines ${report.workload.lines} --seed ${report.workload.seed}\`.`,
    '',
    report.baseline
      ? `DuckDB baseline: load ${seconds(report.baseline.loadMs)}, query ${seconds(report.baseline.queryMs)}; results identical to the engine's: ${report.baseline.identical ? 'yes' : 'NO'}.`
      : 'DuckDB baseline not run.',
    '',
    '| step | store | time | vs baseline | detail | peak RSS |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of report.steps) {
    rows.push(
      `| ${s.step} | ${s.store} | ${seconds(s.ms)} | ${s.versus ?? ''} | ${s.detail ?? ''} | ${s.peakRssMiB} MiB |`,
    );
  }
  return `${rows.join('\n')}\n`;
}

interface BenchReport {
  date: string;
  machine: { cores: number; memoryGiB: number; cpu: string; node: string };
  workload: { lines: number; seed: number; agreements: number; dir: string };
  baseline?: { loadMs: number; queryMs: number; identical: boolean };
  steps: (StepReport & { versus?: string })[];
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const dir = join(import.meta.dirname, '.work', `w${options.lines}-s${options.seed}`);
  if (!existsSync(join(dir, 'agreements.json'))) {
    process.stderr.write(`generating ${options.lines} lines into ${dir} …\n`);
    mkdirSync(dir, { recursive: true });
    await generateWorkload({ out: dir, lines: options.lines, seed: options.seed });
  }
  const agreements = (JSON.parse(readFileSync(join(dir, 'agreements.json'), 'utf8')) as unknown[]).length;
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    },
    workload: { lines: options.lines, seed: options.seed, agreements, dir },
    steps: [],
  };
  let expected: string | undefined;
  if (options.baseline) {
    const { runDuckDbBaseline } = await import('./duckdb-baseline.ts');
    process.stderr.write('DuckDB baseline …\n');
    const baseline = await runDuckDbBaseline(dir);
    expected = baseline.csv;
    report.baseline = { loadMs: baseline.loadMs, queryMs: baseline.queryMs, identical: false };
  }
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? LOCAL_DATABASE;
  for (const store of options.stores) {
    if (store === 'postgres' && !(await serverAnswers(databaseUrl))) {
      process.stderr.write(`no PostgreSQL server at ${databaseUrl}: postgres steps skipped\n`);
      continue;
    }
    process.stderr.write(`${store} …\n`);
    const measured = await measureSteps({
      store,
      dir,
      ...(store === 'postgres' ? { databaseUrl } : {}),
      batches: options.batches,
      batchLines: options.batchLines,
      ...(expected !== undefined ? { expected } : {}),
    });
    if (report.baseline) report.baseline.identical = measured.identical;
    for (const step of measured.steps) {
      const versus =
        step.step === 'end to end'
          ? ratio(step.ms, report.baseline ? report.baseline.loadMs + report.baseline.queryMs : undefined)
          : step.step === 'full recalculation'
            ? ratio(step.ms, report.baseline?.queryMs)
            : step.versus;
      report.steps.push({ ...step, ...(versus ? { versus } : {}) });
    }
  }
  mkdirSync(options.resultsDir, { recursive: true });
  writeFileSync(join(options.resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const text = markdown(report);
  writeFileSync(join(options.resultsDir, 'latest.md'), text);
  process.stdout.write(text);
  if (report.baseline && !report.baseline.identical) {
    process.stderr.write('the engine and the baseline disagree: times do not count\n');
    process.exitCode = 1;
  }
}

await main();
