// Forward-only, numbered SQL migrations, applied automatically when the store
// opens. An applied migration whose file has changed is refused: a committed
// migration is never edited, a change is a new file.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import type { StoreSchema } from './store.types.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Serialises migrations when several processes open one server at once. */
const MIGRATION_LOCK_KEY = 727_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((file) => {
      const m = MIGRATION_FILE.exec(file)!;
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

/** Runs a multi-statement SQL script in the current session (PGlite needs its own entry point for that). */
export type ScriptRunner = (script: string, trx: Kysely<StoreSchema>) => Promise<void>;

const runWithKysely: ScriptRunner = async (script, trx) => {
  await sql.raw(script).execute(trx);
};

export async function migrate(
  db: Kysely<StoreSchema>,
  runScript: ScriptRunner = runWithKysely,
  migrations = listMigrations(),
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`.execute(trx);
    const applied = new Map(
      (await trx.selectFrom('schema_migrations').select(['version', 'checksum']).execute()).map((r) => [
        r.version,
        r.checksum,
      ]),
    );
    let count = 0;
    for (const migration of migrations) {
      const known = applied.get(migration.version);
      if (known !== undefined) {
        if (known !== migration.checksum) {
          throw new Error(
            `migration ${migration.version}_${migration.name} was edited after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      await runScript(migration.sql, trx);
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
        .execute();
      count += 1;
    }
    return count;
  });
}
