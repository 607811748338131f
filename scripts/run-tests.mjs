#!/usr/bin/env node
// Runs every *.test.ts file under src/ and test/ with Node's test runner
// (TypeScript through tsx). Extra arguments are passed to `node --test`; other arguments
// filter the test files by path.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('-'));
const options = args.filter((a) => a.startsWith('-'));
let files = [...find('src', []), ...find('test', [])].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
// Without TEST_DATABASE_URL, a local server with the default test database is used when it answers.
const LOCAL_TEST_DATABASE = 'postgres://postgres@127.0.0.1:5432/test';
if (!process.env.TEST_DATABASE_URL) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: LOCAL_TEST_DATABASE, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.TEST_DATABASE_URL = LOCAL_TEST_DATABASE;
    console.error(
      `PostgreSQL integration tests use ${LOCAL_TEST_DATABASE} (set TEST_DATABASE_URL to choose another).`,
    );
  } catch {
    // No reachable server: the notice below says so.
  } finally {
    await client.end().catch(() => {});
  }
}
if (!process.env.TEST_DATABASE_URL) {
  console.error(
    '\n*** NOTICE: no PostgreSQL server: the PostgreSQL integration tests are SKIPPED.        ***\n' +
      `*** No server answered at ${LOCAL_TEST_DATABASE}; set TEST_DATABASE_URL to run them. ***\n`,
  );
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...options, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
