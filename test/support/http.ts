// Helpers for tests that run the server or the command line the way users do.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runDemo } from '../../src/demo/demo.service.ts';
import { type AppOptions, buildApp } from '../../src/server/app.ts';
import type { Store } from '../../src/store/database.ts';
import type { UserRole } from '../../src/store/store.types.ts';
import { createUser, issueCredential } from '../../src/users/users.service.ts';
import type { StoreTarget } from './stores.ts';

/** The password every test user gets. */
export const TEST_PASSWORD = 'correct horse battery';

/**
 * Creates these users (username → role, and a partner or buying group for
 * partner users) with TEST_PASSWORD, and returns an API token for each.
 */
export async function usersWithTokens(
  store: Store,
  users: Record<string, { role: UserRole; partnerId?: string; buyingGroup?: string }>,
  actor = 'test',
): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const [username, user] of Object.entries(users)) {
    const created = await createUser(store.db, { username, password: TEST_PASSWORD, ...user }, { actor });
    tokens[username] = await issueCredential(store.db, created.id, 'api_token', 'tests');
  }
  return tokens;
}

/** The API over this store, listening on a free port of 127.0.0.1. */
export async function listen(
  store: Store,
  options: AppOptions = {},
): Promise<{ app: FastifyInstance; origin: string }> {
  const app = await buildApp(store, options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { app, origin: `http://127.0.0.1:${address.port}` };
}

/** Runs `rebates` on a fresh embedded store of its own (never a server's DATABASE_URL). */
export function commandLine(prefix: string): {
  dataDir: string;
  run: (...args: string[]) => SpawnSyncReturns<string>;
} {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'rebates.js');
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return {
    dataDir,
    run: (...args: string[]) =>
      spawnSync(process.execPath, [bin, '--data-dir', dataDir, ...args], { encoding: 'utf8', env }),
  };
}

/** An answer as tests read it: status, headers and the parsed JSON body (null when empty). */
export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  body: any;
}

/**
 * Calls `/api/v1` as one of the users whose tokens are given (updated in place
 * by `before` hooks), with a JSON body and an Idempotency-Key when given.
 */
export function apiCaller(server: { origin: string }, tokens: Record<string, string>) {
  return async (
    user: string,
    method: string,
    path: string,
    body?: unknown,
    key?: string,
  ): Promise<Answer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[user]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key !== undefined) headers['idempotency-key'] = key;
    const response = await fetch(`${server.origin}/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // CSV and PDF answers are kept as text.
    const json = (response.headers.get('content-type') ?? '').includes('json');
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (json ? JSON.parse(text) : text) : null,
    };
  };
}

export interface DemoServer {
  /** Set by the suite's `before` hook. */
  store: Awaited<ReturnType<StoreTarget['open']>>;
  app: FastifyInstance;
  origin: string;
  /** Username → API token (and any a test adds). */
  tokens: Record<string, string>;
  call: ReturnType<typeof apiCaller>;
}

/**
 * Inside a `describe`: a store with the demo data and these users, served over
 * HTTP for the suite's tests, closed after them.
 */
export function demoServer(
  target: StoreTarget,
  users: Parameters<typeof usersWithTokens>[1],
  options: AppOptions = {},
): DemoServer {
  const server = { origin: '', tokens: {} } as DemoServer;
  server.call = apiCaller(server, server.tokens);
  before(async () => {
    server.store = await target.open();
    await runDemo(server.store, () => undefined);
    Object.assign(server.tokens, await usersWithTokens(server.store, users));
    ({ app: server.app, origin: server.origin } = await listen(server.store, options));
  });
  after(async () => {
    await server.app.close();
    await server.store.dispose();
  });
  return server;
}

/**
 * Writes an agreement as `carla` (commercial) and takes it through its lifecycle
 * to active: submitted by carla, approved by `cole` (another commercial user),
 * activated by `fin` (finance). The suite's users must include all three.
 */
export async function activeAgreement(
  call: ReturnType<typeof apiCaller>,
  agreement: { id: string } & Record<string, unknown>,
): Promise<void> {
  const written = await call('carla', 'POST', '/agreements', agreement);
  assert.equal(written.status, 201, JSON.stringify(written.body));
  for (const [user, action] of [
    ['carla', 'submit'],
    ['cole', 'approve'],
    ['fin', 'activate'],
  ] as const) {
    const moved = await call(user, 'POST', `/agreements/${agreement.id}/transitions`, { action });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
  }
}

/** A transaction line of one unit of PT-100 in USD. */
export function usdLine(id: string, partner: string, date: string, amount: string) {
  return { id, date, partner, sku: 'PT-100', quantity: '1', amount, currency: 'USD' };
}

/**
 * A new partner with its own partner user, and a first quarter of sales worked
 * out by hand: 20,000.00 on January 10, 20,000.00 on February 10 and 14,000.00
 * on March 10, 2025 (54,000.00), recorded by `fin`. For each agreement id given
 * with a percent rate, an agreement on that quarter's sales, taken to active
 * (see activeAgreement for the users the suite needs).
 */
export async function partnerWithFirstQuarter(
  server: DemoServer,
  partner: { id: string; name: string; user: string },
  agreements: Record<string, string>,
): Promise<void> {
  const { call } = server;
  const made = await call('carla', 'POST', '/partners', { id: partner.id, name: partner.name });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  Object.assign(
    server.tokens,
    await usersWithTokens(server.store, { [partner.user]: { role: 'partner', partnerId: partner.id } }),
  );
  const lines = await call('fin', 'POST', '/transactions', {
    lines: [
      usdLine(`${partner.id}-1`, partner.id, '2025-01-10', '20000.00'),
      usdLine(`${partner.id}-2`, partner.id, '2025-02-10', '20000.00'),
      usdLine(`${partner.id}-3`, partner.id, '2025-03-10', '14000.00'),
    ],
  });
  assert.equal(lines.status, 201, JSON.stringify(lines.body));
  for (const [id, rate] of Object.entries(agreements))
    await activeAgreement(call, {
      id,
      name: `${id}: ${partner.name} first quarter`,
      partner: partner.id,
      currency: 'USD',
      period: { start: '2025-01-01', end: '2025-03-31' },
      rules: [{ id: 'volume', basis: 'amount', payout: 'percent', tiers: [{ from: '0', rate }] }],
    });
}
