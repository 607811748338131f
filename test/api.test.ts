// The HTTP API over real HTTP against both stores: lists page, sort and filter;
// unknown ids are 404 and bad parameters 400, each as {code, message, details}
// naming the parameter; the OpenAPI document describes every route; positions
// read over HTTP are the ones the store calculates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { readAccruals } from '../src/accruals/accruals.service.ts';
import { runDemo } from '../src/demo/demo.service.ts';
import { listen, usersWithTokens } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

for (const target of storeTargets()) {
  describe(`API (${target.name})`, () => {
    let store: Awaited<ReturnType<typeof target.open>>;
    let app: FastifyInstance;
    let base: string;
    let token: string;
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
      // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field below
      return { status: response.status, headers: response.headers, body: (await response.json()) as any };
    };

    before(async () => {
      store = await target.open();
      await runDemo(store, () => undefined);
      token = (await usersWithTokens(store, { admin: { role: 'admin' } })).admin!;
      ({ app, origin: base } = await listen(store));
      base = `${base}/api/v1`;
    });
    after(async () => {
      await app.close();
      await store.dispose();
    });

    test('health, readiness and a request id on every answer', async () => {
      assert.deepEqual((await get('/health')).body, { status: 'ok' });
      const ready = await get('/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready', store: store.kind });
      const echoed = await get('/health', { 'x-request-id': 'req-42' });
      assert.equal(echoed.headers.get('x-request-id'), 'req-42');
      assert.match((await get('/health')).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });

    test('partners page, sort and filter, with the total', async () => {
      const all = await get('/partners?limit=1000');
      assert.equal(all.status, 200);
      assert.equal(all.body.total, 10);
      assert.deepEqual(
        all.body.items.map((p: { id: string }) => p.id),
        [...all.body.items.map((p: { id: string }) => p.id)].sort(),
      );
      const page = await get('/partners?limit=3&offset=3&sort=-name');
      const byName = [...all.body.items].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      assert.deepEqual(
        page.body.items.map((p: { id: string }) => p.id),
        byName.slice(3, 6).map((p) => p.id),
      );
      assert.deepEqual([page.body.total, page.body.limit, page.body.offset], [10, 3, 3]);
      const group = await get('/partners?group=G-PBA');
      assert.deepEqual(
        group.body.items.map((p: { id: string }) => p.id),
        ['D-1004', 'D-1005', 'D-1006'],
      );
      const search = await get('/partners?q=hardware');
      assert.deepEqual(
        search.body.items.map((p: { id: string }) => p.id),
        ['D-1006', 'D-1007', 'D-1008'],
      );
      // % and _ are literal in a search, not wildcards.
      assert.equal((await get('/partners?q=%25')).body.total, 0);
      const one = await get('/partners/D-1004');
      assert.deepEqual(one.body, {
        id: 'D-1004',
        name: 'Summit Builders Depot',
        group: 'G-PBA',
        region: 'NA',
        attributes: {},
      });
    });

    test('products and agreements list and read one', async () => {
      const tools = await get('/products?category=hand-tools&sort=sku');
      assert.ok(tools.body.total > 0);
      assert.ok(tools.body.items.every((p: { category: string }) => p.category === 'hand-tools'));
      const drill = await get('/products/PT-100');
      assert.equal(drill.body.name, 'Cordless drill 18V');
      assert.equal(drill.body.listPrice, '149.00');
      const agreements = await get('/agreements?limit=1000');
      assert.ok(agreements.body.total > 0);
      const first = agreements.body.items[0];
      const detail = await get(`/agreements/${encodeURIComponent(first.id)}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.id, first.id);
      assert.deepEqual(detail.body.period, { start: first.start, end: first.end });
      assert.ok(detail.body.rules.length > 0);
      assert.ok(detail.body.rules.every((r: { tiers: unknown[] }) => r.tiers.length > 0));
    });

    test('accrual positions over HTTP are the store’s, as exact decimal text', async () => {
      const positions = await readAccruals(store);
      const answer = await get('/accruals?limit=1000');
      assert.equal(answer.body.total, positions.length);
      assert.deepEqual(
        answer.body.items.map((p: { agreement: string; rebate: string }) => `${p.agreement} ${p.rebate}`),
        positions.map((p) => `${p.agreementId} ${p.rebate.toString()}`),
      );
      const one = await get(`/accruals?agreement=${encodeURIComponent(positions[0]!.agreementId)}`);
      assert.ok(
        one.body.items.every((p: { agreement: string }) => p.agreement === positions[0]!.agreementId),
      );
    });

    test('unknown ids and routes are 404, bad parameters 400 naming the parameter, and change nothing', async () => {
      const missing = await get('/partners/NOPE');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { code: 'not_found', message: 'no partner "NOPE"' });
      assert.equal((await get('/agreements/NOPE')).status, 404);
      assert.equal((await get('/products/NOPE')).body.code, 'not_found');
      const route = await get('/nothing-here');
      assert.equal(route.status, 404);
      assert.equal(route.body.code, 'not_found');
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=abc', 'limit'],
        [`limit=${10_000}`, 'limit'],
        ['offset=-1', 'offset'],
        ['sort=colour', 'sort'],
      ]) {
        const bad = await get(`/partners?${query}`);
        assert.equal(bad.status, 400, query);
        assert.equal(bad.body.code, 'invalid_request');
        assert.equal(bad.body.details[0].field, field, query);
        assert.match(bad.body.message, new RegExp(`^${field}: `));
      }
      assert.equal((await get('/partners?limit=1000')).body.total, 10);
    });

    test('the OpenAPI document describes every route', async () => {
      const doc = await get('/openapi.json');
      assert.equal(doc.body.openapi.slice(0, 2), '3.');
      for (const path of [
        '/api/v1/health',
        '/api/v1/ready',
        '/api/v1/partners',
        '/api/v1/partners/{id}',
        '/api/v1/products',
        '/api/v1/products/{sku}',
        '/api/v1/agreements',
        '/api/v1/agreements/{id}',
        '/api/v1/accruals',
      ]) {
        assert.ok(doc.body.paths[path]?.get, `${path} is documented`);
      }
      const limit = doc.body.paths['/api/v1/partners'].get.parameters.find(
        (p: { name: string }) => p.name === 'limit',
      );
      assert.equal(limit.schema.maximum, 1000);
      const docs = await fetch(`${base}/docs/`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
    });
  });
}
