// Runs every measured step of the benchmark on a small workload and checks
// its result — end to end and full recalculation against an independent
// in-memory settlement by the calculation core, imports against COPY, real-time
// batches against a full recalculation, what-if storing nothing — never its time.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { measureSteps } from '../bench/steps.ts';
import { parseAgreement } from '../src/agreements/agreements.schema.ts';
import { aggregateLines, type Line } from '../src/calculation/aggregate.ts';
import type { Product } from '../src/calculation/calculation.types.ts';
import { settleAgreement } from '../src/calculation/engine.ts';
import { agreementPartners } from '../src/calculation/scope.ts';
import { formatExpectedCsv } from '../src/settlements/settlement.format.ts';
import { Decimal } from '../src/shared/decimal.ts';
import { generateWorkload } from '../src/workload/generate.ts';
import { storeTargets } from './support/stores.ts';

/** The workload settled entirely in memory by the pure core, from the CSV text. */
function settleInMemory(dir: string): string {
  const rows = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
  const partners = rows('partners.csv').map(([id, , group]) => ({ id: id!, buyingGroup: group || null }));
  const products = new Map<string, Product>(
    rows('products.csv').map(([sku, , category]) => [
      sku!,
      { sku: sku!, category: category!, attributes: {} },
    ]),
  );
  const lines: Line[] = rows('transactions.csv').map(
    ([id, date, partner, sku, quantity, amount, currency]) => ({
      id: id!,
      date: date!,
      partner: partner!,
      sku: sku!,
      quantity: Decimal.parse(quantity!),
      amount: Decimal.parse(amount!),
      currency: currency!,
    }),
  );
  const results = (JSON.parse(readFileSync(join(dir, 'agreements.json'), 'utf8')) as unknown[]).flatMap(
    (raw) => {
      const parsed = parseAgreement(raw);
      assert.ok(parsed.ok);
      const agreement = parsed.value.agreement;
      const members = new Set(agreementPartners(agreement, partners));
      const own = lines.filter((l) => members.has(l.partner));
      return settleAgreement(
        agreement,
        (request) => aggregateLines(agreement, request.rule, request.window, members, products, own),
        { minorUnits: 2 },
      );
    },
  );
  return formatExpectedCsv(results);
}

describe('benchmark steps on a small workload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-bench-test-'));
  let expected: string;
  before(async () => {
    await generateWorkload({ out: dir, lines: 20_000, seed: 9 });
    expected = settleInMemory(dir);
  });

  for (const target of storeTargets()) {
    test(`every step on ${target.name} gives the right result`, async () => {
      const measured = await measureSteps({
        store: target.name,
        dir,
        ...(target.name === 'postgres' ? { databaseUrl: process.env.TEST_DATABASE_URL! } : {}),
        batches: 3,
        batchLines: 200,
        expected,
      });
      assert.equal(measured.identical, true, 'the store path settles exactly like the in-memory core');
      assert.deepEqual(
        measured.steps.map((s) => s.step),
        [
          'end to end',
          'full recalculation',
          'import lines',
          'bare COPY',
          'COPY with key and index',
          'real-time batches',
          'what-if',
        ],
      );
      assert.match(
        measured.steps.find((s) => s.step === 'real-time batches')!.detail!,
        /^3 × 200 lines: p50/,
      );
      assert.match(measured.steps.find((s) => s.step === 'import lines')!.detail!, /lines\/s$/);
    });
  }
});
