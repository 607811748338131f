// Opening the store: PGlite (PostgreSQL in WebAssembly, persisted in a data
// directory) by default, or a PostgreSQL server when a database URL is given.
// Both speak the same SQL, so everything above this file is written once.
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { migrate, type ScriptRunner } from './migrate.ts';
import { PGliteThread } from './pglite-thread.ts';
import type { StoreSchema } from './store.types.ts';
import { lockStore, type StoreLock } from './store-lock.ts';

export type Database = Kysely<StoreSchema>;

export interface StoreOptions {
  /** postgres://… — use a PostgreSQL server instead of the embedded store. */
  databaseUrl?: string;
  /** Embedded store directory; undefined means in memory (tests and throwaway runs). */
  dataDir?: string;
  /** A schema to work in (created if missing); isolates tests and workload runs on a shared server. */
  schema?: string;
  /** What holds an embedded data directory, named to another process that tries to open it. */
  holder?: string;
}

export interface Store {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Where the data lives, for messages: a directory, `memory`, or the server without password. */
  location: string;
  schema: string;
  /** Loads a CSV file with a header into a table with PostgreSQL's COPY (used to measure the bare load speed). */
  copyCsv(table: string, file: string): Promise<void>;
  /**
   * Copies rows, as the text of COPY's text format (see copy-text.ts), into
   * columns of a table on the connection `trx` runs on: `trx` is a transaction
   * of this store's `db`, so the rows are written, or rolled back, with it.
   */
  copyRows(trx: Database, table: string, columns: readonly string[], text: string): Promise<void>;
  /**
   * The embedded store only: what `COPY (query) TO` writes, in COPY's text
   * format, read on the connection `trx` runs on (a transaction of `db`).
   */
  copyOut?(trx: Database, query: string): Promise<Uint8Array>;
  /**
   * On a server: two connections of their own, for reading side by side with a
   * transaction that holds a connection of `db`'s pool (see `parallelReaders`).
   */
  readers?: Database;
  close(): Promise<void>;
}

// Read numeric, date and int8 as text: money and quantities stay exact decimals,
// dates stay calendar dates with no time zone shift.
const TEXT_TYPE_IDS = [1700, 1082, 20];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres server';
  }
}

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  let db: Database;
  let kind: Store['kind'];
  let location: string;
  let runScript: ScriptRunner | undefined;
  let copyCsv: Store['copyCsv'];
  let copyRows: Store['copyRows'];
  let copyOut: Store['copyOut'];
  let readers: Database | undefined;
  let lock: StoreLock | undefined;
  if (options.databaseUrl) {
    const passthrough = (value: string) => value;
    const poolOf = (max: number) =>
      new pg.Pool({
        connectionString: options.databaseUrl,
        max,
        options: `-c search_path=${schema}`,
        types: {
          getTypeParser: ((oid: number, format?: string) =>
            TEXT_TYPE_IDS.includes(oid)
              ? passthrough
              : pg.types.getTypeParser(oid, format as 'text')) as never,
        },
      });
    const pool = poolOf(4);
    // Kysely does not hand out the client under a transaction, and COPY needs it:
    // the pool's clients are found again by their server process id.
    const clients = new Map<number, pg.PoolClient>();
    pool.on('connect', (client) => clients.set(processIdOf(client), client as pg.PoolClient));
    pool.on('remove', (client) => clients.delete(processIdOf(client)));
    db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
    // A pool apart: readers never wait for a connection held by a transaction waiting for them.
    readers = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool: poolOf(2) }) });
    kind = 'postgres';
    location = redact(options.databaseUrl);
    copyCsv = async (table, file) => {
      const client = await pool.connect();
      try {
        const target = client.query(
          copyFrom(`COPY "${table.replaceAll('"', '""')}" FROM STDIN WITH (FORMAT csv, HEADER true)`),
        );
        await pipeline(createReadStream(file), target);
      } finally {
        client.release();
      }
    };
    const clientOf = new WeakMap<Database, pg.PoolClient>();
    copyRows = async (trx, table, columns, text) => {
      let client = clientOf.get(trx);
      if (client === undefined) {
        const found = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        client = clients.get(Number(found.rows[0]!.pid));
        assert.ok(client, 'copyRows runs inside a transaction of this store');
        clientOf.set(trx, client);
      }
      const target = client.query(copyFrom(`COPY ${copyTarget(table, columns)} FROM STDIN`));
      await pipeline(Readable.from([text]), target);
    };
  } else {
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      lock = lockStore(options.dataDir, options.holder ?? process.argv.slice(2).join(' '));
    }
    let pglite: PGliteThread;
    try {
      pglite = await PGliteThread.open(options.dataDir, TEXT_TYPE_IDS);
    } catch (error) {
      lock?.release();
      throw error;
    }
    // The dialect calls only query() and close(), which the thread answers as PGlite would.
    db = new Kysely<StoreSchema>({ dialect: new PGliteDialect(pglite as unknown as PGlite) });
    // PGlite prepares every Kysely query, which refuses several statements at once.
    runScript = (script) => pglite.exec(script);
    copyCsv = async (table, file) => {
      await pglite.query(
        `COPY "${table.replaceAll('"', '""')}" FROM '/dev/blob' WITH (FORMAT csv, HEADER true)`,
        [],
        { file },
      );
    };
    copyRows = async (_trx, table, columns, text) => {
      // One connection: the transaction's statements and this COPY share it.
      await pglite.query(`COPY ${copyTarget(table, columns)} FROM '/dev/blob'`, [], { blob: text });
    };
    copyOut = (_trx, query) => pglite.copyOut(`COPY (${query}) TO '/dev/blob'`);
    kind = 'pglite';
    location = options.dataDir ?? 'memory';
  }
  try {
    // Index builds sort in runs of this size. In WebAssembly small runs sort
    // faster than large ones: at ten million lines the (partner, date) index of
    // an import took 13.3 s with 16 MB against 16.5 s with the default 64 MB and
    // 22 s with 512 MB (the key, 4.4 s against 4.8 s); at a million lines it made
    // no difference. A server keeps its default, which its parallel builds need.
    if (kind === 'pglite') await sql`SET maintenance_work_mem = '16MB'`.execute(db);
    if (schema !== 'public') {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
      if (kind === 'pglite') await sql`SET search_path TO ${sql.id(schema)}`.execute(db);
    }
    await migrate(db, runScript);
  } catch (error) {
    await db.destroy();
    await readers?.destroy();
    lock?.release();
    throw error;
  }
  const close = async () => {
    await db.destroy();
    await readers?.destroy();
    lock?.release();
  };
  return {
    db,
    kind,
    location,
    schema,
    copyCsv,
    copyRows,
    ...(copyOut ? { copyOut } : {}),
    ...(readers ? { readers } : {}),
    close,
  };
}

function processIdOf(client: pg.Client): number {
  return (client as unknown as { processID: number }).processID;
}

function copyTarget(table: string, columns: readonly string[]): string {
  const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
  return `${quoted(table)} (${columns.map(quoted).join(', ')})`;
}

/**
 * Connections that can read side by side with a caller's open transaction: a
 * server's reader pool. The embedded store has a single connection, which that
 * transaction holds, so it has none.
 */
export function parallelReaders(store: Store): Database | undefined {
  return store.readers;
}

/** Drops a schema and everything in it (used by tests and workload runs on a server). */
export async function dropSchema(db: Database, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema) || schema === 'public')
    throw new Error(`refusing to drop schema "${schema}"`);
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
}
