// The agreement lifecycle over HTTP, on both stores: a draft written by one
// user is submitted, refused approval by its author (segregation of duties,
// enforced on the server), approved by another user, and starts accruing; every
// change is in the status history and the audit trail; a change that does not
// apply to the current status is refused with 409 and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runDemo } from '../src/demo/demo.service.ts';
import { apiCaller, listen, usersWithTokens } from './support/http.ts';
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
    let store: Awaited<ReturnType<typeof target.open>>;
    let app: FastifyInstance;
    const tokens: Record<string, string> = {};
    const server = { origin: '' };
    const call = apiCaller(server, tokens);
    const act = (user: string, action: string, comment?: string) =>
      call(user, 'POST', `/agreements/${draft.id}/transitions`, { action, ...(comment ? { comment } : {}) });

    before(async () => {
      store = await target.open();
      await runDemo(store, () => undefined);
      Object.assign(
        tokens,
        await usersWithTokens(store, {
          carla: { role: 'commercial' },
          cole: { role: 'commercial' },
          fin: { role: 'finance' },
          d1002: { role: 'partner', partnerId: 'D-1002' },
        }),
      );
      ({ app, origin: server.origin } = await listen(store));
    });
    after(async () => {
      await app.close();
      await store.dispose();
    });

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

      const history = await store.db
        .selectFrom('agreement_status_changes')
        .select(['from_status', 'to_status', 'changed_by'])
        .where('agreement_id', '=', draft.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        history.map((h) => `${h.from_status}>${h.to_status} by ${h.changed_by}`),
        ['draft>submitted by carla', 'submitted>approved by cole', 'approved>active by fin'],
      );
      const audited = await store.db
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
  });
}
