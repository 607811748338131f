// Array parameters built as literals reach the database as the same values,
// whatever characters they hold.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { sqlArray } from '../src/store/sql-arrays.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`array parameters (${target.name})`, () => {
    test('text values round trip exactly, NULL included', async () => {
      const store = await target.open();
      try {
        const roundTrip = async (values: (string | null)[]) =>
          (await sql<{ v: (string | null)[] }>`SELECT ${sqlArray(values, 'text')} AS v`.execute(store.db))
            .rows[0]!.v;
        const awkward = [
          '',
          'NULL',
          'a,b',
          '{x}',
          'say "hi"',
          'back\\slash',
          '\\"',
          ' padded ',
          'tab\there',
          'é€😀',
        ];
        assert.deepEqual(await roundTrip([...awkward, null]), [...awkward, null]);
        assert.deepEqual(await roundTrip([]), []);
        // Any text without NUL, which PostgreSQL text cannot hold.
        const value = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
        await fc.assert(
          fc.asyncProperty(fc.array(fc.option(value, { freq: 8 }), { maxLength: 8 }), async (values) => {
            assert.deepEqual(await roundTrip(values), values);
          }),
          { numRuns: 100 },
        );
        const sum = await sql<{
          s: string;
        }>`SELECT sum(x)::text AS s FROM unnest(${sqlArray(['1.50', '-0.25', null], 'numeric')}) x`.execute(
          store.db,
        );
        assert.equal(sum.rows[0]!.s, '1.25');
      } finally {
        await store.dispose();
      }
    });
  });
}
