// Agreement templates over HTTP, on both stores: the commercial team keeps them,
// other internal users read them, partners do not see them; a new agreement
// copies a template's calendar, currency and rules, and keeps them when the
// template changes later.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const monthly = {
  id: 'MONTHLY-UNITS',
  name: 'Monthly units',
  calendar: 'monthly',
  currency: 'EUR',
  rules: [
    {
      id: 'units',
      basis: 'quantity',
      payout: 'per_unit',
      tiers: [
        { from: '0', rate: '0.50' },
        { from: '1000', rate: '0.75' },
      ],
    },
  ],
};

for (const target of storeTargets()) {
  describe(`agreement templates (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      sam: { role: 'sales' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;

    test('the demo brings templates; internal users read them, partners do not', async () => {
      const list = await call('sam', 'GET', '/agreement-templates');
      assert.deepEqual(
        list.body.items.map((t: { id: string; calendar: string }) => `${t.id} ${t.calendar}`),
        ['ANNUAL-GROWTH yearly', 'QUARTERLY-VOLUME quarterly'],
      );
      assert.equal((await call('d1002', 'GET', '/agreement-templates')).status, 403);
      assert.equal((await call('d1002', 'GET', '/agreement-templates/QUARTERLY-VOLUME')).status, 403);
      assert.equal((await call('sam', 'GET', '/agreement-templates/NOPE')).status, 404);
    });

    test('written by the commercial team, validated like agreement rules, replaced with PUT', async () => {
      assert.equal((await call('sam', 'POST', '/agreement-templates', monthly)).status, 403);
      const bad = await call('carla', 'POST', '/agreement-templates', {
        ...monthly,
        rules: [
          {
            ...monthly.rules[0],
            tiers: [
              { from: '5', rate: '1' },
              { from: '1', rate: '2' },
            ],
          },
        ],
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.details[0].field, 'rules[0].tiers[1].from');
      const written = await call('carla', 'POST', '/agreement-templates', monthly);
      assert.equal(written.status, 201);
      assert.equal(written.body.createdBy, 'carla');
      assert.equal((await call('carla', 'POST', '/agreement-templates', monthly)).status, 409);

      const agreement = await call('carla', 'POST', '/agreements', {
        id: 'FROM-TEMPLATE-1',
        name: 'Coastal Tool monthly units',
        partner: 'D-1002',
        period: { start: '2025-01-01', end: '2025-06-30' },
        template: 'MONTHLY-UNITS',
      });
      assert.equal(agreement.status, 201, JSON.stringify(agreement.body));
      assert.equal(agreement.body.calendar, 'monthly');
      assert.equal(agreement.body.currency, 'EUR');
      assert.deepEqual(
        agreement.body.rules[0].tiers.map((t: { rate: string }) => t.rate),
        ['0.5', '0.75'],
      );

      const replaced = await call('carla', 'PUT', '/agreement-templates/MONTHLY-UNITS', {
        ...monthly,
        id: undefined,
        rules: [{ ...monthly.rules[0], tiers: [{ from: '0', rate: '0.60' }] }],
      });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal(replaced.body.rules[0].tiers[0].rate, '0.6');
      const kept = await call('carla', 'GET', '/agreements/FROM-TEMPLATE-1');
      assert.equal(
        kept.body.rules[0].tiers[0].rate,
        '0.5',
        'an agreement keeps the terms it was written with',
      );
      assert.equal(
        (await call('carla', 'PUT', '/agreement-templates/NOPE', monthly)).status,
        400,
        'no id in a PUT body',
      );

      const unknown = await call('carla', 'POST', '/agreements', {
        id: 'FROM-TEMPLATE-2',
        partner: 'D-1002',
        period: { start: '2025-01-01', end: '2025-06-30' },
        template: 'NOPE',
      });
      assert.equal(unknown.status, 422);
      assert.equal(unknown.body.details[0].field, 'template');

      const audited = await server.store.db
        .selectFrom('audit_log')
        .select(['action', 'before'])
        .where('entity', '=', 'agreement_template')
        .where('entity_id', '=', 'MONTHLY-UNITS')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        audited.map((a) => a.action),
        ['template.create', 'template.update'],
      );
      assert.match(audited[1]!.before!, /"0\.5"/, 'the replaced terms are kept in the trail');
    });
  });
}
