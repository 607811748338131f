// The peer the engine is measured against: what an analyst would do instead —
// load the workload's CSV files into DuckDB and settle every agreement with
// one SQL query. The rules are those of docs/workload-format.md. Percentages
// are multiplied by 0.01, never divided: DuckDB divides decimals in floating point.
//
// DuckDB is installed on demand into bench/baseline/ (see ensureDuckDb): it is
// a large native binary that only the benchmark needs, so the product's own
// install does not carry it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASELINE_DIR = join(import.meta.dirname, 'baseline');

interface DuckConnection {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{ getRowObjects(): Record<string, unknown>[] }>;
}

async function connect(): Promise<DuckConnection> {
  if (!existsSync(join(BASELINE_DIR, 'node_modules', '@duckdb', 'node-api'))) {
    process.stderr.write('installing DuckDB for the baseline into bench/baseline …\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent'], {
      cwd: BASELINE_DIR,
      stdio: 'inherit',
    });
  }
  const require = createRequire(join(BASELINE_DIR, 'package.json'));
  const { DuckDBInstance } = (await import(require.resolve('@duckdb/node-api'))) as {
    DuckDBInstance: { create(path: string): Promise<{ connect(): Promise<DuckConnection> }> };
  };
  return (await DuckDBInstance.create(':memory:')).connect();
}

interface WorkloadAgreement {
  id: string;
  partner?: string;
  group?: string;
  period: { start: string; end: string };
  baseline?: { start: string; end: string };
  scope?: { categories?: string[]; skus?: string[] };
  type: string;
  basis: string;
  method: string;
  payout: string;
  apply?: string;
  mix?: { categories: string[]; minShare: string };
  cap?: string;
  tiers: { from: string; rate: string }[];
}

export interface BaselineRun {
  loadMs: number;
  queryMs: number;
  /** expected.csv layout: id,qty,amt,base_amt,tier,rebate */
  csv: string;
}

export async function runDuckDbBaseline(dir: string): Promise<BaselineRun> {
  const db = await connect();
  const started = performance.now();
  const agreements = JSON.parse(readFileSync(join(dir, 'agreements.json'), 'utf8')) as WorkloadAgreement[];
  const scratch = mkdtempSync(join(tmpdir(), 'rebates-duckdb-'));
  // The agreement side, as flat tables: one row per agreement, per tier, per scope entry.
  const tables: Record<string, string[]> = { agreement: [], tier: [], scope_item: [], mix_item: [] };
  for (const a of agreements) {
    const scopeKind = a.scope?.skus ? 'sku' : a.scope?.categories ? 'category' : 'all';
    tables.agreement!.push(
      [
        a.id,
        a.partner ?? '',
        a.group ?? '',
        a.period.start,
        a.period.end,
        a.baseline?.start ?? '',
        a.baseline?.end ?? '',
        a.type,
        a.basis,
        a.method,
        a.payout,
        a.apply ?? 'total',
        a.mix?.minShare ?? '',
        a.cap ?? '',
        scopeKind,
      ].join(','),
    );
    a.tiers.forEach((t, i) => {
      tables.tier!.push([a.id, i, t.from, t.rate, a.tiers[i + 1]?.from ?? ''].join(','));
    });
    for (const item of a.scope?.skus ?? a.scope?.categories ?? []) tables.scope_item!.push(`${a.id},${item}`);
    for (const category of a.mix?.categories ?? []) tables.mix_item!.push(`${a.id},${category}`);
  }
  for (const [name, rows] of Object.entries(tables))
    writeFileSync(join(scratch, `${name}.csv`), `${rows.join('\n')}\n`);
  const csv = (file: string, columns: string) =>
    `read_csv('${file}', header = ${file.startsWith(scratch) ? 'false' : 'true'}, auto_detect = false, columns = {${columns}})`;
  try {
    await db.run(
      `CREATE TABLE line AS SELECT * FROM ${csv(join(dir, 'transactions.csv'), "'id': 'VARCHAR', 'date': 'DATE', 'partner': 'VARCHAR', 'sku': 'VARCHAR', 'quantity': 'BIGINT', 'amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR'")}`,
    );
    await db.run(
      `CREATE TABLE product AS SELECT * FROM ${csv(join(dir, 'products.csv'), "'sku': 'VARCHAR', 'name': 'VARCHAR', 'category': 'VARCHAR', 'list_price': 'DECIMAL(18,2)'")}`,
    );
    await db.run(
      `CREATE TABLE partner AS SELECT * FROM ${csv(join(dir, 'partners.csv'), "'id': 'VARCHAR', 'name': 'VARCHAR', 'grp': 'VARCHAR', 'region': 'VARCHAR'")}`,
    );
    await db.run(
      `CREATE TABLE agreement AS SELECT * FROM ${csv(join(scratch, 'agreement.csv'), "'id': 'VARCHAR', 'partner': 'VARCHAR', 'grp': 'VARCHAR', 'p_start': 'DATE', 'p_end': 'DATE', 'b_start': 'DATE', 'b_end': 'DATE', 'type': 'VARCHAR', 'basis': 'VARCHAR', 'method': 'VARCHAR', 'payout': 'VARCHAR', 'apply': 'VARCHAR', 'min_share': 'DECIMAL(9,2)', 'cap': 'DECIMAL(18,2)', 'scope': 'VARCHAR'")}`,
    );
    await db.run(
      `CREATE TABLE tier AS SELECT * FROM ${csv(join(scratch, 'tier.csv'), "'id': 'VARCHAR', 'idx': 'INTEGER', 'lower': 'DECIMAL(18,2)', 'rate': 'DECIMAL(9,2)', 'upper': 'DECIMAL(18,2)'")}`,
    );
    await db.run(
      `CREATE TABLE scope_item AS SELECT * FROM ${csv(join(scratch, 'scope_item.csv'), "'id': 'VARCHAR', 'item': 'VARCHAR'")}`,
    );
    await db.run(
      `CREATE TABLE mix_item AS SELECT * FROM ${csv(join(scratch, 'mix_item.csv'), "'id': 'VARCHAR', 'category': 'VARCHAR'")}`,
    );
    const loaded = performance.now();
    // Every (agreement, window, partner) the agreement covers, then the lines of that
    // partner in the window whose product the scope admits.
    await db.run(`CREATE TABLE sums AS
      WITH member AS (
        SELECT a.id, a.partner AS partner FROM agreement a WHERE a.partner <> ''
        UNION ALL SELECT a.id, p.id FROM agreement a JOIN partner p ON a.grp <> '' AND p.grp = a.grp
      ), span AS (
        SELECT id, scope, 0 AS role, p_start AS lo, p_end AS hi FROM agreement
        UNION ALL SELECT id, scope, 1, b_start, b_end FROM agreement WHERE type = 'growth'
      ), windowed AS (
        -- One equi-join per kind of scope, so that each is a plain hash join.
        SELECT s.id, s.role, l.sku, l.quantity, l.amount
        FROM span s JOIN member m ON m.id = s.id AND s.scope = 'all'
        JOIN line l ON l.partner = m.partner AND l.date BETWEEN s.lo AND s.hi
        UNION ALL
        SELECT s.id, s.role, l.sku, l.quantity, l.amount
        FROM span s JOIN member m ON m.id = s.id AND s.scope = 'category'
        JOIN line l ON l.partner = m.partner AND l.date BETWEEN s.lo AND s.hi
        JOIN product pr ON pr.sku = l.sku JOIN scope_item si ON si.id = s.id AND si.item = pr.category
        UNION ALL
        SELECT s.id, s.role, l.sku, l.quantity, l.amount
        FROM span s JOIN member m ON m.id = s.id AND s.scope = 'sku'
        JOIN scope_item si ON si.id = s.id
        JOIN line l ON l.partner = m.partner AND l.sku = si.item AND l.date BETWEEN s.lo AND s.hi
      ), counted AS (
        SELECT w.id, w.role, w.quantity, w.amount, mi.id IS NOT NULL AS in_mix
        FROM windowed w JOIN product pr ON pr.sku = w.sku
        LEFT JOIN mix_item mi ON mi.id = w.id AND mi.category = pr.category
      ), sums AS (
        SELECT c.id,
          sum(c.quantity) FILTER (WHERE c.role = 0) AS q,
          sum(c.amount) FILTER (WHERE c.role = 0) AS amt,
          sum(c.amount) FILTER (WHERE c.role = 1) AS base,
          sum(c.amount) FILTER (WHERE c.role = 0 AND c.in_mix) AS mix_amt
        FROM counted c GROUP BY c.id
      ) SELECT * FROM sums`);
    // The tier arithmetic on the (small) per-agreement sums.
    await db.run(`CREATE TABLE answer AS
      WITH m AS (
        SELECT a.*, coalesce(s.q, 0) AS q, coalesce(s.amt, 0) AS amt, coalesce(s.base, 0) AS base,
          coalesce(s.mix_amt, 0) AS mix_amt,
          CASE WHEN a.basis = 'quantity' THEN coalesce(s.q, 0) ELSE coalesce(s.amt, 0) END AS measure
        FROM agreement a LEFT JOIN sums s USING (id)
      ), reached AS (
        SELECT m.id, max(t.idx) AS idx FROM m JOIN tier t USING (id)
        WHERE CASE WHEN m.type = 'growth' THEN m.base > 0 AND (m.amt - m.base) * 100 >= t.lower * m.base
                   ELSE m.measure >= t.lower END
        GROUP BY m.id
      ), sliced AS (
        SELECT m.id, sum((CASE WHEN t.upper IS NULL OR m.measure < t.upper THEN m.measure ELSE t.upper END - t.lower)
            * t.rate * CASE WHEN m.payout = 'percent' THEN 0.01 ELSE 1 END) AS v
        FROM m JOIN tier t USING (id) WHERE m.method = 'incremental' AND m.measure >= t.lower GROUP BY m.id
      ), raw AS (
        SELECT m.id, m.q, m.amt, m.base, m.cap, r.idx,
          CASE WHEN r.idx IS NULL THEN 0
               WHEN m.type = 'mix' AND NOT (m.amt > 0 AND m.mix_amt * 100 >= m.min_share * m.amt) THEN 0
               WHEN m.method = 'incremental' THEN sl.v
               WHEN m.payout = 'per_unit' THEN m.q * t.rate
               WHEN m.type = 'growth' AND m.apply = 'increment' THEN (m.amt - m.base) * t.rate * 0.01
               ELSE m.amt * t.rate * 0.01 END AS v
        FROM m LEFT JOIN reached r USING (id) LEFT JOIN tier t ON t.id = m.id AND t.idx = r.idx
        LEFT JOIN sliced sl ON sl.id = m.id
      )
      SELECT id, q AS qty, amt, base AS base_amt, coalesce(idx, -1) AS tier,
        round(least(greatest(v, 0), coalesce(cap, greatest(v, 0))), 2)::DECIMAL(18,2) AS rebate
      FROM raw`);
    const queried = performance.now();
    const rows = (await db.runAndReadAll('SELECT * FROM answer ORDER BY id')).getRowObjects();
    const lines = ['id,qty,amt,base_amt,tier,rebate'];
    for (const r of rows) {
      lines.push([r.id, r.qty, r.amt, r.base_amt, r.tier, r.rebate].map((v) => String(v)).join(','));
    }
    return { loadMs: loaded - started, queryMs: queried - loaded, csv: `${lines.join('\n')}\n` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
