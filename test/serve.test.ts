// `rebates serve` the way a user runs it: it starts on an empty embedded store
// with the demo data, answers over HTTP, keeps the CLI from opening the same
// store while it runs (naming the process that holds it), and on SIGTERM
// finishes and lets the store go. A bad setting stops it with a message naming
// the setting.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/store/database.ts';
import { LOCK_FILE } from '../src/store/store-lock.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'rebates.js');

function environment(extra: Record<string, string>) {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  delete env.DATABASE_URL;
  return env;
}

/** Resolves with the first line of output matching `pattern`. */
function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = text.match(pattern);
      if (match) {
        child.stdout?.off('data', onData);
        resolve(match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before printing ${pattern}: ${text}`)),
    );
  });
}

describe('rebates serve', () => {
  test('serves the demo data, holds the store against the CLI, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rebates-serve-'));
    const server = spawn(process.execPath, [BIN, 'serve'], {
      env: environment({ REBATES_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const announced = waitFor(server, /the user "admin" with the password (\S+)/);
      const api = await waitFor(server, /http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
      const password = (await announced).split(' ').at(-1)!;
      assert.equal((await fetch(`${api}/partners`)).status, 401, 'nothing without signing in');
      const login = await fetch(`${api}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      assert.equal(login.status, 201);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      assert.match(login.headers.get('set-cookie')!, /HttpOnly/i);
      const partners = (await (await fetch(`${api}/partners`, { headers: { cookie } })).json()) as {
        total: number;
      };
      assert.equal(partners.total, 10, 'the demo partners are loaded on first start');

      const cli = spawnSync(process.execPath, [BIN, 'accruals'], {
        encoding: 'utf8',
        env: environment({ REBATES_DATA_DIR: dataDir }),
      });
      assert.equal(cli.status, 2);
      assert.match(cli.stderr, new RegExp(`in use by process ${server.pid} \\(rebates serve`));
      assert.match(cli.stderr, /\[store_locked\]/);
      assert.equal(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid, server.pid);

      const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    // The store is free again, and what the server seeded is there.
    const after = spawnSync(process.execPath, [BIN, 'accruals', '--format', 'csv'], {
      encoding: 'utf8',
      env: environment({ REBATES_DATA_DIR: dataDir }),
    });
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /DEMO-01-VOLUME/);
  });

  test('a lock left by a process that has ended is taken over', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rebates-lock-'));
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(ended.stdout);
    writeFileSync(
      join(dataDir, LOCK_FILE),
      JSON.stringify({ pid: deadPid, command: 'serve', since: 'then' }),
    );
    const store = await openStore({ dataDir });
    try {
      assert.equal(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid, process.pid);
    } finally {
      await store.close();
    }
  });

  test('settings are checked at start-up, naming the one at fault', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /configuration: PORT: /);
    assert.throws(
      () => loadConfig({ PORT: '70000' }),
      /configuration: PORT: PORT must be a whole number from 0 to 65535/,
    );
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /configuration: LOG_LEVEL: /);
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must start with postgres/);
    assert.deepEqual((({ port, host }) => ({ port, host }))(loadConfig({})), {
      port: 3000,
      host: 'localhost',
    });
    const served = spawnSync(process.execPath, [BIN, 'serve'], {
      encoding: 'utf8',
      env: environment({ PORT: 'eighty', REBATES_DATA_DIR: mkdtempSync(join(tmpdir(), 'rebates-cfg-')) }),
    });
    assert.equal(served.status, 2);
    assert.match(served.stderr, /configuration: PORT: PORT must be a whole number/);
    assert.doesNotMatch(served.stderr, /at loadConfig/, 'a message, not a stack trace');
  });
});
