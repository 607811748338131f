// A posting killed part-way leaves all of it or none of it. A child process
// posts the accruals of a month on PostgreSQL; the test waits until the child
// holds the ledger's lock (the posting's transaction is open) and kills it with
// SIGKILL. After that the ledger holds no part of that posting, every entry
// balances, and posting again writes the whole of it once. (PostgreSQL only:
// the embedded store belongs to one process, which cannot be watched from outside.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { runDemo } from '../src/demo/demo.service.ts';
import { readJournal } from '../src/ledger/ledger.service.ts';
import { storeTargets } from './support/stores.ts';

const target = storeTargets().find((t) => t.name === 'postgres');
const LEDGER_LOCK_KEY = 7_202_613;

describe('a posting killed part-way (postgres)', {
  skip: target ? false : 'no TEST_DATABASE_URL: needs a PostgreSQL server',
}, () => {
  let store: Awaited<ReturnType<NonNullable<typeof target>['open']>>;
  before(async () => {
    store = await target!.open();
    await runDemo(store, () => undefined);
  });
  after(async () => {
    await store?.dispose();
  });

  const postInChild = () =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'support', 'post-accruals.child.ts'),
        process.env.TEST_DATABASE_URL!,
        store.schema,
        '2025-06',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  const ledgerLockHeld = async () =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*)::text AS n FROM pg_locks
          WHERE locktype = 'advisory' AND objid = ${LEDGER_LOCK_KEY} AND granted`.execute(store.db)
      ).rows[0]!.n,
    ) > 0;
  const counts = async () => ({
    postings: (await store.db.selectFrom('accrual_postings').select('id').execute()).length,
    entries: (await store.db.selectFrom('journal_entries').select('id').execute()).length,
    lines: (await store.db.selectFrom('journal_lines').select('entry_id').execute()).length,
  });

  test('killed while its transaction is open: nothing of it is kept; posted again: all of it, once', async () => {
    // Hold the ledger's lock here first, so the child is caught waiting inside its own transaction.
    const blocker = await store.db.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection);
      await sql`SELECT pg_advisory_xact_lock(${LEDGER_LOCK_KEY})`.execute(connection);
      const child = postInChild();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // The child has begun its posting when it waits for the lock we hold.
      for (let i = 0; i < 600; i++) {
        const waiting = await sql<{ n: string }>`SELECT count(*)::text AS n FROM pg_locks
          WHERE locktype = 'advisory' AND objid = ${LEDGER_LOCK_KEY} AND NOT granted`.execute(store.db);
        if (Number(waiting.rows[0]!.n) > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Let it through, and kill it as soon as it holds the lock: mid-posting.
      await sql`COMMIT`.execute(connection);
      for (let i = 0; i < 2000 && !(await ledgerLockHeld()); i++) await new Promise((r) => setTimeout(r, 1));
      const heldWhenKilled = await ledgerLockHeld();
      child.kill('SIGKILL');
      await exited;
      return heldWhenKilled;
    });
    assert.ok(blocker, 'the child was killed while it held the ledger lock, inside its posting');
    // The server notices the lost connection and rolls its transaction back.
    for (let i = 0; i < 200 && (await ledgerLockHeld()); i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(await counts(), { postings: 0, entries: 0, lines: 0 });

    const child = postInChild();
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output);
    const after = await counts();
    assert.equal(after.postings, 1);
    assert.match(output, new RegExp(`with ${after.entries} entries`));
    assert.equal(after.lines, after.entries * 2);
    const journal = await readJournal(store.db);
    assert.equal(journal.length, after.entries, 'and every entry balances as it is read');
  });
});
