// The stores every integration test runs against: the embedded PGlite store
// always, and a PostgreSQL server when TEST_DATABASE_URL is set (CI sets it).
// Each PostgreSQL run works in its own schema, dropped afterwards.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, openStore, type Store } from '../../src/store/database.ts';

export interface StoreTarget {
  name: 'pglite' | 'postgres';
  open(): Promise<Store & { dispose(): Promise<void> }>;
}

let counter = 0;

export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [
    {
      name: 'pglite',
      async open() {
        const store = await openStore({});
        return { ...store, dispose: () => store.close() };
      },
    },
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    targets.push({
      name: 'postgres',
      async open() {
        counter += 1;
        const schema = `test_${process.pid}_${Date.now()}_${counter}`;
        const store = await openStore({ databaseUrl: url, schema });
        return {
          ...store,
          async dispose() {
            await dropSchema(store.db, schema);
            await store.close();
          },
        };
      },
    });
  }
  return targets;
}

/** Writes files into a fresh temporary directory and returns its path. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebates-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
