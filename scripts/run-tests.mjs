#!/usr/bin/env node
// Runs every *.test.ts file under src/ and test/ with Node's test runner
// (TypeScript through tsx). Extra arguments are passed to `node --test`.
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
if (!process.env.TEST_DATABASE_URL) {
  console.error(
    '\n*** NOTICE: TEST_DATABASE_URL is not set: the PostgreSQL integration tests are SKIPPED. ***\n' +
      '*** Set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them.        ***\n',
  );
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...options, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
