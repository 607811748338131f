// The agreement lifecycle over HTTP, on both stores: a draft written by one
// user is submitted, refused approval by its author (segregation of duties,
// enforced on the server), approved by another user, and starts accruing; every
// change is in the status history and the audit trail; a change that does not
// apply to the current status is refused with 409 and changes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const draft = {
  id: 'API-VOLUME-1',
  name: 'Coastal Tool quarterly volume, written over the API',
  partner: 'D-1002',
  period: { start: '2025-01-01', end: '2025-12-31' },
  calendar: 'quarterly',
  rules: [
    {
      id: 'volume',
      type: 'volume',
      basis: 'amount',
      method: 'retroactive',
      payout: 'percent',
      tiers: [
        { from: '0', rate: '1.00' },
        { from: '50000', rate: '2.00' },
      ],
    },
  ],
};

for (const target of storeTargets()) {
  describe(`agreement lifecycle (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;
    const act = (user: string, action: string, comment?: string) =>
      call(user, 'POST', `/agreements/${draft.id}/transitions`, { action, ...(comment ? { comment } : {}) });

    test('draft, submit, refused to its author, approved by another, then accruing', async () => {
      assert.equal(
        (await call('fin', 'POST', '/agreements', draft)).status,
        403,
        'finance does not write deals',
      );
      const written = await call('carla', 'POST', '/agreements', draft);
      assert.equal(written.status, 201);
      assert.equal(written.body.status, 'draft');
      assert.equal((await call('carla', 'POST', '/agreements', draft)).status, 409, 'written once');
      const accruing = async () =>
        (await call('fin', 'GET', `/accruals?agreement=${draft.id}`)).body.total as number;
      assert.equal(await accruing(), 0, 'a draft does not accrue');

      assert.equal((await act('carla', 'approve')).body.code, 'invalid_transition', 'not submitted yet');
      assert.equal((await act('carla', 'submit')).body.status, 'submitted');
      const own = await act('carla', 'approve');
      assert.equal(own.status, 403);
      assert.equal(own.body.code, 'segregation_of_duties');
      assert.equal((await act('d1002', 'approve')).status, 404, 'a partner changes nothing and sees 404');
      const approved = await act('cole', 'approve', 'terms checked against the signed letter');
      assert.deepEqual(approved.body, { id: draft.id, status: 'approved' });
      assert.equal(await accruing(), 4, 'an approved agreement accrues: four quarters');
      const q1 = (await call('fin', 'GET', `/accruals?agreement=${draft.id}`)).body.items[0];
      assert.ok(q1.lineCount > 0, 'from the lines already stored');

      assert.equal((await act('fin', 'activate')).body.status, 'active');
      const again = await act('cole', 'approve');
      assert.equal(again.status, 409);
      assert.match(again.body.message, /is active; approve applies to submitted agreements/);
      assert.equal(
        (await act('carla', 'cancel')).status,
        409,
        'an active agreement is closed, not cancelled',
      );

      const history = await server.store.db
        .selectFrom('agreement_status_changes')
        .select(['from_status', 'to_status', 'changed_by'])
        .where('agreement_id', '=', draft.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        history.map((h) => `${h.from_status}>${h.to_status} by ${h.changed_by}`),
        ['draft>submitted by carla', 'submitted>approved by cole', 'approved>active by fin'],
      );
      const audited = await server.store.db
        .selectFrom('audit_log')
        .select(['action', 'actor', 'comment'])
        .where('entity_id', '=', draft.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        audited.map((a) => `${a.action} ${a.actor}`),
        [
          'agreement.create carla',
          'agreement.submit carla',
          'agreement.approve cole',
          'agreement.activate fin',
        ],
      );
      assert.equal(audited[2]!.comment, 'terms checked against the signed letter');
    });

    test('a bad agreement is refused naming the field, and nothing is stored', async () => {
      const bad = await call('carla', 'POST', '/agreements', { ...draft, id: 'API-BAD', partner: 'NO-SUCH' });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.code, 'invalid_agreement');
      assert.ok(bad.body.details.some((d: { field: string; code: string }) => d.code === 'unknown_partner'));
      assert.equal((await call('fin', 'GET', '/agreements/API-BAD')).status, 404);
      const notDraft = await call('carla', 'POST', '/agreements', {
        ...draft,
        id: 'API-ACTIVE',
        status: 'active',
      });
      assert.equal(notDraft.status, 400);
    });

    test('a draft is rewritten whole; a rejected one too, and is a draft again; a submitted one is not', async () => {
      const id = 'API-REWRITE-1';
      assert.equal((await call('carla', 'POST', '/agreements', { ...draft, id })).status, 201);
      const tiers = [
        { from: '0', rate: '1.5' },
        { from: '80000', rate: '2.5' },
      ];
      const rules = [{ ...draft.rules[0], tiers }];
      const badRef = await call('carla', 'PUT', `/agreements/${id}`, {
        ...draft,
        id,
        rules: [{ ...rules[0], scope: { skus: ['NO-SUCH-SKU'] } }],
      });
      assert.equal(badRef.status, 422);
      assert.equal(badRef.body.details[0].field, 'rules[0].scope');
      const rewritten = await call('cole', 'PUT', `/agreements/${id}`, { ...draft, id, rules });
      assert.equal(rewritten.status, 200, JSON.stringify(rewritten.body));
      assert.deepEqual((await call('fin', 'GET', `/agreements/${id}`)).body.rules[0].tiers, [
        { from: '0', rate: '1.5' },
        { from: '80000', rate: '2.5' },
      ]);
      assert.equal((await call('fin', 'PUT', `/agreements/${id}`, { ...draft, id, rules })).status, 403);
      assert.equal((await call('carla', 'PUT', `/agreements/${id}`, { ...draft, id: 'OTHER' })).status, 400);
      await call('carla', 'POST', `/agreements/${id}/transitions`, { action: 'submit' });
      const submitted = await call('carla', 'PUT', `/agreements/${id}`, { ...draft, id, rules });
      assert.deepEqual([submitted.status, submitted.body.code], [409, 'not_editable']);
      await call('fin', 'POST', `/agreements/${id}/transitions`, {
        action: 'reject',
        comment: 'rates too high',
      });
      const again = await call('carla', 'PUT', `/agreements/${id}`, { ...draft, id, name: 'Lower rates' });
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'draft');
      const history = await server.store.db
        .selectFrom('agreement_status_changes')
        .select(['from_status', 'to_status'])
        .where('agreement_id', '=', id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        history.map((h) => `${h.from_status}>${h.to_status}`),
        ['draft>submitted', 'submitted>rejected', 'rejected>draft'],
      );
      const updates = await server.store.db
        .selectFrom('audit_log')
        .select('actor')
        .where('action', '=', 'agreement.update')
        .where('entity_id', '=', id)
        .execute();
      assert.deepEqual(
        updates.map((u) => u.actor),
        ['cole', 'carla'],
      );
    });

    test('an agreement expires after its last day, still settles, and is then closed', async () => {
      const id = 'API-FUTURE-1';
      // Ends next year, in a few quarters: within the periods an agreement may have.
      const end = `${new Date().getFullYear() + 1}-12-31`;
      const written = await call('carla', 'POST', '/agreements', {
        ...draft,
        id,
        period: { start: '2025-01-01', end },
      });
      assert.equal(written.status, 201, JSON.stringify(written.body));
      for (const [user, action] of [
        ['carla', 'submit'],
        ['cole', 'approve'],
        ['fin', 'activate'],
      ] as const)
        await call(user, 'POST', `/agreements/${id}/transitions`, { action });
      const early = await call('fin', 'POST', `/agreements/${id}/transitions`, { action: 'expire' });
      assert.deepEqual([early.status, early.body.code], [409, 'not_ended']);

      // DEMO-02-INCREMENTAL ran through 2025.
      const ended = 'DEMO-02-INCREMENTAL';
      assert.equal(
        (await call('carla', 'POST', `/agreements/${ended}/transitions`, { action: 'expire' })).status,
        403,
      );
      const expired = await call('fin', 'POST', `/agreements/${ended}/transitions`, { action: 'expire' });
      assert.deepEqual(expired.body, { id: ended, status: 'expired' });
      const settlement = await call('fin', 'GET', `/agreements/${ended}/settlement`);
      assert.equal(settlement.status, 200, 'an expired agreement still settles');
      assert.ok(settlement.body.results.length > 0);
      const closed = await call('fin', 'POST', `/agreements/${ended}/transitions`, { action: 'close' });
      assert.equal(closed.body.status, 'closed');
    });
  });
}
