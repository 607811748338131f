// Signing in, and who sees what, over real HTTP against both stores: every
// route but the public ones refuses a request without valid credentials; a
// login sets an HTTP-only session cookie, a logout ends it, API tokens work as
// bearer tokens; logins are rate limited; and a partner user sees only its own
// partner's (or group's) records, getting 404 for anyone else's — on every
// data endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { runDemo } from '../src/demo/demo.service.ts';
import { openStore } from '../src/store/database.ts';
import { commandLine, listen, TEST_PASSWORD, usersWithTokens } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const PUBLIC = new Set(['GET /api/v1/health', 'GET /api/v1/ready', 'POST /api/v1/sessions']);

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  body: any;
}

for (const target of storeTargets()) {
  describe(`sign-in and access (${target.name})`, () => {
    let store: Awaited<ReturnType<typeof target.open>>;
    let app: FastifyInstance;
    let origin: string;
    const tokens: Record<string, string> = {};
    const call = async (
      method: string,
      path: string,
      options: { token?: string; cookie?: string; body?: unknown } = {},
    ): Promise<Answer> => {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.cookie) headers.cookie = options.cookie;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${origin}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    };
    const as = (user: string, path: string) => call('GET', path, { token: tokens[user]! });
    const login = (username: string, password: string) =>
      call('POST', '/api/v1/sessions', { body: { username, password } });

    before(async () => {
      store = await target.open();
      await runDemo(store, () => undefined);
      Object.assign(
        tokens,
        await usersWithTokens(store, {
          admin: { role: 'admin' },
          auditor: { role: 'auditor' },
          d1001: { role: 'partner', partnerId: 'D-1001' },
          d1004: { role: 'partner', partnerId: 'D-1004' },
          pba: { role: 'partner', buyingGroup: 'G-PBA' },
        }),
      );
      ({ app, origin } = await listen(store));
    });
    after(async () => {
      await app.close();
      await store.dispose();
    });

    test('every route but the public ones refuses a request without valid credentials', async () => {
      const doc = (await call('GET', '/api/v1/openapi.json')).body;
      const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
      );
      assert.ok(routes.length >= 12);
      let refused = 0;
      for (const route of routes) {
        if (PUBLIC.has(route)) continue;
        const [method, template] = route.split(' ') as [string, string];
        const path = template.replace(/\{[^}]+\}/g, 'D-1001');
        const body = method === 'POST' ? { name: 'x' } : undefined;
        for (const credentials of [{}, { token: 'not-a-token' }, { cookie: 'rebates_session=forged' }]) {
          const answer = await call(method, path, { ...credentials, body });
          assert.equal(answer.status, 401, `${route} with ${JSON.stringify(credentials)}`);
          assert.equal(answer.body.code, 'unauthenticated');
        }
        refused += 1;
      }
      assert.equal(refused, routes.length - PUBLIC.size);
    });

    test('a login sets an HTTP-only session cookie; a logout ends the session', async () => {
      const wrong = await login('admin', 'not the password');
      const unknown = await login('nobody', TEST_PASSWORD);
      assert.equal(wrong.status, 401);
      assert.deepEqual(unknown.body, wrong.body, 'a wrong user and a wrong password are answered alike');
      const ok = await login('auditor', TEST_PASSWORD);
      assert.equal(ok.status, 201);
      assert.equal(ok.body.role, 'auditor');
      const setCookie = ok.headers.get('set-cookie') ?? '';
      assert.match(setCookie, /^rebates_session=[^;]+;/);
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Strict/i);
      const cookie = setCookie.split(';')[0]!;
      assert.equal((await call('GET', '/api/v1/me', { cookie })).body.username, 'auditor');
      assert.equal((await call('DELETE', '/api/v1/sessions/current', { cookie })).status, 204);
      assert.equal((await call('GET', '/api/v1/me', { cookie })).status, 401);
    });

    test('API tokens are shown once and stored only as hashes; passwords only as scrypt hashes', async () => {
      const made = await call('POST', '/api/v1/tokens', { token: tokens.admin!, body: { name: 'erp sync' } });
      assert.equal(made.status, 201);
      assert.equal((await call('GET', '/api/v1/me', { token: made.body.token })).body.username, 'admin');
      const stored = await sql<{ t: string }>`SELECT token_hash AS t FROM credentials`.execute(store.db);
      assert.ok(stored.rows.every((r) => r.t !== made.body.token && /^[0-9a-f]{64}$/.test(r.t)));
      const hashes = await sql<{ h: string }>`SELECT password_hash AS h FROM users`.execute(store.db);
      assert.ok(hashes.rows.every((r) => r.h.startsWith('scrypt$') && !r.h.includes(TEST_PASSWORD)));
    });

    test('logins are limited to five a minute per address and user', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await login('d1001', 'wrong password')).status, 401);
      const blocked = await login('d1001', TEST_PASSWORD);
      assert.equal(blocked.status, 429);
      assert.equal(blocked.body.code, 'too_many_requests');
      assert.equal((await login('d1004', TEST_PASSWORD)).status, 201, 'another user is not blocked');
    });

    test('a partner user sees only its own partner; a group user its group; others get 404', async () => {
      const ids = (answer: Answer, key = 'id') =>
        answer.body.items.map((i: Record<string, string>) => i[key]);
      // Partners.
      assert.deepEqual(ids(await as('d1004', '/api/v1/partners')), ['D-1004']);
      assert.deepEqual(ids(await as('pba', '/api/v1/partners')), ['D-1004', 'D-1005', 'D-1006']);
      assert.equal((await as('admin', '/api/v1/partners')).body.total, 10);
      const hidden = await as('d1004', '/api/v1/partners/D-1001');
      const absent = await as('d1004', '/api/v1/partners/NO-SUCH');
      assert.equal(hidden.status, 404);
      assert.deepEqual(
        { ...hidden.body, message: '' },
        { ...absent.body, message: '' },
        "another partner's record looks like a missing one",
      );
      assert.equal((await as('d1004', '/api/v1/partners/D-1004')).status, 200);
      // Agreements.
      assert.deepEqual(ids(await as('d1001', '/api/v1/agreements')), ['DEMO-01-VOLUME']);
      assert.deepEqual(ids(await as('pba', '/api/v1/agreements')), ['DEMO-04-GROWTH']);
      assert.deepEqual(ids(await as('d1004', '/api/v1/agreements')), []);
      assert.equal((await as('auditor', '/api/v1/agreements')).body.total, 7);
      assert.equal((await as('d1001', '/api/v1/agreements/DEMO-01-VOLUME')).status, 200);
      for (const other of ['DEMO-02-INCREMENTAL', 'DEMO-04-GROWTH', 'DEMO-07-GROUP-BRAND'])
        assert.equal((await as('d1001', `/api/v1/agreements/${other}`)).status, 404, other);
      assert.equal((await as('pba', '/api/v1/agreements/DEMO-04-GROWTH')).status, 200);
      assert.equal((await as('pba', '/api/v1/agreements/DEMO-07-GROUP-BRAND')).status, 404);
      // Accrual positions.
      const mine = await as('d1001', '/api/v1/accruals?limit=1000');
      assert.ok(mine.body.total > 0);
      assert.deepEqual([...new Set(ids(mine, 'agreement'))], ['DEMO-01-VOLUME']);
      assert.equal((await as('d1001', '/api/v1/accruals?agreement=DEMO-02-INCREMENTAL')).body.total, 0);
      assert.deepEqual(
        [...new Set(ids(await as('pba', '/api/v1/accruals?limit=1000'), 'agreement'))],
        ['DEMO-04-GROWTH'],
      );
      const all = await as('auditor', '/api/v1/accruals?limit=1000');
      assert.equal(new Set(ids(all, 'agreement')).size, 7);
      // The catalogue is not any partner's: products are readable by all.
      assert.equal(
        (await as('d1004', '/api/v1/products')).body.total,
        (await as('admin', '/api/v1/products')).body.total,
      );
    });
  });
}

describe('rebates users create', () => {
  test('creates a user with a password shown once, and refuses bad input naming the field', async () => {
    const { dataDir, run } = commandLine('rebates-users-');
    assert.equal(run('demo').status, 0);
    const made = run('users', 'create', '--username', 'pat', '--role', 'partner', '--partner', 'D-1002');
    assert.equal(made.status, 0, made.stderr);
    const password = made.stdout.match(/with the password (\S+)/)?.[1];
    assert.ok(password && password.length >= 20);
    const refused = run('users', 'create', '--username', 'sam', '--role', 'partner');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /tied to exactly one partner or one buying group/);
    const again = run('users', 'create', '--username', 'pat', '--role', 'sales');
    assert.match(again.stderr, /username "pat" is taken/);
    const store = await openStore({ dataDir });
    try {
      const users = await store.db.selectFrom('users').select(['username', 'role', 'partner_id']).execute();
      assert.deepEqual(users, [{ username: 'pat', role: 'partner', partner_id: 'D-1002' }]);
    } finally {
      await store.close();
    }
  });
});
