// A child process for the crash test: posts the accruals of a period on a
// PostgreSQL schema, so the test can kill it while the posting is under way.
import { postAccruals } from '../../src/ledger/ledger.service.ts';
import { openStore } from '../../src/store/database.ts';

const [url, schema, period] = process.argv.slice(2) as [string, string, string];
const store = await openStore({ databaseUrl: url, schema });
try {
  const summary = await postAccruals(store, { period, actor: 'crash-test' });
  process.stdout.write(`posted ${summary.postingId} with ${summary.entries.length} entries\n`);
} finally {
  await store.close();
}
