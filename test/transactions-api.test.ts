// Recording transaction lines over HTTP, on both stores: lines go through the
// import path (checks, idempotence by line id, accruals kept current, an audit
// entry naming the user and request); Idempotency-Key replays the first answer
// for the same request and refuses another with the same key; bad lines are
// reported by index and field and nothing is kept; only finance and
// administrators may record.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decimal } from '../src/shared/decimal.ts';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const line = (id: string, amount: string, extra: Record<string, string> = {}) => ({
  id,
  date: '2025-02-10',
  partner: 'D-1001',
  sku: 'PT-100',
  quantity: '2',
  amount,
  currency: 'USD',
  ...extra,
});

for (const target of storeTargets()) {
  describe(`recording transactions over HTTP (${target.name})`, () => {
    const server = demoServer(target, {
      fin: { role: 'finance' },
      sal: { role: 'sales' },
      d1001: { role: 'partner', partnerId: 'D-1001' },
    });
    const { call, tokens } = server;
    const q1Volume = async () => {
      const positions = await call('fin', 'GET', '/accruals?agreement=DEMO-01-VOLUME');
      return positions.body.items.find((p: { periodStart: string }) => p.periodStart === '2025-01-01');
    };
    const imports = async () => (await server.store.db.selectFrom('imports').select('id').execute()).length;

    test('lines are recorded once, accruals move, and the audit trail names the user and request', async () => {
      const before = await q1Volume();
      const body = { lines: [line('API-1', '1000.00'), line('API-2', '250.50')] };
      const first = await call('fin', 'POST', '/transactions', body, 'key-1');
      assert.equal(first.status, 201);
      assert.deepEqual(
        { outcome: first.body.outcome, imported: first.body.imported, duplicates: first.body.duplicates },
        { outcome: 'imported', imported: 2, duplicates: 0 },
      );
      const afterLines = await q1Volume();
      assert.equal(afterLines.lineCount, before.lineCount + 2);
      assert.equal(
        Decimal.parse(afterLines.amount).sub(Decimal.parse(before.amount)).toString(),
        '1250.50',
        'the quarter measures 1,250.50 more',
      );
      const entry = await server.store.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'import.transactions')
        .where('entity_id', '=', first.body.importId)
        .executeTakeFirstOrThrow();
      assert.equal(entry.actor, 'fin');
      assert.equal(entry.request_id, first.headers.get('x-request-id'));

      // The same request with the same key: the first answer again, nothing done twice.
      const count = await imports();
      const replay = await call('fin', 'POST', '/transactions', body, 'key-1');
      assert.equal(replay.status, 201);
      assert.deepEqual(replay.body, first.body);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(await imports(), count);
      // The same key with another body: refused.
      const reused = await call('fin', 'POST', '/transactions', { lines: [line('API-3', '1.00')] }, 'key-1');
      assert.equal(reused.status, 409);
      assert.equal(reused.body.code, 'idempotency_key_reused');
      // Without a key, the same lines are duplicates: stored once.
      const again = await call('fin', 'POST', '/transactions', body);
      assert.deepEqual([again.body.imported, again.body.duplicates], [0, 2]);
      assert.equal((await q1Volume()).lineCount, before.lineCount + 2);
    });

    test('bad lines are named by index and field, and nothing is recorded', async () => {
      const count = (await server.store.db.selectFrom('transactions').select('id').execute()).length;
      const bad = await call('fin', 'POST', '/transactions', {
        lines: [
          line('API-10', '5.00'),
          line('API-11', '5.00', { date: '2025-02-30' }),
          line('API-12', '1.234'),
        ],
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.code, 'invalid_lines');
      assert.deepEqual(
        bad.body.details.map((d: { field: string; code: string }) => `${d.field} ${d.code}`),
        ['lines[1].date bad_date', 'lines[2].amount amount_has_too_many_decimals'],
      );
      assert.equal((await server.store.db.selectFrom('transactions').select('id').execute()).length, count);
      const kept = await call('fin', 'POST', '/transactions?skipInvalid=true', {
        lines: [line('API-10', '5.00'), line('API-11', '5.00', { date: '2025-02-30' })],
      });
      assert.deepEqual([kept.status, kept.body.imported, kept.body.rejected], [201, 1, 1]);
      const typed = await call('fin', 'POST', '/transactions', {
        lines: [{ ...line('API-20', '1.00'), quantity: 2 }],
      });
      assert.equal(typed.status, 400);
      assert.equal(typed.body.details[0].field, 'lines.0.quantity');
      const empty = await call('fin', 'POST', '/transactions', { lines: [] });
      assert.equal(empty.status, 400);
      const raw = (body: string) =>
        fetch(`${server.origin}/api/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.fin}`, 'content-type': 'application/json' },
          body,
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code: string } }));
      const malformed = await raw('{"lines": [');
      assert.deepEqual([malformed.status, malformed.body.code], [400, 'invalid_json']);
      const oversize = await raw(
        JSON.stringify({ lines: [line('API-BIG', '1.00', { end_customer: 'x'.repeat(17 * 1024 * 1024) })] }),
      );
      assert.deepEqual([oversize.status, oversize.body.code], [413, 'body_too_large']);
      assert.equal(
        (await server.store.db.selectFrom('transactions').select('id').execute()).length,
        count + 1,
      );
    });

    test('only finance and administrators record lines', async () => {
      for (const user of ['sal', 'd1001']) {
        const refused = await call(user, 'POST', '/transactions', { lines: [line(`API-${user}`, '1.00')] });
        assert.equal(refused.status, 403, user);
        assert.equal(refused.body.code, 'forbidden');
      }
      const stored = await server.store.db
        .selectFrom('transactions')
        .select('id')
        .where('id', 'like', 'API-%')
        .execute();
      assert.ok(stored.every((r) => !['API-sal', 'API-d1001'].includes(r.id)));
    });
  });
}
