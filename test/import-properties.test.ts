// Property tests over the real import path on the embedded store: importing
// any set of lines twice adds nothing the second time, and the settled figures
// do not depend on the order of the lines in the file or on how the lines are
// split across files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { importAgreements } from '../src/agreements/agreements.service.ts';
import { importFile } from '../src/imports/import.service.ts';
import { settle } from '../src/settlements/settlement.service.ts';
import { openStore, type Store } from '../src/store/database.ts';
import { tempFiles } from './support/stores.ts';

interface Line {
  id: string;
  day: number;
  partner: 'A' | 'B';
  sku: 'S1' | 'S2';
  quantity: number;
  cents: number;
}

const line = fc.record({
  day: fc.integer({ min: 0, max: 364 }),
  partner: fc.constantFrom<'A' | 'B'>('A', 'B'),
  sku: fc.constantFrom<'S1' | 'S2'>('S1', 'S2'),
  quantity: fc.integer({ min: -5, max: 40 }),
  cents: fc.integer({ min: 1, max: 50_000 }),
});

let store: Store;
let arrangement = 0;

before(async () => {
  store = await openStore({});
  const dir = tempFiles({ 'products.csv': 'sku,name,category,list_price\nS1,One,X,1.00\nS2,Two,Y,1.00\n' });
  await importFile(store, { kind: 'products', file: join(dir, 'products.csv') });
});
after(async () => store.close());

/** Each arrangement gets its own partners, group and agreements, so one store serves them all. */
async function settleArrangement(chunks: Line[][]): Promise<string[]> {
  arrangement += 1;
  const k = arrangement;
  const files: Record<string, string> = {
    'partners.csv': `id,name,group,region\nA${k},Alpha,G${k},NA\nB${k},Beta,G${k},NA\n`,
    'agreements.json': JSON.stringify([
      {
        id: `P1-${k}`,
        group: `G${k}`,
        period: { start: '2025-01-01', end: '2025-12-31' },
        method: 'incremental',
        tiers: [
          { from: '0', rate: '1.5' },
          { from: '500', rate: '3.25' },
        ],
      },
      {
        id: `P2-${k}`,
        partner: `A${k}`,
        period: { start: '2025-01-01', end: '2025-12-31' },
        calendar: 'quarterly',
        scope: { categories: ['X'] },
        tiers: [
          { from: '0', rate: '2' },
          { from: '300', rate: '4' },
        ],
      },
    ]),
  };
  chunks.forEach((chunk, i) => {
    const rows = chunk.map((l) => {
      const date = new Date(Date.UTC(2025, 0, 1 + l.day)).toISOString().slice(0, 10);
      const cents = l.quantity < 0 ? -l.cents : l.cents;
      const amount = `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
      return `${l.id}-${k},${date},${l.partner}${k},${l.sku},${l.quantity},${amount},USD`;
    });
    files[`t${i}.csv`] = `id,date,partner,sku,quantity,amount,currency\n${rows.join('\n')}\n`;
  });
  const dir = tempFiles(files);
  await importFile(store, { kind: 'partners', file: join(dir, 'partners.csv') });
  for (const [i, chunk] of chunks.entries()) {
    const file = join(dir, `t${i}.csv`);
    const first = await importFile(store, { kind: 'transactions', file });
    assert.deepEqual([first.imported, first.rejected], [chunk.length, 0]);
    const again = await importFile(store, { kind: 'transactions', file });
    assert.deepEqual([again.imported, again.duplicates, again.rejected], [0, chunk.length, 0]);
  }
  assert.equal((await importAgreements(store, { file: join(dir, 'agreements.json') })).imported, 2);
  const result = await settle(store.db, { agreementIds: [`P1-${k}`, `P2-${k}`] });
  return result.results.map(
    (r) => `${r.agreementId.split('-')[0]}/${r.period.start}: ${r.amount} → ${r.rebate}`,
  );
}

test('import twice adds nothing; line order and file split do not change the settlement', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 40 }), fc.nat(), async (raw, cutSeed) => {
      const lines = raw.map((l, i) => ({ ...l, id: `L${i}` }));
      const cut = cutSeed % (lines.length + 1);
      const inOrder = await settleArrangement([lines]);
      const reversed = await settleArrangement([[...lines].reverse()]);
      const split = await settleArrangement(
        [lines.slice(0, cut), lines.slice(cut)].filter((c) => c.length > 0),
      );
      assert.deepEqual(reversed, inOrder);
      assert.deepEqual(split, inOrder);
    }),
    { numRuns: 10 },
  );
});
