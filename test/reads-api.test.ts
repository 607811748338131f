// Transaction lines, settlement results, explanations and users over HTTP, on
// both stores: a partner user reads its own lines and figures only; the
// settlement's total is the sum of its results, which are the accrual positions'
// figures; an administrator adds a user whose one-time password signs in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { Decimal } from '../src/shared/decimal.ts';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`lines, settlements, explanations and users over HTTP (${target.name})`, () => {
    const server = demoServer(target, {
      ada: { role: 'admin' },
      fin: { role: 'finance' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
      ace: { role: 'partner', buyingGroup: 'G-ACE' },
    });
    const { call } = server;
    const count = async (where: ReturnType<typeof sql>) =>
      Number(
        (
          await sql<{ n: string }>`SELECT count(*)::text AS n FROM transactions WHERE ${where}`.execute(
            server.store.db,
          )
        ).rows[0]!.n,
      );

    test('transaction lines: filtered, paged, and a partner sees its own only', async () => {
      const all = await call('fin', 'GET', '/transactions?limit=5');
      assert.equal(all.body.total, await count(sql`true`));
      assert.equal(all.body.items.length, 5);
      const q1 = await call(
        'fin',
        'GET',
        '/transactions?partner=D-1002&from=2025-01-01&to=2025-03-31&limit=1000',
      );
      assert.equal(
        q1.body.total,
        await count(sql`partner_id = 'D-1002' AND line_date BETWEEN '2025-01-01' AND '2025-03-31'`),
      );
      assert.ok(
        q1.body.items.every((l: { date: string }) => l.date >= '2025-01-01' && l.date <= '2025-03-31'),
      );
      const dates = q1.body.items.map((l: { date: string }) => l.date);
      assert.deepEqual(dates, [...dates].sort(), 'sorted by date');

      const own = await call('d1002', 'GET', '/transactions?limit=1000');
      assert.equal(own.body.total, await count(sql`partner_id = 'D-1002'`));
      assert.ok(own.body.items.every((l: { partner: string }) => l.partner === 'D-1002'));
      const group = await call('ace', 'GET', '/transactions?limit=1');
      assert.equal(group.body.total, await count(sql`partner_id IN ('D-1007', 'D-1008', 'D-1009')`));
      const other = (await call('fin', 'GET', '/transactions?partner=D-1001&limit=1')).body.items[0].id;
      assert.equal((await call('d1002', 'GET', `/transactions/${other}`)).status, 404);
      assert.equal((await call('fin', 'GET', `/transactions/${other}`)).body.partner, 'D-1001');
    });

    test("settlement results are the accrual positions' figures, and the total is their sum", async () => {
      const id = 'DEMO-02-INCREMENTAL';
      const settlement = (await call('d1002', 'GET', `/agreements/${id}/settlement`)).body;
      const positions = (await call('fin', 'GET', `/accruals?agreement=${id}`)).body.items;
      assert.ok(settlement.results.length > 0);
      assert.deepEqual(
        settlement.results.map((r: { periodStart: string; rebate: string; lineCount: number }) => [
          r.periodStart,
          r.rebate,
          r.lineCount,
        ]),
        positions.map((p: { periodStart: string; rebate: string; lineCount: number }) => [
          p.periodStart,
          p.rebate,
          p.lineCount,
        ]),
      );
      assert.equal(
        settlement.total,
        Decimal.sum(settlement.results.map((r: { rebate: string }) => Decimal.parse(r.rebate))).toString(),
      );
      assert.ok(settlement.results[0].steps.length > 0, 'each figure carries its arithmetic');
      const early = (await call('fin', 'GET', `/agreements/${id}/settlement?asOf=2025-01-31`)).body;
      assert.equal(early.results.length, 1, 'periods starting after asOf are not settled');
      assert.ok(early.results[0].lineCount < settlement.results[0].lineCount);
      assert.equal((await call('ace', 'GET', `/agreements/${id}/settlement`)).status, 404);

      const closest = (await call('fin', 'GET', '/accruals?sort=remaining&limit=1000')).body.items;
      const remaining = closest
        .filter((p: { nextTierRemaining: string | null }) => p.nextTierRemaining !== null)
        .map((p: { nextTierRemaining: string }) => Decimal.parse(p.nextTierRemaining));
      assert.ok(remaining.length > 1);
      assert.ok(
        remaining.every((r: Decimal, i: number) => i === 0 || remaining[i - 1].lte(r)),
        'closest to the next tier first',
      );
      assert.equal(closest.at(-1).nextTierRemaining, null, 'positions with no next tier last');

      const explanation = await call('d1002', 'GET', `/agreements/${id}/explanation`);
      assert.match(explanation.body.text, new RegExp(`Agreement ${id}`));
      assert.match(explanation.body.text, /Total rebate: /);
      assert.equal((await call('ace', 'GET', `/agreements/${id}/explanation`)).status, 404);
      await call('ada', 'POST', '/agreements', {
        id: 'DRAFT-1',
        partner: 'D-1002',
        period: { start: '2025-01-01', end: '2025-12-31' },
        tiers: [{ from: '0', rate: '1' }],
      });
      const draft = await call('fin', 'GET', '/agreements/DRAFT-1/settlement');
      assert.deepEqual([draft.status, draft.body.code], [409, 'agreement_not_settled']);
    });

    test('an administrator adds a user; the one-time password signs in', async () => {
      const added = await call('ada', 'POST', '/users', {
        username: 'nina',
        role: 'sales',
        name: 'Nina Sales',
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.equal(added.body.user.role, 'sales');
      const login = await fetch(`${server.origin}/api/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nina', password: added.body.password }),
      });
      assert.equal(login.status, 201);
      const taken = await call('ada', 'POST', '/users', { username: 'nina', role: 'sales' });
      assert.equal(taken.status, 422);
      assert.equal(taken.body.details[0].field, 'username');
      const partnerWithout = await call('ada', 'POST', '/users', { username: 'pete', role: 'partner' });
      assert.equal(partnerWithout.status, 422);
      const listed = await call('ada', 'GET', '/users?role=sales');
      assert.deepEqual(
        listed.body.items.map((u: { username: string }) => u.username),
        ['nina'],
      );
      const audited = await server.store.db
        .selectFrom('audit_log')
        .select(['actor', 'after'])
        .where('action', '=', 'user.create')
        .where('entity_id', '=', 'nina')
        .executeTakeFirstOrThrow();
      assert.equal(audited.actor, 'ada');
      assert.doesNotMatch(audited.after!, new RegExp(added.body.password));
    });
  });
}
