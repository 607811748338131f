// Bad input on every endpoint of the OpenAPI document, on both stores: wrong
// types and missing fields in each request body, wrong query parameters, bodies
// over the limit, and unknown ids are each answered with a 4xx that names what
// is wrong, and none of them changes anything in the store.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../src/store/database.ts';
import { demoServer } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const PUBLIC = new Set(['GET /api/v1/health', 'GET /api/v1/ready']);
/** Larger than any JSON body limit (1 MiB; 16 MiB for a batch of lines). */
const OVERSIZE = 17 * 1024 * 1024;
const UPLOAD_LIMIT = 64 * 1024;

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}
interface Operation {
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  parameters?: { name: string; in: string; schema: JsonSchema }[];
}

/** A value of the wrong type for a property of this schema. */
function wrongValue(schema: JsonSchema): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? schema.anyOf?.[0]?.type);
  if (schema.enum) return 'not-one-of-the-choices';
  if (type === 'string') return { not: 'a string' };
  if (type === 'number' || type === 'integer' || type === 'boolean') return 'not a number';
  return 12345;
}

/** Row counts of every table: what "nothing changed" is checked against. */
async function tableCounts(db: Database): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`.execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    if (name === 'idempotency_keys') continue;
    const row = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(name)}`.execute(db);
    counts[name] = Number(row.rows[0]!.n);
  }
  return counts;
}

for (const target of storeTargets()) {
  describe(`bad input on every endpoint (${target.name})`, () => {
    const server = demoServer(target, { ada: { role: 'admin' } }, { uploadBytesMax: UPLOAD_LIMIT });
    const { call, tokens } = server;
    const operations: [string, string, Operation][] = [];
    before(async () => {
      const doc = (await call('ada', 'GET', '/openapi.json')).body;
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>))
        for (const [m, op] of Object.entries(methods))
          if (!PUBLIC.has(`${m.toUpperCase()} ${path}`)) operations.push([m.toUpperCase(), path, op]);
    });

    /** A route's path with known ids, or with `unknown` ids. */
    const concrete = (path: string, ids: 'known' | 'unknown') => {
      // Imports and settlements are numbered; everything else has a text id.
      const numbered = /^\/api\/v1\/(imports|settlements|claims)\//.test(path);
      const known: Record<string, string> = {
        id: numbered ? '1' : 'DEMO-01-VOLUME',
        sku: 'PT-100',
        version: '2',
        purpose: 'rebate_expense',
        attachment: '1',
      };
      const unknown: Record<string, string> = {
        id: numbered ? '999999' : 'NO-SUCH-ID',
        sku: 'NO-SUCH-ID',
        version: '99',
        attachment: '999999',
      };
      return path
        .replace('/api/v1', '')
        .replace(/\{(\w+)\}/g, (_, name: string) => (ids === 'unknown' ? unknown[name] : known[name]) ?? 'x');
    };

    test('wrong types and missing fields in every JSON body name the field, and change nothing', async () => {
      const before = await tableCounts(server.store.db);
      let checked = 0;
      for (const [method, path, op] of operations) {
        const schema = op.requestBody?.content['application/json']?.schema;
        if (!schema?.properties) continue;
        const target = concrete(path, 'known');
        for (const [field, property] of Object.entries(schema.properties)) {
          const answer = await call('ada', method, target, { [field]: wrongValue(property) });
          assert.equal(
            answer.status,
            400,
            `${method} ${path} with a wrong ${field}: ${JSON.stringify(answer.body)}`,
          );
          assert.ok(
            answer.body.details.some((d: { field?: string }) => d.field === field),
            `${method} ${path} names ${field}: ${JSON.stringify(answer.body.details)}`,
          );
          checked += 1;
        }
        for (const field of schema.required ?? []) {
          const answer = await call('ada', method, target, {});
          assert.equal(answer.status, 400, `${method} ${path} without ${field}`);
          assert.ok(
            answer.body.details.some((d: { field?: string }) => d.field === field),
            `${method} ${path} names ${field}`,
          );
        }
        const notAnObject = await call('ada', method, target, ['an', 'array']);
        assert.equal(notAnObject.status, 400, `${method} ${path} with an array body`);
      }
      assert.ok(checked >= 40, `fields checked: ${checked}`);
      assert.deepEqual(await tableCounts(server.store.db), before);
    });

    test('wrong query parameters are named', async () => {
      let checked = 0;
      for (const [method, path, op] of operations) {
        // A mutating route checks its body first; its query parameters are tested with the route.
        if (method !== 'GET') continue;
        for (const parameter of (op.parameters ?? []).filter((p) => p.in === 'query')) {
          const value = ['limit', 'offset'].includes(parameter.name) ? '-5' : 'no-such-%00-value';
          if (
            parameter.schema.type === 'string' &&
            !parameter.schema.enum &&
            !['asOf', 'from', 'to', 'import'].includes(parameter.name)
          )
            continue;
          const answer = await call('ada', method, `${concrete(path, 'known')}?${parameter.name}=${value}`);
          assert.equal(
            answer.status,
            400,
            `${method} ${path}?${parameter.name}=${value}: ${JSON.stringify(answer.body)}`,
          );
          assert.ok(
            answer.body.details.some((d: { field: string }) => d.field === parameter.name),
            `${method} ${path} names ${parameter.name}`,
          );
          checked += 1;
        }
      }
      assert.ok(checked >= 15, `parameters checked: ${checked}`);
    });

    test('bodies over the limit are refused with 413, and change nothing', async () => {
      const before = await tableCounts(server.store.db);
      const huge = JSON.stringify({ name: 'x'.repeat(OVERSIZE) });
      let checked = 0;
      for (const [method, path] of operations) {
        if (method === 'GET' || path === '/api/v1/imports') continue;
        const response = await fetch(`${server.origin}${concrete(path, 'known').replace(/^/, '/api/v1')}`, {
          method,
          headers: { authorization: `Bearer ${tokens.ada}`, 'content-type': 'application/json' },
          body: huge,
        });
        const body = (await response.json()) as { code: string };
        assert.deepEqual([response.status, body.code], [413, 'body_too_large'], `${method} ${path}`);
        checked += 1;
      }
      assert.ok(checked >= 15);
      const form = new FormData();
      form.append('kind', 'transactions');
      form.append('file', new Blob(['x'.repeat(UPLOAD_LIMIT + 1)], { type: 'text/csv' }), 'big.csv');
      const upload = await fetch(`${server.origin}/api/v1/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.ada}` },
        body: form,
      });
      assert.equal(upload.status, 413);
      assert.equal(((await upload.json()) as { code: string }).code, 'body_too_large');
      assert.deepEqual(await tableCounts(server.store.db), before);
    });

    test('unknown ids are answered with 404 on every route that takes one, and change nothing', async () => {
      const before = await tableCounts(server.store.db);
      let checked = 0;
      for (const [method, path, op] of operations) {
        if (!path.includes('{')) continue;
        const schema = op.requestBody?.content['application/json']?.schema;
        // A body the route accepts, so the id is what is wrong.
        const body = schema
          ? (
              {
                'PUT /api/v1/agreements/{id}': {},
                'POST /api/v1/settlements/{id}/transitions': { action: 'approve' },
                'POST /api/v1/claims/{id}/comments': { text: 'x' },
                'POST /api/v1/claims/{id}/dispute': { reasonCode: 'other', comment: 'x' },
                'POST /api/v1/claims/{id}/resolution': { resolution: 'uphold', comment: 'x' },
                'POST /api/v1/claims/{id}/settlement': {},
                'PUT /api/v1/ledger-accounts/{purpose}': { account: '1', name: 'x' },
                'POST /api/v1/agreements/{id}/transitions': { action: 'approve' },
                'POST /api/v1/agreements/{id}/amendments': {
                  effectiveFrom: '2025-06-01',
                  rules: [{ tiers: [{ from: '0', rate: '1' }] }],
                },
                'POST /api/v1/agreements/{id}/amendments/{version}/transitions': { action: 'approve' },
                'POST /api/v1/agreements/{id}/sign-offs': {},
                'PUT /api/v1/partners/{id}': { name: 'x' },
                'PUT /api/v1/products/{sku}': { name: 'x', category: 'y' },
                'PUT /api/v1/agreement-templates/{id}': {
                  name: 'x',
                  rules: [{ tiers: [{ from: '0', rate: '1' }] }],
                },
              } as Record<string, unknown>
            )[`${method} ${path}`]
          : undefined;
        if (schema) assert.ok(body, `a valid body for ${method} ${path}`);
        // Required query parameters, so the id is what is wrong.
        const query = path.endsWith('/statement') ? '?from=2025-01-01&to=2025-12-31' : '';
        const answer = await call('ada', method, `${concrete(path, 'unknown')}${query}`, body);
        // A path parameter from a fixed list (a ledger account's purpose) is bad input, named.
        const listed = (op.parameters ?? []).find((p) => p.in === 'path' && p.schema.enum);
        if (listed) {
          assert.equal(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.details[0].field, listed.name);
        } else {
          assert.equal(answer.status, 404, `${method} ${path}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.code, 'not_found');
        }
        checked += 1;
      }
      assert.ok(checked >= 15, `routes checked: ${checked}`);
      assert.deepEqual(await tableCounts(server.store.db), before);
    });
  });
}
