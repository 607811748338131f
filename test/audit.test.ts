// The audit trail on both stores: imports, new agreements and new users are
// recorded with who and what; the chain of hashes verifies; the database
// refuses to change or remove an entry; and an entry changed or removed behind
// its back (triggers disabled, as a superuser could) is found by the
// verification, from the API and from the command line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { verifyAudit } from '../src/audit/audit.service.ts';
import { runDemo } from '../src/demo/demo.service.ts';
import { openStore } from '../src/store/database.ts';
import { commandLine, listen, usersWithTokens } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`audit trail (${target.name})`, () => {
    let store: Awaited<ReturnType<typeof target.open>>;
    let app: FastifyInstance;
    let base: string;
    const tokens: Record<string, string> = {};
    const get = async (user: string, path: string) => {
      const response = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${tokens[user]}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    before(async () => {
      store = await target.open();
      await runDemo(store, () => undefined);
      Object.assign(
        tokens,
        await usersWithTokens(store, { audra: { role: 'auditor' }, sal: { role: 'sales' } }, 'admin'),
      );
      ({ app, origin: base } = await listen(store));
      base = `${base}/api/v1`;
    });
    after(async () => {
      await app.close();
      await store.dispose();
    });

    test('imports, agreements and users are recorded, and the chain verifies', async () => {
      const rows = await store.db
        .selectFrom('audit_log')
        .select(['action', 'entity_id', 'actor', 'after'])
        .orderBy('seq')
        .execute();
      const actions = rows.map((r) => r.action);
      for (const kind of ['partners', 'products', 'transactions', 'agreements'])
        assert.ok(actions.includes(`import.${kind}`), kind);
      assert.equal(actions.filter((a) => a === 'agreement.create').length, 7);
      const created = rows.find((r) => r.action === 'user.create' && r.entity_id === 'audra')!;
      assert.equal(created.actor, 'admin');
      assert.deepEqual(JSON.parse(created.after!), {
        username: 'audra',
        displayName: 'audra',
        role: 'auditor',
        partner: null,
        group: null,
      });
      const growth = rows.find((r) => r.action === 'agreement.create' && r.entity_id === 'DEMO-04-GROWTH')!;
      assert.equal(JSON.parse(growth.after!).group, 'G-PBA');
      assert.ok(
        rows.every((r) => !String(r.after).includes('scrypt$')),
        'no password hash in the trail',
      );
      assert.deepEqual(await verifyAudit(store.db), { entries: rows.length });

      const listed = await get('audra', '/audit?entity=user&limit=10');
      assert.equal(listed.status, 200);
      assert.deepEqual(
        (listed.body.items as { entityId: string }[]).map((e) => e.entityId),
        ['sal', 'audra'],
        'newest first',
      );
      assert.deepEqual((await get('audra', '/audit/verify')).body, { intact: true, entries: rows.length });
      const refused = await get('sal', '/audit/verify');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'forbidden');
    });

    test('the database refuses to update, delete or truncate the trail', async () => {
      for (const statement of [
        sql`UPDATE audit_log SET actor = 'someone else'`,
        sql`DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)`,
        sql`TRUNCATE audit_log`,
      ]) {
        await assert.rejects(statement.execute(store.db), /the audit log is append-only/);
      }
      assert.equal((await verifyAudit(store.db)).broken, undefined);
    });

    test('an entry changed or removed behind the triggers is found, with the first broken link', async () => {
      const seqs = (await store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute()).map((r) =>
        String(r.seq),
      );
      const [changed, removed, next] = [seqs[3]!, seqs[6]!, seqs[7]!];
      await sql`ALTER TABLE audit_log DISABLE TRIGGER USER`.execute(store.db);
      try {
        await sql`DELETE FROM audit_log WHERE seq = ${removed}::bigint`.execute(store.db);
        const afterRemoval = await verifyAudit(store.db);
        assert.equal(afterRemoval.broken?.seq, next);
        assert.match(afterRemoval.broken!.reason, /does not link/);
        await sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = ${changed}::bigint`.execute(store.db);
      } finally {
        await sql`ALTER TABLE audit_log ENABLE TRIGGER USER`.execute(store.db);
      }
      const verified = await verifyAudit(store.db);
      assert.deepEqual(verified.broken, {
        seq: changed,
        reason: 'its content does not match its hash (it was changed)',
      });
      assert.equal(verified.entries, 3);
      const api = await get('audra', '/audit/verify');
      assert.equal(api.body.intact, false);
      assert.equal((api.body.broken as { seq: string }).seq, changed);
    });
  });
}

describe('rebates audit verify', () => {
  test('says the trail is intact, and exits 1 naming the entry once one is changed', async () => {
    const { dataDir, run } = commandLine('rebates-audit-');
    assert.equal(run('demo').status, 0);
    const intact = run('audit', 'verify');
    assert.equal(intact.status, 0, intact.stderr);
    const store = await openStore({ dataDir });
    try {
      // Four imports, seven agreements and two templates: every entry the demo wrote is counted.
      const entries = await store.db.selectFrom('audit_log').select('seq').execute();
      assert.equal(entries.length, 13);
      assert.match(intact.stdout, new RegExp(`audit trail intact: ${entries.length} entries`));
      await sql`ALTER TABLE audit_log DISABLE TRIGGER USER`.execute(store.db);
      await sql`UPDATE audit_log SET comment = 'edited' WHERE seq = 2`.execute(store.db);
      await sql`ALTER TABLE audit_log ENABLE TRIGGER USER`.execute(store.db);
    } finally {
      await store.close();
    }
    const broken = run('audit', 'verify');
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /audit trail BROKEN at entry 2: its content does not match its hash/);
  });
});
