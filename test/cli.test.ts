// Proves the `rebates` command works the way a user runs it: the demo loads
// and settles, a second demo adds nothing, settle writes CSV and JSON,
// explain prints the arithmetic, and bad input gives a clear error and a
// non-zero exit without changing anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const BIN = join(import.meta.dirname, '..', 'bin', 'rebates.js');
const dataDir = mkdtempSync(join(tmpdir(), 'rebates-cli-'));

function rebates(...args: string[]) {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const result = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    env,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('rebates CLI on the embedded store', () => {
  test('--help lists every command', () => {
    const { code, stdout } = rebates('--help');
    assert.equal(code, 0);
    for (const command of ['import', 'accruals', 'settle', 'explain', 'generate', 'workload', 'demo']) {
      assert.match(stdout, new RegExp(`\\n  ${command}`));
    }
    assert.match(rebates('import', '--help').stdout, /--skip-invalid/);
  });

  test('demo loads, settles and explains; a second run adds nothing', () => {
    const first = rebates('demo');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /transactions from .*: read (\d+) = \1 imported/);
    assert.match(first.stdout, /DEMO-02-INCREMENTAL/);
    assert.match(first.stdout, /Rebate: [\d,]+\.\d\d USD/);
    const second = rebates('demo');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /read (\d+) = 0 imported \+ \1 duplicates/);
    assert.match(second.stdout, /nothing new/);
  });

  test('accruals lists the stored positions with the figures settle calculates from the lines', () => {
    const csv = (text: string) => {
      const [header, ...rows] = text.trim().split('\n');
      const columns = header!.split(',');
      return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i]!, v])));
    };
    const accruals = rebates('accruals', '--format', 'csv');
    assert.equal(accruals.code, 0, accruals.stderr);
    const settled = rebates('settle', '--format', 'csv');
    const key = (r: Record<string, string>) => `${r.agreement}/${r.rule}/${r.period_start}`;
    const figures = (r: Record<string, string>) => [r.lines, r.quantity, r.measure, r.tier, r.rebate, r.held];
    const positions = new Map(csv(accruals.stdout).map((r) => [key(r), figures(r)]));
    const expected = new Map(csv(settled.stdout).map((r) => [key(r), figures(r)]));
    assert.equal(positions.size, 18);
    assert.deepEqual(positions, expected);
    const table = rebates('accruals', '--agreement', 'DEMO-01-VOLUME');
    assert.match(
      table.stdout,
      /DEMO-01-VOLUME +volume +2025-01-01\.\.2025-03-31 +61,166\.14 +2 +1,223\.32 USD +18,833\.86 more for tier 3/,
    );
    assert.match(table.stdout, /4 rule-periods; total accrued 4,887\.06 USD/);
    const unknown = rebates('accruals', '--agreement', 'NO-SUCH-DEAL');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no accrual position for agreement NO-SUCH-DEAL/);
  });

  test('settle writes CSV and JSON with the same figures', () => {
    const csvFile = join(dataDir, 'settle.csv');
    assert.equal(rebates('settle', '--format', 'csv', '--out', csvFile).code, 0);
    const rows = readFileSync(csvFile, 'utf8').trim().split('\n');
    assert.equal(
      rows[0],
      'agreement,rule,period_start,period_end,status,lines,quantity,amount,baseline_amount,measure,tier,rebate,held,currency,outcome',
    );
    const json = JSON.parse(rebates('settle', '--format', 'json').stdout) as {
      agreement: string;
      rebate: string;
    }[];
    assert.equal(json.length, rows.length - 1);
    // Quarterly agreement: four periods, each its own row.
    assert.equal(json.filter((r) => r.agreement === 'DEMO-01-VOLUME').length, 4);
    const fromCsv = rows.slice(1).map((r) => r.split(',')[11]);
    assert.deepEqual(
      fromCsv,
      json.map((r) => r.rebate),
    );
    // The monthly group agreement covers January to June.
    assert.equal(json.filter((r) => r.agreement === 'DEMO-07-GROUP-BRAND').length, 6);
  });

  test('a bad file is refused with line and field, and nothing changes', () => {
    const file = join(dataDir, 'bad.csv');
    writeFileSync(
      file,
      'id,date,partner,sku,quantity,amount,currency\nX-1,2025-01-05,D-1001,PT-100,1,149.00,USD\nX-2,05/01/2025,D-1001,PT-100,1,149.00,USD\n',
    );
    const result = rebates('import', 'transactions', file);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /bad\.csv, line 3, field date: date "05\/01\/2025" is not a date YYYY-MM-DD \[bad_date\]/,
    );
    assert.match(result.stdout, /nothing was imported/);
    const settle = JSON.parse(rebates('settle', '--format', 'json', '--agreement', 'DEMO-01-VOLUME').stdout);
    assert.equal(settle.length, 4);
    const missing = rebates('explain', 'NO-SUCH');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no agreement with id NO-SUCH \[unknown_agreement\]/);
    const badDate = rebates('settle', '--as-of', '2025-02-30');
    assert.notEqual(badDate.code, 0);
    assert.match(badDate.stderr, /not a date/);
  });
});
