// The embedded store's database runs on a worker thread of its own
// (src/store/pglite-thread.ts): the main thread keeps running while a statement
// works — answering requests, matching lines, calculating positions — and the
// database's errors reach the caller with PostgreSQL's fields.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/store/database.ts';

describe('the embedded database on its own thread', () => {
  let store: Store;
  before(async () => {
    store = await openStore({});
  });
  after(async () => {
    await store.close();
  });

  test('the main thread runs while a long statement works', async () => {
    let ticks = 0;
    let done = false;
    const ticking = () => {
      if (done) return;
      ticks += 1;
      setImmediate(ticking);
    };
    setImmediate(ticking);
    const result = await sql<{ n: string }>`SELECT count(*) AS n FROM generate_series(1, 3000000)`.execute(
      store.db,
    );
    done = true;
    assert.equal(result.rows[0]!.n, '3000000');
    // A statement run on the main thread blocks it from start to end: not one turn
    // of the event loop would pass while it runs.
    assert.ok(ticks > 10, `the event loop turned ${ticks} times during the statement`);
  });

  test("a failed statement's error carries PostgreSQL's code and constraint, and the store goes on", async () => {
    await sql`CREATE TEMP TABLE probe (id text PRIMARY KEY)`.execute(store.db);
    await sql`INSERT INTO probe VALUES ('a')`.execute(store.db);
    await assert.rejects(
      sql`INSERT INTO probe VALUES ('a')`.execute(store.db),
      (error: Error & { code?: string; constraint?: string }) => {
        assert.equal(error.code, '23505');
        assert.equal(error.constraint, 'probe_pkey');
        assert.match(error.message, /duplicate key/);
        return true;
      },
    );
    const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM probe`.execute(store.db);
    assert.equal(rows.rows[0]!.n, '1');
  });

  test('COPY reads the rows sent with it', async () => {
    await sql`CREATE TEMP TABLE copied (id text, amount numeric)`.execute(store.db);
    await store.copyRows(store.db, 'copied', ['id', 'amount'], 'x\t1.50\ny\t\\N\n');
    const rows = await sql<{
      id: string;
      amount: string | null;
    }>`SELECT id, amount FROM copied ORDER BY id`.execute(store.db);
    assert.deepEqual(rows.rows, [
      { id: 'x', amount: '1.50' },
      { id: 'y', amount: null },
    ]);
  });
});
