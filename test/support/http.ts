// Helpers for tests that run the server or the command line the way users do.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import type { Store } from '../../src/store/database.ts';
import type { UserRole } from '../../src/store/store.types.ts';
import { createUser, issueCredential } from '../../src/users/users.service.ts';

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
export async function listen(store: Store): Promise<{ app: FastifyInstance; origin: string }> {
  const app = await buildApp(store);
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
