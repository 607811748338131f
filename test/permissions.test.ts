// Every role against every endpoint, on both stores: the table below says, for
// each route of the OpenAPI document, what each role gets. Allowed roles reach
// the route's own checks (each probe is built to stop there, with a 4xx that
// changes nothing, or to succeed harmlessly); refused roles get 403, and a
// partner user gets 404 for an agreement it may see but not change, exactly as
// for one that does not exist. A route missing from the table fails the test.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { UserRole } from '../src/store/store.types.ts';
import { type Answer, demoServer, usersWithTokens } from './support/http.ts';
import { storeTargets } from './support/stores.ts';

const ROLES: UserRole[] = ['admin', 'commercial', 'sales', 'finance', 'auditor', 'partner'];
const USERS: Record<UserRole, string> = {
  admin: 'ada',
  commercial: 'carla',
  sales: 'sam',
  finance: 'fin',
  auditor: 'aud',
  partner: 'pat',
};
/** Routes anyone may call: they are covered by test/auth.test.ts. */
const PUBLIC = new Set(['GET /api/v1/health', 'GET /api/v1/ready', 'POST /api/v1/sessions']);

/** The partner user's own agreement (D-1002's), which it may read but not change. */
const AGREEMENT = 'DEMO-02-INCREMENTAL';
const BAD_TIERS = [
  {
    tiers: [
      { from: '5', rate: '1' },
      { from: '1', rate: '1' },
    ],
  },
];

type Expect = Partial<Record<UserRole, number>> & { others: number };
interface Probe {
  path: string;
  body?: unknown;
  upload?: { fields: Record<string, string>; name: string; text: string };
  expect: Expect;
}

/** Status per role: the given roles get `ok`, the others `others`. */
const only = (
  roles: UserRole[],
  ok: number,
  others = 403,
  overrides: Partial<Record<UserRole, number>> = {},
) => ({ ...Object.fromEntries(roles.map((r) => [r, ok])), others, ...overrides }) as Expect;
const everyone = (ok: number) => ({ others: ok });

function probes(
  line: string,
  importId: string,
  settlement: string,
  claim: string,
  attachment: string,
): Record<string, Probe> {
  const a = `/agreements/${AGREEMENT}`;
  return {
    'GET /api/v1/me': { path: '/me', expect: everyone(200) },
    'POST /api/v1/tokens': { path: '/tokens', body: { name: 'probe' }, expect: everyone(201) },
    'DELETE /api/v1/sessions/current': { path: '/sessions/current', expect: everyone(204) },
    'GET /api/v1/users': { path: '/users', expect: only(['admin', 'auditor'], 200) },
    'POST /api/v1/users': {
      path: '/users',
      body: { username: 'Not Valid', role: 'sales' },
      expect: only(['admin'], 422),
    },
    'GET /api/v1/partners': { path: '/partners', expect: everyone(200) },
    'GET /api/v1/partners/{id}': { path: '/partners/D-1002', expect: everyone(200) },
    'POST /api/v1/partners': {
      path: '/partners',
      body: { id: ' ', name: 'x' },
      expect: only(['admin', 'commercial'], 422),
    },
    'PUT /api/v1/partners/{id}': {
      path: '/partners/D-1002',
      body: { name: ' ' },
      expect: only(['admin', 'commercial'], 422),
    },
    'GET /api/v1/products': { path: '/products', expect: everyone(200) },
    'GET /api/v1/products/{sku}': { path: '/products/PT-100', expect: everyone(200) },
    'POST /api/v1/products': {
      path: '/products',
      body: { sku: ' ', name: 'x', category: 'y' },
      expect: only(['admin', 'commercial'], 422),
    },
    'PUT /api/v1/products/{sku}': {
      path: '/products/PT-100',
      body: { name: ' ', category: 'y' },
      expect: only(['admin', 'commercial'], 422),
    },
    'GET /api/v1/agreements': { path: '/agreements', expect: everyone(200) },
    'GET /api/v1/agreements/{id}': { path: a, expect: everyone(200) },
    'POST /api/v1/agreements': {
      path: '/agreements',
      body: { id: 'PROBE' },
      expect: only(['admin', 'commercial'], 422),
    },
    'PUT /api/v1/agreements/{id}': {
      path: a,
      body: {},
      expect: only(['admin', 'commercial'], 409, 403, { partner: 404 }),
    },
    'POST /api/v1/agreements/{id}/transitions': {
      path: `${a}/transitions`,
      body: { action: 'approve' },
      expect: only(['admin', 'commercial', 'finance'], 409, 403, { partner: 404 }),
    },
    'POST /api/v1/agreements/{id}/amendments': {
      path: `${a}/amendments`,
      body: { effectiveFrom: '2025-06-01', rules: BAD_TIERS },
      expect: only(['admin', 'commercial'], 422, 403, { partner: 404 }),
    },
    'POST /api/v1/agreements/{id}/amendments/{version}/transitions': {
      path: `${a}/amendments/2/transitions`,
      body: { action: 'approve' },
      expect: only(['admin', 'commercial', 'finance'], 404, 403, { partner: 404 }),
    },
    'GET /api/v1/agreements/{id}/versions': { path: `${a}/versions`, expect: everyone(200) },
    'GET /api/v1/agreements/{id}/sign-offs': { path: `${a}/sign-offs`, expect: everyone(200) },
    'POST /api/v1/agreements/{id}/sign-offs': {
      path: `${a}/sign-offs`,
      body: {},
      expect: only(['partner'], 201),
    },
    'GET /api/v1/agreements/{id}/settlement': { path: `${a}/settlement`, expect: everyone(200) },
    'GET /api/v1/agreements/{id}/explanation': { path: `${a}/explanation`, expect: everyone(200) },
    'GET /api/v1/agreement-templates': { path: '/agreement-templates', expect: only(['partner'], 403, 200) },
    'GET /api/v1/agreement-templates/{id}': {
      path: '/agreement-templates/QUARTERLY-VOLUME',
      expect: only(['partner'], 403, 200),
    },
    'POST /api/v1/agreement-templates': {
      path: '/agreement-templates',
      body: { id: 'PROBE', name: 'probe', rules: BAD_TIERS },
      expect: only(['admin', 'commercial'], 422),
    },
    'PUT /api/v1/agreement-templates/{id}': {
      path: '/agreement-templates/QUARTERLY-VOLUME',
      body: { name: 'probe', rules: BAD_TIERS },
      expect: only(['admin', 'commercial'], 422),
    },
    'GET /api/v1/accruals': { path: '/accruals', expect: everyone(200) },
    'GET /api/v1/audit': { path: '/audit', expect: only(['admin', 'auditor'], 200) },
    'GET /api/v1/audit/verify': { path: '/audit/verify', expect: only(['admin', 'auditor'], 200) },
    'POST /api/v1/transactions': {
      path: '/transactions',
      body: {
        lines: [
          {
            id: 'PROBE-1',
            date: '2025-02-30',
            partner: 'D-1002',
            sku: 'PT-100',
            quantity: '1',
            amount: '1',
            currency: 'USD',
          },
        ],
      },
      expect: only(['admin', 'finance'], 422),
    },
    'GET /api/v1/transactions': { path: '/transactions', expect: everyone(200) },
    'GET /api/v1/transactions/{id}': { path: `/transactions/${line}`, expect: everyone(200) },
    'POST /api/v1/imports': {
      path: '/imports',
      upload: {
        fields: { kind: 'transactions' },
        name: 'probe.csv',
        text: 'id,date,partner,sku,quantity,amount,currency\nPROBE-2,2025-02-30,D-1002,PT-100,1,1,USD\n',
      },
      // A partner user sends its own sales reports.
      expect: only(['admin', 'finance', 'partner'], 422),
    },
    'POST /api/v1/accrual-postings': {
      path: '/accrual-postings',
      body: { period: '2025-13' },
      expect: only(['admin', 'finance'], 422),
    },
    'GET /api/v1/accrual-postings': {
      path: '/accrual-postings',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'GET /api/v1/journal': { path: '/journal', expect: only(['admin', 'finance', 'auditor'], 200) },
    'GET /api/v1/ledger-accounts': {
      path: '/ledger-accounts',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'PUT /api/v1/ledger-accounts/{purpose}': {
      path: '/ledger-accounts/rebate_expense',
      body: { account: '4910', name: 'Customer rebates (contra-revenue)' },
      expect: only(['admin', 'finance'], 200),
    },
    'POST /api/v1/settlements': {
      path: '/settlements',
      body: { agreement: AGREEMENT, rule: 'no-such-rule', periodStart: '2025-01-01', kind: 'final' },
      expect: only(['admin', 'finance'], 422, 403, { partner: 404 }),
    },
    'GET /api/v1/settlements': { path: '/settlements', expect: everyone(200) },
    'GET /api/v1/settlements/{id}': { path: `/settlements/${settlement}`, expect: everyone(200) },
    'POST /api/v1/settlements/{id}/transitions': {
      path: `/settlements/${settlement}/transitions`,
      body: { action: 'approve' },
      // The administrator approves it (another user prepared it); finance then finds it approved.
      expect: { admin: 200, finance: 409, partner: 404, others: 403 },
    },
    'GET /api/v1/settlements/{id}/document': {
      path: `/settlements/${settlement}/document`,
      expect: everyone(409),
    },
    'GET /api/v1/settlement-payments': {
      path: '/settlement-payments',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'POST /api/v1/claims': {
      path: '/claims',
      body: { agreement: AGREEMENT, periodStart: '2025-02-01', reference: 'PROBE', claimed: '1.00' },
      expect: only(['admin', 'finance', 'sales', 'partner'], 422),
    },
    'POST /api/v1/claims/files': {
      path: '/claims/files',
      body: { csv: 'agreement,rule,period_start,reference,claimed\n' },
      expect: only(['admin', 'finance', 'sales', 'partner'], 201),
    },
    'GET /api/v1/claims': { path: '/claims', expect: everyone(200) },
    'POST /api/v1/claims/{id}/attachments': {
      path: `/claims/${claim}/attachments`,
      upload: { fields: {}, name: 'proof.txt', text: 'proof of sale' },
      expect: only(['auditor'], 403, 201),
    },
    'GET /api/v1/claims/{id}/attachments': { path: `/claims/${claim}/attachments`, expect: everyone(200) },
    'GET /api/v1/claims/{id}/attachments/{attachment}': {
      path: `/claims/${claim}/attachments/${attachment}`,
      expect: everyone(200),
    },
    'GET /api/v1/claims/{id}': { path: `/claims/${claim}`, expect: everyone(200) },
    'POST /api/v1/claims/{id}/comments': {
      path: `/claims/${claim}/comments`,
      body: { text: 'probe' },
      expect: only(['auditor'], 403, 201),
    },
    'POST /api/v1/claims/{id}/dispute': {
      path: `/claims/${claim}/dispute`,
      body: { reasonCode: 'other', comment: 'probe' },
      // Nothing was due (the settlement above holds it): the claim was rejected. The administrator
      // disputes it first; finance and the partner then find it disputed.
      expect: { admin: 200, finance: 409, partner: 409, others: 403 },
    },
    'POST /api/v1/claims/{id}/resolution': {
      path: `/claims/${claim}/resolution`,
      body: { resolution: 'uphold', comment: 'probe' },
      expect: { admin: 200, finance: 409, partner: 404, others: 403 },
    },
    'POST /api/v1/claims/{id}/settlement': {
      path: `/claims/${claim}/settlement`,
      body: {},
      // Upheld with nothing due: there is nothing to pay.
      expect: only(['admin', 'finance'], 409, 403, { partner: 404 }),
    },
    'POST /api/v1/deductions': {
      path: '/deductions',
      body: { partner: 'NO-SUCH', invoiceNumber: 'PROBE', amount: '1.00', currency: 'USD' },
      expect: only(['admin', 'finance'], 422),
    },
    'GET /api/v1/claim-settings': {
      path: '/claim-settings',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'PUT /api/v1/claim-settings': {
      path: '/claim-settings',
      body: { toleranceAbsolute: '1.00', tolerancePercent: '0.5' },
      expect: only(['admin', 'finance'], 200),
    },
    'GET /api/v1/reports/accrual-liability': {
      path: '/reports/accrual-liability',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'GET /api/v1/reports/payouts': {
      path: '/reports/payouts?from=2025-01-01&to=2025-12-31',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'GET /api/v1/reports/claims-aging': {
      path: '/reports/claims-aging',
      expect: only(['admin', 'finance', 'auditor'], 200),
    },
    'GET /api/v1/partners/{id}/statement': {
      path: '/partners/D-1002/statement?from=2025-01-01&to=2025-12-31',
      expect: everyone(200),
    },
    'GET /api/v1/dashboard': { path: '/dashboard', expect: only(['partner'], 403, 200) },
    'POST /api/v1/agreements/preview': {
      path: '/agreements/preview',
      body: {
        partner: 'D-1002',
        period: { start: '2025-01-01', end: '2025-03-31' },
        tiers: [{ from: '0', rate: '1' }],
      },
      expect: only(['partner'], 403, 200),
    },
    'GET /api/v1/imports': { path: '/imports', expect: only(['partner'], 403, 200) },
    'GET /api/v1/imports/{id}': { path: `/imports/${importId}`, expect: only(['partner'], 403, 200) },
  };
}

for (const target of storeTargets()) {
  describe(`every role against every endpoint (${target.name})`, () => {
    const server = demoServer(
      target,
      Object.fromEntries(
        ROLES.map((role) => [USERS[role], role === 'partner' ? { role, partnerId: 'D-1002' } : { role }]),
      ),
    );
    const { call, tokens } = server;
    /** Settlements prepared by a finance user outside the table: of the partner user's agreement, and of another's. */
    const settlements: {
      own?: string;
      other?: string;
      claim?: string;
      otherClaim?: string;
      attachment?: string;
    } = {};
    before(async () => {
      Object.assign(tokens, await usersWithTokens(server.store, { fran: { role: 'finance' } }));
      for (const [key, agreement, rule] of [
        ['own', AGREEMENT, 'power-tools'],
        ['other', 'DEMO-01-VOLUME', 'volume'],
      ] as const) {
        const prepared = await call('fran', 'POST', '/settlements', {
          agreement,
          rule,
          periodStart: '2025-01-01',
          kind: 'final',
        });
        assert.equal(prepared.status, 201, JSON.stringify(prepared.body));
        settlements[key] = prepared.body.id;
      }
      // Claims of the partner user's partner (D-1002) and of another (D-1001), entered by finance.
      for (const [key, agreement, rule, partner] of [
        ['claim', AGREEMENT, 'power-tools', 'D-1002'],
        ['otherClaim', 'DEMO-01-VOLUME', 'volume', 'D-1001'],
      ] as const) {
        const made = await call('fran', 'POST', '/claims', {
          agreement,
          rule,
          periodStart: rule === 'volume' ? '2025-04-01' : '2025-01-01',
          reference: `PROBE-${key}`,
          claimed: '1.00',
          partner,
        });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        settlements[key] = made.body.id;
      }
      const attached = await upload('fran', `/claims/${settlements.claim}/attachments`, {
        fields: {},
        name: 'proof.txt',
        text: 'proof of sale',
      });
      assert.equal(attached.status, 201, JSON.stringify(attached.body));
      settlements.attachment = attached.body.id;
    });

    test('each role gets what the table says, on every route of the OpenAPI document', async () => {
      const doc = (await call(USERS.admin, 'GET', '/openapi.json')).body;
      const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
        .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
        .filter((r) => !PUBLIC.has(r));
      const line = (
        await server.store.db
          .selectFrom('transactions')
          .select('id')
          .where('partner_id', '=', 'D-1002')
          .executeTakeFirstOrThrow()
      ).id;
      const importId = (await server.store.db.selectFrom('imports').select('id').executeTakeFirstOrThrow())
        .id;
      const table = probes(
        line,
        String(importId),
        settlements.own!,
        settlements.claim!,
        settlements.attachment!,
      );
      assert.deepEqual(
        [...routes].sort(),
        Object.keys(table).sort(),
        'the table covers every route, and only those',
      );

      // Logging out ends the credential used: it goes last, with a token of its own.
      const order = routes.filter((r) => r !== 'DELETE /api/v1/sessions/current');
      order.push('DELETE /api/v1/sessions/current');
      const seen: string[] = [];
      for (const route of order) {
        const probe = table[route]!;
        const method = route.split(' ')[0]!;
        for (const role of ROLES) {
          let user = USERS[role];
          if (method === 'DELETE') {
            const made = await call(user, 'POST', '/tokens', { name: 'to end' });
            tokens[`${user}-spare`] = made.body.token;
            user = `${user}-spare`;
          }
          const answer = probe.upload
            ? await upload(user, probe.path, probe.upload)
            : await call(user, method, probe.path, probe.body);
          const expected = probe.expect[role] ?? probe.expect.others;
          seen.push(
            `${route} as ${role}: ${answer.status}${answer.status === expected ? '' : ` (expected ${expected}: ${JSON.stringify(answer.body)})`}`,
          );
          if (answer.status === 403) assert.equal(answer.body.code, 'forbidden', `${route} as ${role}`);
        }
      }
      assert.deepEqual(
        seen.filter((s) => s.includes('expected')),
        [],
        'every role got the answer the table gives',
      );
      assert.equal(seen.length, routes.length * ROLES.length);
    });

    test("a partner user gets 404 for every other partner's object, on every route that names one", async () => {
      const doc = (await call(USERS.admin, 'GET', '/openapi.json')).body;
      const other = (
        await server.store.db
          .selectFrom('transactions')
          .select('id')
          .where('partner_id', '=', 'D-1001')
          .executeTakeFirstOrThrow()
      ).id;
      // Partner-owned objects: agreements (DEMO-01-VOLUME is D-1001's), partners and lines.
      const owned: Record<string, string> = {
        agreements: 'DEMO-01-VOLUME',
        partners: 'D-1001',
        transactions: other,
      };
      const bodies: Record<string, unknown> = {
        'POST /api/v1/agreements/{id}/sign-offs': {},
        'POST /api/v1/agreements/{id}/transitions': { action: 'approve' },
        'POST /api/v1/agreements/{id}/amendments': { effectiveFrom: '2025-06-01', rules: BAD_TIERS },
        'POST /api/v1/agreements/{id}/amendments/{version}/transitions': { action: 'approve' },
        'PUT /api/v1/agreements/{id}': {},
        'PUT /api/v1/partners/{id}': { name: 'x' },
        'POST /api/v1/settlements/{id}/transitions': { action: 'approve' },
        'POST /api/v1/claims/{id}/comments': { text: 'x' },
        'POST /api/v1/claims/{id}/dispute': { reasonCode: 'other', comment: 'x' },
        'POST /api/v1/claims/{id}/resolution': { resolution: 'uphold', comment: 'x' },
        'POST /api/v1/claims/{id}/settlement': {},
      };
      const seen: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
        const kind = path.split('/')[3]!;
        if (!path.includes('{id}') || owned[kind] === undefined) continue;
        for (const m of Object.keys(methods)) {
          const method = m.toUpperCase();
          const query = path.endsWith('/statement') ? '?from=2025-01-01&to=2025-12-31' : '';
          const concrete = `${path.replace('/api/v1', '').replace('{id}', owned[kind]!).replace('{version}', '2')}${query}`;
          const answer = await call(USERS.partner, method, concrete, bodies[`${method} ${path}`]);
          // Writing partners is refused to partner users whatever the id (403), as the table says.
          const expected = method === 'PUT' && kind === 'partners' ? 403 : 404;
          seen.push(
            `${method} ${path}: ${answer.status}${answer.status === expected ? '' : ` (expected ${expected})`}`,
          );
        }
      }
      assert.ok(seen.length >= 12, seen.join('\n'));
      assert.deepEqual(
        seen.filter((s) => s.includes('expected')),
        [],
      );
      for (const list of ['/agreements', '/transactions', '/accruals', '/partners']) {
        const items = (await call(USERS.partner, 'GET', `${list}?limit=1000`)).body.items as Record<
          string,
          unknown
        >[];
        assert.ok(items.length > 0, `${list} shows the partner's own`);
        const partners = new Set(items.map((i) => i.partner ?? (list === '/partners' ? i.id : undefined)));
        if (list === '/accruals') {
          const agreements = new Set(items.map((i) => i.agreement));
          assert.ok(!agreements.has('DEMO-01-VOLUME'), 'no accruals of another partner');
        } else assert.deepEqual([...partners], ['D-1002'], list);
      }
    });

    async function upload(
      user: string,
      path: string,
      file: { fields: Record<string, string>; name: string; text: string },
    ): Promise<Answer> {
      const form = new FormData();
      for (const [name, value] of Object.entries(file.fields)) form.append(name, value);
      form.append('file', new Blob([file.text], { type: 'text/plain' }), file.name);
      const response = await fetch(`${server.origin}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[user]}` },
        body: form,
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    }
  });
}
