// `rebates serve` (and `npm start`): the API on http://localhost:3000 over the
// embedded store, seeded with the demo data on first start, or over PostgreSQL
// with DATABASE_URL. SIGINT and SIGTERM stop it gracefully: requests in flight
// finish, new ones get 503, then the store is closed (and its lock released).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { runDemo } from '../demo/demo.service.ts';
import { openStore, type Store } from '../store/database.ts';
import { countUsers, createUser, generatePassword } from '../users/users.service.ts';
import { buildApp } from './app.ts';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  url: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** Load the demo data into an empty store (default true). */
  seed?: boolean;
}

export async function startServer(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  const databaseUrl = options.databaseUrl ?? config.databaseUrl;
  const store = await openStore(
    databaseUrl ? { databaseUrl } : { dataDir: options.dataDir ?? config.dataDir, holder: 'rebates serve' },
  );
  let app: FastifyInstance;
  try {
    const empty = (await store.db.selectFrom('partners').select('id').limit(1).execute()).length === 0;
    if (empty && options.seed !== false) await runDemo(store, () => undefined);
    // There is no default password: the first administrator's is made now and shown once.
    if ((await countUsers(store.db)) === 0) {
      const password = generatePassword();
      await createUser(
        store.db,
        {
          username: 'admin',
          displayName: 'Administrator',
          role: 'admin',
          password,
        },
        { actor: 'system' },
      );
      process.stdout.write(
        `first start: created the user "admin" with the password ${password}\n` +
          '  (shown this once; create more users with `rebates users create`)\n',
      );
    }
    app = await buildApp(store, { logger: { level: config.logLevel } });
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await store.close();
    })();
    return stopping;
  };
  return { app, store, url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`, stop };
}
