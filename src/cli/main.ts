// The `rebates` command line: import, accruals, settle, explain, generate, workload, demo.
// Each command is a thin shell over a service; errors with a code are shown
// as a clear message naming the file, line and field, with a non-zero exit.
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type AccrualFormat, formatAccruals } from '../accruals/accruals.format.ts';
import { readAccruals } from '../accruals/accruals.service.ts';
import { importAgreements } from '../agreements/agreements.service.ts';
import { commandLineActor, verifyAudit } from '../audit/audit.service.ts';
import { type Config, loadConfig } from '../config.ts';
import { runDemo } from '../demo/demo.service.ts';
import { printImportSummary } from '../imports/import.format.ts';
import { type ImportSummary, importFile } from '../imports/import.service.ts';
import { loadMapping } from '../imports/mapping.ts';
import { formatJournal, type JournalFormat, postingSummaryText } from '../ledger/journal.format.ts';
import { postAccruals } from '../ledger/ledger.service.ts';
import { startServer } from '../server/serve.ts';
import { explainAgreement } from '../settlements/explain.ts';
import { formatSettlement, type SettlementFormat } from '../settlements/settlement.format.ts';
import { settle } from '../settlements/settlement.service.ts';
import { isIsoDate } from '../shared/dates.ts';
import { DomainError, describeProblem } from '../shared/errors.ts';
import { openStore, type Store } from '../store/database.ts';
import type { UserRole } from '../store/store.types.ts';
import { createUser, generatePassword, ROLES } from '../users/users.service.ts';
import { generateWorkload } from '../workload/generate.ts';
import { runWorkload } from '../workload/workload.service.ts';
import { progressBar } from './progress.ts';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
}

function storeOptions(config: Config, flags: StoreFlags) {
  const databaseUrl = flags.databaseUrl ?? config.databaseUrl;
  return databaseUrl ? { databaseUrl } : { dataDir: flags.dataDir ?? config.dataDir };
}

async function withStore<T>(command: Command, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeOptions(loadConfig(), command.optsWithGlobals<StoreFlags>()));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  }
  return n;
}

function isoDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError(`"${value}" is not a date YYYY-MM-DD`);
  return value;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table');
}

/** Writes a report to the terminal, or to a file with a line saying what was written. */
async function output(text: string, file: string | undefined, what: string): Promise<void> {
  if (file === undefined) {
    process.stdout.write(text);
    return;
  }
  await writeFile(file, text);
  process.stdout.write(`wrote ${what} to ${file}\n`);
}

let exitCode = 0;

export function buildProgram(): Command {
  const program = new Command('rebates')
    .description(
      'B2B rebate management: import ERP exports and agreements, settle and explain rebates to the cent.',
    )
    .option('--data-dir <dir>', 'embedded store directory (env REBATES_DATA_DIR, default ./data)')
    .option(
      '--database-url <url>',
      'use a PostgreSQL server instead of the embedded store (env DATABASE_URL)',
    )
    .showHelpAfterError();

  program
    .command('import')
    .description('import partners, products or transactions (CSV) or agreements (JSON); idempotent')
    .addArgument(
      new Command()
        .createArgument('kind', 'what the file holds')
        .choices(['partners', 'products', 'transactions', 'agreements']),
    )
    .argument('<file>', 'the file to import')
    .option('--mapping <file>', 'JSON column mapping for exports in another layout (see mappings/README.md)')
    .option(
      '--skip-invalid',
      'import the good rows and write the bad ones to a reject file (default: a bad row imports nothing)',
    )
    .option('--rejects <file>', 'where rejected rows go with --skip-invalid (default FILE.rejected.csv)')
    .option('--errors <file>', 'where the full problem list goes (default FILE.errors.csv)')
    .action(async (kind: string, file: string, flags, command: Command) => {
      await withStore(command, async (store) => {
        let summary: ImportSummary;
        if (kind === 'agreements') {
          if (flags.mapping)
            throw new DomainError(
              'mapping_not_supported',
              'agreements are JSON: --mapping applies to CSV files',
            );
          summary = await importAgreements(store, {
            file,
            skipInvalid: Boolean(flags.skipInvalid),
            ...(flags.rejects ? { rejectsFile: flags.rejects } : {}),
            ...(flags.errors ? { errorsFile: flags.errors } : {}),
          });
        } else {
          const mapping = flags.mapping ? await loadMapping(flags.mapping) : undefined;
          const bar = progressBar(`importing ${kind}`, 'bytes');
          try {
            summary = await importFile(store, {
              kind: kind as 'partners',
              file,
              ...(mapping ? { mapping, mappingName: flags.mapping } : {}),
              skipInvalid: Boolean(flags.skipInvalid),
              ...(flags.rejects ? { rejectsFile: flags.rejects } : {}),
              ...(flags.errors ? { errorsFile: flags.errors } : {}),
              onProgress: (done, total) => bar.update(done, total),
            });
          } finally {
            bar.stop();
          }
        }
        printImportSummary(summary);
        if (summary.outcome === 'nothing_imported') exitCode = 1;
      });
    });

  const accruals = program
    .command('accruals')
    .description('accrual positions, and their postings to the general ledger');
  accruals
    .command('show', { isDefault: true })
    .description(
      'where every agreement stands now: the accrual positions kept current as lines are imported, with the distance to the next tier',
    )
    .option('--agreement <id...>', 'only these agreements')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file instead of the terminal')
    .action(async (flags, command: Command) => {
      await withStore(command, async (store) => {
        const positions = await readAccruals(store, flags.agreement);
        if (flags.agreement) {
          const found = new Set(positions.map((p) => p.agreementId));
          const missing = (flags.agreement as string[]).filter((id) => !found.has(id));
          if (missing.length > 0)
            throw new DomainError(
              'unknown_agreement',
              `no accrual position for agreement ${missing.join(', ')}: not imported, or not approved or active`,
            );
        }
        await output(
          formatAccruals(positions, flags.format as AccrualFormat),
          flags.out,
          `${positions.length} rule-periods`,
        );
      });
    });

  accruals
    .command('post')
    .description(
      "post the change in every accrual since the last posting, as of the period's last day, as balanced journal entries",
    )
    .requiredOption('--period <month>', 'the month posted, YYYY-MM: lines dated up to its last day count')
    .option('--dry-run', 'do the posting and roll it back: see the entries without writing them')
    .addOption(
      new Option('--format <format>', 'journal output format')
        .choices(['table', 'csv', 'json'])
        .default('table'),
    )
    .option('--out <file>', 'write the journal entries to a file (CSV or JSON for the general ledger)')
    .action(async (flags, command: Command) => {
      await withStore(command, async (store) => {
        const summary = await postAccruals(store, {
          period: flags.period,
          actor: commandLineActor(),
          dryRun: flags.dryRun === true,
        });
        process.stdout.write(postingSummaryText(summary));
        if (summary.entries.length > 0)
          await output(
            formatJournal(summary.entries, flags.format as JournalFormat),
            flags.out,
            `${summary.entries.length} journal entries`,
          );
      });
    });

  program
    .command('settle')
    .description('calculate every agreement per rule and period: measure, baseline, tier reached, rebate')
    .option('--as-of <date>', 'count only lines dated on or before this day (default: every line)', isoDate)
    .option('--agreement <id...>', 'only these agreements')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file instead of the terminal')
    .action(async (flags, command: Command) => {
      await withStore(command, async (store) => {
        const bar = progressBar('settling', 'items');
        const run = await settle(store.db, {
          ...(flags.asOf ? { asOf: flags.asOf } : {}),
          ...(flags.agreement ? { agreementIds: flags.agreement } : {}),
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        await output(
          formatSettlement(run.results, flags.format as SettlementFormat, flags.asOf ?? today()),
          flags.out,
          `${run.results.length} rule-periods of ${run.agreements.length} agreements`,
        );
      });
    });

  program
    .command('explain')
    .description("show how an agreement's figures were reached, step by step")
    .argument('<agreement>', 'agreement id')
    .option('--as-of <date>', 'count only lines dated on or before this day', isoDate)
    .action(async (agreementId: string, flags, command: Command) => {
      await withStore(command, async (store) => {
        process.stdout.write(
          await explainAgreement(store.db, agreementId, flags.asOf ?? today(), flags.asOf),
        );
      });
    });

  program
    .command('generate')
    .description('write a deterministic benchmark workload (partners, products, transactions, agreements)')
    .requiredOption('--out <dir>', 'directory to write')
    .option('--lines <n>', 'transaction lines', positiveInteger, 100_000)
    .option('--seed <n>', 'random seed: the same seed writes the same files', positiveInteger, 42)
    .action(async (flags) => {
      const bar = progressBar('generating', 'items');
      const summary = await generateWorkload({
        out: flags.out,
        lines: flags.lines,
        seed: flags.seed,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.stop();
      process.stdout.write(
        `wrote ${flags.out}: ${summary.lines} lines, ${summary.partners} partners, ${summary.groups} buying groups, ${summary.products} products, ${summary.categories} categories, ${summary.agreements} agreements\n`,
      );
    });

  program
    .command('workload')
    .description('load a workload directory into a fresh store through the normal import path and settle it')
    .argument('<dir>', 'workload directory (partners.csv, products.csv, transactions.csv, agreements.json)')
    .option('--out <file>', 'results in expected.csv format (default DIR/results.csv)')
    .action(async (dir: string, flags, command: Command) => {
      const config = loadConfig();
      const globals = command.optsWithGlobals<StoreFlags>();
      const timings = await runWorkload({
        dir,
        out: flags.out ?? `${dir}/results.csv`,
        ...((globals.databaseUrl ?? config.databaseUrl)
          ? { databaseUrl: globals.databaseUrl ?? config.databaseUrl }
          : {}),
        progress: (label) => progressBar(label, 'bytes'),
      });
      process.stdout.write(`${JSON.stringify(timings)}\n`);
    });

  program
    .command('serve')
    .description(
      'serve the API on http://localhost:3000 (PORT, HOST); an empty store gets the demo data; Ctrl-C stops it',
    )
    .option('--no-seed', 'do not load the demo data into an empty store')
    .action(async (flags: { seed: boolean }, command: Command) => {
      const config = loadConfig();
      const server = await startServer(config, {
        ...storeOptions(config, command.optsWithGlobals<StoreFlags>()),
        seed: flags.seed,
      });
      process.stdout.write(
        `rebates is serving ${server.store.kind === 'pglite' ? `the embedded store in ${server.store.location}` : server.store.location}\n` +
          `  API      ${server.url}/api/v1\n  docs     ${server.url}/api/v1/docs\n`,
      );
      await new Promise<void>((resolve) => {
        const shutdown = () => {
          process.off('SIGINT', shutdown);
          process.off('SIGTERM', shutdown);
          server.stop().then(resolve, resolve);
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
      });
    });

  const users = program.command('users').description('manage the users of the server');
  users
    .command('create')
    .description('create a user with a new password, shown once')
    .requiredOption('--username <name>', 'lowercase letters, digits and . _ @ -')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <text>', 'the name shown for the user')
    .option('--partner <id>', 'for a partner user: the partner whose data it sees')
    .option('--group <id>', 'for a partner user: the buying group whose data it sees')
    .action(
      async (
        flags: { username: string; role: UserRole; name?: string; partner?: string; group?: string },
        command: Command,
      ) => {
        await withStore(command, async (store) => {
          const password = generatePassword();
          const user = await createUser(
            store.db,
            {
              username: flags.username,
              role: flags.role,
              password,
              ...(flags.name ? { displayName: flags.name } : {}),
              ...(flags.partner ? { partnerId: flags.partner } : {}),
              ...(flags.group ? { buyingGroup: flags.group } : {}),
            },
            { actor: commandLineActor() },
          );
          process.stdout.write(
            `created ${user.role} user "${user.username}" with the password ${password} (shown this once)\n`,
          );
        });
      },
    );

  program
    .command('audit')
    .description('the audit trail')
    .command('verify')
    .description("recompute the audit trail's hash chain and report the first broken link")
    .action(async (_flags, command: Command) => {
      await withStore(command, async (store) => {
        const result = await verifyAudit(store.db);
        if (result.broken) {
          process.stderr.write(
            `audit trail BROKEN at entry ${result.broken.seq}: ${result.broken.reason} (${result.entries} entries before it verified)\n`,
          );
          exitCode = 1;
          return;
        }
        process.stdout.write(`audit trail intact: ${result.entries} entries, every link verified\n`);
      });
    });

  program
    .command('demo')
    .description('load a small realistic data set with agreements of every kind into the store and settle it')
    .action(async (_flags, command: Command) => {
      await withStore(command, async (store) => {
        await runDemo(store, (text) => process.stdout.write(text));
      });
    });

  return program;
}

/**
 * Runs the command line and returns the exit code: 0 success, 1 an import that
 * imported nothing, 2 an error. The caller sets it on the process last, because
 * the embedded database's runtime resets process.exitCode when it shuts down.
 */
export async function main(argv: string[]): Promise<number> {
  exitCode = 0;
  try {
    await buildProgram().parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`error: ${error.message} [${error.code}]\n`);
      // A problem that only repeats the message adds nothing; rows and fields at fault do.
      for (const p of error.problems) {
        if (!error.message.includes(p.message)) process.stderr.write(`  ${describeProblem(p)}\n`);
      }
      return 2;
    }
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'EISDIR')) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
