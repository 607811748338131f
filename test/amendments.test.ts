// Amendments over HTTP, on both stores: an active agreement changes only through
// a new version that someone other than its author approves; once approved, each
// line is calculated under the version in force on its date (the quarter the
// effective date cuts is settled in two parts), earlier versions stay readable,
// and the partner signs off the terms agreed last. The expected rebates are
// worked out here from the stored lines with plain SQL sums.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { verifyAudit } from '../src/audit/audit.service.ts';
import { explainAgreement } from '../src/settlements/explain.ts';
import { Decimal } from '../src/shared/decimal.ts';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const ID = 'AMEND-1';
const rule = (rate: string) => ({
  id: 'volume',
  type: 'volume',
  basis: 'amount',
  method: 'retroactive',
  payout: 'percent',
  tiers: [{ from: '0', rate }],
});
const _agreement = {
  id: ID,
  name: 'Coastal Tool 2025 volume',
  partner: 'D-1002',
  currency: 'USD',
  period: { start: '2025-01-01', end: '2025-12-31' },
  calendar: 'quarterly',
  rules: [rule('1')],
};

const agreement = {
  id: ID,
  name: 'Coastal Tool 2025 volume',
  partner: 'D-1002',
  currency: 'USD',
  period: { start: '2025-01-01', end: '2025-12-31' },
  calendar: 'quarterly',
  rules: [rule('1')],
};

for (const target of storeTargets()) {
  describe(`amendments and sign-off (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      cole: { role: 'commercial' },
      fin: { role: 'finance' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
      d1001: { role: 'partner', partnerId: 'D-1001' },
    });
    const { call } = server;
    before(async () => {
      assert.equal((await call('carla', 'POST', '/agreements', agreement)).status, 201);
    });
    /** What `rate` percent of D-1002's USD lines dated in the window pays, rounded to the cent. */
    const expected = async (start: string, end: string, rate: string) => {
      const row = await sql<{ amount: string | null }>`
        SELECT sum(amount)::text AS amount FROM transactions
        WHERE partner_id = 'D-1002' AND currency = 'USD' AND line_date BETWEEN ${start}::date AND ${end}::date`.execute(
        server.store.db,
      );
      const amount = Decimal.parse(row.rows[0]?.amount ?? '0');
      return amount.mul(Decimal.parse(rate)).shift(2).roundHalfAwayFromZero(2).toFixedScale(2);
    };
    const positions = async () =>
      (await call('fin', 'GET', `/accruals?agreement=${ID}`)).body.items.map(
        (p: { version: number; periodStart: string; periodEnd: string; rebate: string }) =>
          `v${p.version} ${p.periodStart}..${p.periodEnd} ${p.rebate}`,
      );

    test('a draft is not amended; an approved agreement is', async () => {
      const early = await call('carla', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: '2025-05-15',
        rules: [rule('3')],
      });
      assert.equal(early.status, 409);
      assert.equal(early.body.code, 'not_amendable');
      for (const [user, action] of [
        ['carla', 'submit'],
        ['cole', 'approve'],
        ['fin', 'activate'],
      ] as const)
        assert.equal((await call(user, 'POST', `/agreements/${ID}/transitions`, { action })).status, 200);
    });

    test('bad amendments are refused with the field at fault, and change nothing', async () => {
      const badTiers = await call('carla', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: '2025-05-15',
        rules: [
          {
            ...rule('3'),
            tiers: [
              { from: '100', rate: '1' },
              { from: '50', rate: '2' },
            ],
          },
        ],
      });
      assert.equal(badTiers.status, 422);
      assert.equal(badTiers.body.code, 'invalid_amendment');
      assert.equal(badTiers.body.details[0].field, 'rules[0].tiers[1].from');
      const outside = await call('carla', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: '2026-02-01',
        rules: [rule('3')],
      });
      assert.equal(outside.status, 422);
      assert.equal(outside.body.details[0].field, 'effectiveFrom');
      const wrongType = await call('carla', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: 20250515,
        rules: [rule('3')],
      });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.details[0].field, 'effectiveFrom');
      assert.equal(
        (
          await call('fin', 'POST', `/agreements/${ID}/amendments`, {
            effectiveFrom: '2025-05-15',
            rules: [rule('3')],
          })
        ).status,
        403,
        'finance approves amendments but does not write them',
      );
      assert.equal(
        (
          await call('d1002', 'POST', `/agreements/${ID}/amendments`, {
            effectiveFrom: '2025-05-15',
            rules: [rule('3')],
          })
        ).status,
        404,
      );
      const versions = await server.store.db.selectFrom('agreement_versions').selectAll().execute();
      assert.equal(versions.length, 0, 'nothing was written');
    });

    test('an approved amendment recalculates each line under the version in force on its date', async () => {
      const before = await positions();
      assert.deepEqual(before, [
        `v1 2025-01-01..2025-03-31 ${await expected('2025-01-01', '2025-03-31', '1')}`,
        `v1 2025-04-01..2025-06-30 ${await expected('2025-04-01', '2025-06-30', '1')}`,
        `v1 2025-07-01..2025-09-30 ${await expected('2025-07-01', '2025-09-30', '1')}`,
        `v1 2025-10-01..2025-12-31 ${await expected('2025-10-01', '2025-12-31', '1')}`,
      ]);
      assert.notEqual(await expected('2025-05-15', '2025-06-30', '3'), '0.00', 'the demo has lines to move');

      const amended = await call('carla', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: '2025-05-15',
        end: '2026-03-31',
        rules: [rule('3')],
        comment: 'rate raised from mid-May, program extended by a quarter',
      });
      assert.equal(amended.status, 201, JSON.stringify(amended.body));
      assert.equal(amended.body.version, 2);
      assert.equal(amended.body.status, 'submitted');
      assert.deepEqual(await positions(), before, 'a submitted amendment changes nothing yet');
      const second = await call('cole', 'POST', `/agreements/${ID}/amendments`, {
        effectiveFrom: '2025-07-01',
        rules: [rule('4')],
      });
      assert.equal(second.status, 409);
      assert.equal(second.body.code, 'amendment_pending');

      const own = await call('carla', 'POST', `/agreements/${ID}/amendments/2/transitions`, {
        action: 'approve',
      });
      assert.equal(own.status, 403);
      assert.equal(own.body.code, 'segregation_of_duties');
      const approved = await call('fin', 'POST', `/agreements/${ID}/amendments/2/transitions`, {
        action: 'approve',
        comment: 'matches the signed letter',
      });
      assert.equal(approved.status, 200);
      assert.equal(approved.body.status, 'approved');
      assert.equal(approved.body.decidedBy, 'fin');
      assert.equal(
        (await call('cole', 'POST', `/agreements/${ID}/amendments/2/transitions`, { action: 'reject' }))
          .status,
        409,
        'decided once',
      );

      assert.deepEqual(await positions(), [
        `v1 2025-01-01..2025-03-31 ${await expected('2025-01-01', '2025-03-31', '1')}`,
        `v1 2025-04-01..2025-05-14 ${await expected('2025-04-01', '2025-05-14', '1')}`,
        `v2 2025-05-15..2025-06-30 ${await expected('2025-05-15', '2025-06-30', '3')}`,
        `v2 2025-07-01..2025-09-30 ${await expected('2025-07-01', '2025-09-30', '3')}`,
        `v2 2025-10-01..2025-12-31 ${await expected('2025-10-01', '2025-12-31', '3')}`,
        `v2 2026-01-01..2026-03-31 ${await expected('2026-01-01', '2026-03-31', '3')}`,
      ]);

      const explanation = await explainAgreement(server.store.db, ID, '2026-11-23');
      assert.match(explanation, /Rule volume \(version 2, in force 2025-05-15 to 2026-03-31\)/);
    });

    test('every version stays readable; the agreement shows the terms agreed last', async () => {
      const versions = (await call('d1002', 'GET', `/agreements/${ID}/versions`)).body.items;
      assert.deepEqual(
        versions.map((v: { version: number; status: string; effectiveFrom: string; createdBy: string }) => [
          v.version,
          v.status,
          v.effectiveFrom,
          v.createdBy,
        ]),
        [
          [1, 'approved', '2025-01-01', 'carla'],
          [2, 'approved', '2025-05-15', 'carla'],
        ],
      );
      assert.equal(versions[0].terms.rules[0].tiers[0].rate, '1');
      assert.equal(versions[0].terms.period.end, '2025-12-31');
      assert.equal(versions[1].terms.rules[0].tiers[0].rate, '3');
      const current = (await call('fin', 'GET', `/agreements/${ID}`)).body;
      assert.equal(current.version, 2);
      assert.equal(current.effectiveFrom, '2025-05-15');
      assert.equal(current.period.end, '2026-03-31');
      assert.equal(current.rules[0].tiers[0].rate, '3');
      const listed = (await call('fin', 'GET', `/agreements?q=${ID}`)).body.items[0];
      assert.equal(listed.end, '2026-03-31', 'the list shows the dates the terms now cover');
      assert.equal((await call('d1001', 'GET', `/agreements/${ID}/versions`)).status, 404);
    });

    test('the partner signs off the terms agreed last, once; others cannot', async () => {
      assert.equal((await call('carla', 'POST', `/agreements/${ID}/sign-offs`, {})).status, 403);
      assert.equal((await call('d1001', 'POST', `/agreements/${ID}/sign-offs`, {})).status, 404);
      const signed = await call('d1002', 'POST', `/agreements/${ID}/sign-offs`, { comment: 'accepted' });
      assert.equal(signed.status, 201);
      assert.equal(signed.body.version, 2);
      assert.equal(signed.body.signedBy, 'd1002');
      const again = await call('d1002', 'POST', `/agreements/${ID}/sign-offs`, {});
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'already_signed_off');
      const shown = (await call('fin', 'GET', `/agreements/${ID}`)).body.signOffs;
      assert.deepEqual(
        shown.map((s: { version: number; signedBy: string }) => `${s.signedBy} v${s.version}`),
        ['d1002 v2'],
      );
    });

    test('amendments, decisions and sign-offs are in the audit trail, and the chain holds', async () => {
      const actions = (
        await server.store.db
          .selectFrom('audit_log')
          .select(['action', 'actor'])
          .where('entity_id', '=', ID)
          .orderBy('seq')
          .execute()
      ).map((a) => `${a.action} by ${a.actor}`);
      assert.deepEqual(actions.slice(-3), [
        'agreement.amend by carla',
        'agreement.amendment.approve by fin',
        'agreement.sign_off by d1002',
      ]);
      assert.equal((await verifyAudit(server.store.db)).broken, undefined);
    });
  });
}
