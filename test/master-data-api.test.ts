// Partners and products written over HTTP, on both stores: checked as imported
// rows are, refused to roles that do not keep master data, audited, and a change
// that moves lines between agreements (a partner leaving a buying group, a
// product changing brand) recalculates the accruals it touches at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`partners and products over HTTP (${target.name})`, () => {
    const server = demoServer(target, {
      carla: { role: 'commercial' },
      sam: { role: 'sales' },
      fin: { role: 'finance' },
      d1002: { role: 'partner', partnerId: 'D-1002' },
    });
    const { call } = server;
    /** The stored lines a partner set has for the given SKUs (all when none given), counted in SQL. */
    const lineCount = async (partners: string[], start: string, end: string, skus?: string[]) => {
      const row = await sql<{ n: string }>`
        SELECT count(*)::text AS n FROM transactions
        WHERE partner_id = ANY(${partners}) AND currency = 'USD' AND line_date BETWEEN ${start}::date AND ${end}::date
          ${skus ? sql`AND sku = ANY(${skus})` : sql``}`.execute(server.store.db);
      return Number(row.rows[0]!.n);
    };
    const positionLines = async (agreement: string) =>
      (await call('fin', 'GET', `/accruals?agreement=${agreement}`)).body.items.reduce(
        (sum: number, p: { lineCount: number }) => sum + p.lineCount,
        0,
      );

    test('a new partner and product, checked as imported rows are', async () => {
      const partner = {
        id: 'D-2001',
        name: 'Delta Supply',
        group: 'G-PBA',
        region: 'NA',
        attributes: { tier: 'gold' },
      };
      for (const user of ['sam', 'fin', 'd1002'])
        assert.equal(
          (await call(user, 'POST', '/partners', partner)).status,
          403,
          `${user} keeps no master data`,
        );
      const blank = await call('carla', 'POST', '/partners', { ...partner, name: '  ' });
      assert.equal(blank.status, 422);
      assert.equal(blank.body.details[0].field, 'name');
      const wrongType = await call('carla', 'POST', '/partners', { ...partner, region: 7 });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.details[0].field, 'region');
      const written = await call('carla', 'POST', '/partners', partner);
      assert.equal(written.status, 201, JSON.stringify(written.body));
      assert.deepEqual(written.body, partner);
      assert.equal((await call('carla', 'POST', '/partners', partner)).status, 409);
      assert.deepEqual((await call('sam', 'GET', '/partners/D-2001')).body, partner);

      const product = { sku: 'PT-900', name: 'Laser level', category: 'power-tools', listPrice: '199.00' };
      const badPrice = await call('carla', 'POST', '/products', { ...product, listPrice: '-1' });
      assert.equal(badPrice.status, 422);
      assert.equal(badPrice.body.details[0].field, 'list_price');
      const stored = await call('carla', 'POST', '/products', product);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
      assert.equal(stored.body.listPrice, '199.00');
      assert.equal((await call('carla', 'PUT', '/products/NOPE', { name: 'x', category: 'y' })).status, 404);
    });

    test("a partner leaving its buying group leaves the group's accruals at once", async () => {
      const members = ['D-1004', 'D-1005', 'D-1006'];
      const window = ['2024-01-01', '2025-12-31'] as const;
      // DEMO-04-GROWTH is G-PBA's: its positions count the members' lines in its periods.
      const before = await positionLines('DEMO-04-GROWTH');
      assert.ok(before > 0);
      const moved = await call('carla', 'PUT', '/partners/D-1006', {
        name: 'Keystone Hardware',
        region: 'NA',
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.equal(moved.body.group, null);
      const left = await lineCount(['D-1006'], ...window);
      assert.ok(left > 0, 'the partner had lines to take away');
      const after = await positionLines('DEMO-04-GROWTH');
      assert.equal(
        before - after,
        (await lineCount(members, '2025-01-01', '2025-12-31')) -
          (await lineCount(members.slice(0, 2), '2025-01-01', '2025-12-31')),
        "exactly the partner's lines in the agreement's periods left it",
      );
      const audit = await server.store.db
        .selectFrom('audit_log')
        .select(['before', 'after', 'actor'])
        .where('action', '=', 'partner.update')
        .where('entity_id', '=', 'D-1006')
        .executeTakeFirstOrThrow();
      assert.match(audit.before!, /"buying_group":"G-PBA"/);
      assert.match(audit.after!, /"buying_group":null/);
      assert.equal(audit.actor, 'carla');
    });

    test("a product changing brand moves its lines out of a brand rule's accruals", async () => {
      // DEMO-07-GROUP-BRAND pays on Apex products of G-ACE's members.
      const before = await positionLines('DEMO-07-GROUP-BRAND');
      const changed = await call('carla', 'PUT', '/products/PT-100', {
        name: 'Cordless drill 18V',
        category: 'power-tools',
        listPrice: '149.00',
        attributes: { brand: 'Forge' },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const after = await positionLines('DEMO-07-GROUP-BRAND');
      const agreement = (await call('fin', 'GET', '/agreements/DEMO-07-GROUP-BRAND')).body;
      const drillLines = await lineCount(
        ['D-1007', 'D-1008', 'D-1009'],
        agreement.period.start,
        agreement.period.end,
        ['PT-100'],
      );
      assert.ok(drillLines > 0, 'the drill had lines to take away');
      assert.equal(before - after, drillLines);
    });
  });
}
