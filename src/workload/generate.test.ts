// Proves that generateWorkload is deterministic per seed and writes well-formed workload files: exact headers, lines that reference existing partners and SKUs with amount = quantity × a whole-cent unit price, ~3 % returns, and agreements that follow the format rules and reach tiers.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type GenerateSummary,
  generateWorkload,
  PARTNERS_HEADER,
  PRODUCTS_HEADER,
  TRANSACTIONS_HEADER,
  WORKLOAD_FILES,
} from './generate.ts';

const LINES = 6_000;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'workload-test-'));
  dirs.push(dir);
  return dir;
}

async function generate(seed: number, lines = LINES): Promise<{ dir: string; summary: GenerateSummary }> {
  const dir = await tempDir();
  const summary = await generateWorkload({ out: dir, lines, seed });
  return { dir, summary };
}

function csvRows(text: string): { header: string; rows: string[][] } {
  assert.ok(text.endsWith('\n'), 'file ends with a newline');
  const [header = '', ...rest] = text.slice(0, -1).split('\n');
  return { header, rows: rest.map((line) => line.split(',')) };
}

/** `-12.34` → -1234n; throws unless the text has exactly two decimals. */
function cents(text: string): bigint {
  assert.match(text, /^-?\d+\.\d{2}$/);
  return BigInt(text.replace('.', ''));
}

after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('generateWorkload determinism', () => {
  test('same options give byte-identical files; another seed gives different ones', async () => {
    const a = await generate(11);
    const b = await generate(11);
    const c = await generate(12);
    assert.deepEqual(
      a.summary.files.map((f) => f.slice(a.dir.length)),
      WORKLOAD_FILES.map((n) => `/${n}`),
    );
    for (const name of WORKLOAD_FILES) {
      const [x, y] = await Promise.all([readFile(join(a.dir, name)), readFile(join(b.dir, name))]);
      assert.ok(x.equals(y), `${name} is byte-identical`);
    }
    for (const name of ['transactions.csv', 'agreements.json']) {
      const [x, z] = await Promise.all([readFile(join(a.dir, name)), readFile(join(c.dir, name))]);
      assert.ok(!x.equals(z), `${name} differs for another seed`);
    }
  });
});

describe('generateWorkload output', () => {
  let dir: string;
  let summary: GenerateSummary;
  const partnerGroup = new Map<string, string>();
  const productPrice = new Map<string, bigint>();
  const productCategory = new Map<string, string>();
  let tx: string[][];
  // biome-ignore lint/suspicious/noExplicitAny: agreements are checked field by field below
  let agreements: any[];

  before(async () => {
    ({ dir, summary } = await generate(2025));
    const partners = csvRows(await readFile(join(dir, 'partners.csv'), 'utf8'));
    assert.equal(partners.header, PARTNERS_HEADER);
    for (const row of partners.rows) partnerGroup.set(row[0]!, row[2]!);
    const products = csvRows(await readFile(join(dir, 'products.csv'), 'utf8'));
    assert.equal(products.header, PRODUCTS_HEADER);
    for (const row of products.rows) {
      productCategory.set(row[0]!, row[2]!);
      productPrice.set(row[0]!, cents(row[3]!));
    }
    const transactions = csvRows(await readFile(join(dir, 'transactions.csv'), 'utf8'));
    assert.equal(transactions.header, TRANSACTIONS_HEADER);
    tx = transactions.rows;
    agreements = JSON.parse(await readFile(join(dir, 'agreements.json'), 'utf8'));
  });

  test('headers are exact and sizes follow the defaults', () => {
    assert.equal(PARTNERS_HEADER, 'id,name,group,region');
    assert.equal(PRODUCTS_HEADER, 'sku,name,category,list_price');
    assert.equal(TRANSACTIONS_HEADER, 'id,date,partner,sku,quantity,amount,currency');
    assert.equal(summary.lines, LINES);
    assert.equal(tx.length, LINES);
    assert.equal(summary.partners, 20);
    assert.equal(partnerGroup.size, 20);
    assert.equal(summary.products, 50);
    assert.equal(productPrice.size, 50);
    assert.equal(summary.groups, 2);
    assert.equal(summary.categories, 4);
    assert.equal(summary.agreements, 40);
    assert.equal(agreements.length, 40);
    const groups = new Set([...partnerGroup.values()].filter((g) => g !== ''));
    assert.equal(groups.size, summary.groups, 'every buying group has members');
    assert.equal(new Set(productCategory.values()).size, summary.categories, 'every category has products');
  });

  test('every line is well formed: known partner and SKU, amount = quantity × whole-cent unit price', () => {
    const ids = new Set<string>();
    let returns = 0;
    const years = new Set<string>();
    for (const row of tx) {
      assert.equal(row.length, 7);
      const [id, date, partner, sku, quantity, amount, currency] = row as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      assert.ok(!ids.has(id), `unique id ${id}`);
      ids.add(id);
      assert.match(date, /^(2024|2025)-\d{2}-\d{2}$/);
      assert.equal(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10), date, 'a real calendar date');
      years.add(date.slice(0, 4));
      assert.ok(partnerGroup.has(partner), `partner ${partner} exists`);
      assert.ok(productPrice.has(sku), `sku ${sku} exists`);
      assert.match(quantity, /^-?[1-9]\d*$/);
      assert.equal(currency, 'USD');
      const q = BigInt(quantity);
      const a = cents(amount);
      assert.equal(a < 0n, q < 0n, 'a return has negative quantity and amount');
      if (q < 0n) returns++;
      assert.equal(a % q, 0n, `${amount} is a whole-cent multiple of ${quantity}`);
      const unit = a / q;
      assert.ok(
        unit >= 1n && unit <= productPrice.get(sku)!,
        'unit price is positive and at most list price',
      );
    }
    assert.deepEqual([...years].sort(), ['2024', '2025']);
    const share = returns / tx.length;
    assert.ok(share > 0.015 && share < 0.045, `about 3 % returns, got ${(share * 100).toFixed(2)} %`);
  });

  test('agreements follow the format rules', () => {
    const decimal = /^\d+(\.\d{1,2})?$/;
    const twoPlaces = /^\d+\.\d{2}$/;
    const groups = new Set([...partnerGroup.values()].filter((g) => g !== ''));
    const categories = new Set(productCategory.values());
    const quarters = [
      ['2025-01-01', '2025-03-31'],
      ['2025-04-01', '2025-06-30'],
      ['2025-07-01', '2025-09-30'],
      ['2025-10-01', '2025-12-31'],
      ['2025-01-01', '2025-12-31'],
    ].map((w) => w.join('/'));
    const ids = agreements.map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort(), 'ids ascending');
    assert.equal(new Set(ids).size, ids.length, 'ids unique');
    const types = new Set<string>();
    let withCap = 0;
    const sortedUnique = (xs: string[]) => xs.length > 0 && xs.every((x, i) => i === 0 || xs[i - 1]! < x);
    for (const a of agreements) {
      types.add(a.type);
      assert.ok('partner' in a !== 'group' in a, `${a.id}: exactly one of partner and group`);
      if ('partner' in a) assert.ok(partnerGroup.has(a.partner), `${a.id}: partner exists`);
      else assert.ok(groups.has(a.group), `${a.id}: group ${a.group} is used in partners.csv`);
      assert.ok(quarters.includes(`${a.period.start}/${a.period.end}`), `${a.id}: quarter or year of 2025`);
      const scopeKeys = Object.keys(a.scope);
      assert.ok(scopeKeys.length <= 1);
      if (a.scope.categories) {
        assert.ok(sortedUnique(a.scope.categories), `${a.id}: categories sorted and unique`);
        for (const c of a.scope.categories) assert.ok(categories.has(c));
      }
      if (a.scope.skus) {
        assert.ok(sortedUnique(a.scope.skus), `${a.id}: skus sorted and unique`);
        for (const s of a.scope.skus) assert.ok(productPrice.has(s));
      }
      assert.ok(a.tiers.length >= 1);
      for (let i = 0; i < a.tiers.length; i++) {
        assert.match(a.tiers[i].from, decimal);
        assert.match(a.tiers[i].rate, twoPlaces);
        if (i > 0)
          assert.ok(Number(a.tiers[i].from) > Number(a.tiers[i - 1].from), `${a.id}: ascending tiers`);
      }
      if (a.cap !== undefined) {
        withCap++;
        assert.match(a.cap, twoPlaces);
      }
      if (a.type === 'volume') {
        assert.ok(['amount', 'quantity'].includes(a.basis));
        assert.ok(['retroactive', 'incremental'].includes(a.method));
        assert.ok(['percent', 'per_unit'].includes(a.payout));
        if (a.method === 'incremental') {
          assert.equal(a.payout, a.basis === 'amount' ? 'percent' : 'per_unit', `${a.id}: incremental combo`);
        }
        assert.equal(a.baseline, undefined);
        assert.equal(a.apply, undefined);
        assert.equal(a.mix, undefined);
      } else if (a.type === 'growth') {
        assert.deepEqual([a.basis, a.method, a.payout], ['amount', 'retroactive', 'percent']);
        assert.deepEqual(a.baseline, {
          start: a.period.start.replace('2025', '2024'),
          end: a.period.end.replace('2025', '2024'),
        });
        assert.ok(['total', 'increment'].includes(a.apply));
      } else {
        assert.equal(a.type, 'mix');
        assert.deepEqual([a.basis, a.method, a.payout], ['amount', 'retroactive', 'percent']);
        assert.equal(a.mix.categories.length, 1);
        assert.ok(categories.has(a.mix.categories[0]));
        assert.match(a.mix.minShare, decimal);
        assert.ok(Number(a.mix.minShare) > 0 && Number(a.mix.minShare) <= 100);
      }
    }
    assert.deepEqual([...types].sort(), ['growth', 'mix', 'volume']);
    assert.ok(withCap > 0 && withCap < agreements.length / 2, 'some agreements, a minority, have a cap');
  });

  test('thresholds are sized so that most amount-based volume agreements reach a tier', () => {
    // Settle the simplest kind exactly (partner, whole catalogue or categories, basis amount).
    let checked = 0;
    let reached = 0;
    for (const a of agreements) {
      if (a.type !== 'volume' || a.basis !== 'amount' || !a.partner || a.scope.skus) continue;
      const cats = a.scope.categories ? new Set<string>(a.scope.categories) : null;
      let total = 0n;
      for (const [, date, partner, sku, , amount] of tx as string[][]) {
        if (partner !== a.partner || date! < a.period.start || date! > a.period.end) continue;
        if (cats && !cats.has(productCategory.get(sku!)!)) continue;
        total += cents(amount!);
      }
      checked++;
      const [whole = '0', fraction = ''] = String(a.tiers[0].from).split('.');
      if (total >= BigInt(whole + fraction.padEnd(2, '0'))) reached++;
    }
    assert.ok(checked >= 5, `enough agreements to judge (${checked})`);
    assert.ok(reached / checked >= 0.5, `${reached} of ${checked} reach a tier`);
  });
});

describe('generateWorkload options', () => {
  test('reports progress every 100,000 lines and at the end, and honours explicit sizes', async () => {
    const dir = await tempDir();
    const calls: [number, number][] = [];
    const summary = await generateWorkload({
      out: dir,
      lines: 230_000,
      seed: 3,
      partners: 7,
      products: 9,
      agreements: 5,
      onProgress: (done, total) => calls.push([done, total]),
    });
    assert.deepEqual(calls, [
      [100_000, 230_000],
      [200_000, 230_000],
      [230_000, 230_000],
    ]);
    assert.equal(summary.partners, 7);
    assert.equal(summary.products, 9);
    assert.equal(summary.agreements, 5);
    assert.equal(summary.groups, 2);
    assert.equal(summary.categories, 4);
    const agreements = JSON.parse(await readFile(join(dir, 'agreements.json'), 'utf8'));
    assert.equal(agreements.length, 5);
  });

  test('zero lines writes only the header; bad counts are rejected', async () => {
    const dir = await tempDir();
    const calls: number[] = [];
    await generateWorkload({ out: dir, lines: 0, seed: 1, onProgress: (done) => calls.push(done) });
    assert.equal(await readFile(join(dir, 'transactions.csv'), 'utf8'), `${TRANSACTIONS_HEADER}\n`);
    assert.deepEqual(calls, [0]);
    await assert.rejects(generateWorkload({ out: dir, lines: 1.5, seed: 1 }), RangeError);
    await assert.rejects(generateWorkload({ out: dir, lines: 10, seed: 1, partners: 0 }), RangeError);
    await assert.rejects(generateWorkload({ out: dir, lines: 10, seed: Number.NaN }), RangeError);
  });
});
